package reconcile_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/testclock"
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
	w.largeDays(b, first, days, perDay, true)
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

// largeDays files days of perDay fakturs, penerimaan and returs a day from
// first on the service's side, each synced, and, with posted, saves them
// in the sandbox too (without, Accurate holds none of them).
func (w *world) largeDays(b *testing.B, first time.Time, days, perDay int, posted bool) {
	ctx := context.Background()
	for d := range days {
		day := first.AddDate(0, 0, d)
		date := accurate.DateOf(day, time.UTC)
		var invoices, receipts, returns []accurate.Record
		for i := range perDay {
			n := fmt.Sprintf("ORD-%s-%03d", day.Format("0102"), i)
			invoices = append(invoices, accurate.Record{Number: n, Doc: &accurate.SalesInvoice{Number: n, TransDate: date, CustomerNo: "C-SHOPEE",
				DetailItem: []accurate.InvoiceItem{{ItemNo: "KAOS-HTM-L", Quantity: 2, UnitPrice: money.Rupiah(10000), WarehouseName: "Utama"}}}})
			fp := fmt.Sprintf("FP-%s%03d", day.Format("0102"), i)
			receipts = append(receipts, accurate.Record{Number: fp, Doc: &accurate.SalesReceipt{Number: fp, TransDate: date, CustomerNo: "C-SHOPEE",
				BankNo: "110201", ChequeAmount: money.Rupiah(10000), DetailInvoice: []accurate.ReceiptInvoice{{InvoiceNo: n, PaymentAmount: money.Rupiah(10000)}}}})
			rj := fmt.Sprintf("RJ-%s%03d", day.Format("0102"), i)
			returns = append(returns, accurate.Record{Number: rj, Doc: &accurate.SalesReturn{Number: rj, TransDate: date, CustomerNo: "C-SHOPEE",
				ReturnType: "INVOICE", InvoiceNumber: n,
				DetailItem: []accurate.InvoiceItem{{ItemNo: "KAOS-HTM-L", Quantity: 1, UnitPrice: money.Rupiah(10000), WarehouseName: "Utama"}}}})
			key := func(kind string) string { return fmt.Sprintf("%s:%s%03d", kind, day.Format("0102"), i) }
			w.synced(b, day.Format(time.DateOnly), events.DayLine{Key: key("invoice.created"), Kind: events.DocInvoice, Number: n, Store: "1009", TotalSen: int64(money.Rupiah(20000)), Known: true})
			w.synced(b, day.Format(time.DateOnly), events.DayLine{Key: key("payment.received"), Kind: events.DocPayout, Number: fp, Store: "1009", TotalSen: int64(money.Rupiah(10000)), Known: true})
			w.synced(b, day.Format(time.DateOnly), events.DayLine{Key: key("return.created"), Kind: events.DocReturn, Number: rj, Store: "1009", TotalSen: int64(money.Rupiah(10000)), Known: true})
		}
		if !posted {
			continue
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
}

// BenchmarkDailyRunOfALargeSeller reports what the daily run of one day of
// a seller with 300 fakturs, 300 penerimaan and 300 returs costs: requests
// to Accurate and the bytes its kept run takes in Redis, for a clean day
// and for a day whose 900 documents Accurate all lacks (the largest kept
// report). Run it once:
//
//	go test -run '^$' -bench DailyRunOfALargeSeller -benchtime 1x ./reconcile/
func BenchmarkDailyRunOfALargeSeller(b *testing.B) {
	const perDay = 300
	w := newWorldB(b)
	clean, lacking := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	w.largeDays(b, clean, 1, perDay, true)
	w.largeDays(b, lacking, 1, perDay, false)
	for _, tc := range []struct {
		name string
		day  time.Time
		diff int
	}{{"clean", clean, 0}, {"all-missing", lacking, 3 * perDay}} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			// 07:00 in Jakarta of the next day: the day is due.
			c := testclock.New(tc.day.Add(24 * time.Hour))
			d := w.replica("bench", c, &reconciles{w: w, r: reconcile.New(reconcile.Config{Now: c.Now})}, 0)
			day := tc.day.Format(time.DateOnly)
			prefix := w.redis.Namespace + ":{reconcile:toko-maju}:"
			lists := 0
			for b.Loop() {
				if err := w.rdb.Del(ctx, prefix+"claim:"+day).Err(); err != nil {
					b.Fatal(err)
				}
				before := w.lists()
				d.Tick(ctx)
				lists = w.lists() - before
			}
			b.StopTimer()
			run, ok, err := d.Kept(ctx, "toko-maju", day)
			if err != nil || !ok || run.Total != tc.diff || len(run.Unreadable) != 0 {
				b.Fatalf("kept %v %v: %d differences, want %d; %+v", ok, err, run.Total, tc.diff, run.Unreadable)
			}
			bytes, err := w.rdb.MemoryUsage(ctx, prefix+"run:"+day).Result()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(lists), "requests/run")
			b.ReportMetric(float64(bytes), "bytes-kept/run")
		})
	}
}
