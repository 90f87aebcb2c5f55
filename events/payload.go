package events

import (
	"bytes"
	_ "embed"
	"fmt"
	"strconv"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// A record keeps its webhook body compressed with S2 (the Snappy-like block
// format of klauspost/compress) and a dictionary of Forstok webhooks, when
// that is smaller: the field names and the shape of every body are in the
// dictionary, so a 1.8 kB invoice takes 386 bytes. S2 packs it in a fifth
// of the CPU zstd's fastest level took, or less (zstd reset a 256 kB match
// table from the dictionary before every body), for 72 bytes more
// (docs/performance.md). A packed body starts with s2DictTag; a body
// packed before, with zstd and the same dictionary, starts with zstd's
// magic number and still reads, and one stored before compression (JSON)
// is read as it is: no JSON text starts with either.

// payloadDict is the dictionary of payloadDictID, frozen: the records
// compressed with it can only be read with it. A better dictionary comes
// with a new id (and a new tag), and this one stays registered with the
// decoders.
// It is sample webhooks of every type (from examples/).
//
//go:embed payload.dict
var payloadDict []byte

const payloadDictID = 1

// zstdMagic starts every zstd frame (bodies packed before S2).
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// s2DictTag starts a body packed with S2 and payloadDict: 0xff is never a
// byte of UTF-8 text, so no JSON body starts with it.
const s2DictTag = 0xff

// maxPayloadBytes bounds what a stored body may decompress to, so a damaged
// record cannot make a reader allocate without bound: far above the
// webhook body limit of the edge.
const maxPayloadBytes = 64 << 20

// payloadCodec compresses and decompresses stored bodies; one is shared by
// every seller's store, and safe for concurrent use.
type payloadCodec struct {
	dict    *s2.Dict
	zdec    *zstd.Decoder // for bodies packed before S2
	scratch sync.Pool     // *[]byte S2 encodes into
}

// maxPooledPack bounds the scratch buffers kept for reuse: a rare huge body
// does not pin its buffer.
const maxPooledPack = 64 << 10

func newPayloadCodec() *payloadCodec {
	// The dictionary and options are constants: an error here is a
	// programming error. The S2 dictionary's first repeat offset is where
	// a webhook's body starts in it.
	dict := s2.MakeDict(payloadDict, []byte(`{"type":`))
	if dict == nil {
		panic("s2 dictionary: invalid")
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderDictRaw(payloadDictID, payloadDict),
		zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxPayloadBytes))
	if err != nil {
		panic(fmt.Sprintf("zstd decoder: %v", err))
	}
	return &payloadCodec{dict: dict, zdec: dec}
}

// pack is the form of body a record keeps: compressed when that is
// smaller, else the body itself, unless the body starts as a packed one
// would (no webhook does), which is kept compressed so that it reads back
// as itself.
func (c *payloadCodec) pack(body []byte) []byte {
	// S2 wants room for its worst case (more than the body): it is
	// written in a pooled buffer and copied out at its size, so that each
	// webhook allocates only what its record keeps.
	need := 1 + s2.MaxEncodedLen(len(body))
	bp, _ := c.scratch.Get().(*[]byte)
	if bp == nil || cap(*bp) < need {
		b := make([]byte, need)
		bp = &b
	}
	buf := (*bp)[:need]
	buf[0] = s2DictTag
	z := buf[:1+len(c.dict.Encode(buf[1:], body))]
	out := body
	if len(z) < len(body) || looksPacked(body) {
		out = append(make([]byte, 0, len(z)), z...)
	}
	if need <= maxPooledPack {
		c.scratch.Put(bp)
	}
	return out
}

// looksPacked tells whether b starts as a packed body does.
func looksPacked(b []byte) bool {
	return bytes.HasPrefix(b, zstdMagic) || len(b) > 0 && b[0] == s2DictTag
}

// unpack is the body a record keeps in packed (or kept before compression).
func (c *payloadCodec) unpack(packed []byte) ([]byte, error) {
	switch {
	case len(packed) > 0 && packed[0] == s2DictTag:
		block := packed[1:]
		n, err := s2.DecodedLen(block)
		if err != nil {
			return nil, fmt.Errorf("decompress the stored body: %w", err)
		}
		if n > maxPayloadBytes {
			return nil, fmt.Errorf("decompress the stored body: %d bytes, more than %d", n, maxPayloadBytes)
		}
		body, err := c.dict.Decode(nil, block)
		if err != nil {
			return nil, fmt.Errorf("decompress the stored body: %w", err)
		}
		return body, nil
	case bytes.HasPrefix(packed, zstdMagic):
		body, err := c.zdec.DecodeAll(packed, nil)
		if err != nil {
			return nil, fmt.Errorf("decompress the stored body: %w", err)
		}
		return body, nil
	}
	return packed, nil
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
