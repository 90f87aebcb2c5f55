package worker

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
)

// createLockTTL bounds how long one event creating an item or customer
// keeps the others that need it waiting, should its worker die meanwhile.
const createLockTTL = time.Minute

// supplyMissing runs when Accurate refused the faktur doc of inv because it
// names something Accurate does not know. It asks which of the faktur's
// items and its customer are missing (one list.do each). What the mapping's
// auto_create allows is created, each once, and again reports true: post
// the faktur again. Anything missing that it does not allow fails the event
// at once, naming every missing item and the customer in one reason.
func (w *Worker) supplyMissing(ctx context.Context, rec events.Event, inv *forstok.Invoice, doc accurate.SalesInvoice, refusal error) (outcome, bool) {
	auto := w.Mapping.AutoCreate
	items := w.Mapping.ItemsOf(inv)
	nos := make([]string, len(items))
	for i, it := range items {
		nos[i] = it.No
	}
	known, err := w.knownNumbers(ctx, rec.Key, accurate.ListItems, nos)
	if err != nil {
		return w.lookupFailed("which items of faktur "+doc.Number+" Accurate has", doc, err, refusal), false
	}
	knownCustomer, err := w.knownNumbers(ctx, rec.Key, accurate.ListCustomers, []string{doc.CustomerNo})
	if err != nil {
		return w.lookupFailed("whether Accurate has customer "+doc.CustomerNo, doc, err, refusal), false
	}
	var missing []accurate.Item
	for _, it := range items {
		if !known[it.No] {
			missing = append(missing, it)
		}
	}
	customerMissing := !knownCustomer[doc.CustomerNo]
	if len(missing) == 0 && !customerMissing {
		// Either the refusal is about something else (a warehouse, an
		// account), or another event created what was missing between the
		// refusal and the look-up: one more post tells, and the caller words
		// a second refusal as any other.
		return outcome{}, true
	}

	// Fail before creating anything when not all of it may be created.
	var blocked, recs []string
	itemsBlocked := len(missing) > 0 && auto.Items == nil
	if itemsBlocked {
		names := make([]string, len(missing))
		for i, it := range missing {
			names[i] = fmt.Sprintf("%s (%s)", it.No, it.Name)
			recs = append(recs, "item "+it.No)
		}
		noun := "item "
		if len(missing) > 1 {
			noun = "items "
		}
		blocked = append(blocked, noun+strings.Join(names, ", "))
	}
	customerBlocked := customerMissing && !auto.Customers
	if customerBlocked {
		blocked = append(blocked, "customer "+doc.CustomerNo)
		recs = append(recs, "customer "+doc.CustomerNo)
	}
	if len(blocked) > 0 {
		orMap := ""
		if itemsBlocked {
			orMap = " (or map a SKU to an existing item under items in the mapping)"
		}
		hint := fmt.Sprintf("Add them in Accurate with these numbers%s, then replay this event; "+
			"or turn on %s in the mapping so that the service creates them, then replay this event",
			orMap, w.autoCreateKeys(itemsBlocked, customerBlocked))
		return fail(events.Failure{Kind: events.FailAccurate, Record: records(recs...), AccurateMessage: accurateWords(refusal), Hint: hint},
			"faktur %s names what Accurate does not have: %s", doc.Number, strings.Join(blocked, " and ")), false
	}

	if customerMissing {
		cust, err := w.Mapping.CustomerOf(inv)
		if err != nil {
			return mappingFailure(err), false
		}
		if out, ok := w.createOnce(ctx, rec.Key, "customer:"+cust.CustomerNo, "customer "+cust.CustomerNo, func() error {
			return w.Accurate.SaveCustomer(ctx, &cust)
		}); !ok {
			return out, false
		}
		w.forgetMissing(ctx, rec.Key, accurate.ListCustomers, []string{doc.CustomerNo})
	}
	for _, it := range missing {
		if out, ok := w.createOnce(ctx, rec.Key, "item:"+it.No, "item "+it.No, func() error {
			return w.Accurate.SaveItem(ctx, &it)
		}); !ok {
			return out, false
		}
		w.forgetMissing(ctx, rec.Key, accurate.ListItems, []string{it.No})
	}
	return outcome{}, true
}

