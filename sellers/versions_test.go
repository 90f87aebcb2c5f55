package sellers_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/sellers"
)

func TestMappingVersions(t *testing.T) {
	ctx := context.Background()
	r := testredis.New(t)
	rdb := r.Client(t)
	dir := t.TempDir()
	mappingFile := filepath.Join(dir, "toko-maju.mapping.yaml")
	if err := os.WriteFile(mappingFile, exampleMapping(t), 0o400); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "toko-maju.yaml", header+"mapping_file: toko-maju.mapping.yaml\n")
	// Read-only, as a ConfigMap is: the service must never need to write.
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })

	// replica is one running service: its registry over the folder and its
	// view of the versions in Redis.
	replica := func(t *testing.T) (*sellers.Registry, *sellers.Mappings) {
		t.Helper()
		reg := open(t, dir)
		m := sellers.NewMappings(rdb, r.Namespace, nil)
		reg.UseMappings(m)
		if err := m.Refresh(ctx, reg); err != nil {
			t.Fatal(err)
		}
		return reg, m
	}
	serviceFee := func(reg *sellers.Registry) string {
		s, ok := reg.Get("toko-maju")
		if !ok {
			t.Fatal("toko-maju is not configured")
		}
		return s.Mapping.Amounts.ServiceFee
	}
	regA, a := replica(t)

	t.Run("the file is imported as the first version", func(t *testing.T) {
		vs, err := a.Versions(ctx, "toko-maju")
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 1 || vs[0].Source != "file" || vs[0].UpdatedBy != "file" || !slices.Contains(vs[0].Changed, "amounts.service_fee") {
			t.Fatalf("versions %+v", vs)
		}
		if got := serviceFee(regA); got != "610202" {
			t.Fatalf("service fee %q", got)
		}
	})
	first, err := a.Current(ctx, "toko-maju")
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(first.YAML, `service_fee: "610202"`, `service_fee: "610299"`, 1)
	var edit *sellers.Version
	before, _ := regA.Get("toko-maju")
	t.Run("an edit becomes the newest version and names what it changed", func(t *testing.T) {
		edit, err = a.Save(ctx, "toko-maju", []byte(edited), sellers.SourceConsole, "toko-maju", first.Version)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(edit.Changed, []string{"amounts.service_fee"}) || edit.Source != "console" || edit.UpdatedBy != "toko-maju" {
			t.Fatalf("version %+v", edit)
		}
	})
	t.Run("a save from an old version is refused as stale", func(t *testing.T) {
		_, err := a.Save(ctx, "toko-maju", []byte(first.YAML), sellers.SourceConsole, "admin", first.Version)
		if !errors.Is(err, sellers.ErrStale) {
			t.Fatalf("err = %v, want ErrStale", err)
		}
	})
	t.Run("another replica uses the edit after its refresh", func(t *testing.T) {
		regB, _ := replica(t)
		if got := serviceFee(regB); got != "610299" {
			t.Fatalf("service fee on replica B %q, want 610299", got)
		}
	})
	t.Run("the replica that saved uses it at once, with a new seller version", func(t *testing.T) {
		after, _ := regA.Get("toko-maju")
		if after.Mapping.Amounts.ServiceFee != "610299" || after.Version == before.Version || after.MappingVersion != edit.Version {
			t.Fatalf("before %s, after %s (%s) fee %s", before.Version, after.Version, after.MappingVersion, after.Mapping.Amounts.ServiceFee)
		}
		if before.Mapping.Amounts.ServiceFee != "610202" {
			t.Fatal("the version an event started with changed under it")
		}
	})
	t.Run("a restart with the file unchanged keeps the edit", func(t *testing.T) {
		regC, c := replica(t)
		if got := serviceFee(regC); got != "610299" {
			t.Fatalf("service fee after restart %q", got)
		}
		vs, _ := c.Versions(ctx, "toko-maju")
		if len(vs) != 2 {
			t.Fatalf("%d versions after a restart, want 2", len(vs))
		}
	})
	t.Run("a changed file is imported and wins over the earlier edit", func(t *testing.T) {
		_ = os.Chmod(dir, 0o700)
		_ = os.Chmod(mappingFile, 0o600)
		changed := strings.Replace(string(exampleMapping(t)), `fulfillment_fee: "610203"`, `fulfillment_fee: "610204"`, 1)
		if err := os.WriteFile(mappingFile, []byte(changed), 0o400); err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(dir, 0o500)
		if err := regA.Reload(); err != nil {
			t.Fatal(err)
		}
		s, _ := regA.Get("toko-maju")
		if s.Mapping.Amounts.FulfillmentFee != "610204" {
			t.Fatal("the changed file is not in use before its import")
		}
		if err := a.Refresh(ctx, regA); err != nil {
			t.Fatal(err)
		}
		cur, _ := a.Current(ctx, "toko-maju")
		if cur.Source != "file" || !slices.Contains(cur.Changed, "amounts.fulfillment_fee") {
			t.Fatalf("current %+v", cur)
		}
		// The file's service fee is 610202 again: it is the newest.
		if got := serviceFee(regA); got != "610202" {
			t.Fatalf("service fee %q", got)
		}
	})
	t.Run("every version is kept, newest first, and can be read back", func(t *testing.T) {
		vs, _ := a.Versions(ctx, "toko-maju")
		if len(vs) != 3 || vs[1].Version != edit.Version || vs[2].Version != first.Version {
			t.Fatalf("versions %+v", vs)
		}
		got, err := a.Get(ctx, "toko-maju", edit.Version)
		if err != nil || got.YAML != edited {
			t.Fatalf("version %v %v", got, err)
		}
		if _, err := a.Get(ctx, "toko-maju", "nope"); !errors.Is(err, sellers.ErrNoVersion) {
			t.Fatalf("err %v", err)
		}
	})
}
