package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/money"
)

// Invoice statuses, as sales-invoice/detail.do reports them.
const (
	StatusOutstanding = "BELUM LUNAS"
	StatusPaid        = "LUNAS"
)

// maxBody bounds a save's body; Accurate's own limit is far larger than any
// faktur the service sends.
const maxBody = 1 << 20

// StoredInvoice is a faktur the sandbox holds: what was saved, with the
// figures Accurate adds. Its fields are a superset of accurate.InvoiceDetail,
// and sales-invoice/detail.do answers with it.
type StoredInvoice struct {
	accurate.SalesInvoice
	ID          int64        `json:"id"`
	TotalAmount money.Amount `json:"totalAmount"`
	PrimeOwing  money.Amount `json:"primeOwing"` // what the customer still owes
	Status      string       `json:"status"`     // StatusOutstanding or StatusPaid
}

// Detail is the faktur as the client's type reads it.
func (i StoredInvoice) Detail() accurate.InvoiceDetail {
	return accurate.InvoiceDetail{
		ID:          i.ID,
		Number:      i.Number,
		TransDate:   i.TransDate,
		CustomerNo:  i.CustomerNo,
		TotalAmount: i.TotalAmount,
		PrimeOwing:  i.PrimeOwing,
		Status:      i.Status,
		DetailItem:  slices.Clone(i.DetailItem),
	}
}

func (i *StoredInvoice) clone() StoredInvoice {
	c := *i
	c.DetailItem = slices.Clone(i.DetailItem)
	c.DetailExpense = slices.Clone(i.DetailExpense)
	return c
}

// StoredReceipt is a penerimaan the sandbox holds; sales-receipt/detail.do
// answers with it.
type StoredReceipt struct {
	accurate.SalesReceipt
	ID int64 `json:"id"`
}

// Detail is the penerimaan as the client's type reads it.
func (r StoredReceipt) Detail() accurate.ReceiptDetail {
	c := r.clone()
	return accurate.ReceiptDetail{
		ID:            c.ID,
		Number:        c.Number,
		TransDate:     c.TransDate,
		CustomerNo:    c.CustomerNo,
		BankNo:        c.BankNo,
		ChequeAmount:  c.ChequeAmount,
		DetailInvoice: c.DetailInvoice,
	}
}

// EditReceipt changes the stored penerimaan number as a seller editing it
// in Accurate's own screens would, past the checks of save.do; false when
// there is no such penerimaan.
func (s *Server) EditReceipt(number string, edit func(*accurate.SalesReceipt)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	rc, ok := s.byNumber.receipts[number]
	if ok {
		edit(&rc.SalesReceipt)
	}
	return ok
}

func (r *StoredReceipt) clone() StoredReceipt {
	c := *r
	c.DetailInvoice = slices.Clone(r.DetailInvoice)
	for i := range c.DetailInvoice {
		c.DetailInvoice[i].DetailDiscount = slices.Clone(c.DetailInvoice[i].DetailDiscount)
	}
	return c
}

// present records which amounts a body actually gave: a missing required
// amount decodes to 0 like an explicit 0, and Accurate tells them apart.
type present bool

func (p *present) UnmarshalJSON(b []byte) error {
	*p = string(b) != "null"
	return nil
}

// dateText is a date as the body wrote it, read by checkDate so that a
// missing or malformed date gets Accurate's message rather than a decoding
// error.
type dateText string

func (d *dateText) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	return json.Unmarshal(b, (*string)(d))
}

// checkDate reads a required dd/MM/yyyy date.
func checkDate(p *problems, what string, d dateText) accurate.Date {
	if d == "" || d == "00/00/0000" { // the latter is how a zero accurate.Date is written
		p.add("Tanggal %s harus diisi", what)
		return accurate.Date{}
	}
	v, err := accurate.ParseDate(string(d))
	if err != nil {
		p.add("Tanggal %s %q tidak valid: gunakan dd/MM/yyyy", what, string(d))
	}
	return v
}

// invoiceBody and receiptBody read a save's body; the date is read apart.
type invoiceBody struct {
	accurate.SalesInvoice
	TransDate dateText `json:"transDate"`
}

