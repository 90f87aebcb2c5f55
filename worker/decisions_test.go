package worker

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/internal/fixtures"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/money"
)

// fakeStore is the worker's Store in memory: claims, faktur totals and the
// results recorded.
type fakeStore struct {
	claims   map[string]string // kind+number → event key
	totals   map[string]int64
	claimErr error
	finished []events.Result
	records  map[string]events.Event
}

func newFakeStore() *fakeStore {
	return &fakeStore{claims: map[string]string{}, totals: map[string]int64{}}
}

func (s *fakeStore) NumberOwner(_ context.Context, kind, number string) (string, bool, error) {
	owner, ok := s.claims[kind+" "+number]
	return owner, ok, nil
}

func (s *fakeStore) Get(_ context.Context, key string) (events.Event, error) {
	ev, ok := s.records[key]
	if !ok {
		return ev, events.ErrNotFound
	}
	return ev, nil
}

func (s *fakeStore) Hold(ctx context.Context, _ string) (context.Context, func(), error) {
	return ctx, func() {}, nil
}

func (s *fakeStore) Begin(context.Context, events.Incoming) (events.Event, error) {
	return events.Event{}, errors.New("not used by these tests")
}

func (s *fakeStore) Finish(_ context.Context, _ string, r events.Result) error {
	s.finished = append(s.finished, r)
	return nil
}

func (s *fakeStore) RememberFaktur(_ context.Context, number string, total int64) error {
	s.totals[number] = total
	return nil
}

func (s *fakeStore) FakturTotal(_ context.Context, number string) (int64, bool, error) {
	v, ok := s.totals[number]
	return v, ok, nil
}

func (s *fakeStore) ClaimNumber(_ context.Context, kind, number, key string) (string, error) {
	if s.claimErr != nil {
		return "", s.claimErr
	}
	k := kind + " " + number
	if owner, ok := s.claims[k]; ok {
		return owner, nil
	}
	s.claims[k] = key
	return key, nil
}

// fakeAccurate answers each call from what the case sets, and counts calls.
type fakeAccurate struct {
	saveErr   error                   // the save's answer
	listed    *accurate.SavedDocument // what list.do finds, nil: nothing
	findErr   error
	detail    map[string]accurate.InvoiceDetail // detail.do by number; others not found
	detailErr error
	calls     map[string]int
}

func (a *fakeAccurate) count(endpoint string) {
	if a.calls == nil {
		a.calls = map[string]int{}
	}
	a.calls[endpoint]++
}

func (a *fakeAccurate) save(endpoint, number string) (accurate.SavedDocument, error) {
	a.count(endpoint)
	if a.saveErr != nil {
		return accurate.SavedDocument{}, a.saveErr
	}
	return accurate.SavedDocument{ID: 1, Number: number, TotalAmount: money.Rupiah(233000)}, nil
}

func (a *fakeAccurate) find(endpoint, number string) (accurate.SavedDocument, bool, error) {
	a.count(endpoint)
	if a.findErr != nil {
		return accurate.SavedDocument{}, false, a.findErr
	}
	if a.listed == nil || a.listed.Number != number {
		return accurate.SavedDocument{}, false, nil
	}
	return *a.listed, true, nil
}

func (a *fakeAccurate) SaveSalesInvoice(_ context.Context, doc *accurate.SalesInvoice) (accurate.SavedDocument, error) {
	return a.save("sales-invoice/save", doc.Number)
}

func (a *fakeAccurate) FindSalesInvoice(_ context.Context, number string) (accurate.SavedDocument, bool, error) {
	return a.find("sales-invoice/list", number)
}

func (a *fakeAccurate) SalesInvoiceDetail(_ context.Context, number string) (accurate.InvoiceDetail, error) {
	a.count("sales-invoice/detail")
	if a.detailErr != nil {
		return accurate.InvoiceDetail{}, a.detailErr
	}
	d, ok := a.detail[number]
	if !ok {
		return d, accurateSaid(accurate.ClassNotFound, "Data Faktur Penjualan dengan No \""+number+"\" tidak ditemukan atau sudah dihapus")
	}
	return d, nil
}

