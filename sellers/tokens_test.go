package sellers_test

import (
	"strings"
	"testing"

	"go.uber.org/zap"

	"forstok-accurate-sync/sellers"
)

const adminToken = "the-service-admin-token-0f3a9c2e7b41d8"

// sellerWithToken is a valid seller file whose admin token is in variable v.
func sellerWithToken(t *testing.T, v string) string {
	return strings.Replace(header, "admin_token_env: TOKO_ADMIN", "admin_token_env: "+v, 1) + inlineMapping(t)
}

func problemOf(r *sellers.Registry, id string) string {
	for _, st := range r.Status() {
		if st.ID == id {
			for _, p := range st.Problems {
				if p.Key == "admin_token" {
					return p.Message
				}
			}
		}
	}
	return ""
}

func TestAdminTokenRules(t *testing.T) {
	setenv("SHORT_ADMIN", "only-twenty-bytes-xx")
	setenv("SAME_AS_SERVICE", adminToken)
	setenv("SHARED_A", "a-token-two-sellers-share-1b2c3d4e5f60")
	setenv("SHARED_B", "a-token-two-sellers-share-1b2c3d4e5f60")
	setenv("OWN_TOKEN", "a-token-of-its-very-own-9e8d7c6b5a4f3e")
	openWith := func(t *testing.T, dir string) *sellers.Registry {
		r, err := sellers.Open(sellers.Config{Dir: dir, Getenv: getenv, AdminToken: adminToken, Logger: zap.NewNop(),
			Defaults: sellers.Defaults{SignatureSecret: "app-secret", RateLimit: 8, MaxConcurrency: 8}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	t.Run("a token under 32 bytes refuses the seller, naming the variable and never the token", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "toko-short.yaml", sellerWithToken(t, "SHORT_ADMIN"))
		r := openWith(t, dir)
		if _, ok := r.Get("toko-short"); ok {
			t.Fatal("a seller with a 20-byte admin token was started")
		}
		msg := problemOf(r, "toko-short")
		if !strings.Contains(msg, "SHORT_ADMIN") || !strings.Contains(msg, "32") || strings.Contains(msg, "only-twenty") {
			t.Errorf("problem = %q; want it to name SHORT_ADMIN and 32 bytes, not the token", msg)
		}
	})
	t.Run("a seller's token equal to ADMIN_TOKEN is refused", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "toko-sly.yaml", sellerWithToken(t, "SAME_AS_SERVICE"))
		r := openWith(t, dir)
		if _, ok := r.ByAdminToken(adminToken); ok {
			t.Fatal("ADMIN_TOKEN opens a seller's scope")
		}
		if msg := problemOf(r, "toko-sly"); !strings.Contains(msg, "ADMIN_TOKEN") || strings.Contains(msg, adminToken) {
			t.Errorf("problem = %q; want it to say the token is ADMIN_TOKEN's, without the token", msg)
		}
	})
	t.Run("two new sellers sharing a token both go without it", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "toko-a.yaml", sellerWithToken(t, "SHARED_A"))
		write(t, dir, "toko-b.yaml", sellerWithToken(t, "SHARED_B"))
		r := openWith(t, dir)
		if id, ok := r.ByAdminToken(getenv("SHARED_A")); ok {
			t.Errorf("the shared token opens seller %s", id)
		}
		for _, id := range []string{"toko-a", "toko-b"} {
			if msg := problemOf(r, id); !strings.Contains(msg, "also the token of seller") {
				t.Errorf("%s's problem = %q; want the collision named", id, msg)
			}
		}
	})
	t.Run("a seller copying another's token is refused and the other keeps it", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "toko-a.yaml", sellerWithToken(t, "SHARED_A"))
		write(t, dir, "toko-b.yaml", sellerWithToken(t, "OWN_TOKEN"))
		r := openWith(t, dir)
		write(t, dir, "toko-b.yaml", sellerWithToken(t, "SHARED_B"))
		if err := r.Reload(); err != nil {
			t.Fatal(err)
		}
		if id, ok := r.ByAdminToken(getenv("SHARED_A")); !ok || id != "toko-a" {
			t.Errorf("the token opens %q, %v; want toko-a, which held it", id, ok)
		}
		if msg := problemOf(r, "toko-b"); !strings.Contains(msg, "toko-a") || !strings.Contains(msg, "SHARED_B") {
			t.Errorf("toko-b's problem = %q; want it to name toko-a and SHARED_B", msg)
		}
		if id, ok := r.ByAdminToken(getenv("OWN_TOKEN")); !ok || id != "toko-b" {
			t.Errorf("toko-b's last valid token opens %q, %v; want toko-b kept on its last valid file", id, ok)
		}
	})
}
