// Package mapping holds the seller's mapping file (the "Accurate Settings":
// which Accurate customer, bank, branch, warehouse, item and GL account each
// Forstok thing goes to) and the pure translation of Forstok invoices and
// payments into Accurate documents. It does no I/O except Load reading the
// file.
package mapping

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // a scratch container has no zoneinfo; the binary carries its own

	"go.yaml.in/yaml/v3"
)

// DefaultTimezone is the zone Forstok times are read in when the file names none.
const DefaultTimezone = "Asia/Jakarta"

// Settings is a checked mapping file. Build it with Parse or Load; a Settings
// built by hand is used as it is, without the file's checks.
type Settings struct {
	Timezone   string            `yaml:"timezone"`
	Tax        Tax               `yaml:"tax"`
	Stores     map[string]Store  `yaml:"stores"`     // key: Forstok store_id
	Warehouses map[string]string `yaml:"warehouses"` // Forstok warehouse_id → Accurate warehouse name
	Items      map[string]string `yaml:"items"`      // Forstok SKU → Accurate item no, where they differ
	Amounts    Amounts           `yaml:"amounts"`
	// AutoCreate says what the service may create in Accurate when a
	// faktur names it and Accurate lacks it; the zero value creates nothing.
	AutoCreate AutoCreate `yaml:"auto_create"`

	loc   *time.Location
	lines map[string]int // YAML path → line of its value, for References
}

// Tax is how PPN appears on faktur lines.
type Tax struct {
	Enabled   bool `yaml:"enabled"`
	Inclusive bool `yaml:"inclusive"`
}

// Store is where one Forstok store's documents go in Accurate.
type Store struct {
	Name       string `yaml:"name"`        // for messages only
	CustomerNo string `yaml:"customer_no"` // Accurate customer no
	BankNo     string `yaml:"bank_no"`     // Accurate Cash & Bank account no for payouts
	Branch     string `yaml:"branch"`      // Accurate branch name, optional
}

// Amounts maps each kind of detail amount to an Accurate GL account no; an
// empty field is an unmapped kind.
type Amounts struct {
	ShippingFee        string `yaml:"shipping_fee"`
	PlatformRebate     string `yaml:"platform_rebate"`
	VoucherSeller      string `yaml:"voucher_seller"`
	ServiceFee         string `yaml:"service_fee"`
	FulfillmentFee     string `yaml:"fulfillment_fee"`
	ShippingDifference string `yaml:"shipping_difference"`
	PaymentDifference  string `yaml:"payment_difference"`
}

// Location is the time zone Forstok times are turned into dates in.
func (s *Settings) Location() *time.Location {
	if s.loc != nil {
		return s.loc
	}
	// Hand-built settings: resolve the name now, and fall back to the
	// default rather than dating documents in UTC.
	if s.Timezone != "" {
		if loc, err := time.LoadLocation(s.Timezone); err == nil {
			return loc
		}
	}
	loc, err := time.LoadLocation(DefaultTimezone)
	if err != nil { // cannot happen: tzdata is embedded
		return time.FixedZone("WIB", 7*60*60)
	}
	return loc
}

