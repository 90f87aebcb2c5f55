package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/internal/wait"
)

// TestDailyReconciliationInTheService starts the service with a
// RECONCILE_AT already past today and sees its run of yesterday on the
// overview and in /metrics (the run itself: reconcile's tests).
func TestDailyReconciliationInTheService(t *testing.T) {
	w := newWorld(t)
	w.extraEnv = map[string]string{"RECONCILE_AT": "00:00"}
	w.start()

	var run map[string]any
	if !wait.Until(15*time.Second, 100*time.Millisecond, func() bool {
		_, o := w.admin(http.MethodGet, "/admin/overview", nil)
		sellers, _ := o["sellers"].([]any)
		if len(sellers) != 1 {
			return false
		}
		run, _ = sellers[0].(map[string]any)["reconciliation"].(map[string]any)
		return run != nil
	}) {
		t.Fatalf("no daily run on the overview; logs:\n%s", w.logs.Tail(20))
	}
	t.Run("the overview shows the seller's previous day with its differences by kind", func(t *testing.T) {
		jakarta, _ := time.LoadLocation("Asia/Jakarta")
		want := time.Now().In(jakarta).AddDate(0, 0, -1).Format(time.DateOnly)
		if run["day"] != want || run["total"] != float64(0) || run["run_at"] == nil {
			t.Errorf("run %v, want day %s with no differences", run, want)
		}
		if by, _ := run["differences"].(map[string]any); len(by) != 5 {
			t.Errorf("differences %v, want the five kinds", run["differences"])
		}
	})
	t.Run("the gauge counts each kind of the seller's run", func(t *testing.T) {
		page := w.metrics()
		for _, kind := range []string{"not_synced", "missing_in_accurate", "amount_differs", "voided_but_present", "unknown_in_accurate"} {
			line := fmt.Sprintf(`fas_reconciliation_differences{kind=%q,seller="default"} 0`, kind)
			if !strings.Contains(page, line) {
				t.Errorf("/metrics lacks %s", line)
			}
		}
	})
}
