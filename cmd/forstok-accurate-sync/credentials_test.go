package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

	"forstok-accurate-sync/accurate"
)

func TestCredentialsReadiness(t *testing.T) {
	refusal := &accurate.Error{Class: accurate.ClassAuth, Endpoint: "sales-invoice/list", Status: 401}
	t.Run("a refusal at start fails readiness naming the variables, and a later success clears it", func(t *testing.T) {
		logs := &syncBuffer{}
		c := &credentials{log: newLogger(zapcore.InfoLevel, logs), check: func(context.Context) error { return refusal }}
		c.checkOnce(context.Background())
		err := c.ready(context.Background())
		if err == nil || !strings.Contains(err.Error(), "ACCURATE_API_TOKEN") || !strings.Contains(err.Error(), "ACCURATE_SIGNATURE_SECRET") {
			t.Fatalf("ready = %v; want the refusal naming both variables", err)
		}
		if !strings.Contains(logs.String(), `"level":"error"`) || !strings.Contains(logs.String(), "ACCURATE_API_TOKEN") {
			t.Errorf("log = %s; want an error line naming ACCURATE_API_TOKEN", logs)
		}
		c.observe("sales-invoice/save", "ok")
		if err := c.ready(context.Background()); err != nil {
			t.Errorf("ready after a success = %v; want nil", err)
		}
		if !strings.Contains(logs.String(), "accepts the credentials again") {
			t.Errorf("log = %s; want the recovery said", logs)
		}
	})
	t.Run("a worker's refused call fails readiness too", func(t *testing.T) {
		c := &credentials{log: newLogger(zapcore.InfoLevel, &syncBuffer{}), check: func(context.Context) error { return nil }}
		c.observe("sales-invoice/save", string(accurate.ClassAuth))
		if c.ready(context.Background()) == nil {
			t.Error("ready = nil after a 401; want the refusal")
		}
	})
	t.Run("an Accurate that does not answer is not a refusal", func(t *testing.T) {
		c := &credentials{log: newLogger(zapcore.InfoLevel, &syncBuffer{}), check: func(context.Context) error {
			return &accurate.Error{Class: accurate.ClassTransient, Endpoint: "sales-invoice/list", Status: 503}
		}}
		c.checkOnce(context.Background())
		if err := c.ready(context.Background()); err != nil {
			t.Errorf("ready = %v; want nil", err)
		}
	})
}

func TestAWrongTokenShowsAtStart(t *testing.T) {
	w := newWorld(t)
	w.extraEnv = map[string]string{"ACCURATE_API_TOKEN": "aat.wrong-token"}
	w.start()
	var body map[string]any
	ok := poll(20*time.Second, 50*time.Millisecond, func() bool {
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
