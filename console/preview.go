package console

import (
	"strconv"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/money"
	"forstok-accurate-sync/worker"
)

// The settings page's preview: the documents an event would send to
// Accurate under the form's values, as tables in rupiah. The bodies are
// those of the admin API's preview; this file only lays them out.

// previewView is the preview shown on the page.
type previewView struct {
	Event     string
	Documents []previewDoc
	Problems  []admin.PathProblem
}

// previewDoc is one document: its title, its header facts, its lines and
// its total.
type previewDoc struct {
	Title      string
	Facts      []previewFact
	Lines      []previewLine
	TotalLabel string
	Total      money.Amount
}

type previewFact struct{ Label, Value string }

// previewLine is one line of a document; Qty and Price are empty on lines
// that have none (an account's amount).
type previewLine struct {
	What    string
	Account string
	Qty     string
	Price   *money.Amount
	Amount  money.Amount
}

// previewOf lays a preview out in the page's language, naming accounts,
// customers and items as the seller's Accurate names them.
func previewOf(p *admin.Preview, l lang, lists *choiceLists) *previewView {
	v := &previewView{Event: p.Event, Problems: p.Problems}
	named := func(list, no string) string {
		if name := lists.name(list, no); name != "" {
			return no + " — " + name
		}
		return no
	}
	fact := func(label, value string) previewFact { return previewFact{Label: l.T(label), Value: value} }
	items := func(d *previewDoc, lines []accurate.InvoiceItem) {
		for _, it := range lines {
			price := it.UnitPrice
			what := it.DetailName
			if it.WarehouseName != "" {
				what += " (" + it.WarehouseName + ")"
			}
			d.Lines = append(d.Lines, previewLine{What: what, Account: named("items", it.ItemNo), Qty: strconv.FormatInt(it.Quantity, 10), Price: &price, Amount: it.Amount()})
		}
	}
	expenses := func(d *previewDoc, cash money.Amount, lines []accurate.InvoiceExpense) {
		if cash != 0 {
			d.Lines = append(d.Lines, previewLine{What: l.T("preview.discount"), Amount: -cash})
		}
		for _, e := range lines {
			d.Lines = append(d.Lines, previewLine{What: e.ExpenseName, Account: named("accounts", e.AccountNo), Amount: e.ExpenseAmount})
		}
	}
	for _, doc := range p.Documents {
		var d previewDoc
		switch b := doc.Body.(type) {
		case *accurate.SalesInvoice:
			d = previewDoc{Title: l.F("preview."+worker.KindSalesInvoice, b.Number), TotalLabel: l.T("preview.total.invoice"), Total: b.Total(),
				Facts: []previewFact{fact("preview.date", b.TransDate.String()), fact("preview.customer", named("customers", b.CustomerNo)), fact("preview.branch", b.BranchName)}}
			items(&d, b.DetailItem)
			expenses(&d, b.CashDiscount, b.DetailExpense)
		case *accurate.SalesReceipt:
			d = previewDoc{Title: l.F("preview."+worker.KindSalesReceipt, b.Number), TotalLabel: l.T("preview.total.receipt"), Total: b.ChequeAmount,
				Facts: []previewFact{fact("preview.date", b.TransDate.String()), fact("preview.customer", named("customers", b.CustomerNo)),
					fact("preview.bank", named("accounts", b.BankNo)), fact("preview.branch", b.BranchName)}}
			for _, inv := range b.DetailInvoice {
				d.Lines = append(d.Lines, previewLine{What: l.F("preview.paid", inv.InvoiceNo), Amount: inv.PaymentAmount})
				for _, dd := range inv.DetailDiscount {
					d.Lines = append(d.Lines, previewLine{What: l.F("preview.deducted", inv.InvoiceNo), Account: named("accounts", dd.AccountNo), Amount: -dd.Amount})
				}
			}
		case *accurate.SalesReturn:
			d = previewDoc{Title: l.F("preview."+worker.KindSalesReturn, b.Number), TotalLabel: l.T("preview.total.return"), Total: b.Total(),
				Facts: []previewFact{fact("preview.date", b.TransDate.String()), fact("preview.invoice", b.InvoiceNumber),
					fact("preview.customer", named("customers", b.CustomerNo)), fact("preview.branch", b.BranchName)}}
			items(&d, b.DetailItem)
			expenses(&d, b.CashDiscount, b.DetailExpense)
		default:
			continue
		}
		v.Documents = append(v.Documents, d)
	}
	return v
}
