package console

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/money"
)

// Languages the console speaks; Indonesian first, as the seller's
// accountant reads it.
const (
	langID = "id"
	langEN = "en"
)

// lang is one request's language and time zone: what the templates call to
// word, date and price things.
type lang struct {
	Code string
	loc  *time.Location
}

// T is the message with that id, or the id itself when none is written
// (so a missing word shows, rather than nothing).
func (l lang) T(id string) string {
	if m, ok := messages[id]; ok {
		if l.Code == langEN {
			return m.en
		}
		return m.id
	}
	return id
}

// Note words a history note the service wrote (in English) in the page's
// language: each known note is matched by its pattern and said with its
// numbers; one the console does not know is shown as it is, said to be the
// service's own words.
func (l lang) Note(note string) string {
	if note == "" || l.Code == langEN {
		return note
	}
	if head, tail, ok := strings.Cut(note, "; gave up after "); ok {
		// "3 attempts (MAX_ATTEMPTS)", then maybe an English hint: the
		// page says what to do where it shows the failure.
		if end := strings.Index(tail, ")"); end >= 0 {
			tail = tail[:end+1]
		}
		return l.F("note.gave_up", l.Note(head), gaveUpWordsID.Replace(tail))
	}
	for _, n := range historyNotes {
		m := n.re.FindStringSubmatch(note)
		if m == nil {
			continue
		}
		args := make([]any, 0, len(m)-1)
		for _, a := range m[1:] {
			if l.Code == langID {
				a = recordWordsID.Replace(a)
			}
			args = append(args, a)
		}
		words := l.F(n.id, args...)
		if n.rest && len(m) > 1 {
			// "Accurate X; what else was done": the rest is a note too.
			if _, rest, ok := strings.Cut(note, "; "); ok {
				words += "; " + l.Note(rest)
			}
		}
		return words
	}
	return l.F("note.service", note)
}

// HistoryNote words a note of the event's history: a failure's note ends
// with the failure's hint in the service's English, which the page says in
// its own words where it shows what to fix, so under Indonesian the note
// goes without it.
func (l lang) HistoryNote(note string, f *events.Failure) string {
	if l.Code != langEN && f != nil && f.Hint != "" {
		note = strings.TrimSuffix(note, ". "+f.Hint)
	}
	return l.Note(note)
}

// Record names a failure's records ("item GHOST-1, customer C-1") in the
// page's language.
func (l lang) Record(record string) string {
	if l.Code == langEN {
		return record
	}
	return recordWordsID.Replace(record)
}

// recordWordsID says the kinds of record a note names in Indonesian.
var recordWordsID = strings.NewReplacer("items ", "barang ", "item ", "barang ", " and customer ", " dan pelanggan ", "customer ", "pelanggan ")

// gaveUpWordsID says how long an event tried, in Indonesian.
var gaveUpWordsID = strings.NewReplacer("waiting ", "menunggu ", " attempts", " percobaan")

// historyNotes are the notes of events.Store and the worker, by pattern;
// rest says the note may go on after "; " with another.
var historyNotes = []struct {
	re   *regexp.Regexp
	id   string
	rest bool
}{
	{regexp.MustCompile(`^accepted$`), "note.accepted", false},
	{regexp.MustCompile(`^replayed by an operator$`), "note.replayed", false},
	{regexp.MustCompile(`^replayed from a body by an operator$`), "note.replayed_body", false},
	{regexp.MustCompile(`^Accurate ([^\s;]+)(?:;|$)`), "note.posted", true},
	{regexp.MustCompile(`^voided by (\S+?):?(?:\s|$)`), "note.voided_by", false},
	{regexp.MustCompile(`^faktur (\S+) deleted$`), "note.deleted", false},
	{regexp.MustCompile(`^penerimaan (.+) \(paying only this faktur\) deleted, then faktur (\S+)$`), "note.deleted_both", false},
	{regexp.MustCompile(`faktur (\S+) is not in Accurate: nothing to delete$`), "note.nothing", false},
	{regexp.MustCompile(`^its worker stopped without finishing`), "note.abandoned", false},
	{regexp.MustCompile(`^Accurate did not answer`), "note.accurate_down", false},
	{regexp.MustCompile(`^Redis, which holds`), "note.redis_down", false},
	{regexp.MustCompile(`^Accurate refused the API token`), "note.credentials", false},
	{regexp.MustCompile(`^Accurate's rate limit stopped`), "note.rate_limited", false},
	{regexp.MustCompile(`^Accurate refused ((?:faktur|penerimaan|retur|item|customer) \S+): (.*)$`), "note.refused", false},
	{regexp.MustCompile(`^faktur (\S+) is not in Accurate`), "note.waits_faktur", false},
	{regexp.MustCompile(`^faktur (\S+) names what Accurate does not have: (.*)$`), "note.missing", false},
}

