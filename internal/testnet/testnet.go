// Package testnet is the tests' one way to find a local TCP address where
// nothing listens: a port for a process to serve on, or one that refuses
// every dial.
package testnet

import (
	"net"
	"testing"
)

// FreeAddr is a 127.0.0.1 address whose port was free when asked for (the
// listener that found it is closed before it returns).
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("no free local port: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}
