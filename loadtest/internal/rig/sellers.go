package rig

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
)

// SellersOptions say what WriteSellers puts in a SELLERS_DIR.
type SellersOptions struct {
	N       int
	Mapping []byte // the mapping every seller uses (examples/mapping.yaml)
	// InlineMapping writes the mapping into every seller file (mapping:);
	// otherwise every file names one shared file (mapping_file:).
	InlineMapping bool
	// OwnDatabases gives each seller an API token of its own, so that a
	// sandbox started with Databases serves each its own database;
	// otherwise every seller uses the credentials' token (one database).
	OwnDatabases bool
}

// Sellers is a SELLERS_DIR written for a run: N sellers, each with its own
// webhook secret (in the environment, as seller files name them).
type Sellers struct {
	Dir string
	IDs []string
	// Secrets and Tokens are each seller's webhook secret and API token.
	Secrets, Tokens map[string]string
	// Env is what the service needs: SELLERS_DIR and every variable the
	// files name.
	Env map[string]string
}

// Databases is the sandbox's -databases for sellers with OwnDatabases: one
// database per seller, named after it.
func (s *Sellers) Databases() map[string]string {
	return maps.Clone(s.Tokens)
}

// SellerID is the id of seller i of a run: s0001, s0002, ...
func SellerID(i int) string { return fmt.Sprintf("s%04d", i+1) }

// WriteSellers writes o.N seller files into dir/sellers. Every file has
// no host: the service finds each seller's Accurate by discovery
// (ACCURATE_ACCOUNT_URL), which names the database its token opens, so
// that the limit is that database's.
func WriteSellers(dir string, creds Credentials, o SellersOptions) (*Sellers, error) {
	s := &Sellers{Dir: filepath.Join(dir, "sellers"), Secrets: map[string]string{}, Tokens: map[string]string{},
		Env: map[string]string{}}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, err
	}
	s.Env["SELLERS_DIR"] = s.Dir
	mappingKey := "mapping_file: shared.mapping.yaml\n"
	if o.InlineMapping {
		mappingKey = "mapping:\n" + indent(o.Mapping)
	} else if err := os.WriteFile(filepath.Join(s.Dir, "shared.mapping.yaml"), o.Mapping, 0o600); err != nil {
		return nil, err
	}
	for i := range o.N {
		id := SellerID(i)
		v := "SELLER_" + strings.ToUpper(id)
		s.IDs = append(s.IDs, id)
		s.Secrets[id] = "whsec_" + base64.StdEncoding.EncodeToString(randomBytes(24))
		s.Tokens[id] = creds.APIToken
		if o.OwnDatabases {
			s.Tokens[id] = "aat.perf-" + id + "-" + hex.EncodeToString(randomBytes(6))
		}
		s.Env[v+"_WEBHOOK"], s.Env[v+"_TOKEN"] = s.Secrets[id], s.Tokens[id]
		file := fmt.Sprintf("name: Seller %s\nforstok:\n  webhook_secrets_env: %s_WEBHOOK\naccurate:\n  api_token_env: %s_TOKEN\n%s",
			id, v, v, mappingKey)
		if err := os.WriteFile(filepath.Join(s.Dir, id+".yaml"), []byte(file), 0o600); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// indent puts a YAML document two spaces in, under a key.
func indent(doc []byte) string {
	var b strings.Builder
	for _, line := range bytes.Split(bytes.TrimRight(doc, "\n"), []byte("\n")) {
		if len(bytes.TrimSpace(line)) > 0 {
			b.WriteString("  ")
			b.Write(line)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
