package accurate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// SaveSalesInvoice creates a faktur (sales-invoice/save.do). A number that
// already exists comes back as ClassDuplicate.
func (c *Client) SaveSalesInvoice(ctx context.Context, inv *SalesInvoice) (SavedDocument, error) {
	if inv == nil {
		return SavedDocument{}, &Error{Class: ClassValidation, Endpoint: "sales-invoice/save", Err: errors.New("no faktur given")}
	}
	return c.save(ctx, "sales-invoice/save", inv, inv.Number)
}

// FindSalesInvoice looks a faktur up by its number (sales-invoice/list.do).
func (c *Client) FindSalesInvoice(ctx context.Context, number string) (SavedDocument, bool, error) {
	return c.find(ctx, "sales-invoice/list", number)
}

// SalesInvoiceDetail reads a faktur, with what is still owed on it
// (sales-invoice/detail.do). An unknown number is ClassNotFound.
func (c *Client) SalesInvoiceDetail(ctx context.Context, number string) (InvoiceDetail, error) {
	var d InvoiceDetail
	err := c.detail(ctx, "sales-invoice/detail", number, &d)
	return d, err
}

// SaveSalesReceipt creates a penerimaan (sales-receipt/save.do).
func (c *Client) SaveSalesReceipt(ctx context.Context, rec *SalesReceipt) (SavedDocument, error) {
	if rec == nil {
		return SavedDocument{}, &Error{Class: ClassValidation, Endpoint: "sales-receipt/save", Err: errors.New("no penerimaan given")}
	}
	return c.save(ctx, "sales-receipt/save", rec, rec.Number)
}

// FindSalesReceipt looks a penerimaan up by its number (sales-receipt/list.do).
func (c *Client) FindSalesReceipt(ctx context.Context, number string) (SavedDocument, bool, error) {
	return c.find(ctx, "sales-receipt/list", number)
}

// SalesReceiptDetail reads a penerimaan (sales-receipt/detail.do).
func (c *Client) SalesReceiptDetail(ctx context.Context, number string) (ReceiptDetail, error) {
	var d ReceiptDetail
	err := c.detail(ctx, "sales-receipt/detail", number, &d)
	return d, err
}

func (c *Client) save(ctx context.Context, endpoint string, doc any, number string) (SavedDocument, error) {
	a, err := c.call(ctx, endpoint, http.MethodPost, nil, doc)
	if err != nil {
		return SavedDocument{}, err
	}
	var saved SavedDocument
	if len(a.R) > 0 && string(a.R) != "null" {
		if err := json.Unmarshal(a.R, &saved); err != nil {
			// Saved, by "s", but what was saved is unreadable: the caller
			// should look the number up.
			return SavedDocument{}, &Error{Class: ClassTransient, Endpoint: endpoint, Status: http.StatusOK, Ambiguous: true,
				Err: fmt.Errorf("reading the saved record: %w", err)}
		}
	}
	if saved.Number == "" {
		saved.Number = number
	}
	return saved, nil
}

func (c *Client) find(ctx context.Context, endpoint, number string) (SavedDocument, bool, error) {
	if number == "" {
		return SavedDocument{}, false, &Error{Class: ClassValidation, Endpoint: endpoint, Err: errors.New("no number given")}
	}
	q := url.Values{
		"fields":            {"id,number,totalAmount"},
		"filter.number.op":  {"EQUAL"},
		"filter.number.val": {number},
	}
	a, err := c.call(ctx, endpoint, http.MethodGet, q, nil)
	if err != nil {
		return SavedDocument{}, false, err
	}
	var docs []SavedDocument
	if len(a.D) > 0 && string(a.D) != "null" {
		if err := json.Unmarshal(a.D, &docs); err != nil {
			return SavedDocument{}, false, &Error{Class: ClassTransient, Endpoint: endpoint, Status: http.StatusOK,
				Err: fmt.Errorf("reading the list: %w", err)}
		}
	}
	// Match exactly: a server ignoring the filter must not pass off another
	// document as this one.
	for _, d := range docs {
		if d.Number == number {
			return d, true, nil
		}
	}
	return SavedDocument{}, false, nil
}

func (c *Client) detail(ctx context.Context, endpoint, number string, into any) error {
	if number == "" {
		return &Error{Class: ClassValidation, Endpoint: endpoint, Err: errors.New("no number given")}
	}
	a, err := c.call(ctx, endpoint, http.MethodGet, url.Values{"number": {number}}, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(a.D, into); err != nil {
		return &Error{Class: ClassTransient, Endpoint: endpoint, Status: http.StatusOK, Err: fmt.Errorf("reading the detail: %w", err)}
	}
	return nil
}

// DeleteSalesInvoice deletes a faktur (sales-invoice/delete.do). A faktur
// that does not exist is ClassNotFound; one that a penerimaan or retur uses,
// or that lies in a closed period, is ClassValidation with Accurate's words.
func (c *Client) DeleteSalesInvoice(ctx context.Context, number string) error {
	return c.delete(ctx, "sales-invoice/delete", number)
}

// DeleteSalesReceipt deletes a penerimaan (sales-receipt/delete.do), which
// frees the fakturs it paid.
func (c *Client) DeleteSalesReceipt(ctx context.Context, number string) error {
	return c.delete(ctx, "sales-receipt/delete", number)
}

// SaveSalesReturn creates a retur penjualan (sales-return/save.do).
func (c *Client) SaveSalesReturn(ctx context.Context, ret *SalesReturn) (SavedDocument, error) {
	if ret == nil {
		return SavedDocument{}, &Error{Class: ClassValidation, Endpoint: "sales-return/save", Err: errors.New("no retur given")}
	}
	return c.save(ctx, "sales-return/save", ret, ret.Number)
}

// FindSalesReturn looks a retur up by its number (sales-return/list.do).
func (c *Client) FindSalesReturn(ctx context.Context, number string) (SavedDocument, bool, error) {
	return c.find(ctx, "sales-return/list", number)
}

// SaveItem creates an item (item/save.do); a number in use is ClassDuplicate.
func (c *Client) SaveItem(ctx context.Context, item *Item) error {
	if item == nil {
		return &Error{Class: ClassValidation, Endpoint: "item/save", Err: errors.New("no item given")}
	}
	_, err := c.save(ctx, "item/save", item, item.No)
	return err
}

// SaveCustomer creates a customer (customer/save.do); a number in use is
// ClassDuplicate.
func (c *Client) SaveCustomer(ctx context.Context, cust *Customer) error {
	if cust == nil {
		return &Error{Class: ClassValidation, Endpoint: "customer/save", Err: errors.New("no customer given")}
	}
	_, err := c.save(ctx, "customer/save", cust, cust.CustomerNo)
	return err
}

func (c *Client) delete(ctx context.Context, endpoint, number string) error {
	if number == "" {
		return &Error{Class: ClassValidation, Endpoint: endpoint, Err: errors.New("no number given")}
	}
	_, err := c.call(ctx, endpoint, http.MethodDelete, url.Values{"number": {number}}, nil)
	return err
}
