package sandbox

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/money"
)

// The calls of voids, returns and master data: deleting fakturs and
// penerimaan, retur penjualan, and creating items and customers. As in
// Accurate, a faktur that a penerimaan or retur uses cannot be deleted; a
// retur reduces what its faktur still owes; deleting a penerimaan frees the
// fakturs it paid; a document dated in a closed period can be neither saved
// nor deleted.

// StoredReturn is a retur penjualan the sandbox holds.
type StoredReturn struct {
	accurate.SalesReturn
	ID          int64        `json:"id"`
	TotalAmount money.Amount `json:"totalAmount"`
}

func (r *StoredReturn) clone() StoredReturn {
	c := *r
	c.DetailItem = slices.Clone(r.DetailItem)
	c.DetailExpense = slices.Clone(r.DetailExpense)
	return c
}

// Returns returns the retur saved, in save order.
func (s *Server) Returns() []StoredReturn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clones(s.returns)
}

// CreatedItems and CreatedCustomers list what item/save.do and
// customer/save.do created, in order.
func (s *Server) CreatedItems() []accurate.Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.createdItems)
}

// CreatedCustomers lists the customers customer/save.do created.
func (s *Server) CreatedCustomers() []accurate.Customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.createdCustomers)
}

// SetClosedThrough closes every period up to and including d: saves and
// deletes of documents dated then are refused. The zero Date opens them all.
func (s *Server) SetClosedThrough(d accurate.Date) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closedThrough = d
}

func (s *Server) checkOpen(p *problems, d accurate.Date) {
	if s.closedThrough.IsZero() || d.IsZero() || after(d, s.closedThrough) {
		return
	}
	p.add("Transaksi tidak dapat disimpan atau dihapus karena periode %02d/%04d sudah ditutup", int(d.Month), d.Year)
}

func after(a, b accurate.Date) bool {
	return a.Year > b.Year || (a.Year == b.Year && (a.Month > b.Month || (a.Month == b.Month && a.Day > b.Day)))
}

func deleted(what string) reply {
	// A delete is a change: a lost-response fault may hit it like a save.
	return reply{status: http.StatusOK, body: response{S: true, D: []string{what + " berhasil dihapus"}}, saved: true}
}

func (s *Server) deleteInvoice(r *http.Request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, refusal := find(r, s.invoices, "Faktur Penjualan")
	if at < 0 {
		return refusal
	}
	inv := s.invoices[at]
	var p problems
	for _, rc := range s.receipts {
		if slices.ContainsFunc(rc.DetailInvoice, func(d accurate.ReceiptInvoice) bool { return d.InvoiceNo == inv.Number }) {
			p.add("Faktur Penjualan %q tidak dapat dihapus karena sudah digunakan oleh Penerimaan Penjualan %q", inv.Number, rc.Number)
		}
	}
	for _, rt := range s.returns {
		if rt.InvoiceNumber == inv.Number {
			p.add("Faktur Penjualan %q tidak dapat dihapus karena sudah digunakan oleh Retur Penjualan %q", inv.Number, rt.Number)
		}
	}
	s.checkOpen(&p, inv.TransDate)
	if len(p) > 0 {
		return refused(p...)
	}
	s.invoices = slices.Delete(s.invoices, at, at+1)
	delete(s.byNumber.invoices, inv.Number)
	return deleted("Faktur Penjualan")
}

func (s *Server) deleteReceipt(r *http.Request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, refusal := find(r, s.receipts, "Penerimaan Penjualan")
	if at < 0 {
		return refusal
	}
	rc := s.receipts[at]
	var p problems
	s.checkOpen(&p, rc.TransDate)
	if len(p) > 0 {
		return refused(p...)
	}
	// The fakturs it paid owe again what it settled.
	for _, d := range rc.DetailInvoice {
		if inv := s.byNumber.invoices[d.InvoiceNo]; inv != nil {
			inv.PrimeOwing += d.PaymentAmount
			inv.Status = owingStatus(inv.PrimeOwing)
		}
	}
	s.receipts = slices.Delete(s.receipts, at, at+1)
	delete(s.byNumber.receipts, rc.Number)
	return deleted("Penerimaan Penjualan")
}

func owingStatus(owing money.Amount) string {
	if owing == 0 {
		return StatusPaid
	}
	return StatusOutstanding
}

type returnBody struct {
	accurate.SalesReturn
	TransDate dateText `json:"transDate"`
}

var returnTypes = []string{"INVOICE", "DELIVERY", "INVOICE_DP", "NO_INVOICE"}

func (s *Server) saveReturn(r *http.Request) reply { return s.saveOne(r, (*Server).storeReturn) }

