package forstok

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The strict check. encoding/json reads a key in any case ("SKU", even
// "ſku", fills sku), lets a repeated key's last value win silently, and
// turns invalid UTF-8 into U+FFFD. A payload is money: each of those could
// book something other than what the sender meant, so a body is scanned
// once, before any decode, against the shape of its event type, and
// refused (422, with the JSON path) when it has
//   - a key repeated in one object (anywhere in the body),
//   - a key that is not a field's exact name but matches one the way
//     encoding/json would (bytes.EqualFold),
//   - a string that is not valid UTF-8.
// Unknown keys are still ignored, as encoding/json ignores them.

// shape is what the strict check knows of a JSON value: the fields of an
// object decoded into a struct, the element of an array decoded into a
// slice. A nil shape is any value (a leaf, or raw JSON kept as sent): its
// objects are still checked for repeated keys and its strings for UTF-8.
type shape struct {
	fields map[string]*shape // exact JSON name → the value's shape
	names  []string          // the same names, for the case check
	elem   *shape
	max    int // the most elements of an array; 0 is no bound
}

// shapeOf builds the shape of the JSON that decodes into t.
func shapeOf(t reflect.Type) *shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == moneyType || t == rawMessageType || t == timeType:
		return nil
	case t.Kind() == reflect.Slice:
		if elem := shapeOf(t.Elem()); elem != nil {
			return &shape{elem: elem}
		}
		return nil
	case t.Kind() != reflect.Struct:
		return nil
	}
	s := &shape{fields: map[string]*shape{}}
	for i := range t.NumField() {
		f := t.Field(i)
		name := jsonName(f)
		if !f.IsExported() || name == "" {
			continue
		}
		child := shapeOf(f.Type)
		if n := tagMax(f); n > 0 && child != nil && child.elem != nil {
			bounded := *child
			bounded.max = n
			child = &bounded
		}
		s.fields[name] = child
		s.names = append(s.names, name)
	}
	return s
}

