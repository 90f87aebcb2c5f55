package handler

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestWriteAnswerWritesWhatCJSONWrites: the answer built by hand has the
// bytes, status and headers c.JSON gives the same answer, for plain keys and
// for those that c.JSON must write itself.
func TestWriteAnswerWritesWhatCJSONWrites(t *testing.T) {
	e := echo.New()
	serve := func(target string, write func(echo.Context) error) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		if err := write(e.NewContext(httptest.NewRequest(http.MethodPost, target, nil), rec)); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	for _, tc := range []struct {
		name   string
		target string
		status int
		a      answer
	}{
		{"an accepted invoice", "/webhooks/forstok", http.StatusAccepted, answer{Key: "invoice.created:70001", Status: "accepted"}},
		{"a duplicate payment", "/webhooks/forstok/seller-a", http.StatusOK, answer{Key: "payment.received:9223372036854775807", Status: "duplicate"}},
		{"a key with characters JSON escapes", "/webhooks/forstok", http.StatusAccepted, answer{Key: "a<b>&\"c\\\u00e9\x01", Status: "accepted"}},
		{"an answer asked for pretty", "/webhooks/forstok?pretty", http.StatusAccepted, answer{Key: "invoice.created:1", Status: "accepted"}},
	} {
		t.Run(tc.name+" is written as c.JSON writes it", func(t *testing.T) {
			want := serve(tc.target, func(c echo.Context) error { return c.JSON(tc.status, tc.a) })
			got := serve(tc.target, func(c echo.Context) error { return writeAnswer(c, tc.status, tc.a) })
			if got.Code != want.Code || got.Body.String() != want.Body.String() {
				t.Errorf("writeAnswer = %d %q, c.JSON = %d %q", got.Code, got.Body, want.Code, want.Body)
			}
			if g, w := got.Header(), want.Header(); len(g) != len(w) || g.Get(echo.HeaderContentType) != w.Get(echo.HeaderContentType) {
				t.Errorf("headers %v, c.JSON's %v", g, w)
			}
		})
	}
}