func (a *fakeAccurate) SaveSalesReceipt(_ context.Context, doc *accurate.SalesReceipt) (accurate.SavedDocument, error) {
	return a.save("sales-receipt/save", doc.Number)
}

func (a *fakeAccurate) FindSalesReceipt(_ context.Context, number string) (accurate.SavedDocument, bool, error) {
	return a.find("sales-receipt/list", number)
}

// The calls of voids, returns and master data: counted, answered like the
// saves above; the decisions here do not reach them.

func (a *fakeAccurate) SalesReceiptDetail(_ context.Context, number string) (accurate.ReceiptDetail, error) {
	a.count("sales-receipt/detail")
	return accurate.ReceiptDetail{}, accurateSaid(accurate.ClassNotFound, number+" tidak ditemukan atau sudah dihapus")
}

func (a *fakeAccurate) DeleteSalesInvoice(_ context.Context, number string) error {
	_, err := a.save("sales-invoice/delete", number)
	return err
}

func (a *fakeAccurate) DeleteSalesReceipt(_ context.Context, number string) error {
	_, err := a.save("sales-receipt/delete", number)
	return err
}

func (a *fakeAccurate) SaveSalesReturn(_ context.Context, doc *accurate.SalesReturn) (accurate.SavedDocument, error) {
	return a.save("sales-return/save", doc.Number)
}

func (a *fakeAccurate) FindSalesReturn(_ context.Context, number string) (accurate.SavedDocument, bool, error) {
	return a.find("sales-return/list", number)
}

func (a *fakeAccurate) SaveItem(_ context.Context, item *accurate.Item) error {
	_, err := a.save("item/save", item.No)
	return err
}

func (a *fakeAccurate) SaveCustomer(_ context.Context, c *accurate.Customer) error {
	_, err := a.save("customer/save", c.CustomerNo)
	return err
}

// KnownNumbers: every item and customer exists, unless the case says
// otherwise through saveErr.
func (a *fakeAccurate) KnownNumbers(_ context.Context, kind accurate.ListKind, numbers []string) (map[string]bool, error) {
	a.count(string(kind) + "/list")
	known := map[string]bool{}
	for _, n := range numbers {
		known[n] = true
	}
	return known, nil
}

func accurateSaid(class accurate.Class, msg string) error {
	return &accurate.Error{Class: class, Endpoint: "test", Status: 200, Messages: []string{msg}}
}

