package syncbuf_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"forstok-accurate-sync/internal/syncbuf"
)

func TestBuffer(t *testing.T) {
	t.Run("writes from many goroutines all arrive", func(t *testing.T) {
		var b syncbuf.Buffer
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Go(func() { fmt.Fprintf(&b, "line %d\n", i) })
		}
		wg.Wait()
		if got := strings.Count(b.String(), "\n"); got != 50 {
			t.Errorf("%d lines; want 50", got)
		}
	})
	t.Run("the tail is the last bytes, or all when fewer", func(t *testing.T) {
		var b syncbuf.Buffer
		b.Write([]byte("abcdef"))
		if got := b.Tail(3); got != "def" {
			t.Errorf("Tail(3) = %q; want def", got)
		}
		if got := b.Tail(100); got != "abcdef" {
			t.Errorf("Tail(100) = %q; want abcdef", got)
		}
	})
}