// Problem is one thing wrong in a mapping file.
type Problem struct {
	Path    string // YAML path, e.g. stores."1011".bank_no; empty for the whole file
	Line    int    // 1-based line in the file; 0 when unknown
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found in a mapping file, reported together so
// that the seller fixes them in one go.
type Problems struct {
	File string
	List []Problem
}

func (e *Problems) Error() string {
	var b strings.Builder
	name := e.File
	if name == "" {
		name = "the mapping file"
	}
	noun := "problems"
	if len(e.List) == 1 {
		noun = "problem"
	}
	fmt.Fprintf(&b, "%s has %d %s:", name, len(e.List), noun)
	for _, p := range e.List {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// SortByLine puts the problems in file order, as a compiler lists them.
func (e *Problems) SortByLine() {
	slices.SortStableFunc(e.List, func(a, b Problem) int { return a.Line - b.Line })
}

// Load reads and checks the mapping file at path. A file that is read but
// invalid gives a *Problems naming the file.
func Load(path string) (*Settings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the mapping file: %w", err)
	}
	s, err := Parse(data)
	var problems *Problems
	if errors.As(err, &problems) {
		problems.File = path
	}
	return s, err
}

// Parse checks a whole mapping file and returns its settings, or a *Problems
// listing every problem in it with its YAML path and line.
func Parse(data []byte) (*Settings, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Problems{List: []Problem{{Message: err.Error()}}}
	}
	c := &checker{}
	s := c.file(&doc)
	if len(c.problems) > 0 {
		p := &Problems{List: c.problems}
		p.SortByLine()
		return nil, p
	}
	return s, nil
}

// checker walks the YAML tree itself, rather than decoding into structs, so
// that duplicate keys, unknown keys and line numbers are all seen and every
// problem is reported, not only the first.
type checker struct {
	problems []Problem
	lines    map[string]int // YAML path → line of every value read
}

func (c *checker) add(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	c.problems = append(c.problems, Problem{Path: path, Line: line, Message: fmt.Sprintf(format, args...)})
}

// entry is one key of a YAML map, its first occurrence only.
type entry struct {
	key       string
	keyNode   *yaml.Node
	valueNode *yaml.Node
}

func child(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// dataChild is the path of a key the seller chose (a store id, a SKU), quoted
// so that stores."1011" reads as a key and not a number.
func dataChild(parent, key string) string { return parent + "." + strconv.Quote(key) }

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// entries lists the keys of a map node, reporting duplicates and keys that
// are not plain values. It reports a node that is not a map and returns nil.
func (c *checker) entries(n *yaml.Node, path string) []entry {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		if isNull(n) {
			return nil
		}
		c.add(n, path, "must be a map of keys, not %s", kindName(n))
		return nil
	}
	seen := map[string]int{}
	var out []entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			c.add(k, path, "a key must be a plain value, not %s", kindName(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			c.add(k, c.keyPath(path, k.Value), "duplicate key (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, entry{key: k.Value, keyNode: k, valueNode: v})
	}
	return out
}

// keyPath is the path of a key of the map at path: the seller's own keys
// are quoted, the file's fixed keys are not.
func (c *checker) keyPath(path, key string) string {
	switch path {
	case "stores", "warehouses", "items":
		return dataChild(path, key)
	}
	return child(path, key)
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "empty"
		}
		return strconv.Quote(n.Value)
	}
	return "empty"
}

// text reads a required single value; unquoted numbers are taken as written
// (110201 is the string "110201").
func (c *checker) text(n *yaml.Node, path string) string {
	n = resolve(n)
	if c.lines == nil {
		c.lines = map[string]int{}
	}
	c.lines[path] = n.Line
	switch {
	case n.Kind != yaml.ScalarNode:
		c.add(n, path, "must be a single value, not %s", kindName(n))
		return ""
	case isNull(n) || strings.TrimSpace(n.Value) == "":
		c.add(n, path, "is empty")
		return ""
	}
	return strings.TrimSpace(n.Value)
}

func (c *checker) boolean(n *yaml.Node, path string) bool {
	n = resolve(n)
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		c.add(n, path, "must be true or false, not %s", kindName(n))
	}
	return b
}

func (c *checker) unknown(e entry, path string, known []string) {
	c.add(e.keyNode, c.keyPath(path, e.key), "unknown key (known keys: %s)", strings.Join(known, ", "))
}

var (
	topKeys    = []string{"timezone", "tax", "stores", "warehouses", "items", "amounts", "auto_create"}
	taxKeys    = []string{"enabled", "inclusive"}
	storeKeys  = []string{"name", "customer_no", "bank_no", "branch"}
	amountKeys = []string{"shipping_fee", "platform_rebate", "voucher_seller", "service_fee", "fulfillment_fee", "shipping_difference", "payment_difference"}
)

