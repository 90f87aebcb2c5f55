package admin

import (
	"context"
	"slices"
	"strings"
	"time"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/mapping"
)

// Seller is one seller's configuration as operators see it.
type Seller struct {
	// ID is the seller's id (its file name, its webhook URL); empty is
	// Name's (the single seller, "default").
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Version  string     `json:"config_version,omitempty"`
	LoadedAt *time.Time `json:"loaded_at,omitempty"`
	// Active: the seller takes webhooks (it has a valid configuration).
	Active     bool           `json:"active"`
	Location   *time.Location `json:"-"`
	Timezone   string         `json:"timezone"`
	Stores     int            `json:"stores"`
	Warehouses int            `json:"warehouses"`
	Items      int            `json:"items"`
	// Problems are what the configuration itself lacks.
	Problems []Problem `json:"problems"`
	// Events counts the seller's events by state; QueueDepth is how many
	// wait for a worker or their next attempt (queued and retrying).
	Events     map[string]int64 `json:"events"`
	QueueDepth int64            `json:"queue_depth"`
	// Released are the seller's events given to the workers now (at most
	// its share, SELLER_SHARE); Held wait for room in its share.
	Released int64 `json:"released"`
	Held     int64 `json:"held"`
	// AccurateLastMinute is how many requests the seller made to Accurate
	// in the last minute, from every replica.
	AccurateLastMinute int64 `json:"accurate_requests_last_minute"`
}

func (sl Seller) SellerID() string {
	if sl.ID != "" {
		return sl.ID
	}
	return sl.Name
}

// ProblemCredentials is the Code of a Problem that says Accurate refuses
// the seller's API token or signature secret; its Key names the variables
// or the seller's file that set them.
const ProblemCredentials = "credentials"

// Problem is one thing to fix in a seller's configuration.
type Problem struct {
	Key string `json:"key"` // the mapping key
	// Code says what is wrong: "unmapped" (the key is empty, events that
	// need it fail), "failing" (failed events name it), "config" (the
	// seller's file) or "credentials" (Accurate refuses them).
	Code string `json:"code"`
	// Failed counts the failed events that name the key, Example is one.
	Failed  int    `json:"failed"`
	Example string `json:"example,omitempty"`
	// Message is a problem of the seller's file (Code "config"): what is
	// wrong and what to do.
	Message string `json:"message,omitempty"`
}

// SellerFromMapping describes a seller by its mapping: the amount kinds it
// leaves unmapped are problems, since events that carry them fail.
func SellerFromMapping(name string, s *mapping.Settings) Seller {
	sl := Seller{ID: name, Name: name, Active: true, Location: s.Location(), Timezone: s.Location().String(),
		Stores: len(s.Stores), Warehouses: len(s.Warehouses), Items: len(s.Items)}
	amounts := []struct{ key, account string }{
		{"amounts.shipping_fee", s.Amounts.ShippingFee},
		{"amounts.platform_rebate", s.Amounts.PlatformRebate},
		{"amounts.voucher_seller", s.Amounts.VoucherSeller},
		{"amounts.service_fee", s.Amounts.ServiceFee},
		{"amounts.fulfillment_fee", s.Amounts.FulfillmentFee},
		{"amounts.shipping_difference", s.Amounts.ShippingDifference},
		{"amounts.payment_difference", s.Amounts.PaymentDifference},
	}
	for _, a := range amounts {
		if strings.TrimSpace(a.account) == "" {
			sl.Problems = append(sl.Problems, Problem{Key: a.key, Code: "unmapped"})
		}
	}
	return sl
}

// failedScan bounds how many of the newest failed events the sellers'
// report reads for the mapping keys they name.
const failedScan = 1000

// Sellers returns the sellers the scope sees, each with its configuration's
// problems: the keys it leaves empty and the keys its failed events name.
func (s *Service) Sellers(ctx context.Context, scope Scope) ([]Seller, error) {
	var out []Seller
	for _, sl := range s.sellers() {
		if scope.Allows(sl.SellerID()) {
			sl.Problems = slices.Clone(sl.Problems)
			out = append(out, sl)
		}
	}
	for i := range out {
		sl := &out[i]
		store := s.storeFor(sl.SellerID())
		counts, err := store.Counts(ctx)
		if err != nil {
			return nil, err
		}
		sl.Events = map[string]int64{}
		for _, st := range events.States {
			sl.Events[st] = counts[st]
		}
		sl.QueueDepth = counts[events.StateQueued] + counts[events.StateRetrying]
		if sl.AccurateLastMinute, err = store.AccurateCallsLastMinute(ctx); err != nil {
			return nil, err
		}
		if s.queue != nil {
			fair, err := s.queue.Fairness(ctx, sl.SellerID())
			if err != nil {
				return nil, err
			}
			sl.Released, sl.Held = fair.Released, fair.Held
		}
		var failed []events.Event
		cursor := ""
		for len(failed) < failedScan {
			evs, next, err := store.List(ctx, events.Filter{State: events.StateFailed, Limit: 500, Cursor: cursor})
			if err != nil {
				return nil, err
			}
			failed = append(failed, evs...)
			if next == "" {
				break
			}
			cursor = next
		}
		for _, ev := range failed {
			f := FailureOf(ev)
			if f == nil || f.Kind != events.FailMapping || f.Key == "" {
				continue
			}
			j := slices.IndexFunc(sl.Problems, func(p Problem) bool { return p.Key == f.Key })
			if j < 0 {
				sl.Problems = append(sl.Problems, Problem{Key: f.Key, Code: "failing"})
				j = len(sl.Problems) - 1
			}
			p := &sl.Problems[j]
			if p.Failed == 0 {
				p.Example = ev.Key // the newest
			}
			p.Code = "failing"
			p.Failed++
		}
		// The ones that fail events now come first.
		slices.SortStableFunc(sl.Problems, func(a, b Problem) int { return b.Failed - a.Failed })
	}
	return out, nil
}

// SellerList is every seller's configuration, without the problems failed
// events name (Sellers reads those).
func (s *Service) SellerList() []Seller { return s.sellers() }