// storeReturn validates and stores one retur; the caller holds mu.
func (s *Server) storeReturn(b []byte) reply {
	var body returnBody
	var fields invoiceFields
	if err := decodeRecord(b, &body, &fields); err != nil {
		return refused("Format data retur tidak valid: " + err.Error())
	}
	ret := body.SalesReturn
	var p problems
	ret.TransDate = checkDate(&p, "retur", body.TransDate)
	s.checkOpen(&p, ret.TransDate)
	inv := s.checkReturn(&p, ret, fields)
	if len(p) > 0 {
		return refused(p...)
	}
	if ret.Number == "" {
		ret.Number = nextNumber("SRT", ret.TransDate, len(s.returns), s.byNumber.returns)
	}
	total := ret.Total()
	if inv != nil {
		// A retur takes its value off what the faktur still owes; past
		// zero, Accurate keeps it as the customer's credit.
		inv.PrimeOwing -= min(total, inv.PrimeOwing)
		inv.Status = owingStatus(inv.PrimeOwing)
	}
	s.lastID.ret++
	stored := &StoredReturn{SalesReturn: ret, ID: s.lastID.ret, TotalAmount: total}
	s.returns = append(s.returns, stored)
	s.byNumber.returns[ret.Number] = stored
	return saved(accurate.SavedDocument{ID: stored.ID, Number: ret.Number, TotalAmount: total})
}

// checkReturn adds to p what is wrong with a retur and returns the faktur
// it is against, when it names one that exists.
func (s *Server) checkReturn(p *problems, ret accurate.SalesReturn, fields invoiceFields) *StoredInvoice {
	customerKnown := s.checkCustomer(p, ret.CustomerNo)
	s.checkBranch(p, ret.BranchName)
	var inv *StoredInvoice
	switch {
	case ret.ReturnType == "":
		p.add("Tipe Retur harus diisi")
	case !slices.Contains(returnTypes, ret.ReturnType):
		p.add("Tipe Retur %q tidak dikenal: gunakan %s", ret.ReturnType, strings.Join(returnTypes, ", "))
	case ret.ReturnType == accurate.ReturnTypeInvoice && ret.InvoiceNumber == "":
		p.add("No Faktur harus diisi untuk retur dari faktur")
	case ret.ReturnType == accurate.ReturnTypeInvoice:
		inv = s.byNumber.invoices[ret.InvoiceNumber]
		switch {
		case inv == nil:
			p.add("Faktur %q tidak ditemukan atau sudah dihapus", ret.InvoiceNumber)
		case customerKnown && inv.CustomerNo != ret.CustomerNo:
			p.add("Faktur %q bukan milik pelanggan %q tetapi %q", ret.InvoiceNumber, ret.CustomerNo, inv.CustomerNo)
		}
	}
	if ret.CashDiscount < 0 {
		p.add("Diskon retur tidak boleh negatif")
	}
	if len(ret.DetailItem) == 0 {
		p.add("Rincian barang harus diisi")
	}
	type line struct {
		itemNo string
		price  money.Amount
	}
	asked := map[line]int64{}
	for i, l := range ret.DetailItem {
		s.checkItemLine(p, i, l, bool(fields.DetailItem[i].UnitPrice))
		if l.ItemCashDiscount < 0 || l.ItemCashDiscount > money.Amount(l.Quantity)*l.UnitPrice {
			p.add("Diskon barang pada baris %d tidak valid", i+1)
		}
		asked[line{l.ItemNo, l.UnitPrice}] += l.Quantity
	}
	for i, e := range ret.DetailExpense {
		s.checkAccount(p, e.AccountNo, fmt.Sprintf("Akun biaya pada baris %d", i+1))
	}
	if inv != nil {
		// What the faktur sold, less what earlier returs took back, by item
		// and price: a retur gives back at the faktur's prices only.
		left := map[line]int64{}
		for _, l := range inv.DetailItem {
			left[line{l.ItemNo, l.UnitPrice}] += l.Quantity
		}
		for _, rt := range s.returns {
			if rt.InvoiceNumber == inv.Number {
				for _, l := range rt.DetailItem {
					left[line{l.ItemNo, l.UnitPrice}] -= l.Quantity
				}
			}
		}
		for _, l := range ret.DetailItem {
			k := line{l.ItemNo, l.UnitPrice}
			q, sold := left[k]
			switch {
			case !sold:
				p.add("Barang %q dengan harga %s tidak ada di Faktur %q", l.ItemNo, l.UnitPrice.Format(), inv.Number)
			case asked[k] > q:
				p.add("Kuantitas retur barang %q (%d) melebihi sisa kuantitas di Faktur %q (%d)", l.ItemNo, asked[k], inv.Number, q)
			}
		}
	}
	if _, dup := s.byNumber.returns[ret.Number]; ret.Number != "" && dup {
		p.add("Sudah ada data lain dengan No Retur %q", ret.Number)
	}
	return inv
}

