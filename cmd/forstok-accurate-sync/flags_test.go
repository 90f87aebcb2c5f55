package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	parse := func(args ...string) (string, bool, error) {
		var out bytes.Buffer
		fs := newFlags("try", &out, "usage: forstok-accurate-sync try [--n N]\n\n")
		fs.Int("n", 0, "how many")
		helped, err := parseFlags(fs, args, "try [--n N]")
		return out.String(), helped, err
	}
	t.Run("-h prints the usage and the flags, and is no error", func(t *testing.T) {
		out, helped, err := parse("-h")
		if !helped || err != nil || !strings.Contains(out, "usage: forstok-accurate-sync try") || !strings.Contains(out, "how many") {
			t.Errorf("helped %v, err %v, output %q", helped, err, out)
		}
	})
	t.Run("an unknown flag is a usage error quoting the synopsis", func(t *testing.T) {
		_, helped, err := parse("--m", "1")
		if helped || !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "try [--n N]") {
			t.Errorf("helped %v, err %v", helped, err)
		}
	})
	t.Run("an argument where only flags are taken is a usage error naming it", func(t *testing.T) {
		_, _, err := parse("--n", "1", "extra")
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), `"extra"`) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("flags alone parse", func(t *testing.T) {
		if _, helped, err := parse("--n", "2"); helped || err != nil {
			t.Errorf("helped %v, err %v", helped, err)
		}
	})
}