// Input words what was wrong with a refused request: from the error's
// Problem in the page's language; in English the service's own message;
// one the console does not know is labelled as the service's own words.
func (l lang) Input(err error, english string) string {
	if l.Code == langEN {
		return english
	}
	var in *admin.InputError
	switch {
	case errors.As(err, &in) && in.Problem != "":
		if _, ok := messages["input."+in.Problem]; ok {
			return l.F("input."+in.Problem, in.Field, in.Value)
		}
	case errors.Is(err, events.ErrBadCursor):
		return l.T("input.cursor")
	}
	return l.F("note.service", english)
}

// NotFound words what was not found.
func (l lang) NotFound(err error) string {
	var nf *admin.NotFoundError
	if !errors.As(err, &nf) {
		return l.T("notfound.event")
	}
	switch nf.What {
	case admin.NotFoundSeller:
		return l.F("notfound.seller", nf.Name)
	case admin.NotFoundStore:
		return l.F("notfound.store", nf.Name)
	case admin.NotFoundList:
		return l.F("notfound.list", nf.Name)
	case admin.NotFoundVersion:
		return l.T("notfound.version")
	case admin.NotFoundReconciliation:
		return l.T("notfound.reconciliation")
	case admin.NotFoundPreview:
		return l.T("notfound.preview")
	}
	return l.T("notfound.event")
}

// F fills a message's %s with args.
func (l lang) F(id string, args ...any) string { return fmt.Sprintf(l.T(id), args...) }

// Other is the code of the other language, for the toggle.
func (l lang) Other() string {
	if l.Code == langEN {
		return langID
	}
	return langEN
}

var monthsID = [...]string{"Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"}

// Date writes a time in the seller's zone: "1 Des 2026 14.05 WIB" or
// "1 Dec 2026 14:05 WIB".
func (l lang) Date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.In(l.loc)
	if l.Code == langEN {
		return t.Format("2 Jan 2006 15:04 MST")
	}
	return fmt.Sprintf("%d %s %d %s", t.Day(), monthsID[t.Month()-1], t.Year(), t.Format("15.04 MST"))
}

// DatePtr is Date of an optional time.
func (l lang) DatePtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return l.Date(*t)
}

// Hour writes the hour a chart bar starts, in the seller's zone.
func (l lang) Hour(t time.Time) string { return t.In(l.loc).Format("15") }

// Zone is the seller's zone's abbreviation now (WIB).
func (l lang) Zone() string { return time.Now().In(l.loc).Format("MST") }

// Rp writes rupiah the Indonesian way: "Rp 1.234.567" or "Rp 106.952,50".
func (l lang) Rp(a money.Amount) string { return "Rp\u00a0" + a.Format() }

// RpText writes a decimal literal from a report ("233000.00") as rupiah; one
// that is not an amount is shown as it came, so nothing is hidden.
func (l lang) RpText(s string) string {
	a, err := money.Parse(s)
	if err != nil {
		return s
	}
	return l.Rp(a)
}

// Num writes a count with the language's thousands separator.
func (l lang) Num(n int64) string {
	s := strconv.FormatInt(n, 10)
	sep := "."
	if l.Code == langEN {
		sep = ","
	}
	var b strings.Builder
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 && d != '-' && s[i-1] != '-' {
			b.WriteString(sep)
		}
		b.WriteRune(d)
	}
	return b.String()
}

// Age writes how long ago t was: "3 menit", "2 jam 5 menit", "4 hari".
func (l lang) Age(t *time.Time, now time.Time) string {
	if t == nil {
		return "—"
	}
	d := now.Sub(*t)
	if d < time.Minute {
		return l.T("age.now")
	}
	mins := int64(d / time.Minute)
	switch {
	case mins < 60:
		return l.F("age.min", mins)
	case mins < 48*60:
		return l.F("age.hour", mins/60, mins%60)
	}
	return l.F("age.day", mins/(24*60))
}