// knownNumbers is which of numbers Accurate holds in the list kind: what
// was found missing a moment ago counts as missing without asking again,
// and only the rest is asked (gathered with the other events' questions
// when the client batches); what is found missing is remembered for
// MissingMemory. A memory that does not answer leaves everything to ask.
func (w *Worker) knownNumbers(ctx context.Context, eventKey string, kind accurate.ListKind, numbers []string) (map[string]bool, error) {
	remembered, err := w.Missing.RememberedMissing(ctx, string(kind), numbers)
	if err != nil {
		w.Logger.Warn("could not read what Accurate was found to lack; asking Accurate", zap.String("event_key", eventKey), zap.Error(err))
	}
	var ask []string
	for _, n := range numbers {
		if !remembered[n] {
			ask = append(ask, n)
		}
	}
	known := map[string]bool{}
	if len(ask) == 0 {
		return known, nil
	}
	known, err = w.Accurate.KnownNumbers(ctx, kind, ask)
	if err != nil {
		return known, err
	}
	var lacking []string
	for _, n := range ask {
		if !known[n] {
			lacking = append(lacking, n)
		}
	}
	if err := w.Missing.NoteMissing(ctx, string(kind), lacking, w.MissingMemory); err != nil {
		w.Logger.Warn("could not remember what Accurate lacks; the next refusal asks again", zap.String("event_key", eventKey), zap.Error(err))
	}
	return known, nil
}

// forgetMissing forgets numbers the service just created in Accurate.
func (w *Worker) forgetMissing(ctx context.Context, eventKey string, kind accurate.ListKind, numbers []string) {
	if err := w.Missing.ForgetMissing(ctx, string(kind), numbers); err != nil {
		w.Logger.Warn("could not forget a created number as missing; the memory lapses within MissingMemory", zap.String("event_key", eventKey), zap.Error(err))
	}
}

// autoCreateKeys names the mapping keys that would let the service create
// what is missing.
func (w *Worker) autoCreateKeys(items, customer bool) string {
	var keys []string
	if items {
		keys = append(keys, "auto_create.items (with item_type and unit)")
	}
	if customer {
		keys = append(keys, "auto_create.customers")
	}
	return strings.Join(keys, " and ")
}

// lookupFailed words a failed look-up of missing items or customers: what
// passes on its own is retried; a refusal of the look-up itself leaves the
// faktur's own refusal, in Accurate's words, as the reason.
func (w *Worker) lookupFailed(doing string, doc accurate.SalesInvoice, err, refusal error) outcome {
	switch accurate.ClassOf(err) {
	case accurate.ClassTransient, accurate.ClassRateLimited, accurate.ClassAuth:
		return w.classify("asking", doing, err)
	}
	return w.classify("", "faktur "+doc.Number, refusal)
}

// createOnce creates one item or customer in Accurate for every event that
// needs it, once: the first event to take the lock creates it and marks it
// done; the others, racing for the same number, wait their turn (retried)
// and then find it done. Accurate's "the number exists" counts as created.
func (w *Worker) createOnce(ctx context.Context, eventKey, name, what string, create func() error) (outcome, bool) {
	if done, err := w.Orders.IsDone(ctx, name); err != nil {
		return retry("reading whether %s was created: %v", what, err), false
	} else if done {
		return outcome{}, true
	}
	unlock, ok, err := w.Orders.Lock(ctx, name, createLockTTL)
	if err != nil {
		return retry("locking the creation of %s: %v", what, err), false
	}
	if !ok {
		return retry("%s is being created in Accurate by another event; this one follows", what), false
	}
	defer unlock()
	// Another event may have created it between the look and the lock.
	if done, err := w.Orders.IsDone(ctx, name); err != nil {
		return retry("reading whether %s was created: %v", what, err), false
	} else if done {
		return outcome{}, true
	}
	if err := create(); err != nil && !accurate.IsDuplicate(err) {
		return w.classify("creating", ""+what, err), false
	}
	if err := w.Orders.MarkDone(ctx, name); err != nil {
		// It exists in Accurate: a later event finds it there, or is told
		// "the number exists", which counts as created.
		w.Logger.Warn("could not record the creation; a later event is told the number exists, which counts as created",
			zap.String("event_key", eventKey), zap.String("created", what), zap.Error(err))
	}
	w.Logger.Info("created in Accurate (auto_create)", zap.String("event_key", eventKey), zap.String("created", what))
	return outcome{}, true
}
