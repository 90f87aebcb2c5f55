package events

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"forstok-accurate-sync/examples"
)

// exampleBodies are the webhook bodies of examples/, by file name.
func exampleBodies(t *testing.T) map[string][]byte {
	t.Helper()
	ents, err := examples.Files.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".json") {
			b, err := examples.Files.ReadFile(e.Name())
			if err != nil {
				t.Fatal(err)
			}
			out[strings.TrimSuffix(e.Name(), ".json")] = b
		}
	}
	if len(out) == 0 {
		t.Fatal("no examples")
	}
	return out
}

func TestPayloadCodec(t *testing.T) {
	c := newPayloadCodec()
	bodies := exampleBodies(t)

	t.Run("every example unpacks to its body byte for byte", func(t *testing.T) {
		for name, body := range bodies {
			packed := c.pack(body)
			got, err := c.unpack(packed)
			if err != nil || !bytes.Equal(got, body) {
				t.Errorf("%s: unpack(pack(body)) = %.60q, %v; want the body", name, got, err)
			}
			if len(body) > 200 && packed[0] != s2DictTag {
				t.Errorf("%s: a %d-byte body was kept uncompressed", name, len(body))
			}
		}
	})

	t.Run("bodies far larger than a webhook unpack to themselves", func(t *testing.T) {
		invoice := bodies["invoice-created-shopee"]
		for _, n := range []int{70 << 10, 1 << 20} {
			big := bytes.Repeat(invoice, n/len(invoice)+1)[:n]
			got, err := c.unpack(c.pack(big))
			if err != nil || !bytes.Equal(got, big) {
				t.Errorf("%d bytes: unpack(pack(body)) differs (%v)", n, err)
			}
		}
	})

	t.Run("a body that compresses to no less is kept as it is", func(t *testing.T) {
		for _, body := range [][]byte{[]byte("{}"), []byte(`{"a":1}`)} {
			if packed := c.pack(body); !bytes.Equal(packed, body) {
				t.Errorf("pack(%q) = %x; want the body itself", body, packed)
			}
		}
	})

	t.Run("bodies packed concurrently each unpack to their own", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan string, 64)
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for name, body := range bodies {
					// Each goroutine's body differs, so a mix-up shows.
					own := bytes.Replace(body, []byte(`"type"`), []byte(`"type" `+strings.Repeat(" ", i)), 1)
					got, err := c.unpack(c.pack(own))
					if err != nil || !bytes.Equal(got, own) {
						errs <- name
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for name := range errs {
			t.Errorf("%s: a concurrently packed body did not unpack to itself", name)
		}
	})

	// testdata/default-level-*.zst and fastest-level-*.zst are the
	// examples as records kept them before S2 (zstd with the same
	// dictionary, at its default level, then at its fastest from
	// 2026-12-04): those records must still read, byte for byte.
	for _, level := range []string{"default-level-", "fastest-level-"} {
		t.Run("bodies packed with zstd at the "+strings.TrimSuffix(level, "-")+" used before still unpack", func(t *testing.T) {
			files, err := filepath.Glob("testdata/" + level + "*.zst")
			if err != nil || len(files) != len(bodies) {
				t.Fatalf("found %d stored bodies (%v); want one per example, %d", len(files), err, len(bodies))
			}
			for _, f := range files {
				name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), level), ".zst")
				packed, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(packed, zstdMagic) {
					t.Fatalf("%s is not a zstd frame", f)
				}
				got, err := c.unpack(packed)
				if err != nil || !bytes.Equal(got, bodies[name]) {
					t.Errorf("%s: unpack = %.60q, %v; want the example's body", name, got, err)
				}
			}
		})
	}

	t.Run("a body that starts as a packed one would is kept packed and reads back as itself", func(t *testing.T) {
		for _, body := range [][]byte{{s2DictTag}, {s2DictTag, '{', '}'}, append(append([]byte(nil), zstdMagic...), 1)} {
			packed := c.pack(body)
			if bytes.Equal(packed, body) {
				t.Errorf("pack(%x) kept it as it is; it would read as a packed body", body)
			}
			if got, err := c.unpack(packed); err != nil || !bytes.Equal(got, body) {
				t.Errorf("unpack(pack(%x)) = %x, %v; want the body", body, got, err)
			}
		}
	})

	t.Run("a body kept before compression reads as it is", func(t *testing.T) {
		body := bodies["invoice-created-shopee"]
		if got, err := c.unpack(body); err != nil || !bytes.Equal(got, body) {
			t.Errorf("unpack(plain JSON) = %.60q, %v; want it unchanged", got, err)
		}
	})

	t.Run("a damaged body is an error, not a body", func(t *testing.T) {
		zstdFrame, err := os.ReadFile("testdata/fastest-level-invoice-created-shopee.zst")
		if err != nil {
			t.Fatal(err)
		}
		for name, packed := range map[string][]byte{"s2": c.pack(bodies["invoice-created-shopee"]), "zstd": zstdFrame} {
			damaged := append([]byte(nil), packed[:len(packed)/2]...)
			if got, err := c.unpack(damaged); err == nil {
				t.Errorf("unpack(half a %s body) = %.60q; want an error", name, got)
			}
		}
	})

	t.Run("a body that says it is larger than the bound is refused before it is decompressed", func(t *testing.T) {
		huge := binary.AppendUvarint([]byte{s2DictTag}, maxPayloadBytes+1)
		got, err := c.unpack(append(huge, 0))
		if err == nil || !strings.Contains(err.Error(), "more than") {
			t.Errorf("unpack(a %d-byte claim) = %d bytes, %v; want the bound's error", maxPayloadBytes+1, len(got), err)
		}
	})
}

// BenchmarkPack is the compression of an invoice for its record, from as
// many goroutines as CPUs, as intake does it.
func BenchmarkPack(b *testing.B) {
	c := newPayloadCodec()
	body, err := examples.Files.ReadFile("invoice-created-shopee.json")
	if err != nil {
		b.Fatal(err)
	}
	var n int
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n = len(c.pack(body))
		}
	})
	b.ReportMetric(float64(n), "packed-bytes")
}
