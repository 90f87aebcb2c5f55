package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

func TestMasterDataLists(t *testing.T) {
	s := start(t, Config{})
	type row struct {
		ID          int64   `json:"id"`
		No          *string `json:"no"`
		Name        string  `json:"name"`
		AccountType string  `json:"accountType"`
		ItemType    string  `json:"itemType"`
	}
	list := func(t *testing.T, kind string, q url.Values) ([]row, *page) {
		t.Helper()
		status, e := s.call(http.MethodGet, "/accurate/api/"+kind+"/list.do?"+q.Encode(), nil)
		if status != http.StatusOK || !e.S {
			t.Fatalf("HTTP %d s=%v %s", status, e.S, e.D)
		}
		var rows []row
		if err := json.Unmarshal(e.D, &rows); err != nil {
			t.Fatal(err)
		}
		return rows, e.SP
	}
	nos := func(rows []row) []string {
		var out []string
		for _, r := range rows {
			if r.No != nil {
				out = append(out, *r.No)
			} else {
				out = append(out, r.Name)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name, kind string
		q          url.Values
		want       []string
	}{
		{"customers are listed whole without a filter", "customer", nil, []string{"C-SHOPEE", "C-TOKOPEDIA"}},
		{"filter.no picks one customer", "customer", url.Values{"filter.no": {"C-SHOPEE"}}, []string{"C-SHOPEE"}},
		{"filter.no.val with op EQUAL finds nothing for an unknown no", "customer", url.Values{"filter.no.op": {"EQUAL"}, "filter.no.val": {"C-X"}}, nil},
		{"filter.no.val given twice matches either", "item", url.Values{"filter.no.val": {"KAOS-PTH-M", "BRG-TOPI-01"}}, []string{"BRG-TOPI-01", "KAOS-PTH-M"}},
		{"filter.keywords matches part of a no, in any case", "customer", url.Values{"filter.keywords": {"toko"}}, []string{"C-TOKOPEDIA"}},
		{"GL accounts include the cash & bank accounts", "glaccount", url.Values{"filter.no": {"110201", "610299"}}, []string{"110201", "610299"}},
		{"warehouses are listed by name", "warehouse", nil, []string{"Utama"}},
		{"filter.name finds a branch", "branch", url.Values{"filter.name": {"Jakarta"}}, []string{"Jakarta"}},
		{"filter.name finds no unknown branch", "branch", url.Values{"filter.name": {"Bandung"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, _ := list(t, tc.kind, tc.q)
			if got := nos(rows); !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("a bank is marked CASH_BANK and a fee account is not", func(t *testing.T) {
		rows, _ := list(t, "glaccount", url.Values{"filter.no": {"110202", "610202"}})
		types := map[string]string{}
		for _, r := range rows {
			types[*r.No] = r.AccountType
		}
		if types["110202"] != "CASH_BANK" || types["610202"] == "CASH_BANK" {
			t.Fatalf("account types %v", types)
		}
	})
	t.Run("rows carry the names and types Accurate shows", func(t *testing.T) {
		rows, _ := list(t, "glaccount", url.Values{"filter.no": {"410201", "610202"}})
		if len(rows) != 2 || rows[0].Name != "Penjualan Marketplace" || rows[0].AccountType != "REVENUE" ||
			rows[1].Name != "Biaya Layanan Marketplace" || rows[1].AccountType != "EXPENSE" {
			t.Fatalf("accounts %+v", rows)
		}
		items, _ := list(t, "item", url.Values{"filter.no": {"BRG-TOPI-01"}})
		if len(items) != 1 || items[0].Name != "Topi Baseball" || items[0].ItemType != "INVENTORY" {
			t.Fatalf("items %+v", items)
		}
	})
	t.Run("filter.keywords with op CONTAIN searches names too", func(t *testing.T) {
		rows, _ := list(t, "glaccount", url.Values{"filter.keywords.op": {"CONTAIN"}, "filter.keywords.val": {"layanan"}})
		if got := nos(rows); !slices.Equal(got, []string{"610202"}) {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("warehouses carry no number", func(t *testing.T) {
		rows, _ := list(t, "warehouse", nil)
		if rows[0].No != nil || rows[0].ID == 0 {
			t.Fatalf("row %+v", rows[0])
		}
	})
	t.Run("pages follow sp.page and sp.pageSize", func(t *testing.T) {
		rows, sp := list(t, "item", url.Values{"sp.page": {"2"}, "sp.pageSize": {"2"}})
		if got := nos(rows); !slices.Equal(got, []string{"KAOS-PTH-M"}) {
			t.Fatalf("page 2 = %q", got)
		}
		if *sp != (page{Page: 2, PageSize: 2, PageCount: 2, RowCount: 3}) {
			t.Fatalf("sp = %+v", *sp)
		}
		rows, _ = list(t, "item", url.Values{"sp.page": {"99999999999999"}})
		if len(rows) != 0 {
			t.Fatalf("a page past the end lists %d rows", len(rows))
		}
	})
	t.Run("an unknown filter operator is refused", func(t *testing.T) {
		_, e := s.call(http.MethodGet, "/accurate/api/customer/list.do?filter.no.op=BETWEEN&filter.no.val=A", nil)
		if e.S || !containsAll(e.messages(t), "BETWEEN") {
			t.Fatalf("s=%v d=%s", e.S, e.D)
		}
	})
}
