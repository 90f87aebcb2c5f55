package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/mapping"
	"forstok-accurate-sync/sellers"
)

// checkOnline asks Accurate for its customers, GL accounts, items,
// warehouses and branches and prints every mapping entry it does not have.
// It returns how many are missing.
func checkOnline(ctx context.Context, acc sellers.Accurate, settings *mapping.Settings, stdout io.Writer) (int, error) {
	client, err := accurate.New(accurate.Config{
		AccountURL:      acc.AccountURL,
		Host:            acc.Host,
		APIToken:        acc.APIToken,
		SignatureSecret: acc.SignatureSecret,
	})
	if err != nil {
		return 0, fmt.Errorf("accurate client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	refs := settings.References()
	checks := []struct {
		what  string
		kind  accurate.ListKind
		byNo  bool
		refs  []mapping.Reference
		fixIt string
	}{
		{"customer", accurate.ListCustomers, true, refs.Customers, "create the customer in Accurate or correct the customer no"},
		{"bank account", accurate.ListGLAccounts, true, refs.Banks, "use the no of a Cash & Bank account"},
		{"GL account", accurate.ListGLAccounts, true, refs.Accounts, "create the account in Accurate or correct the account no"},
		{"item", accurate.ListItems, true, refs.Items, "create the item in Accurate or correct the item no"},
		{"warehouse", accurate.ListWarehouses, false, refs.Warehouses, "use the warehouse name exactly as Accurate shows it"},
		{"branch", accurate.ListBranches, false, refs.Branches, "use the branch name exactly as Accurate shows it"},
	}
	lists := map[accurate.ListKind][]accurate.Entity{}
	missing := 0
	for _, c := range checks {
		if len(c.refs) == 0 {
			continue
		}
		entities, ok := lists[c.kind]
		if !ok {
			if entities, err = client.List(ctx, c.kind); err != nil {
				return missing, fmt.Errorf("asking Accurate for its %s list: %w", c.kind, err)
			}
			lists[c.kind] = entities
		}
		known := map[string]bool{}
		for _, e := range entities {
			if c.byNo {
				known[e.No] = true
			} else {
				known[e.Name] = true
			}
		}
		for _, r := range c.refs {
			if !known[r.Value] {
				missing++
				fmt.Fprintf(stdout, "%s: %s %q is not in Accurate: %s\n", r.Path, c.what, r.Value, c.fixIt)
			}
		}
	}
	if missing == 0 {
		fmt.Fprintln(stdout, "Accurate has every customer, account, item, warehouse and branch the mapping names.")
	}
	return missing, nil
}
