package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// MaxBulkRecords is the most records one bulk-save.do takes, as Accurate.
const MaxBulkRecords = 100

// maxBulkBody bounds a bulk-save.do body: a hundred records each within
// maxBody.
const maxBulkBody = MaxBulkRecords * maxBody

// store validates one record of a kind and stores it; the caller holds mu.
type store func(s *Server, record []byte) reply

// saveOne serves {kind}/save.do: one record, the whole body.
func (s *Server) saveOne(r *http.Request, st store) reply {
	b, err := readBody(r, maxBody)
	if err != nil {
		return refused("Format data tidak valid: " + err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return st(s, b)
}

// bulkEntry is one record's answer in a bulk-save.do: "r" the saved record,
// or "d" the reasons it was refused.
type bulkEntry struct {
	S bool `json:"s"`
	D any  `json:"d"`
	R any  `json:"r,omitempty"`
}

// bulkSave serves {kind}/bulk-save.do: {"data": [record, ...]}, each record
// as save.do takes it, saved or refused on its own, in the order sent. The
// answer lists one entry per record in "d"; the top-level "s" is false when
// any record was refused, the others being saved all the same. Every record
// is checked against the documents saved before it, those of the same
// request included, so a number given twice is refused the second time.
func bulkSave(st store) func(*Server, *http.Request) reply {
	return func(s *Server, r *http.Request) reply {
		b, err := readBody(r, maxBulkBody)
		if err != nil {
			return refused("Format data tidak valid: " + err.Error())
		}
		var body struct {
			Data []json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(b, &body); err != nil {
			return refused(`Format data tidak valid: kirim {"data": [...]}: ` + err.Error())
		}
		switch n := len(body.Data); {
		case n == 0:
			return refused("Data harus diisi")
		case n > MaxBulkRecords:
			return refused(fmt.Sprintf("Jumlah data %d melebihi batas %d per request", n, MaxBulkRecords))
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		entries := make([]bulkEntry, len(body.Data))
		all, some := true, false
		for i, rec := range body.Data {
			rep := st(s, rec)
			env, _ := rep.body.(response)
			entries[i] = bulkEntry{S: env.S, D: env.D, R: env.R}
			all = all && env.S
			some = some || rep.saved
		}
		return reply{status: http.StatusOK, body: response{S: all, D: entries}, saved: some}
	}
}
