package main

import "context"

func runSigkill(ctx context.Context, l *lab, res *result) error      { return nil }
func runRedisRestart(ctx context.Context, l *lab, res *result) error { return nil }
func runAbuse(ctx context.Context, l *lab, res *result) error        { return nil }
