package sandbox

import (
	"maps"
	"slices"
)

// Seed is the master data the sandbox's Accurate database holds. Saves that
// name anything else are refused with "... tidak ditemukan atau sudah
// dihapus", as Accurate does.
type Seed struct {
	Customers  []string `json:"customers"`  // customer numbers
	Items      []string `json:"items"`      // item numbers
	Warehouses []string `json:"warehouses"` // warehouse names
	Accounts   []string `json:"accounts"`   // GL account numbers (fees, revenue, expenses)
	Banks      []string `json:"banks"`      // cash & bank account numbers (also GL accounts)
	Branches   []string `json:"branches"`   // branch names
	// Names are what Accurate shows beside a customer's, item's or
	// account's number; a number without one is shown as its own name.
	Names map[string]string `json:"names,omitempty"`
	// AccountTypes are the accounts' types (REVENUE, EXPENSE, ...); an
	// account without one is typed by its number (accountTypeOf).
	AccountTypes map[string]string `json:"account_types,omitempty"`
}

// DefaultSeed is what examples/mapping.yaml and the example webhooks in
// examples/ need. It is written out here on purpose: the sandbox stands for
// Accurate, which knows nothing of the mapping file.
func DefaultSeed() Seed {
	return Seed{
		Customers:  []string{"C-SHOPEE", "C-TOKOPEDIA"},
		Items:      []string{"KAOS-HTM-L", "BRG-TOPI-01", "KAOS-PTH-M"},
		Warehouses: []string{"Utama"},
		Accounts:   []string{"410201", "410202", "610201", "610202", "610203", "610204", "610299"},
		Banks:      []string{"110201", "110202"},
		Branches:   []string{"Jakarta"},
		Names: map[string]string{
			"C-SHOPEE": "Pelanggan Shopee", "C-TOKOPEDIA": "Pelanggan Tokopedia",
			"KAOS-HTM-L": "Kaos Hitam L", "BRG-TOPI-01": "Topi Baseball", "KAOS-PTH-M": "Kaos Putih M",
			"410201": "Penjualan Marketplace", "410202": "Pendapatan Ongkos Kirim",
			"610201": "Biaya Komisi Marketplace", "610202": "Biaya Layanan Marketplace",
			"610203": "Biaya Voucher Penjual", "610204": "Biaya Pengiriman", "610299": "Biaya Marketplace Lain-lain",
			"110201": "Bank BCA", "110202": "Saldo Penjual Marketplace",
		},
	}
}

// clone copies every list so that the server never shares a slice with its
// caller.
func (s Seed) clone() Seed {
	return Seed{
		Customers:    slices.Clone(s.Customers),
		Items:        slices.Clone(s.Items),
		Warehouses:   slices.Clone(s.Warehouses),
		Accounts:     slices.Clone(s.Accounts),
		Banks:        slices.Clone(s.Banks),
		Branches:     slices.Clone(s.Branches),
		Names:        maps.Clone(s.Names),
		AccountTypes: maps.Clone(s.AccountTypes),
	}
}
