package main

import (
	"fmt"
	"slices"
	"sort"

	"forstok-accurate-sync/accurate/sandbox"
)

// docKind is the Accurate document an event produces.
type docKind int

const (
	faktur     docKind = iota // sales invoice, from invoice.created
	penerimaan                // sales receipt, from payment.received
)

func (k docKind) String() string {
	if k == faktur {
		return "faktur"
	}
	return "penerimaan"
}

// expectation is an event the service accepted and the document number it
// must end up as at Accurate.
type expectation struct {
	key    string
	kind   docKind
	number string
}

// counts is one row of the final table.
type counts struct {
	accepted   int
	synced     int
	failed     int
	lost       int // accepted, but neither synced nor failed, or synced and not at Accurate
	duplicated int // documents beyond one per number, or no accepted event accounts for
	lostWhy    []string
	dupWhy     []string
}

// accurateDocs are the numbers Accurate holds, per kind, in save order.
type accurateDocs map[docKind][]string

func docsOf(st sandbox.State) accurateDocs {
	d := accurateDocs{}
	for _, inv := range st.Invoices {
		d[faktur] = append(d[faktur], inv.Number)
	}
	for _, rc := range st.Receipts {
		d[penerimaan] = append(d[penerimaan], rc.Number)
	}
	return d
}

// tally compares what was accepted with the states the service recorded and
// the documents Accurate holds.
func tally(accepted []expectation, states map[string]eventInfo, docs accurateDocs) counts {
	c := counts{accepted: len(accepted)}
	held := map[docKind]map[string]int{}
	for kind, numbers := range docs {
		held[kind] = map[string]int{}
		for _, n := range numbers {
			held[kind][n]++
		}
	}
	wanted := map[docKind]map[string]bool{faktur: {}, penerimaan: {}}
	for _, e := range accepted {
		wanted[e.kind][e.number] = true
		ev, ok := states[e.key]
		switch {
		case !ok:
			c.lost++
			c.lostWhy = append(c.lostWhy, e.key+": no record")
		case ev.State == "failed":
			c.failed++
		case ev.State != "synced":
			c.lost++
			c.lostWhy = append(c.lostWhy, e.key+": still "+ev.State)
		default:
			c.synced++
			switch {
			case ev.AccurateNumber != e.number:
				c.lost++
				c.lostWhy = append(c.lostWhy, fmt.Sprintf("%s: synced as %q, want %q", e.key, ev.AccurateNumber, e.number))
			case held[e.kind][e.number] == 0:
				c.lost++
				c.lostWhy = append(c.lostWhy, fmt.Sprintf("%s: synced, but Accurate holds no %s %s", e.key, e.kind, e.number))
			}
		}
	}
	for _, kind := range []docKind{faktur, penerimaan} {
		numbers := make([]string, 0, len(held[kind]))
		for n := range held[kind] {
			numbers = append(numbers, n)
		}
		sort.Strings(numbers)
		for _, n := range numbers {
			times := held[kind][n]
			if times > 1 {
				c.duplicated += times - 1
				c.dupWhy = append(c.dupWhy, fmt.Sprintf("%s %s held %d times", kind, n, times))
			}
			if !wanted[kind][n] {
				c.duplicated++
				c.dupWhy = append(c.dupWhy, fmt.Sprintf("%s %s comes from no accepted event", kind, n))
			}
		}
	}
	return c
}

// unpaid lists the fakturs a synced receipt should have settled but that
// Accurate still shows owing: a receipt posted twice or half would show here.
func unpaid(st sandbox.State, numbers []string) []string {
	var out []string
	for _, inv := range st.Invoices {
		if slices.Contains(numbers, inv.Number) && (inv.Status != sandbox.StatusPaid || inv.PrimeOwing != 0) {
			out = append(out, fmt.Sprintf("%s owes %s (%s)", inv.Number, inv.PrimeOwing, inv.Status))
		}
	}
	return out
}

// attemptSpread summarises how many attempts the events took.
func attemptSpread(states map[string]eventInfo, all []expectation) string {
	hist := map[int]int{}
	most, sum := 0, 0
	for _, e := range all {
		a := states[e.key].Attempts
		hist[a]++
		sum += a
		most = max(most, a)
	}
	if len(all) == 0 {
		return "none"
	}
	return fmt.Sprintf("1: %d, 2: %d, 3: %d, 4 or more: %d (most %d, %d in all)",
		hist[1], hist[2], hist[3], len(all)-hist[0]-hist[1]-hist[2]-hist[3], most, sum)
}
