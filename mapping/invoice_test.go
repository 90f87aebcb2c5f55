package mapping

import (
	"reflect"
	"testing"
	"time"

	"forstok-accurate-sync/accurate"
	"forstok-accurate-sync/forstok"
	"forstok-accurate-sync/money"
)

func TestSalesInvoiceFailsWithASentenceNamingWhatToMap(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(*Settings, *forstok.Invoice)
		wantKey string
		wantMsg string
	}{
		{
			"an unmapped store names the store and the keys to add",
			func(_ *Settings, inv *forstok.Invoice) {
				inv.Order.StoreID, inv.Order.StoreName = 1011, "Toko Baru Lazada"
			},
			`stores."1011"`,
			`store 1011 (Toko Baru Lazada) is not in stores: add stores."1011".customer_no and bank_no`,
		},
		{
			"an unmapped store without a name is named by its id",
			func(_ *Settings, inv *forstok.Invoice) { inv.Order.StoreID, inv.Order.StoreName = 1011, "" },
			`stores."1011"`,
			`store 1011 is not in stores: add stores."1011".customer_no and bank_no`,
		},
		{
			"a hand-built store without customer_no is refused",
			func(s *Settings, _ *forstok.Invoice) {
				s.Stores["1009"] = Store{Name: "Toko Maju Shopee", BankNo: "110201"}
			},
			`stores."1009".customer_no`,
			`store 1009 (Toko Maju Shopee) has no customer_no: add stores."1009".customer_no`,
		},
		{
			"an unmapped warehouse names the warehouse and the key to add",
			func(_ *Settings, inv *forstok.Invoice) {
				inv.Order.WarehouseID, inv.Order.WarehouseName = 79, "Gudang Bekasi"
			},
			`warehouses."79"`,
			`warehouse 79 (Gudang Bekasi) is not in warehouses: add warehouses."79"`,
		},
		{
			"shipping charged to the buyer without a shipping account is refused",
			func(s *Settings, inv *forstok.Invoice) {
				s.Amounts.ShippingFee = ""
				inv.Order.Cashless = ptr(false)
				inv.Order.ShippingPrice = rupiah(12000)
			},
			"amounts.shipping_fee",
			"invoice 70009 charges the buyer shipping_price 12,000 (not cashless) but amounts.shipping_fee is not mapped: add amounts.shipping_fee",
		},
		{
			"a negative discount is a data error",
			func(_ *Settings, inv *forstok.Invoice) { inv.Order.DiscountAmount = rupiah(-5000) },
			"",
			"invoice 70009 has a negative discount_amount -5,000: correct the order in Forstok",
		},
		{
			"a line of zero units is a data error",
			func(_ *Settings, inv *forstok.Invoice) { inv.Order.ItemLines[0].Quantity = ptr(int64(0)) },
			"",
			"invoice 70009 line 1 (SKU KAOS) has quantity 0: correct the order in Forstok",
		},
		{
			"a bundle component of negative price is a data error",
			func(_ *Settings, inv *forstok.Invoice) {
				inv.Order.ItemLines[0] = bundle(money.Rupiah(1000), 1, component("A", 1, -5))
			},
			"",
			"invoice 70009 line 1 (bundle BUNDLE): component A has a negative item_price -5: correct the order in Forstok",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := exampleSettings(t)
			inv := order(line("KAOS", 89000))
			tc.change(s, inv)
			_, err := s.SalesInvoice(inv)
			wantError(t, err, tc.wantKey, tc.wantMsg)
		})
	}
}

