package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"forstok-accurate-sync/examples"
)

// runMappingFix runs the service with a mapping that lacks store 1010:
// Tokopedia invoices of that store must fail with a reason naming
// stores."1010"; after a restart with the full mapping, a replay through the
// admin API must sync every one of them, once.
func runMappingFix(ctx context.Context, l *lab, res *result) error {
	n := l.n(50)
	full := filepath.Join(l.root, "examples", "mapping.yaml")
	without, err := examples.MappingWithoutStore("1010")
	if err != nil {
		return err
	}
	partial := filepath.Join(l.dir, "mapping-without-1010.yaml")
	if err := os.WriteFile(partial, without, 0o600); err != nil {
		return fmt.Errorf("write the mapping: %w", err)
	}
	r, err := l.startStage(ctx, "mapping-fix", stageOptions{env: map[string]string{"MAPPING_FILE": partial}})
	if err != nil {
		return err
	}
	defer r.close(ctx)
	var items []outgoing
	var all []expectation
	for i := range n {
		items = append(items, outgoing{key: tokopediaKey(i), d: r.send.newDelivery(tokopediaBody(i))})
		all = append(all, expectation{key: tokopediaKey(i), kind: faktur, number: tokopediaNumber(i)})
	}
	keys := keysOf(all)
	res.events = n
	in := r.deliverAbsorbed(ctx, items, 8, res)

	states, _, err := r.admin.settle(ctx, keys, 2*time.Minute, nil)
	if err != nil {
		return err
	}
	failed, named := 0, 0
	reason := ""
	for _, k := range keys {
		ev := states[k]
		if ev.State == "failed" {
			failed++
		}
		if strings.Contains(ev.LastError, `stores."1010"`) {
			named++
			reason = ev.LastError
		}
	}
	res.expect(failed == n, "%d of %d events failed without store 1010, want all", failed, n)
	res.expect(named == n, "%d of %d reasons name stores.\"1010\"", named, n)
	res.expect(len(r.sb.Invoices()) == 0, "Accurate holds %d fakturs before the fix", len(r.sb.Invoices()))
	res.notef("without store 1010: %d of %d failed, each saying `%s`", failed, n, reason)

	if err := r.svc.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	r.svc.Env["MAPPING_FILE"] = full
	if err := r.svc.Start(ctx); err != nil {
		return err
	}
	replayed := 0
	for _, k := range keys {
		status, err := r.admin.replay(ctx, k)
		if err != nil {
			return err
		}
		if status == http.StatusAccepted {
			replayed++
		}
	}
	res.expect(replayed == n, "%d of %d replays answered 202", replayed, n)
	res.notef("restarted with the full mapping; %d replays via POST /admin/events/{key}/replay answered 202", replayed)

	_, st, err := r.finish(ctx, res, acknowledgedOf(in, all), 2*time.Minute)
	if err != nil {
		return err
	}
	res.expect(res.counts.synced == n, "%d of %d events synced after the replay", res.counts.synced, n)
	res.expect(len(st.Invoices) == n, "Accurate holds %d fakturs, want %d", len(st.Invoices), n)
	res.expect(!r.svc.Panicked(), "the service log shows a panic")
	return nil
}
