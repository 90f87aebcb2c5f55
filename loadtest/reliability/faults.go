package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"forstok-accurate-sync/accurate/sandbox"
)

// runFaults posts invoices and their payments while Accurate answers 500,
// 502 or 503 to 30% of data calls and drops the answer of 10% of the saves
// it carried out, for a storm of stormFor after intake. Then Accurate
// recovers, and the operator replays what is still retrying (as the runbook
// says), rather than wait for the backoff: under these faults a few payments
// need ten or more attempts, and the last attempts are 5 to 10 minutes
// apart. Every event must end as exactly one document.
func runFaults(ctx context.Context, l *lab, res *result) error {
	n := l.n(300)
	stormFor := 4 * time.Minute
	if l.quick {
		stormFor = 30 * time.Second
	}
	r, in, all, err := l.startDelivered(ctx, res, "faults", stageOptions{faults: sandbox.Faults{ErrorRate: 0.3, LoseRate: 0.1}}, 16, pairsOf(n))
	if err != nil {
		return err
	}
	defer r.close(ctx)
	accepted := acknowledgedOf(in, all)
	keys := keysOf(accepted)

	// The storm: wait it out (or until everything has settled anyway).
	during, _, err := r.admin.settle(ctx, keys, stormFor, func(c map[string]int) {
		r.lab.log("faults: storm %v", c)
	})
	if err != nil {
		return err
	}
	stormState := countStates(during, keys)
	calls := r.sb.Calls()
	r.sb.SetFaults(sandbox.Faults{})
	res.notef("during the %s storm Accurate answered %d calls with a 5xx and dropped the answer of %d saves it had carried out; at its end: %s",
		stormFor, calls["fault_5xx"], calls["lost"], formatStates(stormState))

	replayed, busy := 0, 0
	for _, k := range keys {
		if during[k].State != "retrying" {
			continue
		}
		status, err := r.admin.replay(ctx, k)
		if err != nil {
			return err
		}
		switch status {
		case http.StatusAccepted:
			replayed++
		case http.StatusConflict:
			busy++ // a worker holds it; its attempt runs against a healthy Accurate
		default:
			res.expect(false, "replay of %s answered %d", k, status)
		}
	}
	res.notef("Accurate healthy again; replayed the %d events still retrying (POST /admin/events/{key}/replay: %d answered 202, %d 409 busy)",
		stormState["retrying"], replayed, busy)

	states, st, err := r.finish(ctx, res, accepted, 3*time.Minute)
	if err != nil {
		return err
	}
	if owing := expectEachOnce(res, st, n, len(all)); len(owing) == 0 {
		res.notef("every faktur paid in full (LUNAS)")
	}
	res.notef("in all: %d saves, %d look-ups (list.do), %d detail.do for %d documents; attempts per event: %s",
		st.Calls["sales-invoice/save"]+st.Calls["sales-receipt/save"],
		st.Calls["sales-invoice/list"]+st.Calls["sales-receipt/list"], st.Calls["sales-invoice/detail"],
		len(st.Invoices)+len(st.Receipts), attemptSpread(states, all))
	res.expect(!r.svc.Panicked(), "the service log shows a panic")
	return nil
}

// countStates counts the keys by state.
func countStates(evs map[string]eventInfo, keys []string) map[string]int {
	c := map[string]int{}
	for _, k := range keys {
		c[stateOrMissing(evs[k].State)]++
	}
	return c
}

// invoicesThenPayments is n invoices, then the n payments that settle them.
func invoicesThenPayments(s *sender, n int) ([]outgoing, []expectation) {
	items, all := invoices(s, n)
	for i := range n {
		items = append(items, outgoing{key: paymentKey(i), d: s.newDelivery(paymentBody(i))})
		all = append(all, expectation{key: paymentKey(i), kind: penerimaan, number: receiptNumber(i)})
	}
	return items, all
}

// pairsOf is invoicesThenPayments of n, for startDelivered.
func pairsOf(n int) func(*sender) ([]outgoing, []expectation) {
	return func(s *sender) ([]outgoing, []expectation) { return invoicesThenPayments(s, n) }
}

// invoicesOf is invoices of n, for startDelivered.
func invoicesOf(n int) func(*sender) ([]outgoing, []expectation) {
	return func(s *sender) ([]outgoing, []expectation) { return invoices(s, n) }
}

// invoices are n generated invoices, each to be one faktur.
func invoices(s *sender, n int) ([]outgoing, []expectation) {
	var items []outgoing
	var all []expectation
	for i := range n {
		items = append(items, outgoing{key: invoiceKey(i), d: s.newDelivery(invoiceBody(i, "KAOS-HTM-L"))})
		all = append(all, expectation{key: invoiceKey(i), kind: faktur, number: invoiceNumber(i)})
	}
	return items, all
}

func numbers(n int, number func(int) string) []string {
	out := make([]string, n)
	for i := range n {
		out[i] = number(i)
	}
	return out
}

// formatStates writes state counts in lifecycle order: "synced 51, retrying 9".
func formatStates(c map[string]int) string {
	var parts []string
	for _, st := range []string{"synced", "failed", "retrying", "processing", "queued", "missing"} {
		if c[st] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", st, c[st]))
		}
	}
	return strings.Join(parts, ", ")
}