type receiptBody struct {
	accurate.SalesReceipt
	TransDate dateText `json:"transDate"`
}

type invoiceFields struct {
	DetailItem []struct {
		Quantity  present `json:"quantity"`
		UnitPrice present `json:"unitPrice"`
	} `json:"detailItem"`
}

type receiptFields struct {
	ChequeAmount  present `json:"chequeAmount"`
	DetailInvoice []struct {
		PaymentAmount  present `json:"paymentAmount"`
		DetailDiscount []struct {
			Amount present `json:"amount"`
		} `json:"detailDiscount"`
	} `json:"detailInvoice"`
}

// readBody reads a save's body, up to limit bytes.
func readBody(r *http.Request, limit int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("membaca data: %w", err)
	}
	if len(b) > limit {
		return nil, fmt.Errorf("data lebih dari %d byte", limit)
	}
	return b, nil
}

// decodeRecord reads one record's JSON into doc and into fields, which notes
// the amounts given.
func decodeRecord(b []byte, doc, fields any) error {
	if err := json.Unmarshal(b, doc); err != nil {
		return err
	}
	return json.Unmarshal(b, fields)
}

// problems collects validation messages once each, in the order found.
type problems []string

func (p *problems) add(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !slices.Contains(*p, msg) {
		*p = append(*p, msg)
	}
}

func (s *Server) saveInvoice(r *http.Request) reply {
	return s.saveOne(r, (*Server).storeInvoice)
}

// storeInvoice validates and stores one faktur record; the caller holds mu.
func (s *Server) storeInvoice(b []byte) reply {
	var body invoiceBody
	var fields invoiceFields
	if err := decodeRecord(b, &body, &fields); err != nil {
		return refused("Format data faktur tidak valid: " + err.Error())
	}
	inv := body.SalesInvoice
	for i := range inv.DetailItem {
		if !fields.DetailItem[i].Quantity {
			inv.DetailItem[i].Quantity = 1 // Accurate's default
		}
	}

	var p problems
	inv.TransDate = checkDate(&p, "faktur", body.TransDate)
	if msgs := s.checkInvoice(p, inv, fields); len(msgs) > 0 {
		return refused(msgs...)
	}
	if inv.Number == "" {
		inv.Number = nextNumber("SI", inv.TransDate, len(s.invoices), s.byNumber.invoices)
	}
	s.lastID.invoice++
	total := inv.Total()
	stored := &StoredInvoice{SalesInvoice: inv, ID: s.lastID.invoice, TotalAmount: total, PrimeOwing: total, Status: StatusOutstanding}
	if total == 0 {
		stored.Status = StatusPaid
	}
	s.invoices = append(s.invoices, stored)
	s.byNumber.invoices[inv.Number] = stored
	return saved(accurate.SavedDocument{ID: stored.ID, Number: inv.Number, TotalAmount: total})
}

// checkItemLine adds to p what is wrong with line i of a faktur or retur
// (its discount aside: the two check it differently).
func (s *Server) checkItemLine(p *problems, i int, l accurate.InvoiceItem, priceGiven bool) {
	switch {
	case l.ItemNo == "":
		p.add("Barang pada baris %d harus diisi", i+1)
	case !s.known.items[l.ItemNo]:
		p.add("Barang %q tidak ditemukan atau sudah dihapus", l.ItemNo)
	}
	switch {
	case !priceGiven:
		p.add("Harga satuan barang pada baris %d harus diisi", i+1)
	case l.UnitPrice < 0:
		p.add("Harga satuan barang pada baris %d tidak boleh negatif", i+1)
	}
	if l.Quantity <= 0 {
		p.add("Kuantitas barang pada baris %d harus lebih dari 0", i+1)
	}
	if l.WarehouseName != "" && !s.known.warehouses[l.WarehouseName] {
		p.add("Gudang %q tidak ditemukan atau sudah dihapus", l.WarehouseName)
	}
}

