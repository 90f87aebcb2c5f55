package admin

import "forstok-accurate-sync/events"

// legacyHint is the advice for an event that failed before the worker
// recorded what to fix as data: its reason is only in words.
const legacyHint = "This event failed before the service recorded what to fix: read last_error, fix what it says, then replay this event"

// FailureOf is what to fix about a failed event: the failure the worker
// recorded, or, for one that failed before failures were recorded, kind
// other pointing at last_error. nil for an event that is not failed.
func FailureOf(ev events.Event) *events.Failure {
	switch {
	case ev.State != events.StateFailed:
		return nil
	case ev.Failure != nil:
		return ev.Failure
	}
	return &events.Failure{Kind: events.FailOther, Hint: legacyHint}
}