func (c *checker) file(doc *yaml.Node) *Settings {
	s := &Settings{
		Timezone:   DefaultTimezone,
		Stores:     map[string]Store{},
		Warehouses: map[string]string{},
		Items:      map[string]string{},
	}
	var root *yaml.Node
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	if root == nil || isNull(root) {
		c.add(nil, "stores", "missing: the file is empty, and it needs at least one store")
		return s
	}
	hasStores := false
	for _, e := range c.entries(root, "") {
		switch e.key {
		case "timezone":
			s.Timezone = c.text(e.valueNode, "timezone")
			c.timezone(s, e.valueNode)
		case "tax":
			c.tax(s, e.valueNode)
		case "stores":
			hasStores = true
			c.stores(s, e.valueNode)
		case "warehouses":
			c.namedMap(s.Warehouses, e.valueNode, "warehouses", c.positiveID("warehouse_id"))
		case "items":
			c.namedMap(s.Items, e.valueNode, "items", nil)
		case "amounts":
			c.amounts(s, e.valueNode)
		case "auto_create":
			c.autoCreate(s, e.valueNode)
		default:
			c.unknown(e, "", topKeys)
		}
	}
	if !hasStores {
		c.add(root, "stores", "missing: list at least one Forstok store_id with its customer_no and bank_no")
	}
	s.lines = c.lines
	if s.loc == nil && s.Timezone == DefaultTimezone {
		s.loc, _ = time.LoadLocation(DefaultTimezone) // embedded tzdata: cannot fail
	}
	return s
}

func (c *checker) timezone(s *Settings, n *yaml.Node) {
	switch s.Timezone {
	case "":
		return // already reported as empty
	case "Local":
		// The host's zone differs between a laptop and a container.
		c.add(n, "timezone", `"Local" depends on the host: name the zone, such as Asia/Jakarta`)
		return
	}
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		c.add(n, "timezone", "unknown time zone %q: use an IANA name such as Asia/Jakarta", s.Timezone)
		return
	}
	s.loc = loc
}

func (c *checker) tax(s *Settings, n *yaml.Node) {
	for _, e := range c.entries(n, "tax") {
		switch e.key {
		case "enabled":
			s.Tax.Enabled = c.boolean(e.valueNode, "tax.enabled")
		case "inclusive":
			s.Tax.Inclusive = c.boolean(e.valueNode, "tax.inclusive")
		default:
			c.unknown(e, "tax", taxKeys)
		}
	}
}

// positiveID checks a key that must be a Forstok id, written as Forstok
// writes it so that lookups by id find it ("078" never would).
func (c *checker) positiveID(what string) func(e entry, path string) bool {
	return func(e entry, path string) bool {
		id, err := strconv.ParseInt(e.key, 10, 64)
		if err != nil || id <= 0 || strconv.FormatInt(id, 10) != e.key {
			c.add(e.keyNode, path, "the key must be a Forstok %s, a positive integer such as \"78\"", what)
			return false
		}
		return true
	}
}

func (c *checker) stores(s *Settings, n *yaml.Node) {
	if r := resolve(n); isNull(r) || (r.Kind == yaml.MappingNode && len(r.Content) == 0) {
		c.add(n, "stores", "needs at least one store")
	}
	entries := c.entries(n, "stores")
	validKey := c.positiveID("store_id")
	for _, e := range entries {
		path := dataChild("stores", e.key)
		ok := validKey(e, path)
		st := c.store(e.valueNode, path)
		if ok {
			s.Stores[e.key] = st
		}
	}
}

func (c *checker) store(n *yaml.Node, path string) Store {
	var st Store
	has := map[string]bool{}
	for _, e := range c.entries(n, path) {
		p := child(path, e.key)
		has[e.key] = true
		switch e.key {
		case "name":
			st.Name = c.text(e.valueNode, p)
		case "customer_no":
			st.CustomerNo = c.text(e.valueNode, p)
		case "bank_no":
			st.BankNo = c.text(e.valueNode, p)
		case "branch":
			st.Branch = c.text(e.valueNode, p)
		default:
			c.unknown(e, path, storeKeys)
		}
	}
	if !has["customer_no"] {
		c.add(n, child(path, "customer_no"), "missing: the Accurate customer no of the store's buyers")
	}
	if !has["bank_no"] {
		c.add(n, child(path, "bank_no"), "missing: the Accurate Cash & Bank account no the store's payouts arrive in")
	}
	return st
}

// namedMap reads a map of the seller's keys to non-empty names.
func (c *checker) namedMap(into map[string]string, n *yaml.Node, path string, validKey func(entry, string) bool) {
	for _, e := range c.entries(n, path) {
		p := dataChild(path, e.key)
		ok := true
		if strings.TrimSpace(e.key) == "" || isNull(e.keyNode) {
			c.add(e.keyNode, p, "the key is empty")
			ok = false
		} else if validKey != nil {
			ok = validKey(e, p)
		}
		v := c.text(e.valueNode, p)
		if ok {
			into[e.key] = v
		}
	}
}

