package testnet

import (
	"net"
	"testing"
	"time"
)

func TestFreeAddrIsALocalPortNobodyListensOn(t *testing.T) {
	addr := FreeAddr(t)
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("FreeAddr = %q; want a 127.0.0.1 address", addr)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("something answered on %s", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the address is not free to listen on: %v", err)
	}
	l.Close()
}
