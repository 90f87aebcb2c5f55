package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"forstok-accurate-sync/mapping"
)

// checkFailed means the check ran and found problems (exit status 2).
type checkFailed struct{ problems int }

func (e *checkFailed) Error() string {
	return fmt.Sprintf("the mapping has %d problem(s); fix them and run check again", e.problems)
}

// check validates MAPPING_FILE and prints every problem; with --online it
// also asks Accurate whether what the mapping names exists.
func check(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stdout)
	online := fs.Bool("online", false, "also ask Accurate whether the accounts, customers, warehouses and items exist")
	if err := fs.Parse(args); err != nil {
		return usageError("check [--online]: %v", err)
	}
	need := needCheck
	if *online {
		need = needCheckOnline
	}
	cfg, err := loadConfig(getenv, need)
	if err != nil {
		return err
	}
	settings, err := mapping.Load(cfg.MappingFile)
	var problems *mapping.Problems
	if errors.As(err, &problems) {
		fmt.Fprintln(stdout, problems.Error())
		return &checkFailed{problems: len(problems.List)}
	}
	if err != nil {
		return fmt.Errorf("MAPPING_FILE %s: %w", cfg.MappingFile, err)
	}
	fmt.Fprintf(stdout, "%s: the mapping is valid (%d stores, %d warehouses).\n", cfg.MappingFile, len(settings.Stores), len(settings.Warehouses))
	if !*online {
		return nil
	}
	missing, err := checkOnline(ctx, cfg, settings, stdout)
	if err != nil {
		return err
	}
	if missing > 0 {
		return &checkFailed{problems: missing}
	}
	return nil
}
