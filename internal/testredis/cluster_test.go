package testredis_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"forstok-accurate-sync/internal/testredis"
)

func TestCluster(t *testing.T) {
	c := testredis.NewCluster(t)
	rdb := c.Client(t)
	ctx := context.Background()

	// ForEachMaster calls its function on every master at once.
	var mu sync.Mutex
	t.Run("three masters serve every slot", func(t *testing.T) {
		masters := 0
		if err := rdb.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			masters++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if masters != 3 {
			t.Fatalf("masters = %d; want 3", masters)
		}
	})

	t.Run("keys of different hash tags land on every master, and the test's namespace is its own", func(t *testing.T) {
		for i := range 60 {
			if err := rdb.Set(ctx, fmt.Sprintf("{%s:%d}:k", c.Namespace, i), i, 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
		var perMaster []int64
		if err := rdb.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			keys, _, err := n.Scan(ctx, 0, "{"+c.Namespace+":*", 1000).Result()
			mu.Lock()
			defer mu.Unlock()
			perMaster = append(perMaster, int64(len(keys)))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, n := range perMaster {
			if n == 0 {
				t.Fatalf("keys per master = %v; want some on each", perMaster)
			}
		}
	})
}
