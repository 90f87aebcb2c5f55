package worker

import (
	"errors"
	"fmt"
	"strings"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/events"
)

// What the worker advises, in one place: the hints of the failures it
// records. None asks for a restart: a seller's mapping is reloaded when its
// file changes, and events are replayed after the fix.
const (
	hintReplay       = "Replay this event"
	hintMapping      = "Correct the mapping as it says, then replay this event"
	hintForstokData  = "Correct it in Forstok and replay the corrected body with POST /admin/replay"
	hintAccurateData = "Correct the data in Forstok and replay the corrected body with POST /admin/replay; " +
		"or correct the mapping or the record in Accurate, then replay this event"
	hintAccurateMissing = "Create it in Accurate and replay this event; or correct the mapping, then replay this event"
	hintInvoiceFirst    = "Get the invoice synced first, then replay this event"
	hintAccurateAway    = "Replay this event when Accurate answers again"
)

// DefaultCredentials is where the credentials of a single-seller deployment
// are set, named when Accurate refuses them.
const DefaultCredentials = "ACCURATE_API_TOKEN, ACCURATE_SIGNATURE_SECRET"

// fail ends the event failed: last_error says what happened, then the hint;
// f says the same as data (a kind, the key or record to fix, Accurate's
// words).
func fail(f events.Failure, format string, args ...any) outcome {
	if f.Kind == "" {
		f.Kind = events.FailOther
	}
	reason := strings.TrimRight(fmt.Sprintf(format, args...), ". ")
	if f.Hint != "" {
		reason += ". " + f.Hint
	}
	return outcome{state: events.StateFailed, reason: reason, failure: f}
}

// pending marks a retry with the failure it becomes should its attempts or
// its wait run out.
func (o outcome) pending(f events.Failure) outcome {
	o.failure = f
	return o
}

// meanwhile says what happens while the event retries (dropped when it
// gives up, where the hint says what to do).
func (o outcome) meanwhile(advice string) outcome {
	o.advice = advice
	return o
}

// words is what the event's last_error says of the outcome: the reason,
// and while it retries what happens meanwhile.
func (o outcome) words() string {
	if o.state == events.StateRetrying && o.advice != "" {
		return o.reason + ". " + o.advice
	}
	return o.reason
}

// accurateWords is Accurate's own message in err, or "".
func accurateWords(err error) string {
	var ae *accurate.Error
	if errors.As(err, &ae) {
		return strings.Join(ae.Messages, "; ")
	}
	return ""
}

// records joins record names ("item A", "customer B") for Failure.Record.
func records(names ...string) string { return strings.Join(names, ", ") }