// checkInvoice adds to p what is wrong with a faktur, checked against the
// seed and the fakturs saved, in Accurate's words.
func (s *Server) checkInvoice(p problems, inv accurate.SalesInvoice, fields invoiceFields) problems {
	s.checkCustomer(&p, inv.CustomerNo)
	s.checkBranch(&p, inv.BranchName)
	s.checkOpen(&p, inv.TransDate)
	if inv.CashDiscount < 0 {
		p.add("Diskon faktur tidak boleh negatif")
	}
	if len(inv.DetailItem) == 0 {
		p.add("Rincian barang harus diisi")
	}
	for i, l := range inv.DetailItem {
		s.checkItemLine(&p, i, l, bool(fields.DetailItem[i].UnitPrice))
		if l.ItemCashDiscount < 0 {
			p.add("Diskon barang pada baris %d tidak boleh negatif", i+1)
		}
	}
	for i, e := range inv.DetailExpense {
		s.checkAccount(&p, e.AccountNo, fmt.Sprintf("Akun biaya pada baris %d", i+1))
	}
	switch total := inv.Total(); {
	case !total.InBooks():
		// Accurate's numbers hold twelve integer digits.
		p.add("Total faktur melebihi nilai maksimum %s", money.Max.Format())
	case total < 0:
		p.add("Total faktur tidak boleh negatif (%s)", total.Format())
	}
	if _, dup := s.byNumber.invoices[inv.Number]; inv.Number != "" && dup {
		p.add("Sudah ada data lain dengan No Faktur %q", inv.Number)
	}
	return p
}

func (s *Server) saveReceipt(r *http.Request) reply {
	return s.saveOne(r, (*Server).storeReceipt)
}

// storeReceipt validates and stores one penerimaan record; the caller holds
// mu.
func (s *Server) storeReceipt(b []byte) reply {
	var body receiptBody
	var fields receiptFields
	if err := decodeRecord(b, &body, &fields); err != nil {
		return refused("Format data penerimaan tidak valid: " + err.Error())
	}
	rc := body.SalesReceipt

	var p problems
	rc.TransDate = checkDate(&p, "penerimaan", body.TransDate)
	if msgs := s.checkReceipt(p, rc, fields); len(msgs) > 0 {
		return refused(msgs...)
	}
	if rc.Number == "" {
		rc.Number = nextNumber("SR", rc.TransDate, len(s.receipts), s.byNumber.receipts)
	}
	// The receipt settles each faktur by its paymentAmount: the cash and the
	// discounts together.
	for _, d := range rc.DetailInvoice {
		inv := s.byNumber.invoices[d.InvoiceNo]
		inv.PrimeOwing -= d.PaymentAmount
		if inv.PrimeOwing == 0 {
			inv.Status = StatusPaid
		}
	}
	s.lastID.receipt++
	stored := &StoredReceipt{SalesReceipt: rc, ID: s.lastID.receipt}
	s.receipts = append(s.receipts, stored)
	s.byNumber.receipts[rc.Number] = stored
	return saved(accurate.SavedDocument{ID: stored.ID, Number: rc.Number, TotalAmount: rc.ChequeAmount})
}