func (s *Server) listReturns(r *http.Request) reply {
	match, err := documentFilter(r)
	if err != nil {
		return refused(err.Error())
	}
	s.mu.Lock()
	var rows []invoiceEntry
	for _, rt := range s.returns {
		if match(rt.Number, rt.TransDate) {
			rows = append(rows, invoiceEntry{ID: rt.ID, Number: rt.Number, TransDate: rt.TransDate, CustomerNo: rt.CustomerNo, TotalAmount: rt.TotalAmount})
		}
	}
	s.mu.Unlock()
	return listed(r, rows)
}

func (s *Server) returnDetail(r *http.Request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, refusal := find(r, s.returns, "Retur Penjualan")
	if at < 0 {
		return refusal
	}
	return ok(s.returns[at].clone())
}

var itemTypes = []string{"INVENTORY", "NON_INVENTORY", "SERVICE", "GROUP", "PRODUCTION_COST"}

func (s *Server) saveItem(r *http.Request) reply { return s.saveOne(r, (*Server).storeItem) }

// storeItem validates and creates one item; the caller holds mu.
func (s *Server) storeItem(b []byte) reply {
	var item accurate.Item
	if err := decodeRecord(b, &item, &struct{}{}); err != nil {
		return refused("Format data barang tidak valid: " + err.Error())
	}
	var p problems
	switch {
	case item.ItemType == "":
		p.add("Jenis Barang harus diisi")
	case !slices.Contains(itemTypes, item.ItemType):
		p.add("Jenis Barang %q tidak dikenal: gunakan %s", item.ItemType, strings.Join(itemTypes, ", "))
	}
	switch n := len([]rune(item.Name)); {
	case strings.TrimSpace(item.Name) == "":
		p.add("Nama Barang harus diisi")
	case n > accurate.ItemNameMax:
		p.add("Nama Barang maksimal %d karakter (%d)", accurate.ItemNameMax, n)
	}
	for _, acc := range []string{item.SalesGlAccountNo, item.InventoryGlAccountNo, item.CogsGlAccountNo} {
		if acc != "" && !s.known.accounts[acc] {
			p.add("Akun %q tidak ditemukan atau sudah dihapus", acc)
		}
	}
	if item.UnitPrice < 0 {
		p.add("Harga jual tidak boleh negatif")
	}
	if item.No != "" && s.known.items[item.No] {
		p.add("Sudah ada data lain dengan No Barang %q", item.No)
	}
	if len(p) > 0 {
		return refused(p...)
	}
	if item.No == "" {
		item.No = fmt.Sprintf("BRG-%05d", len(s.createdItems)+1)
	}
	s.known.items[item.No] = true
	s.createdItems = append(s.createdItems, item)
	return saved(accurate.SavedDocument{ID: int64(len(s.seed.Items) + len(s.createdItems)), Number: item.No})
}

type customerBody struct {
	accurate.Customer
	TransDate dateText `json:"transDate"`
}

func (s *Server) saveCustomer(r *http.Request) reply { return s.saveOne(r, (*Server).storeCustomer) }

// storeCustomer validates and creates one customer; the caller holds mu.
func (s *Server) storeCustomer(b []byte) reply {
	var body customerBody
	if err := decodeRecord(b, &body, &struct{}{}); err != nil {
		return refused("Format data pelanggan tidak valid: " + err.Error())
	}
	c := body.Customer
	var p problems
	c.TransDate = checkDate(&p, "pelanggan", body.TransDate)
	if strings.TrimSpace(c.Name) == "" {
		p.add("Nama Pelanggan harus diisi")
	}
	if c.CustomerNo != "" && s.known.customers[c.CustomerNo] {
		p.add("Sudah ada data lain dengan No Pelanggan %q", c.CustomerNo)
	}
	if len(p) > 0 {
		return refused(p...)
	}
	if c.CustomerNo == "" {
		c.CustomerNo = fmt.Sprintf("C-%05d", len(s.createdCustomers)+1)
	}
	s.known.customers[c.CustomerNo] = true
	s.createdCustomers = append(s.createdCustomers, c)
	return saved(accurate.SavedDocument{ID: int64(len(s.seed.Customers) + len(s.createdCustomers)), Number: c.CustomerNo})
}
