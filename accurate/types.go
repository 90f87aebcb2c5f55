// Package accurate speaks the part of the Accurate Online API the service
// uses: the documents, the API-token signature, host discovery, the error
// classes and the rate limit shared by every replica. It knows nothing of
// Forstok.
package accurate

import (
	"encoding/json"
	"fmt"
	"time"

	"forstok-accurate-sync/money"
)

// Date is a calendar date as Accurate writes it: "dd/MM/yyyy".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf is the calendar date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate reads "dd/MM/yyyy".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("02/01/2006", s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q is not dd/MM/yyyy", s)
	}
	return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
}

func (d Date) String() string { return fmt.Sprintf("%02d/%02d/%04d", d.Day, int(d.Month), d.Year) }

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d == Date{} }

// MarshalJSON writes "dd/MM/yyyy".
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "dd/MM/yyyy".
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date: %w", err)
	}
	if s == "" {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// SalesInvoice is a faktur penjualan as sales-invoice/save.do takes it.
type SalesInvoice struct {
	Number        string           `json:"number"`
	TransDate     Date             `json:"transDate"`
	CustomerNo    string           `json:"customerNo"`
	BranchName    string           `json:"branchName,omitempty"`
	Description   string           `json:"description,omitempty"`
	CashDiscount  money.Amount     `json:"cashDiscount,omitempty"`
	Taxable       bool             `json:"taxable"`
	InclusiveTax  bool             `json:"inclusiveTax"`
	DetailItem    []InvoiceItem    `json:"detailItem"`
	DetailExpense []InvoiceExpense `json:"detailExpense,omitempty"`
}

// InvoiceItem is one line of a faktur.
type InvoiceItem struct {
	ItemNo           string       `json:"itemNo"`
	DetailName       string       `json:"detailName,omitempty"`
	Quantity         int64        `json:"quantity"`
	UnitPrice        money.Amount `json:"unitPrice"`
	ItemCashDiscount money.Amount `json:"itemCashDiscount,omitempty"`
	WarehouseName    string       `json:"warehouseName,omitempty"`
	UseTax1          bool         `json:"useTax1"`
}

// Amount is the line's value: quantity × unit price − its cash discount;
// money.Overflow when that cannot be computed.
func (l InvoiceItem) Amount() money.Amount {
	a, err := l.UnitPrice.Mul(l.Quantity)
	if err == nil {
		a, err = a.Sub(l.ItemCashDiscount)
	}
	if err != nil {
		return money.Overflow
	}
	return a
}

// InvoiceExpense is a non-item line of a faktur, such as shipping charged to
// the buyer.
type InvoiceExpense struct {
	AccountNo     string       `json:"accountNo"`
	ExpenseAmount money.Amount `json:"expenseAmount"`
	ExpenseName   string       `json:"expenseName,omitempty"`
}

// Total is what the faktur asks of the customer: items − cashDiscount +
// expenses (before tax, which the service leaves to Accurate). It is
// money.Overflow when it cannot be computed; a line's amount beyond
// money.Max makes it so too, since Accurate holds neither.
func (s SalesInvoice) Total() money.Amount {
	var (
		t   money.Amount
		err error
	)
	for _, l := range s.DetailItem {
		a := l.Amount()
		if !a.InBooks() {
			return money.Overflow
		}
		if t, err = t.Add(a); err != nil {
			return money.Overflow
		}
	}
	if t, err = t.Sub(s.CashDiscount); err != nil {
		return money.Overflow
	}
	for _, e := range s.DetailExpense {
		if t, err = t.Add(e.ExpenseAmount); err != nil {
			return money.Overflow
		}
	}
	return t
}

// SalesReceipt is a penerimaan penjualan as sales-receipt/save.do takes it.
type SalesReceipt struct {
	Number        string           `json:"number"`
	TransDate     Date             `json:"transDate"`
	CustomerNo    string           `json:"customerNo"`
	BankNo        string           `json:"bankNo"`
	BranchName    string           `json:"branchName,omitempty"`
	Description   string           `json:"description,omitempty"`
	ChequeAmount  money.Amount     `json:"chequeAmount"`
	DetailInvoice []ReceiptInvoice `json:"detailInvoice"`
}

// ReceiptInvoice is one faktur a receipt settles.
type ReceiptInvoice struct {
	InvoiceNo      string            `json:"invoiceNo"`
	PaymentAmount  money.Amount      `json:"paymentAmount"`
	DetailDiscount []ReceiptDiscount `json:"detailDiscount,omitempty"`
}

// ReceiptDiscount books part of a payment to a GL account instead of cash: a
// fee or voucher (positive) or a rebate (negative).
type ReceiptDiscount struct {
	AccountNo string       `json:"accountNo"`
	Amount    money.Amount `json:"amount"`
}

// Balance is Σ(paymentAmount − Σ discounts): what chequeAmount must equal.
// It is money.Overflow when it cannot be computed, which no chequeAmount
// Accurate holds can equal.
func (r SalesReceipt) Balance() money.Amount {
	var (
		t   money.Amount
		err error
	)
	for _, inv := range r.DetailInvoice {
		if t, err = t.Add(inv.PaymentAmount); err != nil {
			return money.Overflow
		}
		for _, d := range inv.DetailDiscount {
			if t, err = t.Sub(d.Amount); err != nil {
				return money.Overflow
			}
		}
	}
	return t
}

// SavedDocument is what save.do answers in "r" and list.do lists in "d".
type SavedDocument struct {
	ID          int64        `json:"id"`
	Number      string       `json:"number"`
	TotalAmount money.Amount `json:"totalAmount"`
}

// InvoiceDetail is a faktur as sales-invoice/detail.do returns it: its total
// and what the customer still owes on it.
type InvoiceDetail struct {
	ID          int64        `json:"id"`
	Number      string       `json:"number"`
	TransDate   Date         `json:"transDate"`
	CustomerNo  string       `json:"customerNo,omitempty"`
	TotalAmount money.Amount `json:"totalAmount"`
	PrimeOwing  money.Amount `json:"primeOwing"`
	// CashDiscount is the order's discount on the faktur, which the return
	// of the whole order gives back.
	CashDiscount money.Amount  `json:"cashDiscount,omitempty"`
	Status       string        `json:"status,omitempty"`
	DetailItem   []InvoiceItem `json:"detailItem,omitempty"`
}

// ReceiptDetail is a penerimaan as sales-receipt/detail.do returns it.
type ReceiptDetail struct {
	ID            int64            `json:"id"`
	Number        string           `json:"number"`
	TransDate     Date             `json:"transDate"`
	CustomerNo    string           `json:"customerNo,omitempty"`
	BankNo        string           `json:"bankNo,omitempty"`
	ChequeAmount  money.Amount     `json:"chequeAmount"`
	DetailInvoice []ReceiptInvoice `json:"detailInvoice,omitempty"`
}

// Return types of sales-return/save.do.
const (
	ReturnTypeInvoice = "INVOICE" // against a faktur: invoiceNumber is required
)

// SalesReturn is a retur penjualan as sales-return/save.do takes it.
type SalesReturn struct {
	Number        string           `json:"number"`
	TransDate     Date             `json:"transDate"`
	CustomerNo    string           `json:"customerNo"`
	BranchName    string           `json:"branchName,omitempty"`
	Description   string           `json:"description,omitempty"`
	ReturnType    string           `json:"returnType"`
	InvoiceNumber string           `json:"invoiceNumber,omitempty"`
	CashDiscount  money.Amount     `json:"cashDiscount,omitempty"`
	DetailItem    []InvoiceItem    `json:"detailItem"`
	DetailExpense []InvoiceExpense `json:"detailExpense,omitempty"`
}

// Total is what the retur takes off the faktur: items − cashDiscount +
// expenses, as a faktur's.
func (r SalesReturn) Total() money.Amount {
	return SalesInvoice{DetailItem: r.DetailItem, CashDiscount: r.CashDiscount, DetailExpense: r.DetailExpense}.Total()
}

// Item is a barang & jasa as item/save.do takes it.
type Item struct {
	No                   string       `json:"no"`
	Name                 string       `json:"name"`
	ItemType             string       `json:"itemType"`
	Unit1Name            string       `json:"unit1Name,omitempty"`
	UnitPrice            money.Amount `json:"unitPrice,omitempty"`
	SalesGlAccountNo     string       `json:"salesGlAccountNo,omitempty"`
	InventoryGlAccountNo string       `json:"inventoryGlAccountNo,omitempty"`
	CogsGlAccountNo      string       `json:"cogsGlAccountNo,omitempty"`
}

// ItemNameMax is the longest item name Accurate takes; a longer one is cut
// by the service rather than refused.
const ItemNameMax = 100

// Customer is a pelanggan as customer/save.do takes it.
type Customer struct {
	CustomerNo string `json:"customerNo"`
	Name       string `json:"name"`
	TransDate  Date   `json:"transDate"`
}
