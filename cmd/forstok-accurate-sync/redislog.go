package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// redisLogger carries go-redis's own lines (a pool that cannot dial, a
// Sentinel that fails over) into zap, so that every line the service writes
// is JSON.
type redisLogger struct{ log *zap.Logger }

func (l redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.log.Warn(strings.TrimSpace(fmt.Sprintf(format, v...)))
}

// routeRedisLogs points go-redis's logger at log. go-redis keeps one logger
// for the whole process, so serve sets it once, at start.
func routeRedisLogs(log *zap.Logger) {
	redis.SetLogger(redisLogger{log: log.Named("redis")})
}
