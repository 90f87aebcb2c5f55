package main

import (
	"testing"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/accurate/sandbox"
)

func TestTally(t *testing.T) {
	inv := func(i int) expectation {
		return expectation{key: invoiceKey(i), kind: faktur, number: invoiceNumber(i)}
	}
	pay := func(i int) expectation {
		return expectation{key: paymentKey(i), kind: penerimaan, number: receiptNumber(i)}
	}
	synced := func(e expectation) eventInfo {
		return eventInfo{Key: e.key, State: "synced", AccurateNumber: e.number}
	}
	tests := []struct {
		name     string
		accepted []expectation
		states   map[string]eventInfo
		docs     accurateDocs
		want     counts
	}{
		{
			name:     "every event synced once counts nothing lost or duplicated",
			accepted: []expectation{inv(1), pay(1)},
			states:   map[string]eventInfo{inv(1).key: synced(inv(1)), pay(1).key: synced(pay(1))},
			docs:     accurateDocs{faktur: {invoiceNumber(1)}, penerimaan: {receiptNumber(1)}},
			want:     counts{accepted: 2, synced: 2},
		},
		{
			name:     "an event still retrying at the end is lost",
			accepted: []expectation{inv(1), inv(2)},
			states:   map[string]eventInfo{inv(1).key: synced(inv(1)), inv(2).key: {Key: inv(2).key, State: "retrying"}},
			docs:     accurateDocs{faktur: {invoiceNumber(1)}},
			want:     counts{accepted: 2, synced: 1, lost: 1},
		},
		{
			name:     "an accepted event without a record is lost",
			accepted: []expectation{inv(1)},
			states:   map[string]eventInfo{},
			want:     counts{accepted: 1, lost: 1},
		},
		{
			name:     "a failed event is neither synced nor lost",
			accepted: []expectation{inv(1)},
			states:   map[string]eventInfo{inv(1).key: {Key: inv(1).key, State: "failed"}},
			want:     counts{accepted: 1, failed: 1},
		},
		{
			name:     "an event synced but absent from Accurate is lost",
			accepted: []expectation{pay(1)},
			states:   map[string]eventInfo{pay(1).key: synced(pay(1))},
			docs:     accurateDocs{faktur: {receiptNumber(1)}}, // the right number as the wrong kind
			want:     counts{accepted: 1, synced: 1, lost: 1, duplicated: 1},
		},
		{
			name:     "an event synced under another number is lost",
			accepted: []expectation{inv(1)},
			states:   map[string]eventInfo{inv(1).key: {Key: inv(1).key, State: "synced", AccurateNumber: "OTHER"}},
			docs:     accurateDocs{faktur: {invoiceNumber(1)}},
			want:     counts{accepted: 1, synced: 1, lost: 1},
		},
		{
			name:     "a number held twice is one duplicate",
			accepted: []expectation{inv(1)},
			states:   map[string]eventInfo{inv(1).key: synced(inv(1))},
			docs:     accurateDocs{faktur: {invoiceNumber(1), invoiceNumber(1)}},
			want:     counts{accepted: 1, synced: 1, duplicated: 1},
		},
		{
			name:     "a document no accepted event accounts for is a duplicate",
			accepted: []expectation{pay(1)},
			states:   map[string]eventInfo{pay(1).key: synced(pay(1))},
			docs:     accurateDocs{penerimaan: {receiptNumber(1), receiptNumber(2)}},
			want:     counts{accepted: 1, synced: 1, duplicated: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tally(tt.accepted, tt.states, tt.docs)
			if got.accepted != tt.want.accepted || got.synced != tt.want.synced || got.failed != tt.want.failed ||
				got.lost != tt.want.lost || got.duplicated != tt.want.duplicated {
				t.Errorf("tally = accepted %d synced %d failed %d lost %d duplicated %d, want %d %d %d %d %d (lost: %v, dup: %v)",
					got.accepted, got.synced, got.failed, got.lost, got.duplicated,
					tt.want.accepted, tt.want.synced, tt.want.failed, tt.want.lost, tt.want.duplicated, got.lostWhy, got.dupWhy)
			}
			if len(got.lostWhy) != got.lost {
				t.Errorf("%d lost but %d reasons: %v", got.lost, len(got.lostWhy), got.lostWhy)
			}
			if len(got.dupWhy) != got.duplicated {
				t.Errorf("%d duplicated but %d reasons: %v", got.duplicated, len(got.dupWhy), got.dupWhy)
			}
		})
	}
}

func TestUnpaidListsOnlyTheFaktursStillOwing(t *testing.T) {
	paid := sandbox.StoredInvoice{SalesInvoice: accurate.SalesInvoice{Number: "A"}, Status: sandbox.StatusPaid}
	owing := sandbox.StoredInvoice{SalesInvoice: accurate.SalesInvoice{Number: "B"}, Status: sandbox.StatusOutstanding, PrimeOwing: 8900000}
	other := sandbox.StoredInvoice{SalesInvoice: accurate.SalesInvoice{Number: "C"}, Status: sandbox.StatusOutstanding, PrimeOwing: 100}
	got := unpaid(sandbox.State{Invoices: []sandbox.StoredInvoice{paid, owing, other}}, []string{"A", "B"})
	if len(got) != 1 || got[0] != "B owes 89000 (BELUM LUNAS)" {
		t.Errorf("unpaid = %q, want only B", got)
	}
}

func TestBigPaymentFitsTenThousandInvoicesUnderOneMiB(t *testing.T) {
	if n := len(bigPayment(1, 10000)); n > 1<<20 {
		t.Errorf("10,000 invoices take %d bytes, over the 1 MiB limit", n)
	}
}
