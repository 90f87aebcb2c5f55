package examples

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestCopiesMatchTheContract(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "contract", "examples")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("the contract is not beside the repository (%v)", err)
	}
	for _, name := range append([]string{"mapping.yaml"}, Webhooks...) {
		t.Run(name+" is the contract's file", func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Files.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("examples/%s differs from the contract's copy; copy it again", name)
			}
		})
	}
}
