package events

import "strings"

// KeySlot is the Redis Cluster slot of key (its hash tag's, when it has
// one), for tests to check where the shards land.
func KeySlot(key string) int {
	tag := key
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			tag = key[i+1 : i+1+j]
		}
	}
	return int(crc16([]byte(tag)) % clusterSlots)
}

// RecordKey and HistoryKey are the Redis keys of an event's record and of
// the history list of a record from before, for tests that write a record
// as an older version did.
func (s *Store) RecordKey(key string) string  { return s.recordKey(key) }
func (s *Store) HistoryKey(key string) string { return s.historyKey(key) }

// AsynqKey is the key the store reads and writes of asynq's queue q (its
// pending, scheduled, retry, active and lease sets, "t:<id>" a task's
// hash), and AsynqLease the lease asynq is expected to give a task it hands
// out, for the test that holds asynq to that layout.
func AsynqKey(q, name string) string { return asynqKey(q, name) }

const AsynqLease = asynqLease

// TaskTimeout is asynq's timeout of an event's task, which Accept writes.
const TaskTimeout = taskTimeout

// PendingAccepts is how many accept scripts wait for the batch in flight
// to come back (acceptbatch.go).
func (s *Store) PendingAccepts() int {
	s.accepts.mu.Lock()
	defer s.accepts.mu.Unlock()
	return len(s.accepts.pending)
}
