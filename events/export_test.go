package events

// RecordKey and HistoryKey are the Redis keys of an event's record and of
// the history list of a record from before, for tests that write a record
// as an older version did.
func (s *Store) RecordKey(key string) string  { return s.recordKey(key) }
func (s *Store) HistoryKey(key string) string { return s.historyKey(key) }

// PendingAccepts is how many accept scripts wait for the batch in flight
// to come back (acceptbatch.go).
func (s *Store) PendingAccepts() int {
	s.accepts.mu.Lock()
	defer s.accepts.mu.Unlock()
	return len(s.accepts.pending)
}
