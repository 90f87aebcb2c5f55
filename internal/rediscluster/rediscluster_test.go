package rediscluster

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNodePort(t *testing.T) {
	t.Run("a node port is below 55535 with its bus port free too", func(t *testing.T) {
		p, err := NodePort(nil)
		if err != nil {
			t.Fatal(err)
		}
		if p >= 55535 || p < 1024 {
			t.Fatalf("port %d is outside 1024..55534", p)
		}
		for _, port := range []int{p, p + 10000} {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
			if err != nil {
				t.Fatalf("port %d is not free: %v", port, err)
			}
			_ = l.Close()
		}
	})
	t.Run("a port or bus port already taken by another node is never given", func(t *testing.T) {
		taken := []int{}
		for range 3 {
			p, err := NodePort(taken)
			if err != nil {
				t.Fatal(err)
			}
			if clashes(taken, p) {
				t.Fatalf("port %d clashes with %v", p, taken)
			}
			taken = append(taken, p)
		}
	})
	t.Run("clashes sees a port, a bus port and a port on another's bus", func(t *testing.T) {
		for _, c := range []struct {
			p    int
			want bool
		}{{7000, true}, {17000, true}, {7001, false}} {
			if got := clashes([]int{7000}, c.p); got != c.want {
				t.Errorf("clashes([7000], %d) = %v; want %v", c.p, got, c.want)
			}
		}
		if !clashes([]int{17000}, 7000) {
			t.Error("7000's bus port 17000 is taken, yet 7000 was allowed")
		}
	})
}

func TestWaitReady(t *testing.T) {
	t.Run("a node that does not answer is named when the time is up", func(t *testing.T) {
		p, err := NodePort(nil)
		if err != nil {
			t.Fatal(err)
		}
		addr := "127.0.0.1:" + strconv.Itoa(p)
		err = WaitReady(context.Background(), []string{addr}, 300*time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), addr) {
			t.Errorf("WaitReady on nothing listening = %v; want an error naming %s", err, addr)
		}
	})
}
