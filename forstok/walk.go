package forstok

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"time"
)

var (
	moneyType       = reflect.TypeFor[Money]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	timeType        = reflect.TypeFor[time.Time]()
)

// walker checks a generically decoded JSON value against the Go type it is
// meant to fill, the way encoding/json would, but records every mismatch
// with its JSON path instead of stopping at the first. It also notes which
// validated fields were absent or null, so "gt=0" on a missing id can be
// worded "required".
type walker struct {
	problems []FieldError
	bad      map[string]bool
	absent   map[string]bool
}

// walk returns v, or nil where v cannot fill t, so that the cleaned tree
// decodes without error.
func (w *walker) walk(path string, v any, t reflect.Type) any {
	if v == nil {
		return nil // null leaves the Go zero value, as encoding/json does
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == moneyType || t == rawMessageType:
		return v // Money keeps its own problems; raw JSON takes anything
	case reflect.PointerTo(t).Implements(unmarshalerType):
		raw, err := json.Marshal(v)
		if err == nil {
			err = reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw)
		}
		if err != nil {
			w.report(path, unmarshalProblem(t))
			return nil
		}
		return v
	}

	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return w.report(path, "must be an object")
		}
		w.walkObject(path, obj, t)
		return obj
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return w.report(path, "must be an array")
		}
		for i := range arr {
			arr[i] = w.walk(path+"["+strconv.Itoa(i)+"]", arr[i], t.Elem())
		}
		return arr
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return w.report(path, "must be an integer")
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return w.report(path, "is too large")
			}
			return w.report(path, "must be an integer")
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			return w.report(path, "must be a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return w.report(path, "must be true or false")
		}
	}
	return v
}

// walkObject matches keys to fields by their exact names: the strict check
// has refused keys that encoding/json would match in another case.
func (w *walker) walkObject(path string, obj map[string]any, t reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		name := jsonName(f)
		if !f.IsExported() || name == "" {
			continue
		}
		fieldPath := path + "." + name
		fv, present := obj[name]
		present = present && fv != nil
		if present {
			obj[name] = w.walk(fieldPath, fv, f.Type)
		}
		if !present && f.Tag.Get("validate") != "" {
			w.absent[fieldPath] = true
		}
	}
}

// report records a problem once per path and returns the nil that replaces
// the bad value.
func (w *walker) report(path, problem string) any {
	if w.bad == nil {
		w.bad = map[string]bool{}
	}
	if !w.bad[path] {
		w.bad[path] = true
		w.problems = append(w.problems, FieldError{Field: path, Problem: problem})
	}
	return nil
}

// covered reports whether a type problem was already recorded at path or at
// a value containing it, which then speaks for it. It looks up path and each
// of its parents (cut at '.' and '['), so it costs the path's length, not
// the number of problems.
func (w *walker) covered(path string) bool {
	if w.bad[path] {
		return true
	}
	for i := len(path) - 1; i > 0; i-- {
		if (path[i] == '.' || path[i] == '[') && w.bad[path[:i]] {
			return true
		}
	}
	return false
}

func unmarshalProblem(t reflect.Type) string {
	if t == timeType {
		return problemTime
	}
	return "is not valid"
}
