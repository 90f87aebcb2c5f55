package main

import (
	"net/http"
	"testing"

	"forstok-accurate-sync/internal/testnet"
)

// With ADMIN_LISTEN_ADDR the operators' routes leave the public port: the
// built binary serves webhooks and probes on LISTEN_ADDR, and /admin,
// /console and /metrics only on the private port.
func TestAdminListenAddrSplitsThePorts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service as a process")
	}
	addr := testnet.FreeAddr(t)
	private := "http://" + addr
	w := newWorld(t)
	w.extraEnv = map[string]string{"ADMIN_LISTEN_ADDR": addr}
	w.startProcess()
	public := w.url

	for _, tc := range []struct {
		name, base, method, path string
		auth                     bool
		want                     int
	}{
		{"the public port takes webhooks", public, http.MethodPost, "/webhooks/forstok", false, http.StatusAccepted},
		{"the public port answers /healthz", public, http.MethodGet, "/healthz", false, http.StatusOK},
		{"the public port answers /readyz", public, http.MethodGet, "/readyz", false, http.StatusOK},
		{"the public port has no admin API, even with the token", public, http.MethodGet, "/admin/events", true, http.StatusNotFound},
		{"the public port has no admin API under an escaped path", public, http.MethodGet, "/%61dmin/events", true, http.StatusNotFound},
		{"the public port has no console", public, http.MethodGet, "/console", false, http.StatusNotFound},
		{"the public port has no console sign-in", public, http.MethodGet, "/console/signin", false, http.StatusNotFound},
		{"the public port has no metrics", public, http.MethodGet, "/metrics", false, http.StatusNotFound},
		{"the private port serves the admin API", private, http.MethodGet, "/admin/events", true, http.StatusOK},
		{"the private port still asks for the token", private, http.MethodGet, "/admin/events", false, http.StatusUnauthorized},
		{"the private port serves the console", private, http.MethodGet, "/console/signin", false, http.StatusOK},
		{"the private port serves metrics", private, http.MethodGet, "/metrics", false, http.StatusOK},
		{"the private port answers /readyz", private, http.MethodGet, "/readyz", false, http.StatusOK},
		{"the private port takes no webhooks", private, http.MethodPost, "/webhooks/forstok", false, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.method == http.MethodPost {
				status, _, err := postWebhook(t.Context(), http.DefaultClient, tc.base+tc.path, testWebhookSecret, newMessageID("ports"), generatedInvoice(1))
				if err != nil || status != tc.want {
					t.Errorf("POST %s = %d %v; want %d", tc.path, status, err, tc.want)
				}
				return
			}
			req, _ := http.NewRequest(tc.method, tc.base+tc.path, nil)
			if tc.auth {
				req.Header.Set("Authorization", "Bearer "+testAdmin)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s %s = %d; want %d", tc.method, tc.path, resp.StatusCode, tc.want)
			}
		})
	}
}