func exampleEvent(t *testing.T, name string) forstok.Event {
	t.Helper()
	ev, err := forstok.NewDecoder().Decode(fixtures.Body(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func exampleSettings(t *testing.T) *mapping.Settings { return fixtures.Settings(t) }

const (
	invoiceNumber = "2411260AB12CD3" // order.local_name of invoice 70001
	invoiceKey    = "invoice.created:70001"
	receiptNo     = "FP-90001"
	paymentKey    = "payment.received:90001"
)

func TestInvoiceDecisions(t *testing.T) {
	cases := []struct {
		name      string
		attempt   int
		claimedBy string // another event owning the number already
		claimErr  error
		acc       fakeAccurate
		state     string
		reason    string         // a phrase the reason holds
		calls     map[string]int // Accurate calls made
	}{
		{name: "a first attempt saves once and is synced",
			attempt: 1, state: events.StateSynced,
			calls: map[string]int{"sales-invoice/save": 1}},
		{name: "a retry that finds the faktur saved by an earlier attempt is synced without saving again",
			attempt: 2, acc: fakeAccurate{listed: &accurate.SavedDocument{ID: 7, Number: invoiceNumber}},
			state: events.StateSynced, calls: map[string]int{"sales-invoice/list": 1}},
		{name: "a retry that does not find the faktur saves it",
			attempt: 2, state: events.StateSynced,
			calls: map[string]int{"sales-invoice/list": 1, "sales-invoice/save": 1}},
		{name: "a duplicate answer is looked up and counts as synced when the faktur is listed",
			attempt: 1, acc: fakeAccurate{saveErr: accurateSaid(accurate.ClassDuplicate, "Sudah ada data lain dengan No Faktur"), listed: &accurate.SavedDocument{ID: 7, Number: invoiceNumber}},
			state: events.StateSynced, calls: map[string]int{"sales-invoice/save": 1, "sales-invoice/list": 1}},
		{name: "a duplicate answer whose faktur is not listed yet is retried",
			attempt: 1, acc: fakeAccurate{saveErr: accurateSaid(accurate.ClassDuplicate, "Sudah ada data lain dengan No Faktur")},
			state: events.StateRetrying, reason: "does not list it yet",
			calls: map[string]int{"sales-invoice/save": 1, "sales-invoice/list": 1}},
		{name: "a refused token is retried and names the variables to check",
			attempt: 1, acc: fakeAccurate{saveErr: accurateSaid(accurate.ClassAuth, "invalid_token")},
			state: events.StateRetrying, reason: "ACCURATE_API_TOKEN",
			calls: map[string]int{"sales-invoice/save": 1}},
		{name: "a refused token says what was being done when it was refused",
			attempt: 1, acc: fakeAccurate{saveErr: accurateSaid(accurate.ClassAuth, "invalid_token")},
			state: events.StateRetrying, reason: "while saving faktur " + invoiceNumber,
			calls: map[string]int{"sales-invoice/save": 1}},
		{name: "a validation refusal fails at once with Accurate's words",
			attempt: 1, acc: fakeAccurate{saveErr: accurateSaid(accurate.ClassValidation, "Tanggal wajib diisi")},
			state: events.StateFailed, reason: "Tanggal wajib diisi",
			calls: map[string]int{"sales-invoice/save": 1}},
		{name: "a number another invoice owns fails naming that event and posts nothing",
			attempt: 1, claimedBy: "invoice.created:69999",
			acc:   fakeAccurate{listed: &accurate.SavedDocument{ID: 7, Number: invoiceNumber}},
			state: events.StateFailed, reason: "already belongs to event invoice.created:69999",
			calls: map[string]int{}},
		{name: "a number another invoice owns fails on a retry too, even though the faktur is listed",
			attempt: 3, claimedBy: "invoice.created:69999",
			acc:   fakeAccurate{listed: &accurate.SavedDocument{ID: 7, Number: invoiceNumber}},
			state: events.StateFailed, reason: "already belongs to event invoice.created:69999",
			calls: map[string]int{}},
		{name: "the owner's own retry after a crash finds its number and its faktur",
			attempt: 2, claimedBy: invoiceKey,
			acc:   fakeAccurate{listed: &accurate.SavedDocument{ID: 7, Number: invoiceNumber}},
			state: events.StateSynced, calls: map[string]int{"sales-invoice/list": 1}},
		{name: "a claim the store cannot make is retried before Accurate is asked",
			attempt: 1, claimErr: events.ErrUnavailable,
			state: events.StateRetrying, reason: "could not claim faktur", calls: map[string]int{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := newFakeStore()
			store.claimErr = tc.claimErr
			if tc.claimedBy != "" {
				store.claims["faktur "+invoiceNumber] = tc.claimedBy
			}
			acc := tc.acc
			w := New(withFake(Config{Accurate: &acc, Mapping: exampleSettings(t)}, store))
			rec := events.Event{Key: invoiceKey, Attempts: tc.attempt}
			out := w.processInvoiceCreated(context.Background(), rec, exampleEvent(t, "invoice-created-shopee.json"))
			if out.state != tc.state || !strings.Contains(out.words(), tc.reason) {
				t.Errorf("outcome = %s %q; want %s with %q", out.state, out.words(), tc.state, tc.reason)
			}
			if tc.state == events.StateSynced && out.doc.Number != invoiceNumber {
				t.Errorf("synced as %q; want faktur %s", out.doc.Number, invoiceNumber)
			}
			if !sameCalls(acc.calls, tc.calls) {
				t.Errorf("Accurate calls = %v; want %v", acc.calls, tc.calls)
			}
		})
	}
}

func TestPaymentDecisions(t *testing.T) {
	cases := []struct {
		name    string
		attempt int
		total   bool          // the store remembers the faktur's total
		invoice *events.Event // the invoice event owning the faktur's number
		// unclaimed: the invoice event was accepted but has not claimed the
		// number yet (it claims when it is processed)
		unclaimed bool
		acc       fakeAccurate
		state     string
		reason    string
		waiting   bool
		calls     map[string]int
	}{
		{name: "a payment of a faktur this service synced saves without reading the faktur",
			attempt: 1, total: true, state: events.StateSynced,
			calls: map[string]int{"sales-receipt/save": 1}},
		{name: "a payment of a faktur the service does not know reads what is owed from Accurate",
			attempt: 1, acc: fakeAccurate{detail: map[string]accurate.InvoiceDetail{invoiceNumber: {Number: invoiceNumber, PrimeOwing: money.Rupiah(233000)}}},
			state: events.StateSynced, calls: map[string]int{"sales-invoice/detail": 1, "sales-receipt/save": 1}},
		{name: "a payment whose faktur is not in Accurate yet waits for it, saying no invoice came",
			attempt: 1, state: events.StateRetrying, waiting: true, reason: "no invoice.created for it has reached this service",
			calls: map[string]int{"sales-invoice/detail": 1}},
		{name: "a payment behind a failed invoice waits naming the invoice event, its error and what to do",
			attempt: 1, invoice: &events.Event{Key: invoiceKey, State: events.StateFailed, LastError: "Accurate refused faktur: Tanggal wajib diisi"},
			state: events.StateRetrying, waiting: true,
			reason: "because its invoice event " + invoiceKey + " failed: Accurate refused faktur: Tanggal wajib diisi. Fix that and replay " + invoiceKey,
			calls:  map[string]int{"sales-invoice/detail": 1}},
		{name: "a payment behind an invoice still retrying waits naming it, without asking Accurate",
			attempt: 1, invoice: &events.Event{Key: invoiceKey, State: events.StateRetrying},
			state: events.StateRetrying, waiting: true, reason: "its invoice event " + invoiceKey + " is retrying",
			calls: map[string]int{}},
		{name: "a payment behind an invoice accepted but not posted yet says so, without asking Accurate",
			attempt: 1, invoice: &events.Event{Key: invoiceKey, State: events.StateQueued}, unclaimed: true,
			state: events.StateRetrying, waiting: true, reason: "its invoice event " + invoiceKey + " is queued (accepted, not posted yet); the payment waits for it",
			calls: map[string]int{}},
		{name: "a payment whose faktur Accurate cannot find when saving waits for it",
			attempt: 1, total: true,
			acc:   fakeAccurate{saveErr: accurateSaid(accurate.ClassNotFound, "Faktur \""+invoiceNumber+"\" tidak ditemukan atau sudah dihapus")},
			state: events.StateRetrying, waiting: true, reason: "does not know a faktur",
			calls: map[string]int{"sales-receipt/save": 1}},
		{name: "a retry that finds the penerimaan is synced without saving again",
			attempt: 2, total: true, acc: fakeAccurate{listed: &accurate.SavedDocument{ID: 9, Number: receiptNo}},
			state: events.StateSynced, calls: map[string]int{"sales-receipt/list": 1}},
		{name: "a duplicate penerimaan is looked up and counts as synced",
			attempt: 1, total: true,
			acc:   fakeAccurate{saveErr: accurateSaid(accurate.ClassDuplicate, "Sudah ada data lain dengan No"), listed: &accurate.SavedDocument{ID: 9, Number: receiptNo}},
			state: events.StateSynced, calls: map[string]int{"sales-receipt/save": 1, "sales-receipt/list": 1}},
		{name: "a duplicate penerimaan not listed yet is retried",
			attempt: 1, total: true, acc: fakeAccurate{saveErr: accurateSaid(accurate.ClassDuplicate, "Sudah ada data lain dengan No")},
			state: events.StateRetrying, reason: "does not list it yet",
			calls: map[string]int{"sales-receipt/save": 1, "sales-receipt/list": 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := newFakeStore()
			if tc.total {
				store.totals[invoiceNumber] = int64(money.Rupiah(233000))
			}
			if tc.invoice != nil {
				if !tc.unclaimed {
					store.claims["faktur "+invoiceNumber] = tc.invoice.Key
				}
				store.records = map[string]events.Event{tc.invoice.Key: *tc.invoice}
			}
			acc := tc.acc
			w := New(withFake(Config{Accurate: &acc, Mapping: exampleSettings(t)}, store))
			rec := events.Event{Key: paymentKey, Attempts: tc.attempt}
			out := w.processPaymentReceived(context.Background(), rec, exampleEvent(t, "payment-received-shopee.json"))
			if out.state != tc.state || out.waiting != tc.waiting || !strings.Contains(out.words(), tc.reason) {
				t.Errorf("outcome = %s waiting=%v %q; want %s waiting=%v with %q", out.state, out.waiting, out.words(), tc.state, tc.waiting, tc.reason)
			}
			if tc.state == events.StateSynced && out.doc.Number != receiptNo {
				t.Errorf("synced as %q; want penerimaan %s", out.doc.Number, receiptNo)
			}
			if !sameCalls(acc.calls, tc.calls) {
				t.Errorf("Accurate calls = %v; want %v", acc.calls, tc.calls)
			}
		})
	}
}

func TestRecordDecisions(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		out     outcome
		age     time.Duration // since the event was accepted
		retried int           // retries asynq made before this attempt
		state   string
		reason  string
	}{
		{name: "a payment waiting for its faktur within the wait is retried",
			out: outcome{state: events.StateRetrying, reason: "faktur X is not in Accurate yet", waiting: true}, age: time.Hour, retried: 50,
			state: events.StateRetrying, reason: "faktur X is not in Accurate yet"},
		{name: "a payment that waited its whole wait fails and says to sync the invoice first",
			out: outcome{state: events.StateRetrying, reason: "faktur X is not in Accurate yet", waiting: true}, age: 24 * time.Hour,
			state: events.StateFailed, reason: "gave up after waiting 24h0m0s"},
		{name: "a give-up names the wait's setting once, not the waiting clause's too",
			out: outcome{state: events.StateRetrying, reason: "faktur X is not in Accurate yet: no invoice.created for it has reached this service; the payment waits for it (PAYMENT_INVOICE_WAIT)", waiting: true}, age: 25 * time.Hour,
			state: events.StateFailed, reason: "the payment waits for it; gave up after waiting 24h0m0s (PAYMENT_INVOICE_WAIT)"},
		{name: "a transient failure with attempts left is retried",
			out: outcome{state: events.StateRetrying, reason: "Accurate did not answer"}, retried: 1,
			state: events.StateRetrying, reason: "Accurate did not answer"},
		{name: "a transient failure on the last attempt fails, counting every attempt",
			out: outcome{state: events.StateRetrying, reason: "Accurate did not answer"}, retried: 2,
			state: events.StateFailed, reason: "gave up after 3 attempts"},
		{name: "a failure stays failed whatever the attempts",
			out:   outcome{state: events.StateFailed, reason: "Tanggal wajib diisi"},
			state: events.StateFailed, reason: "Tanggal wajib diisi"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := newFakeStore()
			w := New(withFake(Config{MaxAttempts: 3, Now: func() time.Time { return now }}, store))
			rec := events.Event{Key: paymentKey, CreatedAt: now.Add(-tc.age), Attempts: tc.retried + 1}
			err := w.record(context.Background(), w.Logger, rec, forstok.TypePaymentReceived, tc.retried, tc.out)
			if len(store.finished) != 1 {
				t.Fatalf("recorded %d results; want 1", len(store.finished))
			}
			got := store.finished[0]
			if got.State != tc.state || !strings.Contains(got.Error, tc.reason) {
				t.Errorf("recorded %s %q; want %s with %q", got.State, got.Error, tc.state, tc.reason)
			}
			var re *retryError
			switch tc.state {
			case events.StateRetrying:
				if !errors.As(err, &re) || got.NextAttemptAt.Before(now) {
					t.Errorf("retrying answered asynq %v with next attempt %s; want a retryError and a time ahead", err, got.NextAttemptAt)
				}
			case events.StateFailed:
				if err == nil || errors.As(err, &re) {
					t.Errorf("failed answered asynq %v; want SkipRetry", err)
				}
			}
		})
	}
}

func sameCalls(got, want map[string]int) bool {
	n := 0
	for k, v := range got {
		if want[k] != v {
			return false
		}
		n++
	}
	return n == len(want)
}
