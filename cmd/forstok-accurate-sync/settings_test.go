package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"forstok-accurate-sync/internal/wait"
)

// settingsCall is one admin request with a body and headers; it answers
// the status, the headers and the body.
func (w *fleetWorld) settingsCall(base, method, path, token string, body []byte, header ...string) (int, http.Header, []byte) {
	w.t.Helper()
	req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return m
}

// errorPaths are the paths a 422 names.
func errorPaths(m map[string]any) []string {
	var out []string
	for _, e := range m["errors"].([]any) {
		out = append(out, e.(map[string]any)["path"].(string))
	}
	slices.Sort(out)
	return out
}

func TestMappingThroughTheAdminAPI(t *testing.T) {
	w := newFleetWorld(t)
	w.write("toko-a", w.sellerFile("A"))
	w.write("toko-b", w.sellerFile("B"))
	w.write("toko-d", w.sellerFile("D")) // Accurate refuses its token: the online check cannot be made
	w.start()
	first := w.url
	const tokenA, tokenB = "admin-of-toko-a-3f9c1e7a52b84d06a1c9", "admin-of-toko-b-3f9c1e7a52b84d06a1c9"
	jsonType := []string{"Content-Type", "application/json"}
	current := func(base, seller string) map[string]any {
		t.Helper()
		status, h, b := w.settingsCall(base, http.MethodGet, "/admin/sellers/"+seller+"/mapping", testAdmin, nil)
		if status != http.StatusOK {
			t.Fatalf("GET mapping = %d %s", status, b)
		}
		m := decode(t, b)
		if h.Get("ETag") != `"`+m["version"].(string)+`"` {
			t.Fatalf("ETag %q for version %v", h.Get("ETag"), m["version"])
		}
		return m
	}
	amount := func(m map[string]any, kind string) any {
		return m["mapping"].(map[string]any)["amounts"].(map[string]any)[kind]
	}
	versions := func(seller string) []any {
		t.Helper()
		_, _, b := w.settingsCall(first, http.MethodGet, "/admin/sellers/"+seller+"/mapping/versions", testAdmin, nil)
		return decode(t, b)["versions"].([]any)
	}

	start := current(first, "toko-a")
	t.Run("the file is the first version, read as JSON with its version as the ETag", func(t *testing.T) {
		if start["source"] != "file" || start["updated_by"] != "file" || amount(start, "service_fee") != "610202" {
			t.Fatalf("mapping %v", start)
		}
		stores := start["mapping"].(map[string]any)["stores"].(map[string]any)
		if stores["1009"].(map[string]any)["customer_no"] != "C-SHOPEE" {
			t.Fatalf("stores %v", stores)
		}
	})
	t.Run("a seller's token reaches its own mapping and not another seller's", func(t *testing.T) {
		if status, _, _ := w.settingsCall(first, http.MethodGet, "/admin/sellers/toko-a/mapping", tokenA, nil); status != http.StatusOK {
			t.Fatalf("own mapping = %d", status)
		}
		for _, path := range []string{"/admin/sellers/toko-b/mapping", "/admin/sellers/toko-b/mapping/versions", "/admin/sellers/toko-b/accurate/accounts"} {
			if status, _, _ := w.settingsCall(first, http.MethodGet, path, tokenA, nil); status != http.StatusNotFound {
				t.Errorf("GET %s with toko-a's token = %d; want 404", path, status)
			}
		}
		status, _, _ := w.settingsCall(first, http.MethodPut, "/admin/sellers/toko-b/mapping", tokenA, []byte(`{"mapping":{}}`), jsonType...)
		if status != http.StatusNotFound {
			t.Errorf("PUT toko-b's mapping with toko-a's token = %d; want 404", status)
		}
	})

	edit := func(from map[string]any, path []string, value any) []byte {
		m := from["mapping"].(map[string]any)
		var cp map[string]any
		b, _ := json.Marshal(m)
		_ = json.Unmarshal(b, &cp)
		at := cp
		for _, p := range path[:len(path)-1] {
			at = at[p].(map[string]any)
		}
		at[path[len(path)-1]] = value
		out, _ := json.Marshal(map[string]any{"mapping": cp})
		return out
	}
	t.Run("unknown paths, wrong types and accounts Accurate lacks are 422 naming every path, and nothing changes", func(t *testing.T) {
		body := edit(start, []string{"amounts", "service_fee"}, "699999")
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		mp := m["mapping"].(map[string]any)
		mp["amounts"].(map[string]any)["servis_fee"] = "610202"
		mp["tax"] = map[string]any{"enabled": "maybe"}
		body, _ = json.Marshal(m)
		status, _, b := w.settingsCall(first, http.MethodPut, "/admin/sellers/toko-a/mapping", tokenA, body, jsonType...)
		if status != http.StatusUnprocessableEntity {
			t.Fatalf("PUT = %d %s", status, b)
		}
		got := errorPaths(decode(t, b))
		if want := []string{"amounts.servis_fee", "tax.enabled"}; !slices.Equal(got, want) {
			t.Fatalf("paths %q; want %q", got, want)
		}
		// Offline rules pass: the online check names the missing account.
		status, _, b = w.settingsCall(first, http.MethodPut, "/admin/sellers/toko-a/mapping", tokenA,
			edit(start, []string{"amounts", "service_fee"}, "699999"), jsonType...)
		if status != http.StatusUnprocessableEntity || !slices.Equal(errorPaths(decode(t, b)), []string{"amounts.service_fee"}) {
			t.Fatalf("PUT = %d %s", status, b)
		}
		if n := len(versions("toko-a")); n != 1 {
			t.Fatalf("%d versions after refused saves; want 1", n)
		}
	})
	t.Run("a body over the limit is 413", func(t *testing.T) {
		big := append([]byte(`{"mapping":{"timezone":"`), bytes.Repeat([]byte("x"), 300<<10)...)
		if status, _, _ := w.settingsCall(first, http.MethodPut, "/admin/sellers/toko-a/mapping", tokenA, big, jsonType...); status != http.StatusRequestEntityTooLarge {
			t.Fatalf("PUT = %d; want 413", status)
		}
	})
	var edited string
	t.Run("a save with If-Match is a new version naming what changed, in use within 5 s", func(t *testing.T) {
		status, _, b := w.settingsCall(first, http.MethodPut, "/admin/sellers/toko-a/mapping", tokenA,
			edit(start, []string{"amounts", "service_fee"}, "610299"), "Content-Type", "application/json", "If-Match", `"`+start["version"].(string)+`"`)
		if status != http.StatusOK {
			t.Fatalf("PUT = %d %s", status, b)
		}
		saved := decode(t, b)
		edited = saved["version"].(string)
		if ch := saved["changed"].([]any); len(ch) != 1 || ch[0] != "amounts.service_fee" {
			t.Fatalf("changed %v", ch)
		}
		if !wait.Until(5*time.Second, 50*time.Millisecond, func() bool {
			s, _ := w.app.sellers.Get("toko-a")
			return s.Mapping.Amounts.ServiceFee == "610299"
		}) {
			t.Fatal("the service does not use the new version after 5 s")
		}
		if cur := current(first, "toko-a"); cur["source"] != "console" || cur["updated_by"] != "toko-a" {
			t.Fatalf("current %v", cur)
		}
	})
	t.Run("a save racing another (a stale If-Match) is 412 and changes nothing", func(t *testing.T) {
		status, _, b := w.settingsCall(first, http.MethodPut, "/admin/sellers/toko-a/mapping", tokenA,
			edit(start, []string{"amounts", "fulfillment_fee"}, "610299"), "Content-Type", "application/json", "If-Match", start["version"].(string))
		if status != http.StatusPreconditionFailed {
			t.Fatalf("PUT = %d %s; want 412", status, b)
		}
		if cur := current(first, "toko-a"); cur["version"] != edited {
			t.Fatalf("current %v; want %s", cur["version"], edited)
		}
	})
	t.Run("the YAML file itself is taken and given back", func(t *testing.T) {
		status, h, b := w.settingsCall(first, http.MethodGet, "/admin/sellers/toko-a/mapping", tokenA, nil, "Accept", "application/yaml")
		if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/yaml") || !strings.Contains(string(b), "610299") {
			t.Fatalf("GET yaml = %d %s %s", status, h.Get("Content-Type"), b)
		}
		status, _, b = w.settingsCall(first, http.MethodPut, "/admin/sellers/toko-b/mapping", tokenB, b, "Content-Type", "application/yaml")
		if status != http.StatusOK {
			t.Fatalf("PUT yaml = %d %s", status, b)
		}
		if amount(current(first, "toko-b"), "service_fee") != "610299" {
			t.Fatal("toko-b's mapping is not the file put")
		}
	})
	t.Run("with the seller's Accurate not answering, the offline rules apply and the save says what it could not check", func(t *testing.T) {
		status, _, b := w.settingsCall(first, http.MethodPut, "/admin/sellers/toko-d/mapping", testAdmin,
			edit(start, []string{"amounts", "service_fee"}, "699999"), jsonType...)
		if status != http.StatusOK {
			t.Fatalf("PUT = %d %s", status, b)
		}
		if u, _ := decode(t, b)["unchecked"].([]any); len(u) == 0 || !strings.Contains(u[0].(string), "not checked") {
			t.Fatalf("answer %s", b)
		}
		status, _, b = w.settingsCall(first, http.MethodPut, "/admin/sellers/toko-d/mapping", testAdmin, []byte(`{"mapping":{"stores":5}}`), jsonType...)
		if status != http.StatusUnprocessableEntity || !slices.Contains(errorPaths(decode(t, b)), "stores") {
			t.Fatalf("PUT = %d %s", status, b)
		}
	})
	t.Run("a changed file is imported after a console edit and wins", func(t *testing.T) {
		w.writeExampleMapping("shared.mapping.yaml", `fulfillment_fee: "610203"`, `fulfillment_fee: "610204"`)
		w.hup <- os.Interrupt // the folder's watch sees the seller file, not the mapping file it names
		if !wait.Until(5*time.Second, 50*time.Millisecond, func() bool { return current(first, "toko-a")["source"] == "file" }) {
			t.Fatalf("current %v", current(first, "toko-a"))
		}
		cur := current(first, "toko-a")
		if amount(cur, "fulfillment_fee") != "610204" || amount(cur, "service_fee") != "610202" {
			t.Fatalf("current %v", cur["mapping"])
		}
	})
	var restored string
	t.Run("restoring a version makes it the newest again", func(t *testing.T) {
		status, _, b := w.settingsCall(first, http.MethodPost, "/admin/sellers/toko-a/mapping/versions/"+edited+"/restore", tokenA, nil)
		if status != http.StatusOK {
			t.Fatalf("restore = %d %s", status, b)
		}
		restored = decode(t, b)["version"].(string)
		if amount(current(first, "toko-a"), "service_fee") != "610299" {
			t.Fatal("the restored mapping is not current")
		}
		vs := versions("toko-a")
		if len(vs) != 4 || vs[0].(map[string]any)["version"] != restored || vs[2].(map[string]any)["version"] != edited {
			t.Fatalf("versions %v", vs)
		}
		if status, _, _ := w.settingsCall(first, http.MethodPost, "/admin/sellers/toko-a/mapping/versions/nope/restore", tokenA, nil); status != http.StatusNotFound {
			t.Fatalf("restoring an unknown version = %d; want 404", status)
		}
	})
	t.Run("a replica started now (as after a restart) uses the newest version, not the unchanged file", func(t *testing.T) {
		w.start()
		if cur := current(w.url, "toko-a"); cur["version"] != restored {
			t.Fatalf("current on the new replica %v; want %s", cur["version"], restored)
		}
		s, _ := w.app.sellers.Get("toko-a")
		if s.Mapping.Amounts.ServiceFee != "610299" {
			t.Fatalf("the new replica uses service fee %s", s.Mapping.Amounts.ServiceFee)
		}
	})
	t.Run("choices come from the seller's own Accurate with number, name and type", func(t *testing.T) {
		status, _, b := w.settingsCall(first, http.MethodGet, "/admin/sellers/toko-a/accurate/accounts?q=layanan", tokenA, nil)
		if status != http.StatusOK {
			t.Fatalf("choices = %d %s", status, b)
		}
		items := decode(t, b)["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["no"] != "610202" || items[0].(map[string]any)["name"] != "Biaya Layanan Marketplace" || items[0].(map[string]any)["type"] != "EXPENSE" {
			t.Fatalf("items %v", items)
		}
		_, _, b = w.settingsCall(first, http.MethodGet, "/admin/sellers/toko-a/accurate/warehouses", tokenA, nil)
		if items := decode(t, b)["items"].([]any); len(items) != 1 || items[0].(map[string]any)["name"] != "Utama" || items[0].(map[string]any)["no"] != "" {
			t.Fatalf("warehouses %v", items)
		}
		if status, _, _ := w.settingsCall(first, http.MethodGet, "/admin/sellers/toko-a/accurate/taxes", tokenA, nil); status != http.StatusNotFound {
			t.Fatalf("an unknown list = %d; want 404", status)
		}
	})
}
