package console

import (
	"strconv"
	"strings"
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

// TestHistoryNotesAreWordedInIndonesian: every note the store and the
// worker write in an event's history reads in Indonesian under the
// Indonesian locale, with its numbers, and as written under English.
func TestHistoryNotesAreWordedInIndonesian(t *testing.T) {
	id, en := lang{Code: langID}, lang{Code: langEN}
	cases := []struct{ note, want string }{
		{"accepted", "diterima"},
		{"replayed by an operator", "dikirim ulang oleh operator"},
		{"replayed from a body by an operator", "dikirim ulang dengan isi baru oleh operator"},
		{"Accurate SO-1", "tersimpan di Accurate sebagai SO-1"},
		{"Accurate SO-1; faktur SO-1 deleted", "tersimpan di Accurate sebagai SO-1; faktur SO-1 dihapus"},
		{"voided by invoice.voided:70001", "dibatalkan oleh invoice.voided:70001"},
		{"faktur SO-1 deleted", "faktur SO-1 dihapus"},
		{"penerimaan FP-1 (paying only this faktur) deleted, then faktur SO-1", "penerimaan FP-1 (hanya membayar faktur ini) dihapus, lalu faktur SO-1"},
		{"faktur SO-1 is not in Accurate: nothing to delete", "faktur SO-1 tidak ada di Accurate: tidak ada yang dihapus"},
		{"its worker stopped without finishing (no sign of it for 2m0s: it died, or lost Redis); queued again", "pekerjanya berhenti sebelum selesai; diantrekan lagi"},
		{"Accurate did not answer while saving faktur SO-1: timeout. It is retried; nothing to do unless Accurate stays down", "Accurate tidak menjawab; dicoba lagi"},
		{"Redis, which holds the seller's shared Accurate rate limit, did not answer while saving faktur SO-1: x. It is retried", "Redis tidak menjawab; dicoba lagi"},
		{"Accurate refused faktur SO-1: Gudang \"X\" tidak ditemukan", "Accurate menolak faktur SO-1: Gudang \"X\" tidak ditemukan"},
		{"faktur SO-1 names what Accurate does not have: item GHOST-1 (Kaos) and customer C-9", "faktur SO-1 menyebut yang tidak ada di Accurate: barang GHOST-1 (Kaos) dan pelanggan C-9"},
		{"faktur SO-1 is not in Accurate yet: its invoice event invoice.created:1 is queued (accepted, not posted yet); the payment waits for it", "faktur SO-1 belum ada di Accurate; menunggu"},
		{"faktur SO-1 is not in Accurate yet: no invoice.created; gave up after waiting 24h0m0s (PAYMENT_INVOICE_WAIT)", "faktur SO-1 belum ada di Accurate; menunggu; menyerah setelah menunggu 24h0m0s (PAYMENT_INVOICE_WAIT)"},
		{"faktur SO-1 is not in Accurate yet: no invoice.created for it has reached this service; the payment waits for it; gave up after waiting 24h0m0s (PAYMENT_INVOICE_WAIT)", "faktur SO-1 belum ada di Accurate; menunggu; menyerah setelah menunggu 24h0m0s (PAYMENT_INVOICE_WAIT)"},
		{"Accurate refused faktur SO-1: x; gave up after 3 attempts (MAX_ATTEMPTS)", "Accurate menolak faktur SO-1: x; menyerah setelah 3 percobaan (MAX_ATTEMPTS)"},
		{"something this console does not know", "pesan layanan (bahasa Inggris): something this console does not know"},
	}
	for _, tc := range cases {
		t.Run("the note "+strconv.Quote(tc.note)+" reads in Indonesian", func(t *testing.T) {
			if got := id.Note(tc.note); got != tc.want {
				t.Errorf("Indonesian: %q; want %q", got, tc.want)
			}
			if got := en.Note(tc.note); got != tc.note {
				t.Errorf("English: %q; want the note as written", got)
			}
		})
	}
}

// TestAFailuresNoteGoesWithoutItsEnglishHint: a failed attempt's note ends
// with the failure's hint in the service's English; under Indonesian the
// history says the note without it (the page says what to fix in
// Indonesian above), and under English as written.
func TestAFailuresNoteGoesWithoutItsEnglishHint(t *testing.T) {
	id, en := lang{Code: langID}, lang{Code: langEN}
	missingHint := "Add them in Accurate with these numbers (or map a SKU to an existing item under items in the mapping), then replay this event; " +
		"or turn on auto_create.items (with item_type and unit) in the mapping so that the service creates them, then replay this event"
	credentialsHint := "Check TOKO_C_ACCURATE_TOKEN and ACCURATE_SIGNATURE_SECRET and correct them, then replay this event"
	cases := []struct {
		name, note, hint, want string
	}{
		{"an item Accurate lacks", "faktur ORD-GHOST names what Accurate does not have: item GHOST-1 (Kaos Polos Hitam L). " + missingHint, missingHint,
			"faktur ORD-GHOST menyebut yang tidak ada di Accurate: barang GHOST-1 (Kaos Polos Hitam L)"},
		{"credentials refused until the attempts ran out",
			"Accurate refused the API token or its signature while looking up faktur SO-1: auth (HTTP 401): API Token tidak valid. Check TOKO_C_ACCURATE_TOKEN and correct them; the event is retried meanwhile; gave up after 2 attempts (MAX_ATTEMPTS). " + credentialsHint,
			credentialsHint, "Accurate menolak token API atau signature secret; menyerah setelah 2 percobaan (MAX_ATTEMPTS)"},
		{"a failure whose hint is not the event's latest", "Accurate refused faktur SO-1: x; gave up after 3 attempts (MAX_ATTEMPTS). Replay this event", "another hint",
			"Accurate menolak faktur SO-1: x; menyerah setelah 3 percobaan (MAX_ATTEMPTS)"},
	}
	for _, tc := range cases {
		t.Run(tc.name+" reads in Indonesian without the English hint", func(t *testing.T) {
			f := &events.Failure{Kind: events.FailAccurate, Hint: tc.hint}
			if got := id.HistoryNote(tc.note, f); got != tc.want {
				t.Errorf("Indonesian: %q; want %q", got, tc.want)
			}
			if got := en.HistoryNote(tc.note, f); got != tc.note {
				t.Errorf("English: %q; want the note as written", got)
			}
		})
	}
}

// TestFixWordsSayWhatTheFailureRecorded: what the failed page says to fix
// comes from the failure's fields: the mapping key, the record in the
// page's language and Accurate's own words, in both languages, for every
// kind the worker records.
func TestFixWordsSayWhatTheFailureRecorded(t *testing.T) {
	cases := []struct {
		name    string
		failure events.Failure
		says    []string // in English; the record is worded per language
	}{
		{"a mapping failure names the key to add",
			events.Failure{Kind: events.FailMapping, Key: `stores."1011"`}, []string{`stores."1011"`}},
		{"an Accurate refusal names the record and quotes Accurate",
			events.Failure{Kind: events.FailAccurate, Record: "item GHOST-1", AccurateMessage: `Barang "GHOST-1" tidak ditemukan`},
			[]string{"item GHOST-1", `Barang "GHOST-1" tidak ditemukan`}},
		{"a refused retur names the retur and quotes Accurate",
			events.Failure{Kind: events.FailAccurate, Record: "retur RJ-95001", AccurateMessage: "periode 12/2026 sudah ditutup"},
			[]string{"retur RJ-95001", "periode 12/2026 sudah ditutup"}},
		{"a missing or voided invoice names the faktur",
			events.Failure{Kind: events.FailInvoice, Record: "faktur INV/1"}, []string{"faktur INV/1"}},
		{"a stopped void names the penerimaan",
			events.Failure{Kind: events.FailVoid, Record: "penerimaan FP-1"}, []string{"penerimaan FP-1"}},
		{"a give-up under Accurate's rate limit quotes Accurate",
			events.Failure{Kind: events.FailWait, AccurateMessage: "Maksimal 8 request per detik"}, []string{"Maksimal 8 request per detik"}},
		{"refused credentials quote Accurate",
			events.Failure{Kind: events.FailCredentials, AccurateMessage: "API Token tidak valid"}, []string{"API Token tidak valid"}},
		{"an unreadable record of the service's own is worded too",
			events.Failure{Kind: events.FailOther, Record: "retur RJ-95000"}, nil},
	}
	for _, tc := range cases {
		for _, l := range []lang{{Code: langID}, {Code: langEN}} {
			t.Run(tc.name+" ("+l.Code+")", func(t *testing.T) {
				words := fixWords(l, tc.failure)
				if words == "" || strings.HasPrefix(words, "fix.") {
					t.Fatalf("fixWords = %q; want words, not an id", words)
				}
				for _, s := range tc.says {
					if s == tc.failure.Record {
						s = l.Record(s)
					}
					if !strings.Contains(words, s) {
						t.Errorf("fixWords = %q; want it to say %q", words, s)
					}
				}
				if strings.Contains(strings.ToLower(words), "restart") || strings.Contains(strings.ToLower(words), "mulai ulang") {
					t.Errorf("fixWords = %q advises a restart", words)
				}
			})
		}
	}
}