// checkReceipt adds to p what is wrong with a penerimaan, checked against
// the seed and the fakturs it settles, in Accurate's words.
func (s *Server) checkReceipt(p problems, rc accurate.SalesReceipt, fields receiptFields) problems {
	customerKnown := s.checkCustomer(&p, rc.CustomerNo)
	s.checkOpen(&p, rc.TransDate)
	switch {
	case rc.BankNo == "":
		p.add("Kas/Bank harus diisi")
	case !s.known.banks[rc.BankNo]:
		p.add("Akun Kas/Bank %q tidak ditemukan atau sudah dihapus", rc.BankNo)
	}
	s.checkBranch(&p, rc.BranchName)
	switch {
	case !bool(fields.ChequeAmount):
		p.add("Nilai Cek harus diisi")
	case rc.ChequeAmount < 0:
		p.add("Nilai Cek tidak boleh negatif")
	}
	if len(rc.DetailInvoice) == 0 {
		p.add("Rincian faktur harus diisi")
	}
	amountsGiven := bool(fields.ChequeAmount)
	seen := make(map[string]bool)
	for i, d := range rc.DetailInvoice {
		row := fields.DetailInvoice[i]
		inv := s.byNumber.invoices[d.InvoiceNo]
		switch {
		case d.InvoiceNo == "":
			p.add("No Faktur pada baris %d harus diisi", i+1)
		case seen[d.InvoiceNo]:
			p.add("Faktur %q disebut lebih dari sekali", d.InvoiceNo)
		case inv == nil:
			p.add("Faktur %q tidak ditemukan atau sudah dihapus", d.InvoiceNo)
		case customerKnown && inv.CustomerNo != rc.CustomerNo:
			p.add("Faktur %q bukan milik pelanggan %q tetapi %q", d.InvoiceNo, rc.CustomerNo, inv.CustomerNo)
		}
		seen[d.InvoiceNo] = true
		switch {
		case !bool(row.PaymentAmount):
			amountsGiven = false
			p.add("Nilai Pembayaran pada baris %d harus diisi", i+1)
		case d.PaymentAmount <= 0:
			p.add("Nilai Pembayaran faktur %q harus lebih dari 0", d.InvoiceNo)
		case inv != nil && d.PaymentAmount > inv.PrimeOwing:
			p.add("Nilai Pembayaran faktur %q (%s) melebihi sisa piutang faktur (%s)",
				d.InvoiceNo, d.PaymentAmount.Format(), inv.PrimeOwing.Format())
		}
		for j, disc := range d.DetailDiscount {
			s.checkAccount(&p, disc.AccountNo, fmt.Sprintf("Akun diskon pada baris %d.%d", i+1, j+1))
			if !row.DetailDiscount[j].Amount {
				amountsGiven = false
				p.add("Nilai diskon pada baris %d.%d harus diisi", i+1, j+1)
			}
		}
	}
	// Only amounts that were all given can be weighed against each other.
	if amountsGiven && len(rc.DetailInvoice) > 0 && rc.Balance() != rc.ChequeAmount {
		p.add("Nilai Cek (%s) tidak sama dengan total Nilai Pembayaran dikurangi diskon (%s)",
			rc.ChequeAmount.Format(), rc.Balance().Format())
	}
	if _, dup := s.byNumber.receipts[rc.Number]; rc.Number != "" && dup {
		p.add("Sudah ada data lain dengan No Bukti %q", rc.Number)
	}
	return p
}

// checkCustomer reports whether no names a known customer, noting why not.
func (s *Server) checkCustomer(p *problems, no string) bool {
	switch {
	case no == "":
		p.add("Pelanggan harus diisi")
	case !s.known.customers[no]:
		p.add("Pelanggan %q tidak ditemukan atau sudah dihapus", no)
	default:
		return true
	}
	return false
}

// checkBranch checks an optional branch name.
func (s *Server) checkBranch(p *problems, name string) {
	if name != "" && !s.known.branches[name] {
		p.add("Cabang %q tidak ditemukan atau sudah dihapus", name)
	}
}

// checkAccount checks a required GL account number; what names the field
// when it is empty.
func (s *Server) checkAccount(p *problems, no, what string) {
	switch {
	case no == "":
		p.add("%s harus diisi", what)
	case !s.known.accounts[no]:
		p.add("Akun %q tidak ditemukan atau sudah dihapus", no)
	}
}

// nextNumber makes the number Accurate gives a document saved without one:
// prefix, year and month of its date, and a sequence not yet taken.
func nextNumber[V any](prefix string, d accurate.Date, count int, taken map[string]V) string {
	for seq := count + 1; ; seq++ {
		n := fmt.Sprintf("%s.%04d.%02d.%05d", prefix, d.Year, int(d.Month), seq)
		if _, ok := taken[n]; !ok {
			return n
		}
	}
}

func saved(doc accurate.SavedDocument) reply {
	return reply{
		status: http.StatusOK,
		body:   response{S: true, D: []string{"Data berhasil disimpan"}, R: doc},
		saved:  true,
	}
}

// invoiceEntry is a faktur as list.do lists it.
type invoiceEntry struct {
	ID          int64         `json:"id"`
	Number      string        `json:"number"`
	TransDate   accurate.Date `json:"transDate"`
	CustomerNo  string        `json:"customerNo"`
	TotalAmount money.Amount  `json:"totalAmount"`
	PrimeOwing  money.Amount  `json:"primeOwing"`
}

