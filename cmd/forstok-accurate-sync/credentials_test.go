package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/internal/wait"
)

func TestAWrongTokenShowsAtStart(t *testing.T) {
	w := newWorld(t)
	w.extraEnv = map[string]string{"ACCURATE_API_TOKEN": "aat.wrong-token"}
	w.start()
	var body map[string]any
	ok := wait.Until(20*time.Second, 50*time.Millisecond, func() bool {
		resp, err := http.Get(w.url + "/readyz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body = nil
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	if !ok || !strings.Contains(body["error"].(string), "ACCURATE_API_TOKEN") {
		t.Fatalf("readyz = %v; want 503 naming ACCURATE_API_TOKEN", body)
	}
	if !strings.Contains(w.logs.String(), `"level":"error"`) {
		t.Errorf("no error line in the log; want the refusal logged at start")
	}
	if strings.Contains(w.logs.String(), "aat.wrong-token") {
		t.Errorf("the token was logged")
	}
}
