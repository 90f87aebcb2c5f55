package events

import (
	"bytes"
	_ "embed"
	"fmt"
	"runtime"
	"strconv"

	"github.com/klauspost/compress/zstd"
)

// A record keeps its webhook body compressed with zstd and a dictionary of
// Forstok webhooks, when that is smaller: the field names and the shape of
// every body are in the dictionary, so a 1.8 kB invoice takes about 310
// bytes (680 with zstd alone). A body stored before compression (JSON) is
// read as it is: a zstd frame starts with its magic number, which no JSON
// text does.

// payloadDict is the dictionary of payloadDictID, frozen: the records
// compressed with it can only be read with it. A better dictionary comes
// with a new id, and this one stays registered with the decoder.
// It is sample webhooks of every type (from examples/).
//
//go:embed payload.dict
var payloadDict []byte

const payloadDictID = 1

// zstdMagic starts every zstd frame.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// maxPayloadBytes bounds what a stored body may decompress to, so a damaged
// record cannot make a reader allocate without bound: far above the
// webhook body limit of the edge.
const maxPayloadBytes = 64 << 20

// payloadCodec compresses and decompresses stored bodies; one is shared by
// every seller's store (zstd's EncodeAll and DecodeAll are safe for
// concurrent use).
type payloadCodec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

func newPayloadCodec() *payloadCodec {
	// The options are constants: an error here is a programming error.
	// The fastest level: before each body EncodeAll resets the encoder's
	// match table from the dictionary, and the default level's table is
	// 1.25 MB against the fastest's 256 kB; under intake's load that copy
	// was most of the compression's CPU (docs/performance.md). It keeps 314
	// bytes of an invoice instead of 269 (BenchmarkSyncedEvent has the
	// bytes per synced event). One encoder per CPU: with a single one,
	// concurrent webhooks queued for it.
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderDictRaw(payloadDictID, payloadDict),
		zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(false),
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithLowerEncoderMem(true))
	if err != nil {
		panic(fmt.Sprintf("zstd encoder: %v", err))
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderDictRaw(payloadDictID, payloadDict),
		zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxPayloadBytes))
	if err != nil {
		panic(fmt.Sprintf("zstd decoder: %v", err))
	}
	return &payloadCodec{enc: enc, dec: dec}
}

// pack is the form of body a record keeps: compressed when that is
// smaller, else the body itself.
func (c *payloadCodec) pack(body []byte) []byte {
	z := c.enc.EncodeAll(body, make([]byte, 0, len(body)/4))
	if len(z) >= len(body) {
		return body
	}
	return z
}

// unpack is the body a record keeps in packed (or kept before compression).
func (c *payloadCodec) unpack(packed []byte) ([]byte, error) {
	if !bytes.HasPrefix(packed, zstdMagic) {
		return packed, nil
	}
	body, err := c.dec.DecodeAll(packed, nil)
	if err != nil {
		return nil, fmt.Errorf("decompress the stored body: %w", err)
	}
	return body, nil
}

// Where the packed body sits in the record hash. A small one is cut into
// fields of at most payloadChunk bytes ("p:0", "p:1", ...) so that the whole
// record stays in Redis's compact listpack encoding (values of at most
// hash-max-listpack-value, 64 bytes by default): one long value would turn
// the hash into a table costing about 600 bytes more. A large one is one
// field, "payload", as records kept it before.
const (
	payloadChunk     = 64
	maxPayloadChunks = 32
	payloadField     = "payload"
)

// payloadFields are the field/value pairs of packed in a record.
func payloadFields(packed []byte) []any {
	if len(packed) > payloadChunk*maxPayloadChunks {
		return []any{payloadField, packed}
	}
	out := make([]any, 0, 2*(len(packed)/payloadChunk+1))
	for i := 0; i*payloadChunk < len(packed); i++ {
		out = append(out, chunkField(i), packed[i*payloadChunk:min(len(packed), (i+1)*payloadChunk)])
	}
	return out
}

// chunkFields are the names of the chunk fields, made once.
var chunkFields = func() (names [maxPayloadChunks]string) {
	for i := range names {
		names[i] = "p:" + strconv.Itoa(i)
	}
	return names
}()

func chunkField(i int) string {
	if i < maxPayloadChunks {
		return chunkFields[i]
	}
	return "p:" + strconv.Itoa(i)
}

// storedPayload is the packed body of a record's fields f.
func storedPayload(f map[string]string) []byte {
	if v, ok := f[payloadField]; ok {
		return []byte(v)
	}
	var b []byte
	for i := 0; ; i++ {
		v, ok := f[chunkField(i)]
		if !ok {
			return b
		}
		b = append(b, v...)
	}
}
