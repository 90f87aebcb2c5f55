package main

import (
	"context"
	"fmt"
	"io"

	"go.uber.org/zap"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/queue"
)

// migrate moves a namespace from before shards to REDIS_SHARDS shards and
// exits; serve does the same at start, so the command is for an operator
// who wants the move done (and timed) before the new release starts.
func migrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 0 {
		return usageError("migrate takes no arguments")
	}
	cfg, err := loadConfig(getenv, needMigrate)
	if err != nil {
		return err
	}
	rdb, err := newRedis(cfg)
	if err != nil {
		return err
	}
	defer rdb.Close()
	log := newLogger(cfg.LogLevel, stdout)
	defer func() { _ = log.Sync() }()
	m, err := events.Migrate(ctx, rdb, queue.NewLayout(cfg.RedisNamespace, cfg.RedisShards), log.Named("events"))
	if err != nil {
		return fmt.Errorf("migrate namespace %s: %w", cfg.RedisNamespace, err)
	}
	log.Info("namespace laid out in shards", zap.String("namespace", cfg.RedisNamespace), zap.Int("shards", m.To),
		zap.Int("from_shards", m.From), zap.Int("keys_moved", m.Keys), zap.Int("tasks_moved", m.Tasks), zap.Duration("took", m.Took))
	return nil
}