// receiptEntry is a penerimaan as list.do lists it; totalAmount is the cash.
type receiptEntry struct {
	ID          int64         `json:"id"`
	Number      string        `json:"number"`
	TransDate   accurate.Date `json:"transDate"`
	CustomerNo  string        `json:"customerNo"`
	TotalAmount money.Amount  `json:"totalAmount"`
}

func (s *Server) listInvoices(r *http.Request) reply {
	match, err := documentFilter(r)
	if err != nil {
		return refused(err.Error())
	}
	s.mu.Lock()
	var rows []invoiceEntry
	for _, inv := range s.invoices {
		if match(inv.Number, inv.TransDate) {
			rows = append(rows, invoiceEntry{inv.ID, inv.Number, inv.TransDate, inv.CustomerNo, inv.TotalAmount, inv.PrimeOwing})
		}
	}
	s.mu.Unlock()
	return listed(r, rows)
}

func (s *Server) listReceipts(r *http.Request) reply {
	match, err := documentFilter(r)
	if err != nil {
		return refused(err.Error())
	}
	s.mu.Lock()
	var rows []receiptEntry
	for _, rc := range s.receipts {
		if match(rc.Number, rc.TransDate) {
			rows = append(rows, receiptEntry{rc.ID, rc.Number, rc.TransDate, rc.CustomerNo, rc.ChequeAmount})
		}
	}
	s.mu.Unlock()
	return listed(r, rows)
}

// numberFilter reads filter.number (op EQUAL, the default, or CONTAIN).
func numberFilter(r *http.Request) (func(string) bool, error) {
	return filterOf(r, "filter.number")
}

func (s *Server) invoiceDetail(r *http.Request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, refusal := find(r, s.invoices, "Faktur Penjualan")
	if at < 0 {
		return refusal
	}
	return ok(s.invoices[at].clone())
}

func (s *Server) receiptDetail(r *http.Request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, refusal := find(r, s.receipts, "Penerimaan Penjualan")
	if at < 0 {
		return refusal
	}
	rc := s.receipts[at]
	if s.faults.ReceiptDetailWithoutInvoices {
		d := rc.Detail()
		d.DetailInvoice = nil // the field is left out of the answer
		return ok(d)
	}
	return ok(rc.clone())
}

// stored is a document the sandbox holds, named by its id or number.
type stored interface {
	ref() (id int64, number string)
}

func (i *StoredInvoice) ref() (int64, string) { return i.ID, i.Number }
func (r *StoredReceipt) ref() (int64, string) { return r.ID, r.Number }
func (r *StoredReturn) ref() (int64, string)  { return r.ID, r.Number }

// find is the index in docs of the document r names (by number when it
// gives one, else by id), or -1 and the refusal Accurate answers, naming
// what kind of document it is. The caller holds mu.
func find[P stored](r *http.Request, docs []P, what string) (int, reply) {
	id, number, err := documentKey(r)
	if err != nil {
		return -1, refused(err.Error())
	}
	at := slices.IndexFunc(docs, func(d P) bool {
		dID, dNumber := d.ref()
		return (number != "" && dNumber == number) || (number == "" && dID == id)
	})
	if at < 0 {
		return -1, refused(notFound(what, id, number))
	}
	return at, reply{}
}

// documentKey reads the id= or number= of a detail.do call.
func documentKey(r *http.Request) (id int64, number string, err error) {
	number = strings.TrimSpace(formValue(r, "number"))
	if number != "" {
		return 0, number, nil
	}
	raw := formValue(r, "id")
	if raw == "" {
		//lint:ignore ST1005 Accurate's own words, capital and all
		return 0, "", fmt.Errorf("Parameter id atau number harus diisi")
	}
	id, err = strconv.ParseInt(raw, 10, 64)
	if err != nil {
		//lint:ignore ST1005 Accurate's own words, capital and all
		return 0, "", fmt.Errorf("Parameter id %q bukan angka", raw)
	}
	return id, "", nil
}

func notFound(kind string, id int64, number string) string {
	if number != "" {
		return fmt.Sprintf("Data %s dengan No %q tidak ditemukan atau sudah dihapus", kind, number)
	}
	return fmt.Sprintf("Data %s dengan id %d tidak ditemukan atau sudah dihapus", kind, id)
}
