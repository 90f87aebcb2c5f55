package events

import "encoding/json"

// Failure is what to fix about a failed event, as data: the worker writes
// it when it fails the event, and the admin API, the console and the
// sellers' page read its fields. last_error keeps the same in words for
// people; no code reads that.
type Failure struct {
	Kind string `json:"kind"`
	// Key is the mapping path to add or fix (amounts.service_fee,
	// stores."1011".customer_no), for FailMapping.
	Key string `json:"key,omitempty"`
	// Record is the Accurate record or document concerned ("item GHOST-1",
	// "faktur SO-1", "penerimaan FP-1"), for FailAccurate, FailInvoice and
	// FailVoid.
	Record string `json:"record,omitempty"`
	// AccurateMessage is Accurate's own words, when Accurate refused.
	AccurateMessage string `json:"accurate_message,omitempty"`
	// Hint is what to do, in words.
	Hint string `json:"hint,omitempty"`
}

// Kinds of failure, by what the seller has to do about it.
const (
	FailMapping     = "mapping"     // add or correct a mapping key, then replay
	FailAccurate    = "accurate"    // create or correct a record in Accurate, then replay
	FailForstok     = "forstok"     // correct the order or payment in Forstok, then replay a corrected body
	FailInvoice     = "invoice"     // the invoice the event depends on must be synced (or was voided)
	FailVoid        = "void"        // a void that was stopped before it deleted anything
	FailCredentials = "credentials" // Accurate refuses the seller's API token or signature
	FailWait        = "wait"        // attempts used up while Accurate did not answer
	FailOther       = "other"       // read the hint
)

// FailureKinds lists every kind, in the order the console shows them.
var FailureKinds = []string{FailMapping, FailAccurate, FailForstok, FailInvoice, FailVoid, FailCredentials, FailWait, FailOther}

// bounded cuts the words of a failure as last_error is cut: they may quote a
// huge field of the webhook.
func (f Failure) bounded() Failure {
	f.Key, f.Record = BoundNote(f.Key), BoundNote(f.Record)
	f.AccurateMessage, f.Hint = BoundNote(f.AccurateMessage), BoundNote(f.Hint)
	return f
}

// decodeFailure reads the record's failure field; nil when there is none
// (an event that is not failed, or one that failed before failures were
// recorded) or it is unreadable.
func decodeFailure(v string) *Failure {
	if v == "" {
		return nil
	}
	var f Failure
	if json.Unmarshal([]byte(v), &f) != nil || f.Kind == "" {
		return nil
	}
	return &f
}

func encodeFailure(f *Failure) string {
	if f == nil {
		return ""
	}
	b, _ := json.Marshal(f.bounded())
	return string(b)
}
