package edge

import (
	"errors"
	"io"
	"net/http"
	"time"
)

const (
	// MinBodyRate is the slowest a request body may arrive, after
	// BodyGrace: 64 KiB/s brings the largest webhook (1 MiB) within the
	// server's 30 s read timeout; a usual one (a few KiB) arrives within
	// the grace.
	MinBodyRate = 64 << 10
	// BodyGrace is the time any body has before the rate counts.
	BodyGrace = 5 * time.Second
)

// ErrTooSlow is the error of a body that arrives slower than MinBodyRate.
var ErrTooSlow = errors.New("the request body arrives too slowly")

// MinRate reads r, the body of the request answered by w, and gives up
// with ErrTooSlow when the bytes arrive slower than rate bytes a second
// after grace: before each read it moves the connection's read deadline to
// when the bytes read so far plus one more chunk are due. A client sending
// 1 MiB at a trickle then holds its connection and share of the body budget
// for seconds, not for ever.
func MinRate(w http.ResponseWriter, r io.Reader, rate int64, grace time.Duration, now func() time.Time) io.Reader {
	return &minRate{rc: http.NewResponseController(w), r: r, rate: rate, grace: grace, now: now, start: now()}
}

type minRate struct {
	rc    *http.ResponseController
	r     io.Reader
	rate  int64
	grace time.Duration
	now   func() time.Time
	start time.Time
	read  int64
}

// chunk is the step the deadline allows ahead of what has arrived.
const chunk = 4 << 10

func (m *minRate) Read(p []byte) (int, error) {
	due := m.start.Add(m.grace + time.Duration((m.read+chunk)*int64(time.Second)/m.rate))
	// A writer that cannot set deadlines (a test recorder) reads unbounded:
	// the server's ReadTimeout still applies.
	_ = m.rc.SetReadDeadline(due)
	n, err := m.r.Read(p)
	m.read += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && !m.now().Before(due) {
		return n, ErrTooSlow
	}
	return n, err
}
