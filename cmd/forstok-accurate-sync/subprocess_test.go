package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var built struct {
	once sync.Once
	path string
	err  error
}

// binary builds the command once for the tests that run it as a
// subprocess, as a user or an orchestrator would.
func binary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "fas-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "forstok-accurate-sync")
		out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
		if err != nil {
			built.err = &buildError{out: string(out), err: err}
		}
	})
	if built.err != nil {
		t.Fatalf("build the command: %v", built.err)
	}
	return built.path
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }
