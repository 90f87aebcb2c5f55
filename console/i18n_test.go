package console

import (
	"testing"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
)

func TestEveryTypeAndStateHasWordsInBothLanguages(t *testing.T) {
	var ids []string
	for _, name := range forstok.TypeNames() {
		ids = append(ids, "type."+name)
	}
	for _, st := range events.States {
		ids = append(ids, "state."+st)
	}
	for _, id := range ids {
		t.Run(id+" is worded, not shown as its id", func(t *testing.T) {
			m, ok := messages[id]
			if !ok || m.id == "" || m.en == "" {
				t.Fatalf("messages[%q] = %+v", id, m)
			}
		})
	}
}