type message struct{ id, en string }

var messages = map[string]message{
	"app":          {"Sinkronisasi Forstok → Accurate", "Forstok → Accurate sync"},
	"nav.overview": {"Ringkasan", "Overview"},
	"nav.failed":   {"Gagal", "Failed"},
	"nav.search":   {"Cari pesanan", "Find an order"},
	"nav.sellers":  {"Penjual", "Sellers"},
	"signout":      {"Keluar", "Sign out"},
	"lang.toggle":  {"English", "Bahasa Indonesia"},
	"skip":         {"Lewati ke isi", "Skip to content"},

	"signin.title":   {"Masuk", "Sign in"},
	"signin.lead":    {"Masukkan token admin (ADMIN_TOKEN) atau token penjual Anda. Token disimpan hanya selama peramban terbuka.", "Enter the admin token (ADMIN_TOKEN) or your seller token. It is kept only while the browser is open."},
	"signin.token":   {"Token", "Token"},
	"signin.submit":  {"Masuk", "Sign in"},
	"signin.wrong":   {"Token tidak dikenal. Periksa lalu coba lagi; token admin adalah nilai ADMIN_TOKEN layanan ini.", "That token is not known. Check it and try again; the admin token is this service's ADMIN_TOKEN."},
	"signin.limited": {"Terlalu banyak percobaan masuk yang gagal. Tunggu sebentar lalu coba lagi dengan token yang benar.", "Too many failed sign-ins. Wait a minute, then try again with the right token."},
	"signin.expired": {"Formulir masuk sudah kedaluwarsa. Muat ulang halaman lalu coba lagi.", "The sign-in form expired. Reload the page and try again."},

	"state.queued":     {"antre", "queued"},
	"state.processing": {"diproses", "processing"},
	"state.retrying":   {"dicoba lagi", "retrying"},
	"state.synced":     {"tersinkron", "synced"},
	"state.failed":     {"gagal", "failed"},
	"state.voided":     {"dibatalkan", "voided"},

	"type.invoice.created":  {"Faktur penjualan", "Sales invoice"},
	"type.payment.received": {"Penerimaan penjualan", "Sales receipt"},
	"type.invoice.voided":   {"Pembatalan faktur", "Voided invoice"},
	"type.return.created":   {"Retur penjualan", "Sales return"},

	"overview.title":      {"Ringkasan", "Overview"},
	"overview.states":     {"Peristiwa menurut status", "Events by state"},
	"overview.sellers":    {"Per penjual", "By seller"},
	"overview.seller":     {"Penjual", "Seller"},
	"overview.chart":      {"Tersinkron dan gagal per jam (24 jam terakhir, menurut jam diterima, %s)", "Synced and failed per hour (last 24 hours, by hour accepted, %s)"},
	"overview.queue":      {"Antrean", "Queue"},
	"overview.depth":      {"Menunggu diproses", "Waiting to run"},
	"overview.age":        {"Umur peristiwa tertua yang menunggu", "Age of the oldest waiting event"},
	"overview.none":       {"tidak ada", "none"},
	"overview.chartalt":   {"Tabel angka per jam", "The figures per hour"},
	"overview.hour":       {"Jam", "Hour"},
	"overview.failedgo":   {"Lihat peristiwa gagal", "See the failed events"},
	"overview.recon":      {"Rekonsiliasi harian", "Daily reconciliation"},
	"overview.reconnone":  {"belum berjalan", "not run yet"},
	"overview.reconran":   {"berjalan %s", "ran %s"},
	"overview.reconretry": {"%s tidak dapat dibaca; dicoba lagi %s", "%s could not be read; tries again %s"},

	"failed.title":   {"Peristiwa gagal", "Failed events"},
	"failed.lead":    {"Terbaru di atas. Perbaiki penyebabnya, lalu tekan Kirim ulang.", "Newest first. Fix the cause, then press Replay."},
	"failed.none":    {"Tidak ada peristiwa gagal. Semua beres.", "No failed events. All is well."},
	"failed.noneof":  {"Tidak ada peristiwa gagal untuk penjual %s. Pilih Semua penjual untuk melihat yang lain.", "No failed events for seller %s. Choose Every seller to see the others."},
	"failed.every":   {"Semua penjual", "Every seller"},
	"failed.all":     {"Kirim ulang semua yang gagal (%s)", "Replay every failed event (%s)"},
	"failed.next":    {"Halaman berikutnya", "Next page"},
	"failed.reason":  {"Alasan", "Reason"},
	"failed.fix":     {"Yang perlu diperbaiki", "What to fix"},
	"failed.orig":    {"Pesan asli", "Original message"},
	"failed.more":    {"Lihat ceritanya", "See its story"},
	"replay":         {"Kirim ulang", "Replay"},
	"done.queued":    {"Peristiwa dikirim ulang ke antrean. Halaman ini diperbarui sendiri sampai selesai.", "The event is queued again. This page refreshes itself until it is done."},
	"done.finished":  {"Pengiriman ulang selesai: %s.", "The replay finished: %s."},
	"done.all":       {"%s peristiwa dikirim ulang ke antrean.", "%s events queued again."},
	"done.busy":      {"%s sedang diproses saat itu; kirim ulang lagi bila gagal.", "%s were being processed at that moment; replay them again if they fail."},
	"done.more":      {"Masih ada peristiwa gagal lainnya: tekan lagi.", "More failed events remain: press again."},
	"done.allnone":   {"Tidak ada peristiwa gagal untuk dikirim ulang.", "There were no failed events to replay."},
	"error.busy":     {"Peristiwa ini sedang diproses. Tunggu sampai selesai, lalu kirim ulang bila perlu.", "This event is being processed. Wait until it finishes, then replay it if needed."},
	"error.notfound": {"%s", "%s"},

	"notfound.event":          {"Peristiwa itu tidak ada (atau sudah lewat masa simpan).", "There is no such event (or it is past its retention)."},
	"notfound.seller":         {"Penjual %s tidak ada (atau tidak terlihat dengan token ini).", "There is no seller %s (or this token does not see it)."},
	"notfound.sellers":        {"Token ini tidak melihat penjual mana pun.", "This token sees no seller."},
	"notfound.reconciliation": {"Layanan ini tidak menjalankan rekonsiliasi.", "This service runs no reconciliation."},
	"notfound.store":          {"Toko %s tidak ada pada penjual ini.", "This seller has no store %s."},
	"notfound.list":           {"Daftar %s tidak ada: pilih akun, pelanggan, gudang, barang atau cabang.", "There is no list %s: choose accounts, customers, warehouses, items or branches."},
	"notfound.version":        {"Versi pengaturan itu tidak ada.", "There is no such version of the settings."},
	"notfound.preview":        {"Belum ada peristiwa faktur atau pembayaran untuk pratinjau: sebutkan satu.", "There is no invoice or payment event to preview yet: name one."},

	// What was wrong with a request, by admin.InputError's Problem: %[1]s
	// is the field, %[2]s the value refused.
	"input.escape":   {"alamat memuat escape %% yang rusak: tulis setiap nilai dengan %%XX", "the address has a broken %% escape: write each value with %%XX"},
	"input.form":     {"isian formulir tidak bisa dibaca, jadi tidak ada yang dijalankan: kirim lagi dari halamannya", "the form cannot be read, so nothing was done: send it again from its page"},
	"input.choice":   {"%[1]s tidak mengenal nilai %[2]q", "%[1]s does not know the value %[2]q"},
	"input.range":    {"%[1]s harus angka 1 sampai 500", "%[1]s must be a number from 1 to 500"},
	"input.missing":  {"%[1]s belum diisi", "%[1]s is missing"},
	"input.long":     {"%[1]s terlalu panjang", "%[1]s is too long"},
	"input.day":      {"%[1]s harus tanggal yyyy-mm-dd, bukan %[2]q", "%[1]s must be a day as yyyy-mm-dd, not %[2]q"},
	"input.before":   {"tanggal akhir lebih awal dari tanggal awal", "the last day is before the first"},
	"input.span":     {"rentang tanggal terlalu panjang untuk satu laporan: bagi menjadi beberapa", "the range of days is too long for one report: split it"},
	"input.seller":   {"tidak ada penjual bernama %[2]q", "there is no seller named %[2]q"},
	"input.cursor":   {"cursor halaman bukan buatan layanan ini: mulai lagi tanpa cursor", "the page's cursor is not one this service made: start again without it"},
	"input.body":     {"isi permintaan tidak sesuai yang diminta", "the request's body is not what was asked for"},
	"input.with":     {"%[1]s tidak bisa dipakai bersama %[2]s", "%[1]s does not go with %[2]s"},
	"error.store":    {"Redis tidak bisa dihubungi. Coba lagi sebentar lagi.", "Redis cannot be reached. Try again in a moment."},
	"error.internal": {"Terjadi kesalahan. Log layanan memuat rinciannya.", "Something went wrong. The service's log has the details."},
	"error.csrf":     {"Permintaan ditolak: token formulir (CSRF) tidak ada atau salah. Muat ulang halaman lalu coba lagi.", "Request refused: the form's token (CSRF) is missing or wrong. Reload the page and try again."},
	"error.title":    {"Tidak bisa", "Cannot do that"},
	"error.input":    {"Permintaan tidak valid (%s). Periksa alamat atau isian, lalu coba lagi.", "The request is not valid (%s). Check the address or the form, then try again."},
	"error.voided":   {"Peristiwa ini dibatalkan (invoice.voided) sebelum fakturnya dibukukan; tidak bisa dikirim ulang.", "This event was voided (invoice.voided) before its faktur posted; it cannot be replayed."},
	"back":           {"Kembali", "Back"},

	"fix.mapping":       {"Mapping belum lengkap. Tambahkan atau perbaiki kunci %s di mapping, lalu tekan Kirim ulang.", "The mapping is missing something. Add or fix the key %s in the mapping, then press Replay."},
	"fix.accurate":      {"Accurate menolak dokumen: %s. Buat atau perbaiki data itu di Accurate (atau perbaiki mapping), lalu tekan Kirim ulang.", "Accurate refused the document: %s. Create or fix that record in Accurate (or fix the mapping), then press Replay."},
	"fix.invoice":       {"Faktur yang dibutuhkan tidak ada di Accurate (%s): fakturnya belum tersinkron atau sudah dibatalkan. Lihat pesan asli di bawah, sinkronkan fakturnya dulu, lalu tekan Kirim ulang.", "The invoice it needs is not in Accurate (%s): it never synced or was voided. See the original message below, get the invoice synced first, then press Replay."},
	"fix.void":          {"Pembatalan dihentikan sebelum menghapus apa pun (%s). Putuskan di Accurate sesuai pesan asli di bawah, lalu tekan Kirim ulang.", "The void was stopped before it deleted anything (%s). Decide in Accurate as the original message below says, then press Replay."},
	"fix.forstok":       {"Data pesanan atau pembayaran dari Forstok tidak bisa dibukukan. Perbaiki di Forstok, lalu kirim ulang isinya lewat POST /admin/replay.", "Forstok's order or payment data cannot be booked. Correct it in Forstok, then replay its body with POST /admin/replay."},
	"fix.credentials":   {"Accurate menolak token API atau signature secret penjual ini. Perbaiki di tempat yang disebut halaman Penjual, lalu tekan Kirim ulang.", "Accurate refused this seller's API token or signature secret. Correct them where the Sellers page says, then press Replay."},
	"fix.wait":          {"Accurate terlalu lama tidak menjawab, atau batas permintaannya terus menolak. Tekan Kirim ulang setelah Accurate bisa dihubungi lagi.", "Accurate did not answer, or its rate limit kept refusing, for too long. Press Replay once Accurate answers again."},
	"fix.other":         {"Baca pesan asli di bawah; perbaiki penyebabnya lalu tekan Kirim ulang.", "Read the original message below; fix the cause, then press Replay."},
	"fix.accurate_said": {"Kata Accurate: %s", "Accurate said: %s"},

	"search.title":   {"Cari menurut nomor pesanan", "Find by marketplace order number"},
	"search.label":   {"Nomor pesanan marketplace", "Marketplace order number"},
	"search.hint":    {"Contoh: 2411260AB12CD3. Menemukan faktur dan penerimaannya sekaligus.", "For example 2411260AB12CD3. Finds the invoice and its receipts together."},
	"search.submit":  {"Cari", "Search"},
	"search.none":    {"Tidak ada peristiwa untuk nomor pesanan “%s”.", "No events for order number “%s”."},
	"search.results": {"Peristiwa untuk “%s”", "Events for “%s”"},

	"col.event":    {"Peristiwa", "Event"},
	"col.type":     {"Jenis", "Type"},
	"col.order":    {"No. pesanan", "Order no."},
	"col.seller":   {"Penjual", "Seller"},
	"col.state":    {"Status", "State"},
	"col.attempts": {"Percobaan", "Attempts"},
	"col.accurate": {"Dokumen Accurate", "Accurate document"},
	"col.updated":  {"Diperbarui", "Updated"},
	"col.accepted": {"Diterima", "Accepted"},
	"col.amount":   {"Jumlah", "Amount"},

	"event.title":   {"Cerita peristiwa", "Event story"},
	"event.summary": {"Ringkasan", "Summary"},
	"event.history": {"Setiap langkah", "Every step"},

	// History notes the service writes (notes below); %s are the numbers
	// and keys they carry.
	"note.accepted":      {"diterima", "accepted"},
	"note.replayed":      {"dikirim ulang oleh operator", "replayed by an operator"},
	"note.replayed_body": {"dikirim ulang dengan isi baru oleh operator", "replayed from a body by an operator"},
	"note.posted":        {"tersimpan di Accurate sebagai %s", "Accurate %s"},
	"note.voided_by":     {"dibatalkan oleh %s", "voided by %s"},
	"note.deleted":       {"faktur %s dihapus", "faktur %s deleted"},
	"note.deleted_both":  {"penerimaan %s (hanya membayar faktur ini) dihapus, lalu faktur %s", "penerimaan %s (paying only this faktur) deleted, then faktur %s"},
	"note.nothing":       {"faktur %s tidak ada di Accurate: tidak ada yang dihapus", "faktur %s is not in Accurate: nothing to delete"},
	"note.abandoned":     {"pekerjanya berhenti sebelum selesai; diantrekan lagi", "its worker stopped without finishing; queued again"},
	"note.accurate_down": {"Accurate tidak menjawab; dicoba lagi", "Accurate did not answer; retried"},
	"note.redis_down":    {"Redis tidak menjawab; dicoba lagi", "Redis did not answer; retried"},
	"note.refused":       {"Accurate menolak %s: %s", "Accurate refused %s: %s"},
	"note.credentials":   {"Accurate menolak token API atau signature secret", "Accurate refused the API token or its signature"},
	"note.rate_limited":  {"dibatasi rate limit Accurate; dicoba lagi", "stopped by Accurate's rate limit; retried"},
	"note.waits_faktur":  {"faktur %s belum ada di Accurate; menunggu", "faktur %s is not in Accurate yet; waiting"},
	"note.missing":       {"faktur %s menyebut yang tidak ada di Accurate: %s", "faktur %s names what Accurate does not have: %s"},
	"note.gave_up":       {"%s; menyerah setelah %s", "%s; gave up after %s"},
	"note.service":       {"pesan layanan (bahasa Inggris): %s", "%s"},
	"event.when":         {"Waktu", "When"},
	"event.outcome":      {"Hasil", "Outcome"},
	"event.payload":      {"Isi webhook", "Webhook payload"},
	"event.document":     {"Dokumen Accurate", "Accurate document"},
	"event.nodoc":        {"Belum ada dokumen di Accurate.", "No document in Accurate yet."},
	"event.docid":        {"Nomor %s (id %s)", "Number %s (id %s)"},
	"event.next":         {"Percobaan berikutnya", "Next attempt"},
	"event.store":        {"Toko", "Store"},
	"event.channel":      {"Marketplace", "Marketplace"},
	"event.total":        {"Total pesanan", "Order total"},
	"event.received":     {"Diterima dari marketplace", "Received from the marketplace"},
	"event.paid":         {"Dibayar", "Paid"},
	"event.lines":        {"Barang", "Items"},
	"event.sku":          {"SKU", "SKU"},
	"event.price":        {"Harga satuan", "Unit price"},
	"event.fees":         {"Biaya layanan", "Service fee"},
	"event.refresh":      {"Halaman ini diperbarui sendiri setiap 2 detik sampai peristiwa selesai.", "This page refreshes itself every 2 seconds until the event is done."},

	"nav.reconciliation":                  {"Rekonsiliasi", "Reconciliation"},
	"recon.title":                         {"Rekonsiliasi %s", "Reconciliation of %s"},
	"recon.lead":                          {"Apa yang dikirim Forstok dibandingkan dengan yang ada di Accurate sekarang, per toko dan per hari.", "What Forstok sent against what Accurate holds now, per store and per day."},
	"recon.from":                          {"Dari", "From"},
	"recon.to":                            {"Sampai", "To"},
	"recon.store":                         {"Toko", "Store"},
	"recon.allstores":                     {"semua toko", "every store"},
	"recon.show":                          {"Tampilkan", "Show"},
	"recon.csv":                           {"Unduh CSV", "Download CSV"},
	"recon.day":                           {"Hari", "Day"},
	"recon.status":                        {"Hasil", "Result"},
	"recon.clean":                         {"Cocok", "Matches"},
	"recon.count":                         {"%d selisih", "%d differences"},
	"recon.unread":                        {"Belum terbaca", "Not read"},
	"recon.diff":                          {"selisih", "difference"},
	"recon.side.forstok":                  {"Forstok", "Forstok"},
	"recon.side.accurate":                 {"Accurate", "Accurate"},
	"recon.sidecell":                      {"%d faktur %s · %d penerimaan %s · %d retur %s", "%d invoices %s · %d payouts %s · %d returns %s"},
	"recon.unreadable":                    {"%s tidak dapat dibaca untuk %s–%s; dicoba lagi %s. Hari-hari itu tidak dianggap hilang.", "%s could not be read for %s–%s; tried again %s. Those days are not reported as missing."},
	"recon.requests":                      {"Dibaca dari Accurate dengan %d permintaan.", "Read from Accurate with %d requests."},
	"recon.kind.not_synced":               {"Belum tersinkron", "Not synced"},
	"recon.kind.missing_in_accurate":      {"Hilang di Accurate", "Missing in Accurate"},
	"recon.kind.amount_differs":           {"Jumlah berbeda", "Amount differs"},
	"recon.kind.voided_but_present":       {"Dibatalkan tapi masih ada", "Voided but present"},
	"recon.kind.unknown_in_accurate":      {"Tidak dikenal di Accurate", "Unknown in Accurate"},
	"sellers.title":                       {"Penjual dan pengaturannya", "Sellers and their configuration"},
	"sellers.tz":                          {"Zona waktu", "Time zone"},
	"sellers.stores":                      {"Toko", "Stores"},
	"sellers.warehouses":                  {"Gudang", "Warehouses"},
	"sellers.items":                       {"Barang dipetakan", "Items mapped"},
	"sellers.problems":                    {"Masalah pengaturan", "Configuration problems"},
	"sellers.ok":                          {"Tidak ada masalah yang diketahui.", "No known problems."},
	"sellers.key":                         {"Kunci mapping", "Mapping key"},
	"sellers.failing":                     {"%s peristiwa gagal karena kunci ini; contoh:", "%s failed events name this key; for example"},
	"sellers.credentials":                 {"Accurate menolak token API atau signature secret penjual ini: perbaiki di tempat yang disebut di depan, lalu kirim ulang peristiwa yang gagal.", "Accurate refuses this seller's API token or signature secret: correct them where named before this, then replay the failed events."},
	"sellers.unmapped":                    {"Kosong: peristiwa yang memerlukannya akan gagal.", "Empty: events that need it will fail."},
	"settings.title":                      {"Pengaturan Accurate", "Accurate settings"},
	"settings.current":                    {"Versi yang berlaku: %s (dari %s).", "Version in use: %s (from %s)."},
	"settings.failing":                    {"Kunci yang disebut peristiwa gagal", "Keys that failed events name"},
	"settings.waiting":                    {"%d peristiwa gagal menunggu kunci ini", "%d failed events wait on this key"},
	"settings.stores":                     {"Toko", "Stores"},
	"settings.customer":                   {"Pelanggan toko %s %s", "Customer of store %s %s"},
	"settings.bank":                       {"Akun kas & bank toko %s", "Cash & bank account of store %s"},
	"settings.branch":                     {"Cabang toko %s", "Branch of store %s"},
	"settings.warehouses":                 {"Gudang", "Warehouses"},
	"settings.warehouse":                  {"Gudang Forstok %s", "Forstok warehouse %s"},
	"settings.items":                      {"Barang", "Items"},
	"settings.item":                       {"SKU %s", "SKU %s"},
	"settings.amounts":                    {"Akun untuk setiap jenis jumlah", "Account of each kind of amount"},
	"settings.amount.shipping_fee":        {"Ongkos kirim", "Shipping fee"},
	"settings.amount.platform_rebate":     {"Rabat marketplace", "Marketplace rebate"},
	"settings.amount.voucher_seller":      {"Voucher penjual", "Seller voucher"},
	"settings.amount.service_fee":         {"Biaya layanan", "Service fee"},
	"settings.amount.fulfillment_fee":     {"Biaya fulfilment", "Fulfilment fee"},
	"settings.amount.shipping_difference": {"Selisih ongkos kirim", "Shipping difference"},
	"settings.amount.payment_difference":  {"Selisih pembayaran", "Payment difference"},
	"settings.tax":                        {"PPN", "VAT (PPN)"},
	"settings.tax.enabled":                {"Baris faktur kena PPN", "Faktur lines are taxable"},
	"settings.tax.inclusive":              {"Harga sudah termasuk PPN", "Prices include VAT"},
	"settings.yes":                        {"Ya", "Yes"},
	"settings.no":                         {"Tidak", "No"},
	"settings.none":                       {"— belum dipetakan —", "— not mapped —"},
	"settings.save":                       {"Simpan", "Save"},
	"settings.saved":                      {"Tersimpan sebagai versi %s; berlaku untuk peristiwa berikutnya dalam beberapa detik.", "Saved as version %s; it applies to the next events within seconds."},
	"settings.refused":                    {"Tidak disimpan: perbaiki setiap isian yang ditandai, lalu simpan lagi.", "Not saved: fix each field marked, then save again."},
	"settings.replay":                     {"Kirim ulang %d peristiwa gagal", "Replay %d failed events"},
	"settings.replayed":                   {"%s peristiwa gagal dikirim ulang.", "%s failed events replayed."},
	"settings.history":                    {"Riwayat", "History"},
	"settings.version":                    {"Versi", "Version"},
	"settings.when":                       {"Kapan", "When"},
	"settings.who":                        {"Oleh", "By"},
	"settings.changed":                    {"Yang diubah", "Changed"},
	"settings.restore":                    {"Pulihkan", "Restore"},
	"preview.button":                      {"Pratinjau", "Preview"},
	"preview.event":                       {"Peristiwa untuk pratinjau (kuncinya; kosong: faktur atau pembayaran terbaru)", "Event to preview (its key; empty: the newest invoice or payment)"},
	"preview.notice":                      {"Pratinjau saja: tidak ada yang disimpan, tidak ada yang dikirim ke Accurate. Simpan untuk memakai isian ini.", "Preview only: nothing was saved, nothing was sent to Accurate. Save to use these values."},
	"preview.noevent":                     {"Tidak ada pratinjau: %s", "No preview: %s"},
	"preview.title":                       {"Pratinjau %s dengan isian di bawah", "Preview of %s with the values below"},
	"preview.nodocument":                  {"Dengan isian ini peristiwa tersebut tidak menghasilkan dokumen; lihat masalah di atas.", "With these values the event makes no document; see the problems above."},
	"preview.sales-invoice":               {"Faktur penjualan %s", "Sales invoice %s"},
	"preview.sales-receipt":               {"Penerimaan penjualan %s", "Sales receipt %s"},
	"preview.sales-return":                {"Retur penjualan %s", "Sales return %s"},
	"preview.date":                        {"Tanggal", "Date"},
	"preview.customer":                    {"Pelanggan", "Customer"},
	"preview.bank":                        {"Kas & bank", "Cash & bank"},
	"preview.branch":                      {"Cabang", "Branch"},
	"preview.invoice":                     {"Faktur", "Invoice"},
	"preview.what":                        {"Keterangan", "Description"},
	"preview.account":                     {"Akun / barang", "Account / item"},
	"preview.qty":                         {"Kuantitas", "Quantity"},
	"preview.price":                       {"Harga", "Price"},
	"preview.amount":                      {"Jumlah", "Amount"},
	"preview.discount":                    {"Diskon faktur", "Invoice discount"},
	"preview.paid":                        {"Pelunasan faktur %s", "Payment of invoice %s"},
	"preview.deducted":                    {"Potongan pada faktur %s", "Deducted on invoice %s"},
	"preview.total.invoice":               {"Total faktur (sebelum PPN)", "Invoice total (before VAT)"},
	"preview.total.receipt":               {"Diterima di kas & bank", "Received in cash & bank"},
	"preview.total.return":                {"Total retur (sebelum PPN)", "Return total (before VAT)"},

	"age.now":  {"baru saja", "just now"},
	"age.min":  {"%d menit", "%d min"},
	"age.hour": {"%d jam %d menit", "%d h %d min"},
	"age.day":  {"%d hari", "%d days"},
}
