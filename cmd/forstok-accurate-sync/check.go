package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"forstok-accurate-sync/events"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/sellers"
	"forstok-accurate-sync/worker"
)

// checkFailed means the check ran and found problems (exit status 2).
type checkFailed struct{ problems int }

func (e *checkFailed) Error() string {
	return fmt.Sprintf("the configuration has %d problem(s); fix them and run check again", e.problems)
}

// check validates the configuration and prints every problem: MAPPING_FILE
// of a single-seller setup, or every seller of SELLERS_DIR (--seller for one).
// With --online it also asks each seller's Accurate whether what its
// mapping names exists.
func check(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := newFlags("check", stdout, `usage: forstok-accurate-sync check [--online] [--seller ID]

Checks the mapping file in MAPPING_FILE (or every seller of SELLERS_DIR) and
lists every problem with its line and YAML path (docs/mapping.md explains
every key). --online also asks Accurate (ACCURATE_API_TOKEN,
ACCURATE_SIGNATURE_SECRET, ACCURATE_HOST or ACCURATE_ACCOUNT_URL) whether
every customer, account, item, warehouse and branch the mapping names
exists, listed the same way; it keeps to Accurate's limit, shared through
Redis with the running service when REDIS_URL is set. Exits 0 when all is
well, 2 when there are problems, 1 when the check could not run.

`)
	online := fs.Bool("online", false, "also ask Accurate whether the accounts, customers, warehouses and items exist")
	only := fs.String("seller", "", "with SELLERS_DIR: check this seller only")
	if helped, err := parseFlags(fs, args, "check [--online] [--seller ID]"); helped || err != nil {
		return err
	}
	need := needCheck
	if *online {
		need = needCheckOnline
	}
	cfg, err := loadConfig(getenv, need)
	if err != nil {
		return err
	}
	if cfg.SellersDir != "" {
		return checkSellers(ctx, cfg, getenv, *only, *online, stdout)
	}
	if *only != "" && *only != sellers.DefaultID {
		return usageError("--seller %s: without SELLERS_DIR the only seller is %q", *only, sellers.DefaultID)
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
	limits, err := openLimits(ctx, cfg)
	if err != nil {
		return err
	}
	defer limits.close()
	acc := defaultAccurate(cfg)
	missing, err := checkOnline(ctx, acc, limits.limiter(events.LimiterPrefix(cfg.RedisNamespace), acc), settings)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		fmt.Fprintln(stdout, (&mapping.Problems{File: cfg.MappingFile, List: missing}).Error())
		return &checkFailed{problems: len(missing)}
	}
	fmt.Fprintln(stdout, allInAccurate)
	return nil
}

// checkSellers checks every file of SELLERS_DIR, or one seller's.
func checkSellers(ctx context.Context, cfg config, getenv func(string) string, only string, online bool, stdout io.Writer) error {
	reg, err := sellers.Open(sellers.Config{Dir: cfg.SellersDir, Getenv: getenv, Defaults: sellerDefaults(cfg)})
	if err != nil {
		return err
	}
	var limits *onlineLimits
	if online {
		if limits, err = openLimits(ctx, cfg); err != nil {
			return err
		}
		defer limits.close()
	}
	problems, seen := 0, false
	for _, st := range reg.Status() {
		if only != "" && st.ID != only {
			continue
		}
		seen = true
		if len(st.Problems) > 0 {
			fmt.Fprintf(stdout, "seller %s has %d problem(s):\n", st.ID, len(st.Problems))
			for _, p := range st.Problems {
				fmt.Fprintf(stdout, "  %s\n", p)
			}
			problems += len(st.Problems)
			continue
		}
		s, _ := reg.Get(st.ID)
		fmt.Fprintf(stdout, "seller %s (%s): valid, config version %s (%d stores, %d warehouses).\n",
			s.ID, s.Name, s.Version, len(s.Mapping.Stores), len(s.Mapping.Warehouses))
		if !online {
			continue
		}
		fmt.Fprintf(stdout, "seller %s in Accurate:\n", s.ID)
		missing, err := checkOnline(ctx, s.Accurate, limits.sellerLimiter(ctx, cfg.RedisNamespace, s), s.Mapping)
		if err != nil {
			fmt.Fprintf(stdout, "  seller %s: %v\n", s.ID, err)
			problems++
			continue
		}
		if len(missing) == 0 {
			fmt.Fprintln(stdout, allInAccurate)
		} else {
			fmt.Fprintln(stdout, (&mapping.Problems{File: "seller " + s.ID + "'s mapping", List: missing}).Error())
		}
		problems += len(missing)
	}
	switch {
	case only != "" && !seen:
		return fmt.Errorf("seller %s: no file %s.yaml in SELLERS_DIR %s", only, only, cfg.SellersDir)
	case !seen:
		fmt.Fprintf(stdout, "SELLERS_DIR %s holds no seller files (<seller>.yaml).\n", cfg.SellersDir)
	}
	if problems > 0 {
		return &checkFailed{problems: problems}
	}
	return nil
}

// sellerDefaults are the application's settings a seller file may leave out.
func sellerDefaults(cfg config) sellers.Defaults {
	return sellers.Defaults{
		SignatureSecret: cfg.AccurateSignature,
		AccountURL:      cfg.AccurateAccountURL,
		RateLimit:       cfg.AccurateRateLimit,
		MaxConcurrency:  cfg.AccurateConcurrency,
	}
}

// defaultAccurate is the Accurate database of the single-seller setup.
func defaultAccurate(cfg config) sellers.Accurate {
	return sellers.Accurate{
		APIToken:        cfg.AccurateAPIToken,
		SignatureSecret: cfg.AccurateSignature,
		AccountURL:      cfg.AccurateAccountURL,
		Host:            cfg.AccurateHost,
		RateLimit:       cfg.AccurateRateLimit,
		MaxConcurrency:  cfg.AccurateConcurrency,
		CredentialsFrom: worker.DefaultCredentials,
	}
}