func TestSalesInvoiceShipping(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cashless bool
		shipping int64
		unmapped bool
		want     []accurate.InvoiceExpense
	}{
		{"shipping the seller charged is an expense line", false, 12000, false,
			[]accurate.InvoiceExpense{{AccountNo: "410201", ExpenseAmount: money.Rupiah(12000), ExpenseName: "Ongkos kirim Shopee"}}},
		{"cashless shipping is not on the faktur", true, 12000, false, nil},
		{"cashless shipping needs no shipping account", true, 12000, true, nil},
		{"free shipping needs no shipping account", false, 0, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := exampleSettings(t)
			if tc.unmapped {
				s.Amounts.ShippingFee = ""
			}
			inv := order(line("KAOS", 89000))
			inv.Order.Cashless = &tc.cashless
			inv.Order.ShippingPrice = rupiah(tc.shipping)
			doc, err := s.SalesInvoice(inv)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(doc.DetailExpense, tc.want) {
				t.Errorf("expenses %+v, want %+v", doc.DetailExpense, tc.want)
			}
		})
	}
}

func TestSalesInvoiceDatesInTheMappingsZone(t *testing.T) {
	// 23:30 in Jakarta is already the next day in Makassar.
	created := time.Date(2026, 11, 26, 16, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		tz   string
		want accurate.Date
	}{
		{"Asia/Jakarta", accurate.Date{Year: 2026, Month: time.November, Day: 26}},
		{"Asia/Makassar", accurate.Date{Year: 2026, Month: time.November, Day: 27}},
	} {
		t.Run("a faktur created at 16:30 UTC is dated in "+tc.tz, func(t *testing.T) {
			s, err := Parse([]byte("timezone: " + tc.tz + "\nstores: {\"1009\": {customer_no: C, bank_no: B}}\nwarehouses: {\"78\": Utama}\n"))
			if err != nil {
				t.Fatal(err)
			}
			inv := order(line("KAOS", 1000))
			inv.CreatedAt = created
			doc, err := s.SalesInvoice(inv)
			if err != nil {
				t.Fatal(err)
			}
			if doc.TransDate != tc.want {
				t.Errorf("transDate %s, want %s", doc.TransDate, tc.want)
			}
		})
	}
}

func TestSalesInvoiceTax(t *testing.T) {
	s := exampleSettings(t)
	s.Tax = Tax{Enabled: true, Inclusive: false}
	doc, err := s.SalesInvoice(order(line("KAOS", 1000), bundle(money.Rupiah(3000), 1, component("A", 1, 1), component("B", 1, 1))))
	if err != nil {
		t.Fatal(err)
	}
	if !doc.Taxable || doc.InclusiveTax {
		t.Errorf("taxable %v inclusive %v, want the mapping's true, false", doc.Taxable, doc.InclusiveTax)
	}
	for _, l := range doc.DetailItem {
		if !l.UseTax1 {
			t.Errorf("line %s without useTax1", l.ItemNo)
		}
	}
}

