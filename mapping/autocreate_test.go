package mapping

import (
	"reflect"
	"strings"
	"testing"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/money"
)

func TestParseReadsAutoCreate(t *testing.T) {
	const store = "stores:\n  \"1009\": {customer_no: C, bank_no: B}\n"
	for _, tc := range []struct {
		name string
		yaml string
		want AutoCreate
	}{
		{"no auto_create creates nothing", store, AutoCreate{}},
		{"an empty auto_create creates nothing", store + "auto_create:\n", AutoCreate{}},
		{"items with their type, unit and accounts are read", store + `auto_create:
  items:
    item_type: INVENTORY
    unit: PCS
    sales_account: 410101
    inventory_account: "110401"
    cogs_account: "510101"
  customers: true
`, AutoCreate{Items: &NewItems{ItemType: "INVENTORY", Unit: "PCS", SalesAccount: "410101", InventoryAccount: "110401", CogsAccount: "510101"}, Customers: true}},
		{"items without accounts are read", store + "auto_create:\n  items: {item_type: SERVICE, unit: JASA}\n",
			AutoCreate{Items: &NewItems{ItemType: "SERVICE", Unit: "JASA"}}},
		{"customers alone are read", store + "auto_create:\n  customers: true\n", AutoCreate{Customers: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.AutoCreate, tc.want) {
				t.Errorf("auto_create %+v (items %+v), want %+v (items %+v)", s.AutoCreate, s.AutoCreate.Items, tc.want, tc.want.Items)
			}
		})
	}
}

func TestParseReportsEachAutoCreateProblemNamingItsKey(t *testing.T) {
	const store = "stores:\n  \"1009\": {customer_no: C, bank_no: B}\n"
	for _, tc := range []struct {
		name string
		yaml string
		want []Problem
	}{
		{"an unknown key under auto_create is named", store + "auto_create:\n  warehouses: true\n",
			[]Problem{{Path: "auto_create.warehouses", Line: 4, Message: "unknown key (known keys: items, customers)"}}},
		{"an item type Accurate does not take is named with the ones it does", store + "auto_create:\n  items: {item_type: GOODS, unit: PCS}\n",
			[]Problem{{Path: "auto_create.items.item_type", Line: 4, Message: `unknown item type "GOODS": use INVENTORY, NON_INVENTORY, SERVICE`}}},
		{"items without item_type and unit name both", store + "auto_create:\n  items:\n    sales_account: \"410101\"\n",
			[]Problem{{Path: "auto_create.items.item_type", Line: 5, Message: "missing"}, {Path: "auto_create.items.unit", Line: 5, Message: "missing"}}},
		{"an empty unit is reported", store + "auto_create:\n  items:\n    item_type: INVENTORY\n    unit: \"\"\n",
			[]Problem{{Path: "auto_create.items.unit", Line: 6, Message: "is empty"}}},
		{"an empty account is reported", store + "auto_create:\n  items: {item_type: INVENTORY, unit: PCS, cogs_account: \"\"}\n",
			[]Problem{{Path: "auto_create.items.cogs_account", Line: 4, Message: "is empty"}}},
		{"an unknown key under items is named", store + "auto_create:\n  items: {item_type: INVENTORY, unit: PCS, price: 1}\n",
			[]Problem{{Path: "auto_create.items.price", Line: 4, Message: "unknown key"}}},
		{"items: true is refused, saying what it must be", store + "auto_create:\n  items: true\n",
			[]Problem{{Path: "auto_create.items", Line: 4, Message: "must be a map with item_type and unit"}}},
		{"customers that is not a boolean is reported", store + "auto_create:\n  customers: yes please\n",
			[]Problem{{Path: "auto_create.customers", Line: 4, Message: "must be true or false"}}},
		{"a duplicate key under auto_create is reported", store + "auto_create:\n  customers: true\n  customers: false\n",
			[]Problem{{Path: "auto_create.customers", Line: 5, Message: "duplicate key"}}},
	} {
		t.Run(tc.name, func(t *testing.T) { assertParseProblems(t, tc.yaml, tc.want) })
	}
}

func TestReferencesOfAutoCreate(t *testing.T) {
	s, err := Parse([]byte(`stores: {"1009": {customer_no: C-SHOPEE, bank_no: "110201"}}
auto_create:
  items: {item_type: INVENTORY, unit: PCS, sales_account: "410101", cogs_account: "510101"}
  customers: true
`))
	if err != nil {
		t.Fatal(err)
	}
	refs := s.References()
	t.Run("the accounts of new items are checked online", func(t *testing.T) {
		want := []Reference{{"auto_create.items.sales_account", 3, "410101"}, {"auto_create.items.cogs_account", 3, "510101"}}
		if !reflect.DeepEqual(refs.Accounts, want) {
			t.Errorf("accounts %+v, want %+v", refs.Accounts, want)
		}
	})
	t.Run("customers that are created when missing are not required", func(t *testing.T) {
		if len(refs.Customers) != 0 {
			t.Errorf("customers %+v, want none", refs.Customers)
		}
	})
}

func TestItemsOfAFakturAreWhatAutoCreateMakes(t *testing.T) {
	s := exampleSettings(t)
	s.AutoCreate.Items = &NewItems{ItemType: "INVENTORY", Unit: "PCS", SalesAccount: "410101"}
	inv := exampleInvoice(t, "invoice-created-tokopedia-bundle.json")
	long := strings.Repeat("Kaos Katun Organik ", 8) // 152 characters
	inv.Order.ItemLines[1].Name = long
	inv.Order.ItemLines[1].VariantName = "Putih M"
	got := s.ItemsOf(inv)
	item := func(no, name string, price int64) accurate.Item {
		return accurate.Item{No: no, Name: name, ItemType: "INVENTORY", Unit1Name: "PCS", UnitPrice: money.Rupiah(price), SalesGlAccountNo: "410101"}
	}
	want := []accurate.Item{
		item("KAOS-HTM-L", "Kaos Polos Hitam L", 89000), // a bundle component: its own name and item_price
		item("BRG-TOPI-01", "Topi Baseball", 55000),     // mapped under items
		item("KAOS-PTH-M", strings.TrimSpace(long[:accurate.ItemNameMax]), 95000),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("items\n%+v\nwant\n%+v", got, want)
	}
	if n := len([]rune(got[2].Name)); n > accurate.ItemNameMax {
		t.Errorf("a long name is %d characters; Accurate takes %d", n, accurate.ItemNameMax)
	}
	t.Run("a name of many-byte characters is cut by characters, not bytes", func(t *testing.T) {
		inv.Order.ItemLines[1].Name, inv.Order.ItemLines[1].VariantName = strings.Repeat("é", 150), ""
		name := s.ItemsOf(inv)[2].Name
		if name != strings.Repeat("é", accurate.ItemNameMax) {
			t.Errorf("name %q (%d characters)", name, len([]rune(name)))
		}
	})
}

func TestCustomerOfAFakturIsTheStoresCustomer(t *testing.T) {
	s := exampleSettings(t)
	inv := exampleInvoice(t, "invoice-created-tokopedia-bundle.json")
	c, err := s.CustomerOf(inv)
	if err != nil {
		t.Fatal(err)
	}
	faktur, _ := s.SalesInvoice(inv)
	if c.CustomerNo != "C-TOKOPEDIA" || c.Name != "Toko Maju Tokopedia" || c.TransDate != faktur.TransDate {
		t.Errorf("customer %+v; want C-TOKOPEDIA named Toko Maju Tokopedia, dated as the faktur (%s)", c, faktur.TransDate)
	}
}
