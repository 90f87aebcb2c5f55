package mapping

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/money"
)

// AutoCreate is the mapping's auto_create: whether the service creates the
// items and customers a faktur names when Accurate lacks them, rather than
// failing the event. Absent means never.
type AutoCreate struct {
	Items     *NewItems `yaml:"items"`     // nil: a missing item fails the event
	Customers bool      `yaml:"customers"` // create a store's missing customer_no
}

// NewItems is how a created item is set up in Accurate.
type NewItems struct {
	ItemType         string `yaml:"item_type"` // INVENTORY, NON_INVENTORY or SERVICE
	Unit             string `yaml:"unit"`      // unit1Name, e.g. PCS
	SalesAccount     string `yaml:"sales_account"`
	InventoryAccount string `yaml:"inventory_account"`
	CogsAccount      string `yaml:"cogs_account"`
}

// ItemTypes are the item types auto_create.items.item_type takes: the kinds
// of item/save.do that a marketplace sells (GROUP and PRODUCTION_COST are
// not things one ships).
var ItemTypes = []string{"INVENTORY", "NON_INVENTORY", "SERVICE"}

var (
	autoCreateKeys = []string{"items", "customers"}
	newItemKeys    = []string{"item_type", "unit", "sales_account", "inventory_account", "cogs_account"}
)

func (c *checker) autoCreate(s *Settings, n *yaml.Node) {
	for _, e := range c.entries(n, "auto_create") {
		path := child("auto_create", e.key)
		switch e.key {
		case "items":
			s.AutoCreate.Items = c.newItems(e.valueNode, path)
		case "customers":
			s.AutoCreate.Customers = c.boolean(e.valueNode, path)
		default:
			c.unknown(e, "auto_create", autoCreateKeys)
		}
	}
}

func (c *checker) newItems(n *yaml.Node, path string) *NewItems {
	if r := resolve(n); r.Kind != yaml.MappingNode {
		c.add(n, path, "must be a map with item_type and unit (and optionally sales_account, inventory_account, cogs_account), not %s; "+
			"remove auto_create.items to never create items", kindName(r))
		return nil
	}
	it := &NewItems{}
	fields := map[string]*string{
		"item_type":         &it.ItemType,
		"unit":              &it.Unit,
		"sales_account":     &it.SalesAccount,
		"inventory_account": &it.InventoryAccount,
		"cogs_account":      &it.CogsAccount,
	}
	has := map[string]bool{}
	for _, e := range c.entries(n, path) {
		field, ok := fields[e.key]
		if !ok {
			c.unknown(e, path, newItemKeys)
			continue
		}
		has[e.key] = true
		*field = c.text(e.valueNode, child(path, e.key))
	}
	if it.ItemType != "" && !slices.Contains(ItemTypes, it.ItemType) {
		c.add(n, child(path, "item_type"), "unknown item type %q: use %s", it.ItemType, strings.Join(ItemTypes, ", "))
	}
	if !has["item_type"] {
		c.add(n, child(path, "item_type"), "missing: the Accurate item type of the items created, %s", strings.Join(ItemTypes, ", "))
	}
	if !has["unit"] {
		c.add(n, child(path, "unit"), "missing: the unit of the items created, as Accurate names it (such as PCS)")
	}
	return it
}

// ItemsOf is every item the faktur of inv names, once each in the order
// they first appear, as auto_create.items would create it: no = the mapped
// item no, name = the Forstok line's name and variant (a bundle component's
// own name) cut to what Accurate takes, unit price = the line's price (a
// component's item_price). Without auto_create.items the type, unit and
// accounts are empty.
func (s *Settings) ItemsOf(inv *forstok.Invoice) []accurate.Item {
	if inv == nil || inv.Order == nil {
		return nil
	}
	var setup NewItems
	if s.AutoCreate.Items != nil {
		setup = *s.AutoCreate.Items
	}
	var items []accurate.Item
	seen := map[string]bool{}
	add := func(sku, name string, price money.Amount) {
		no := s.itemNo(sku)
		if seen[no] {
			return
		}
		seen[no] = true
		if name = cut(name, accurate.ItemNameMax); name == "" {
			name = cut(no, accurate.ItemNameMax) // Accurate needs a name
		}
		items = append(items, accurate.Item{
			No: no, Name: name, ItemType: setup.ItemType, Unit1Name: setup.Unit, UnitPrice: max(price, 0),
			SalesGlAccountNo: setup.SalesAccount, InventoryGlAccountNo: setup.InventoryAccount, CogsGlAccountNo: setup.CogsAccount,
		})
	}
	for _, l := range inv.Order.ItemLines {
		if len(l.BundleInfo) == 0 {
			add(l.SKU, l.Name+" "+l.VariantName, l.UnitPrice())
			continue
		}
		for _, c := range l.BundleInfo {
			add(c.SKU, c.Name, c.ItemPrice.Amount)
		}
	}
	return items
}

// CustomerOf is the customer the faktur of inv is booked to, as
// auto_create.customers would create it: the store's customer_no, named
// after the store (the mapping's name, else Forstok's, else the number).
func (s *Settings) CustomerOf(inv *forstok.Invoice) (accurate.Customer, error) {
	if inv == nil || inv.Order == nil {
		return accurate.Customer{}, dataError("an invoice without its order")
	}
	st, err := s.store(inv.Order.StoreID, inv.Order.StoreName)
	if err != nil {
		return accurate.Customer{}, err
	}
	name := st.Name
	for _, n := range []string{inv.Order.StoreName, st.CustomerNo} {
		if strings.TrimSpace(name) == "" {
			name = n
		}
	}
	return accurate.Customer{
		CustomerNo: st.CustomerNo,
		Name:       strings.TrimSpace(name),
		TransDate:  accurate.DateOf(inv.CreatedAt, s.Location()),
	}, nil
}

// cut shortens s to at most n characters (not bytes), never splitting one.
func cut(s string, n int) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > n {
		s = strings.TrimSpace(string(r[:n]))
	}
	return s
}