func (c *checker) amounts(s *Settings, n *yaml.Node) {
	fields := map[string]*string{
		"shipping_fee":        &s.Amounts.ShippingFee,
		"platform_rebate":     &s.Amounts.PlatformRebate,
		"voucher_seller":      &s.Amounts.VoucherSeller,
		"service_fee":         &s.Amounts.ServiceFee,
		"fulfillment_fee":     &s.Amounts.FulfillmentFee,
		"shipping_difference": &s.Amounts.ShippingDifference,
		"payment_difference":  &s.Amounts.PaymentDifference,
	}
	for _, e := range c.entries(n, "amounts") {
		field, ok := fields[e.key]
		if !ok {
			c.unknown(e, "amounts", amountKeys)
			continue
		}
		*field = c.text(e.valueNode, child("amounts", e.key))
	}
}

// Reference is one thing in Accurate that the mapping names, with where.
type Reference struct {
	Path  string // YAML path, e.g. stores."1009".customer_no
	Line  int    // 1-based line of the value in the file; 0 for hand-built settings
	Value string // what Accurate must know, e.g. C-SHOPEE
}

// References is everything the mapping expects Accurate to have, by kind, so
// that `check --online` can ask for each; every list is in a stable order.
type References struct {
	Customers  []Reference // customer no (none when auto_create.customers creates them)
	Banks      []Reference // Cash & Bank GL account no
	Branches   []Reference // branch name
	Warehouses []Reference // warehouse name
	Items      []Reference // item no listed under items (other item nos are the SKUs themselves)
	Accounts   []Reference // GL account no under amounts and auto_create.items
}

// References lists every customer, bank account, branch, warehouse, item and
// GL account the mapping names.
func (s *Settings) References() References {
	var r References
	appendRef := func(refs []Reference, path, value string) []Reference {
		if value == "" {
			return refs
		}
		return append(refs, Reference{Path: path, Line: s.lines[path], Value: value})
	}
	for _, id := range sortedIDs(s.Stores) {
		st := s.Stores[id]
		path := dataChild("stores", id)
		if !s.AutoCreate.Customers { // otherwise a missing one is created when a faktur needs it
			r.Customers = appendRef(r.Customers, child(path, "customer_no"), st.CustomerNo)
		}
		r.Banks = appendRef(r.Banks, child(path, "bank_no"), st.BankNo)
		r.Branches = appendRef(r.Branches, child(path, "branch"), st.Branch)
	}
	for _, id := range sortedIDs(s.Warehouses) {
		r.Warehouses = appendRef(r.Warehouses, dataChild("warehouses", id), s.Warehouses[id])
	}
	skus := make([]string, 0, len(s.Items))
	for sku := range s.Items {
		skus = append(skus, sku)
	}
	slices.Sort(skus)
	for _, sku := range skus {
		r.Items = appendRef(r.Items, dataChild("items", sku), s.Items[sku])
	}
	a := s.Amounts
	for _, f := range []struct{ key, no string }{
		{"shipping_fee", a.ShippingFee},
		{"platform_rebate", a.PlatformRebate},
		{"voucher_seller", a.VoucherSeller},
		{"service_fee", a.ServiceFee},
		{"fulfillment_fee", a.FulfillmentFee},
		{"shipping_difference", a.ShippingDifference},
		{"payment_difference", a.PaymentDifference},
	} {
		r.Accounts = appendRef(r.Accounts, child("amounts", f.key), f.no)
	}
	if it := s.AutoCreate.Items; it != nil {
		for _, f := range []struct{ key, no string }{
			{"sales_account", it.SalesAccount},
			{"inventory_account", it.InventoryAccount},
			{"cogs_account", it.CogsAccount},
		} {
			r.Accounts = appendRef(r.Accounts, child("auto_create.items", f.key), f.no)
		}
	}
	return r
}

// sortedIDs orders id keys as numbers (9 before 10); Parse has checked
// that they are canonical positive integers.
func sortedIDs[V any](m map[string]V) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	return ids
}