// tagMax is the max=N of a slice field's validate tag: the validator checks
// it after decoding, the strict check before, so that a body of a quarter of
// a million empty lines is refused without decoding them.
func tagMax(f reflect.StructField) int {
	if f.Type.Kind() != reflect.Slice {
		return 0
	}
	for _, rule := range strings.Split(f.Tag.Get("validate"), ",") {
		if v, ok := strings.CutPrefix(rule, "max="); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// envelopeShape is the shape of a whole webhook body whose data decodes
// into data.
func envelopeShape(data reflect.Type) *shape {
	return &shape{
		fields: map[string]*shape{"type": nil, "timestamp": nil, "data": shapeOf(data)},
		names:  []string{"type", "timestamp", "data"},
	}
}

// maxDepth bounds how deep the check follows nested values; no webhook comes
// near it, and it keeps a body of a million '[' from growing the stack.
const maxDepth = 64

// strictCheck scans body against s and returns its problems (at most
// maxListed, and how many more). It assumes nothing of body: on bytes that
// are not JSON it stops early, and the JSON syntax check speaks for them.
func strictCheck(body []byte, s *shape) (problems []FieldError, more int) {
	sc := strictScanner{body: body, utf8: !utf8.Valid(body)}
	sc.value(skipSpace(body, 0), s, 0)
	return sc.problems, sc.more
}

// passesStrictCheck is strictCheck for the fast path, which needs only a
// yes: it stops at the first problem, keeps no path, and leaves a repeated
// key to the fast decoder, which refuses one itself (an object's keys
// compared with each other were a third of the check's time).
func passesStrictCheck(body []byte, s *shape) bool {
	sc := strictScanner{body: body, utf8: !utf8.Valid(body), quick: true}
	sc.value(skipSpace(body, 0), s, 0)
	return sc.more == 0
}

type strictScanner struct {
	body     []byte
	utf8     bool      // the body holds invalid UTF-8: check each string
	quick    bool      // passesStrictCheck's scan: no path, no repeated keys
	path     []segment // where the scan is, rendered only for a problem
	problems []FieldError
	more     int
}

// segment is one step of a JSON path: an object's key or an array's index.
type segment struct {
	key   []byte
	index int
	isKey bool
}

// report records a problem at the current path.
func (sc *strictScanner) report(problem string) {
	if sc.quick || len(sc.problems) >= maxListed {
		sc.more++
		return
	}
	var b strings.Builder
	for _, s := range sc.path {
		if s.isKey {
			writeKey(&b, s.key)
		} else {
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		}
	}
	sc.problems = append(sc.problems, FieldError{Field: b.String(), Problem: problem})
}

// writeKey appends .key to a path, quoting a key that is not a plain name
// (or that is not valid UTF-8) so that the path stays readable and the
// answer stays valid JSON.
func writeKey(b *strings.Builder, key []byte) {
	if b.Len() > 0 {
		b.WriteByte('.')
	}
	plain := len(key) > 0 && len(key) <= 64
	for _, c := range key {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			plain = false
			break
		}
	}
	if plain {
		b.Write(key)
		return
	}
	b.WriteString(strconv.QuoteToASCII(clip(string(key))))
}

// value checks the JSON value at body[i] and returns the index after it, or
// -1 when the body is not JSON there.
func (sc *strictScanner) value(i int, s *shape, depth int) int {
	if i >= len(sc.body) {
		return -1
	}
	if depth > maxDepth {
		sc.report("is nested more than " + strconv.Itoa(maxDepth) + " levels deep")
		return -1
	}
	switch sc.body[i] {
	case '{':
		return sc.object(i+1, s, depth)
	case '[':
		var elem *shape
		max := 0
		if s != nil {
			elem, max = s.elem, s.max
		}
		return sc.array(i+1, elem, max, depth)
	case '"':
		content, _, next := scanString(sc.body, i)
		if next < 0 {
			return -1
		}
		if sc.utf8 && !utf8.Valid(content) {
			sc.report("is not valid UTF-8: send text as UTF-8")
		}
		return next
	}
	// A number, true, false or null: up to the next delimiter.
	for ; i < len(sc.body); i++ {
		switch sc.body[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}

func (sc *strictScanner) array(i int, elem *shape, max, depth int) int {
	if !sc.quick {
		sc.path = append(sc.path, segment{})
		defer func() { sc.path = sc.path[:len(sc.path)-1] }()
	}
	i = skipSpace(sc.body, i)
	if i < len(sc.body) && sc.body[i] == ']' {
		return i + 1
	}
	for n := 0; ; n++ {
		if max > 0 && n == max {
			if sc.quick {
				sc.report("")
				return -1
			}
			sc.path = sc.path[:len(sc.path)-1]
			sc.report("has more than " + strconv.Itoa(max) + " items, the most one event takes")
			sc.path = append(sc.path, segment{})
			return -1 // the rest is not read: it is refused whatever it holds
		}
		if !sc.quick {
			sc.path[len(sc.path)-1].index = n
		}
		if i = sc.value(skipSpace(sc.body, i), elem, depth+1); i < 0 {
			return -1
		}
		i = skipSpace(sc.body, i)
		if i >= len(sc.body) {
			return -1
		}
		switch sc.body[i] {
		case ',':
			i++
		case ']':
			return i + 1
		default:
			return -1
		}
	}
}

func (sc *strictScanner) object(i int, s *shape, depth int) int {
	var seen keySet
	if !sc.quick {
		sc.path = append(sc.path, segment{isKey: true})
		defer func() { sc.path = sc.path[:len(sc.path)-1] }()
	}
	i = skipSpace(sc.body, i)
	if i < len(sc.body) && sc.body[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(sc.body) || sc.body[i] != '"' {
			return -1
		}
		raw, escaped, next := scanString(sc.body, i)
		if next < 0 {
			return -1
		}
		key := raw
		if escaped {
			// encoding/json matches the unescaped key: so does the check.
			var k string
			if json.Unmarshal(sc.body[i:next], &k) != nil {
				return -1
			}
			key = []byte(k)
		}
		if !sc.quick {
			sc.path[len(sc.path)-1].key = key // the key's own problems are reported at it
		}
		switch {
		case sc.utf8 && !utf8.Valid(raw):
			sc.report("is a key that is not valid UTF-8: send text as UTF-8")
		case !sc.quick && !seen.add(key):
			sc.report("appears twice in one object: send each key once")
		}
		var child *shape
		if s != nil && s.fields != nil {
			var known bool
			child, known = s.fields[string(key)]
			if !known {
				if name := foldMatch(s.names, key); name != "" {
					sc.report("is not a field: field names are case-sensitive; write " + strconv.Quote(name))
				}
			}
		}

		i = skipSpace(sc.body, next)
		if i >= len(sc.body) || sc.body[i] != ':' {
			return -1
		}
		if i = sc.value(skipSpace(sc.body, i+1), child, depth+1); i < 0 {
			return -1
		}
		i = skipSpace(sc.body, i)
		if i >= len(sc.body) {
			return -1
		}
		switch sc.body[i] {
		case ',':
			i = skipSpace(sc.body, i+1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

// foldMatch is the field name encoding/json would fill from key although
// key is not written that way, or "".
func foldMatch(names []string, key []byte) string {
	for _, name := range names {
		if bytes.EqualFold(key, []byte(name)) {
			return name
		}
	}
	return ""
}

// keySet remembers the keys of one object: a short list compared in place
// (objects are small), kept in the set itself so that checking an object
// allocates nothing, and a map once it is long.
type keySet struct {
	n    int
	list [32][]byte
	set  map[string]struct{}
}

// add reports whether key was new.
func (k *keySet) add(key []byte) bool {
	if k.set != nil {
		if _, dup := k.set[string(key)]; dup {
			return false
		}
		k.set[string(key)] = struct{}{}
		return true
	}
	for _, seen := range k.list[:k.n] {
		if bytes.Equal(seen, key) {
			return false
		}
	}
	if k.n < len(k.list) {
		k.list[k.n] = key
		k.n++
		return true
	}
	k.set = make(map[string]struct{}, 2*len(k.list)+2)
	for _, seen := range k.list {
		k.set[string(seen)] = struct{}{}
	}
	k.set[string(key)] = struct{}{}
	return true
}
