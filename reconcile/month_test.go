package reconcile_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/money"
	"forstok-accurate-sync/reconcile"
)

// BenchmarkMonthOfALargeSeller reports how many requests to Accurate a
// month's reconciliation of a seller with 300 fakturs, 300 penerimaan and
// 300 returs a day costs (9,000 rows a kind), with every document in
// place. Run it once:
//
//	go test -run '^$' -bench MonthOfALargeSeller -benchtime 1x ./reconcile/
func BenchmarkMonthOfALargeSeller(b *testing.B) {
	const days, perDay = 30, 300
	ctx := context.Background()
	w := newWorldB(b)
	first := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for d := range days {
		day := first.AddDate(0, 0, d)
		date := accurate.DateOf(day, time.UTC)
		var invoices, receipts, returns []accurate.Record
		for i := range perDay {
			n := fmt.Sprintf("ORD-%02d-%03d", d, i)
			invoices = append(invoices, accurate.Record{Number: n, Doc: &accurate.SalesInvoice{Number: n, TransDate: date, CustomerNo: "C-SHOPEE",
				DetailItem: []accurate.InvoiceItem{{ItemNo: "KAOS-HTM-L", Quantity: 2, UnitPrice: money.Rupiah(10000), WarehouseName: "Utama"}}}})
			fp := fmt.Sprintf("FP-%02d%03d", d, i)
			receipts = append(receipts, accurate.Record{Number: fp, Doc: &accurate.SalesReceipt{Number: fp, TransDate: date, CustomerNo: "C-SHOPEE",
				BankNo: "110201", ChequeAmount: money.Rupiah(10000), DetailInvoice: []accurate.ReceiptInvoice{{InvoiceNo: n, PaymentAmount: money.Rupiah(10000)}}}})
			rj := fmt.Sprintf("RJ-%02d%03d", d, i)
			returns = append(returns, accurate.Record{Number: rj, Doc: &accurate.SalesReturn{Number: rj, TransDate: date, CustomerNo: "C-SHOPEE",
				ReturnType: "INVOICE", InvoiceNumber: n,
				DetailItem: []accurate.InvoiceItem{{ItemNo: "KAOS-HTM-L", Quantity: 1, UnitPrice: money.Rupiah(10000), WarehouseName: "Utama"}}}})
			key := func(kind string) string { return fmt.Sprintf("%s:%02d%03d", kind, d, i) }
			w.synced(b, day.Format(time.DateOnly), events.DayLine{Key: key("invoice.created"), Kind: events.DocInvoice, Number: n, Store: "1009", TotalSen: int64(money.Rupiah(20000)), Known: true})
			w.synced(b, day.Format(time.DateOnly), events.DayLine{Key: key("payment.received"), Kind: events.DocPayout, Number: fp, Store: "1009", TotalSen: int64(money.Rupiah(10000)), Known: true})
			w.synced(b, day.Format(time.DateOnly), events.DayLine{Key: key("return.created"), Kind: events.DocReturn, Number: rj, Store: "1009", TotalSen: int64(money.Rupiah(10000)), Known: true})
		}
		for _, batch := range []struct {
			kind    accurate.Kind
			records []accurate.Record
		}{{accurate.KindSalesInvoice, invoices}, {accurate.KindSalesReceipt, receipts}, {accurate.KindSalesReturn, returns}} {
			for i := 0; i < len(batch.records); i += accurate.MaxBulk {
				res, err := w.client.BulkSave(ctx, batch.kind, batch.records[i:min(i+accurate.MaxBulk, len(batch.records))])
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range res {
					if r.Outcome != accurate.OutcomeSaved {
						b.Fatalf("%s %s: %+v", batch.kind, r.Number, r)
					}
				}
			}
		}
	}
	from, to := first, first.AddDate(0, 0, days-1)
	b.ResetTimer()
	var rep reconcile.Report
	for b.Loop() {
		var err error
		rep, err = reconcile.New(reconcile.Config{}).Report(ctx,
			reconcile.Seller{ID: "toko-maju", Settings: w.settings, Days: w.store, Accurate: w.client},
			reconcile.Query{From: from, To: to})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	clean, sides := 0, reconcile.Side{}
	for _, d := range rep.Days {
		if d.Clean() {
			clean++
		}
		sides.Invoices += d.Accurate.Invoices
		sides.Payouts += d.Accurate.Payouts
		sides.Returns += d.Accurate.Returns
	}
	if clean != days || sides.Invoices != days*perDay || sides.Payouts != days*perDay || sides.Returns != days*perDay {
		b.Fatalf("%d clean days of %d; Accurate side %+v; differences %v", clean, days, sides, rep.Differences())
	}
	b.ReportMetric(float64(rep.Requests), "requests/report")
	b.ReportMetric(float64(3*days*perDay)/float64(rep.Requests), "rows/request")
}
