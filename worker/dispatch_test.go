package worker

import (
	"testing"

	"forstok-accurate-sync/forstok"
)

func TestEveryEventTypeOfForstokHasAProcessor(t *testing.T) {
	w := New(Config{})
	procs := w.processors()
	for _, name := range forstok.TypeNames() {
		if procs[name] == nil {
			t.Errorf("forstok accepts %s but the worker has no processor for it", name)
		}
	}
	if len(procs) != len(forstok.TypeNames()) {
		t.Errorf("the worker has %d processors for %d event types", len(procs), len(forstok.TypeNames()))
	}
}