func TestSalesInvoiceGroupsLines(t *testing.T) {
	s := exampleSettings(t)
	s.Items["KAOS-OLD"] = "KAOS"
	withQty := func(l forstok.ItemLine, q int64) forstok.ItemLine { l.Quantity = &q; return l }
	onSale := func(l forstok.ItemLine, sale int64) forstok.ItemLine { l.SalePrice = rupiah(sale); return l }
	item := func(no string, q, price, discount int64) accurate.InvoiceItem {
		return accurate.InvoiceItem{ItemNo: no, DetailName: no, Quantity: q, UnitPrice: money.Rupiah(price), ItemCashDiscount: money.Rupiah(discount), WarehouseName: "Utama"}
	}
	for _, tc := range []struct {
		name  string
		lines []forstok.ItemLine
		want  []accurate.InvoiceItem
	}{
		{"one line per unit at one price becomes one line of their count",
			[]forstok.ItemLine{line("KAOS", 89000), line("TAS", 10000), line("KAOS", 89000)},
			[]accurate.InvoiceItem{item("KAOS", 2, 89000, 0), item("TAS", 1, 10000, 0)}},
		{"a line's quantity counts its units",
			[]forstok.ItemLine{withQty(line("KAOS", 89000), 3), line("KAOS", 89000)},
			[]accurate.InvoiceItem{item("KAOS", 4, 89000, 0)}},
		{"the same item at two prices stays two lines",
			[]forstok.ItemLine{line("KAOS", 89000), onSale(line("KAOS", 100000), 80000), line("KAOS", 80000)},
			[]accurate.InvoiceItem{item("KAOS", 1, 89000, 0), item("KAOS", 2, 80000, 0)}},
		{"a zero sale price falls back to the price",
			[]forstok.ItemLine{onSale(line("KAOS", 95000), 0)},
			[]accurate.InvoiceItem{item("KAOS", 1, 95000, 0)}},
		{"two SKUs mapped to one item at one price are one line named as the first",
			[]forstok.ItemLine{line("KAOS", 50000), {ID: 2, SKU: "KAOS-OLD", Name: "old", Price: rupiah(50000)}},
			[]accurate.InvoiceItem{item("KAOS", 2, 50000, 0)}},
		{"a bundle component that divides evenly joins the line of its item and price",
			[]forstok.ItemLine{line("KAOS", 50000), bundle(money.Rupiah(60000), 1, component("KAOS", 1, 50000), component("TAS", 1, 10000))},
			[]accurate.InvoiceItem{item("KAOS", 2, 50000, 0), item("TAS", 1, 10000, 0)}},
		{"a bundle component with a rounding discount keeps its own line",
			[]forstok.ItemLine{line("KAOS", 3334), bundle(money.Rupiah(10001), 1, component("KAOS", 3, 1))},
			[]accurate.InvoiceItem{item("KAOS", 1, 3334, 0), item("KAOS", 3, 3334, 1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := s.SalesInvoice(order(tc.lines...))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(doc.DetailItem, tc.want) {
				t.Errorf("lines\n got %+v\nwant %+v", doc.DetailItem, tc.want)
			}
			var want money.Amount
			for _, l := range tc.lines {
				want += money.Amount(l.Units()) * l.UnitPrice()
			}
			if doc.Total() != want {
				t.Errorf("total %s, want %s", doc.Total(), want)
			}
		})
	}
}

func TestBundlesAddUpToTheBundleToTheSen(t *testing.T) {
	part := func(sku string, q int64, up, discount money.Amount) bundlePart {
		return bundlePart{sku: sku, name: sku, quantity: q, unitPrice: up, discount: discount}
	}
	R := money.Rupiah
	for _, tc := range []struct {
		name string
		line forstok.ItemLine
		want []bundlePart
	}{
		{"the example: 140,000 over 178,000 : 55,000 gives the rounding rupiah to the larger remainder",
			bundle(R(140000), 1, component("KAOS", 2, 89000), component("TOPI", 1, 55000)),
			[]bundlePart{part("KAOS", 2, R(53477), R(1)), part("TOPI", 1, R(33047), 0)}},
		{"100,000 over quantities 1, 1 and 7 at one price",
			bundle(R(100000), 1, component("A", 1, 10000), component("B", 1, 10000), component("C", 7, 10000)),
			// 11,111.1 + 11,111.1 + 77,777.7: the rupiah left goes to C.
			[]bundlePart{part("A", 1, R(11111), 0), part("B", 1, R(11111), 0), part("C", 7, R(11112), R(6))}},
		{"equal remainders give the rupiah left to the first component",
			bundle(R(100), 1, component("A", 1, 5), component("B", 1, 5), component("C", 1, 5)),
			[]bundlePart{part("A", 1, R(34), 0), part("B", 1, R(33), 0), part("C", 1, R(33), 0)}},
		{"a bundle of one component takes it all, its odd rupiah as a discount",
			bundle(R(99999), 1, component("A", 2, 1)),
			[]bundlePart{part("A", 2, R(50000), R(1))}},
		{"components all priced zero share by quantity",
			bundle(R(100000), 1, component("A", 1, 0), component("B", 3, 0)),
			[]bundlePart{part("A", 1, R(25000), 0), part("B", 3, R(25000), 0)}},
		{"a component priced zero beside a priced one gets nothing",
			bundle(R(100000), 1, component("FREE", 1, 0), component("B", 1, 40000)),
			[]bundlePart{part("FREE", 1, 0, 0), part("B", 1, R(100000), 0)}},
		{"a bundle bought 3 times shares three times the amount over three times the units",
			bundle(R(140000), 3, component("KAOS", 2, 89000), component("TOPI", 1, 55000)),
			// 420,000 × 178/233 = 320,858.37 and × 55/233 = 99,141.63.
			[]bundlePart{part("KAOS", 6, R(53477), R(4)), part("TOPI", 3, R(33048), R(2))}},
		{"a bundle amount with sen is shared in sen",
			bundle(10000001, 1, component("A", 1, 1), component("B", 1, 1)),
			[]bundlePart{part("A", 1, 5000001, 0), part("B", 1, 5000000, 0)}},
		{"a share with sen over several units rounds up to the sen",
			bundle(10000050, 1, component("A", 3, 1)),
			[]bundlePart{part("A", 3, 3333350, 0)}},
		{"a zero bundle books zero components",
			bundle(0, 1, component("A", 1, 5), component("B", 2, 5)),
			[]bundlePart{part("A", 1, 0, 0), part("B", 2, 0, 0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := explodeBundle(tc.line)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parts\n got %+v\nwant %+v", got, tc.want)
			}
			checkParts(t, tc.line, got)
		})
	}
}

// checkParts asserts what every exploded bundle must satisfy.
func checkParts(t testing.TB, l forstok.ItemLine, parts []bundlePart) {
	t.Helper()
	total := money.Amount(l.Units()) * l.UnitPrice()
	step := money.Amount(shareUnit(total))
	var sum money.Amount
	for i, p := range parts {
		amount := money.Amount(p.quantity)*p.unitPrice - p.discount
		sum += amount
		if want := l.BundleInfo[i].Qty * l.Units(); p.quantity != want {
			t.Errorf("component %d quantity %d, want %d", i, p.quantity, want)
		}
		if p.discount < 0 || p.discount >= step*money.Amount(p.quantity) {
			t.Errorf("component %d discount %s outside [0, quantity × %s)", i, p.discount, step)
		}
		if p.unitPrice%step != 0 {
			t.Errorf("component %d unit price %s is not in steps of %s", i, p.unitPrice, step)
		}
	}
	if sum != total {
		t.Errorf("components add up to %s, bundle is %s", sum, total)
	}
}

func FuzzBundleSplit(f *testing.F) {
	f.Add(int64(14000000), int64(1), int64(2), int64(8900000), int64(1), int64(5500000), int64(0), int64(0))
	f.Add(int64(10000000), int64(1), int64(1), int64(1), int64(1), int64(1), int64(7), int64(1))
	f.Add(int64(10000001), int64(3), int64(1), int64(0), int64(2), int64(0), int64(5), int64(0))
	f.Add(int64(99), int64(7), int64(13), int64(3), int64(1), int64(1_000_000_000), int64(0), int64(0))
	f.Fuzz(func(t *testing.T, price, units, q1, p1, q2, p2, q3, p3 int64) {
		var parts []forstok.BundleComponent
		for _, c := range [][2]int64{{q1, p1}, {q2, p2}, {q3, p3}} {
			if c[0] != 0 {
				parts = append(parts, forstok.BundleComponent{SKU: "S", Qty: c[0], ItemPrice: sen(c[1])})
			}
		}
		if len(parts) == 0 {
			return
		}
		l := bundle(money.Amount(price), units, parts...)
		got, err := explodeBundle(l)
		if err != nil {
			valid := price >= 0 && units > 0
			for _, c := range parts {
				valid = valid && c.Qty > 0 && c.ItemPrice.Amount >= 0
			}
			if valid && price < 1e14 && units < 1e4 && q1 < 1e4 && q2 < 1e4 && q3 < 1e4 && p1 < 1e14 && p2 < 1e14 && p3 < 1e14 {
				t.Fatalf("a bundle of ordinary size was refused: %v", err)
			}
			return
		}
		if len(got) != len(parts) {
			t.Fatalf("%d parts for %d components", len(got), len(parts))
		}
		checkParts(t, l, got)
	})
}
