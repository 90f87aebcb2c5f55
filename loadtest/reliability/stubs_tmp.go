package main

import "context"

func runFaults(ctx context.Context, l *lab, res *result) error        { return nil }
func runSigkill(ctx context.Context, l *lab, res *result) error       { return nil }
func runRedisRestart(ctx context.Context, l *lab, res *result) error  { return nil }
func runPaymentsFirst(ctx context.Context, l *lab, res *result) error { return nil }
func runMappingFix(ctx context.Context, l *lab, res *result) error    { return nil }
func runAbuse(ctx context.Context, l *lab, res *result) error         { return nil }
