package worker

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/orders"
)

// withStore wires every part of the event store the worker uses to store
// and the order memory beside it on rdb, as the service does.
func withStore(cfg Config, rdb redis.UniversalClient, store *events.Store) Config {
	cfg.Store, cfg.Days, cfg.Missing = store, store, store
	cfg.Queue, cfg.Wakes = store.Queue(), store.Queue()
	cfg.Orders = orders.For(rdb, store)
	return cfg
}

// withFake wires the in-memory store the same way: its order memory, queue,
// wakes, day book and memory of what is missing remember nothing.
func withFake(cfg Config, store *fakeStore) Config {
	cfg.Store, cfg.Orders, cfg.Queue, cfg.Wakes, cfg.Days, cfg.Missing = store, store, store, store, store, store
	return cfg
}

func (s *fakeStore) MarkVoided(context.Context, int64, string) error              { return nil }
func (s *fakeStore) VoidOf(context.Context, int64) (string, bool, error)          { return "", false, nil }
func (s *fakeStore) VoidUnposted(context.Context, string, string) (string, error) { return "", nil }
func (s *fakeStore) NotePaid(context.Context, string, []string) error             { return nil }
func (s *fakeStore) PaidBy(context.Context, string) ([]string, error)             { return nil, nil }
func (s *fakeStore) Settles(context.Context, string) ([]string, bool, error)      { return nil, false, nil }
func (s *fakeStore) ForgetFaktur(context.Context, string) error                   { return nil }
func (s *fakeStore) NotePosted(context.Context, string, string) error             { return nil }
func (s *fakeStore) PostedBy(context.Context, string) (string, bool, error)       { return "", false, nil }
func (s *fakeStore) RecordReturn(context.Context, string, string, []byte) error   { return nil }
func (s *fakeStore) ReturnsOf(context.Context, string) (map[string][]byte, error) {
	return map[string][]byte{}, nil
}
func (s *fakeStore) Lock(context.Context, string, time.Duration) (func(), bool, error) {
	return func() {}, true, nil
}
func (s *fakeStore) MarkDone(context.Context, string) error                             { return nil }
func (s *fakeStore) IsDone(context.Context, string) (bool, error)                       { return false, nil }
func (s *fakeStore) AwaitFaktur(context.Context, string, string) error                  { return nil }
func (s *fakeStore) WakeFaktur(context.Context, string) (int, error)                    { return 0, nil }
func (s *fakeStore) NoteAccurateDown(context.Context) error                             { return nil }
func (s *fakeStore) AccurateDown(context.Context) (bool, error)                         { return false, nil }
func (s *fakeStore) RunRetries(context.Context) (int, error)                            { return 0, nil }
func (s *fakeStore) Done(context.Context, string) error                                 { return nil }
func (s *fakeStore) FileDay(context.Context, string, events.DayLine) error              { return nil }
func (s *fakeStore) NoteMissing(context.Context, string, []string, time.Duration) error { return nil }
func (s *fakeStore) RememberedMissing(context.Context, string, []string) (map[string]bool, error) {
	return map[string]bool{}, nil
}
func (s *fakeStore) ForgetMissing(context.Context, string, []string) error { return nil }
