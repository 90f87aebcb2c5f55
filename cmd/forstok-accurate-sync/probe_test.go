package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestProbe(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.start()

	t.Run("a ready service passes", func(t *testing.T) {
		var out bytes.Buffer
		if err := run(ctx, []string{"fas", "probe", "--url", w.url + "/readyz"}, envOf(nil), &out); err != nil {
			t.Fatalf("probe = %v\n%s", err, out.String())
		}
		if !strings.HasPrefix(out.String(), "200 ") {
			t.Errorf("output %q", out.String())
		}
	})

	t.Run("LISTEN_ADDR gives the port to ask", func(t *testing.T) {
		addr := strings.TrimPrefix(w.url, "http://")
		_, port, _ := strings.Cut(addr, ":")
		if err := run(ctx, []string{"fas", "probe"}, envOf(map[string]string{"LISTEN_ADDR": ":" + port}), &bytes.Buffer{}); err != nil {
			t.Errorf("probe with LISTEN_ADDR :%s = %v", port, err)
		}
	})

	t.Run("a stopped service fails", func(t *testing.T) {
		w.stop()
		err := run(ctx, []string{"fas", "probe", "--url", w.url + "/readyz"}, envOf(nil), &bytes.Buffer{})
		if err == nil {
			t.Fatal("probe of a stopped service passed")
		}
	})

	t.Run("--help succeeds", func(t *testing.T) {
		var out bytes.Buffer
		if err := run(ctx, []string{"fas", "probe", "--help"}, envOf(nil), &out); err != nil || !strings.Contains(out.String(), "/readyz") {
			t.Errorf("probe --help = %v\n%s", err, out.String())
		}
	})
}

func TestReadyURL(t *testing.T) {
	for _, tc := range []struct{ listen, want string }{
		{"", "http://127.0.0.1:8080/readyz"},
		{":9090", "http://127.0.0.1:9090/readyz"},
		{"0.0.0.0:8080", "http://127.0.0.1:8080/readyz"},
		{"10.0.0.5:8080", "http://10.0.0.5:8080/readyz"},
		{"[::]:8080", "http://127.0.0.1:8080/readyz"},
	} {
		t.Run("LISTEN_ADDR "+tc.listen+" is asked at "+tc.want, func(t *testing.T) {
			got, err := readyURL(tc.listen)
			if err != nil || got != tc.want {
				t.Errorf("readyURL(%q) = %q, %v", tc.listen, got, err)
			}
		})
	}
	if _, err := readyURL("8080"); err == nil || !strings.Contains(err.Error(), "LISTEN_ADDR") {
		t.Errorf("a LISTEN_ADDR without a port: %v", err)
	}
}
