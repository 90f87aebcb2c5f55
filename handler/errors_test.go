package handler

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"

	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/events"
)

func TestDescribeStoreErrors(t *testing.T) {
	a := &api{}
	cases := []struct {
		name   string
		err    error
		status int
	}{
		{"a store that cannot reach Redis is 503 unavailable",
			fmt.Errorf("queue k: %w: %w", events.ErrUnavailable, &net.OpError{Op: "dial", Err: errors.New("connection refused")}), http.StatusServiceUnavailable},
		{"a caller that hung up is not reported as Redis being down",
			fmt.Errorf("queue k: %w", context.Canceled), admin.StatusClientClosedRequest},
		{"a deadline passed while Redis was slow is 503 unavailable",
			fmt.Errorf("queue k: %w: %w", events.ErrUnavailable, context.DeadlineExceeded), http.StatusServiceUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if status, body := a.describe(tc.err); status != tc.status {
				t.Errorf("describe(%v) = %d %v; want %d", tc.err, status, body, tc.status)
			}
		})
	}
}
