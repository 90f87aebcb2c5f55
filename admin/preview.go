package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/worker"
)

// Preview is what one event of a seller would send to Accurate under a
// mapping: each document's body as save.do would take it, and the
// problems that would stop the event (path: the mapping path they name,
// empty for one the mapping cannot fix) or that the preview assumed.
type Preview struct {
	Event     string            `json:"event"`
	Documents []worker.Document `json:"documents"`
	Problems  []PathProblem     `json:"problems"`
}

// PreviewRequest is the body of POST .../mapping/preview.
type PreviewRequest struct {
	// Mapping is the draft as JSON, the "mapping" of a PUT; empty: the
	// current version.
	Mapping json.RawMessage `json:"mapping"`
	// Event is the event's key; empty: the seller's newest invoice or
	// payment event.
	Event string `json:"event"`
}

// ParsePreviewRequest reads a preview's JSON body: malformed JSON is a 400
// naming what is wrong, a mapping that is not an object a 422 at "mapping".
func ParsePreviewRequest(body []byte) (yamlText []byte, event string, err error) {
	var in PreviewRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, "", &InputError{Field: "body", Msg: "must be a JSON object {\"mapping\": {...}, \"event\": \"<event key>\"}: " + err.Error(), Problem: ProblemBody}
	}
	if len(in.Event) > 200 {
		return nil, "", &InputError{Field: "event", Msg: "is longer than 200 characters; it is an event key such as payment.received:50", Problem: ProblemLong}
	}
	if len(bytes.TrimSpace(in.Mapping)) == 0 || string(in.Mapping) == "null" {
		return nil, in.Event, nil
	}
	yamlText, err = mappingYAML(in.Mapping)
	return yamlText, in.Event, err
}

// PreviewMapping builds the documents an event of the seller (eventKey;
// empty: its newest invoice or payment event) would send to Accurate under
// a mapping file (yamlText; nil: the current version), with the worker's
// own code. The draft is checked with the offline rules of check; nothing
// is saved, and nothing is sent to Accurate, not even a read.
func (s *Service) PreviewMapping(ctx context.Context, scope Scope, seller string, yamlText []byte, eventKey string) (*Preview, error) {
	if err := s.mappingOf(scope, seller); err != nil {
		return nil, err
	}
	if yamlText == nil {
		v, err := s.mappings.Current(ctx, seller)
		if err != nil {
			return nil, mappingStoreError(seller, err)
		}
		yamlText = []byte(v.YAML)
	}
	settings, err := parseMapping(yamlText)
	if err != nil {
		return nil, err
	}
	if s.previewFor == nil {
		return nil, ErrNoSettings
	}
	store, orders := s.previewFor(seller)
	rec, err := s.previewEvent(ctx, store, seller, eventKey)
	if err != nil {
		return nil, err
	}
	// A worker without an Accurate client: the preview cannot send.
	w := worker.New(worker.Config{Store: store, Orders: orders, Mapping: settings, Decoder: s.decoder})
	got, err := w.Preview(ctx, rec)
	if errors.Is(err, worker.ErrNoDocument) {
		return nil, &MappingErrors{Problems: []PathProblem{{Path: "event", Message: err.Error()}}}
	}
	if err != nil {
		return nil, fmt.Errorf("seller %s: %w: %w", seller, events.ErrUnavailable, err)
	}
	out := &Preview{Event: rec.Key, Documents: got.Documents, Problems: []PathProblem{}}
	if out.Documents == nil {
		out.Documents = []worker.Document{}
	}
	for _, p := range got.Problems {
		out.Problems = append(out.Problems, PathProblem{Path: FieldPath(p.Key), Message: p.Message})
	}
	return out, nil
}

// previewEvent is the event a preview builds from: the one named, or the
// seller's newest invoice.created or payment.received.
func (s *Service) previewEvent(ctx context.Context, store worker.Store, seller, key string) (events.Event, error) {
	if key != "" {
		rec, err := store.Get(ctx, key)
		if errors.Is(err, events.ErrNotFound) {
			return events.Event{}, &NotFoundError{What: NotFoundEvent, Name: key, More: "of seller " + seller}
		}
		return rec, err
	}
	var newest events.Event
	for _, typ := range []string{forstok.TypeInvoiceCreated, forstok.TypePaymentReceived} {
		evs, _, err := s.storeFor(seller).List(ctx, events.Filter{Type: typ, Limit: 1})
		if err != nil {
			return events.Event{}, err
		}
		// A tie (both in one millisecond) goes to the payment, which
		// follows its invoice.
		if len(evs) == 1 && (newest.Key == "" || !evs[0].CreatedAt.Before(newest.CreatedAt)) {
			newest = evs[0]
		}
	}
	if newest.Key == "" {
		return events.Event{}, &NotFoundError{What: NotFoundPreview, More: "seller " + seller + " keeps no invoice or payment event yet; name one with \"event\""}
	}
	return store.Get(ctx, newest.Key)
}
