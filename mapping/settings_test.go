package mapping

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseReadsAValidFile(t *testing.T) {
	s, err := Parse([]byte(`
tax: {enabled: true, inclusive: false}
stores:
  1009:                     # an unquoted id is a key like "1009"
    customer_no: C-SHOPEE
    bank_no: 110201         # unquoted: the string "110201"
warehouses:
  78: Utama
items:
  SKU-OLD-1: 0001           # leading zero kept as written
amounts:
  service_fee: 610202
`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Settings{
		Timezone:   "Asia/Jakarta",
		Tax:        Tax{Enabled: true, Inclusive: false},
		Stores:     map[string]Store{"1009": {CustomerNo: "C-SHOPEE", BankNo: "110201"}},
		Warehouses: map[string]string{"78": "Utama"},
		Items:      map[string]string{"SKU-OLD-1": "0001"},
		Amounts:    Amounts{ServiceFee: "610202"},
	}
	want.loc, want.lines = s.loc, s.lines // internal: the zone, and the lines References reports
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got %+v\nwant %+v", s, want)
	}
	if got := s.Location().String(); got != "Asia/Jakarta" {
		t.Errorf("location %s, want the default Asia/Jakarta", got)
	}
}

func TestParseReadsTheExampleMapping(t *testing.T) {
	s := exampleSettings(t)
	if got := s.Stores["1009"]; got != (Store{Name: "Toko Maju Shopee", CustomerNo: "C-SHOPEE", BankNo: "110201", Branch: "Jakarta"}) {
		t.Errorf("store 1009: %+v", got)
	}
	if s.Amounts.PaymentDifference != "" || s.Amounts.ShippingDifference != "610204" {
		t.Errorf("amounts: %+v", s.Amounts)
	}
}

func TestParseHonoursTheTimezone(t *testing.T) {
	s, err := Parse([]byte("timezone: Asia/Makassar\nstores: {\"1\": {customer_no: C, bank_no: B}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Location().String(); got != "Asia/Makassar" {
		t.Errorf("location %s", got)
	}
}

func TestParseReportsEachProblemWithItsPathAndLine(t *testing.T) {
	const store = "stores:\n  \"1009\": {customer_no: C, bank_no: B}\n"
	for _, tc := range []struct {
		name string
		yaml string
		want []Problem // Message: a part of the message
	}{
		{"an unknown top-level key is named", store + "colour: red\n",
			[]Problem{{Path: "colour", Line: 3, Message: "unknown key"}}},
		{"an unknown key in a store is named", "stores:\n  \"1009\":\n    customer_no: C\n    bank_no: B\n    bank: B2\n",
			[]Problem{{Path: `stores."1009".bank`, Line: 5, Message: "unknown key"}}},
		{"an unknown amount kind is named", store + "amounts:\n  shipping: \"1\"\n",
			[]Problem{{Path: "amounts.shipping", Line: 4, Message: "unknown key"}}},
		{"a store without bank_no is reported", "stores:\n  \"1011\":\n    customer_no: C\n",
			[]Problem{{Path: `stores."1011".bank_no`, Line: 3, Message: "missing"}}},
		{"a store without customer_no is reported", "stores:\n  \"1011\":\n    bank_no: B\n",
			[]Problem{{Path: `stores."1011".customer_no`, Line: 3, Message: "missing"}}},
		{"an empty account number is reported", store + "amounts:\n  service_fee: \"\"\n",
			[]Problem{{Path: "amounts.service_fee", Line: 4, Message: "is empty"}}},
		{"a null account number is reported as empty", store + "amounts:\n  service_fee:\n",
			[]Problem{{Path: "amounts.service_fee", Line: 4, Message: "is empty"}}},
		{"an empty customer_no is reported", "stores:\n  \"1009\": {customer_no: \"\", bank_no: B}\n",
			[]Problem{{Path: `stores."1009".customer_no`, Line: 2, Message: "is empty"}}},
		{"an empty warehouse name is reported", store + "warehouses:\n  \"78\": \"\"\n",
			[]Problem{{Path: `warehouses."78"`, Line: 4, Message: "is empty"}}},
		{"an account given as a list is reported", store + "amounts:\n  service_fee: [1, 2]\n",
			[]Problem{{Path: "amounts.service_fee", Line: 4, Message: "must be a single value"}}},
		{"a duplicate store is reported with both lines", store + "  \"1009\": {customer_no: D, bank_no: E}\n",
			[]Problem{{Path: `stores."1009"`, Line: 3, Message: "duplicate key (first at line 2)"}}},
		{"a duplicate store written once quoted and once not is still a duplicate", store + "  1009: {customer_no: D, bank_no: E}\n",
			[]Problem{{Path: `stores."1009"`, Line: 3, Message: "duplicate key"}}},
		{"a duplicate top-level key is reported", store + "amounts: {}\namounts: {}\n",
			[]Problem{{Path: "amounts", Line: 4, Message: "duplicate key (first at line 3)"}}},
		{"a duplicate account key is reported", store + "amounts:\n  service_fee: \"1\"\n  service_fee: \"2\"\n",
			[]Problem{{Path: "amounts.service_fee", Line: 5, Message: "duplicate key"}}},
		{"an unknown time zone is reported", "timezone: Asia/Jakrta\n" + store,
			[]Problem{{Path: "timezone", Line: 1, Message: `unknown time zone "Asia/Jakrta"`}}},
		{"the host's Local zone is refused", "timezone: Local\n" + store,
			[]Problem{{Path: "timezone", Line: 1, Message: "depends on the host"}}},
		{"a missing stores section is reported", "warehouses: {\"78\": Utama}\n",
			[]Problem{{Path: "stores", Line: 1, Message: "missing"}}},
		{"an empty stores section is reported", "stores: {}\n",
			[]Problem{{Path: "stores", Line: 1, Message: "at least one store"}}},
		{"a null stores section is reported", "stores:\n",
			[]Problem{{Path: "stores", Line: 1, Message: "at least one store"}}},
		{"an empty file is reported", "",
			[]Problem{{Path: "stores", Message: "the file is empty"}}},
		{"a store key that is not an id is reported", "stores:\n  toko: {customer_no: C, bank_no: B}\n",
			[]Problem{{Path: `stores."toko"`, Line: 2, Message: "positive integer"}}},
		{"a store key with a leading zero is reported", "stores:\n  \"01009\": {customer_no: C, bank_no: B}\n",
			[]Problem{{Path: `stores."01009"`, Line: 2, Message: "positive integer"}}},
		{"a warehouse key of zero is reported", store + "warehouses:\n  0: Utama\n",
			[]Problem{{Path: `warehouses."0"`, Line: 4, Message: "positive integer"}}},
		{"a tax flag that is not a boolean is reported", store + "tax:\n  enabled: maybe\n",
			[]Problem{{Path: "tax.enabled", Line: 4, Message: "must be true or false"}}},
		{"a section that is not a map is reported", store + "items: [a, b]\n",
			[]Problem{{Path: "items", Line: 3, Message: "must be a map"}}},
		{"a YAML syntax error is reported with its line", "stores:\n  \"1009\": {customer_no: C\n",
			[]Problem{{Message: "yaml: line"}}},
	} {
		t.Run(tc.name, func(t *testing.T) { assertParseProblems(t, tc.yaml, tc.want) })
	}
}

// assertParseProblems parses a broken file and checks its problems.
func assertParseProblems(t *testing.T, yaml string, want []Problem) {
	t.Helper()
	_, err := Parse([]byte(yaml))
	var problems *Problems
	if !errors.As(err, &problems) {
		t.Fatalf("error %v, want *Problems", err)
	}
	assertProblems(t, problems.List, want)
}

func assertProblems(t *testing.T, got, want []Problem) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d problems, want %d:\n%s", len(got), len(want), (&Problems{List: got}).Error())
	}
	for i, w := range want {
		g := got[i]
		if g.Path != w.Path || g.Line != w.Line || !strings.Contains(g.Message, w.Message) {
			t.Errorf("problem %d: got %q, want %q containing %q", i, g.String(), Problem{Path: w.Path, Line: w.Line}.String(), w.Message)
		}
	}
}

func TestParseReportsEveryProblemOfABadFileAtOnce(t *testing.T) {
	bad := `timezone: Asia/Jakrta
tax:
  enabled: maybe
stores:
  "1009":
    customer_no: C-SHOPEE
    bank_no: ""
  "1010":
    customer_no: C-TOKO
    bank: "110202"
  "1010":
    customer_no: X
  abc:
    customer_no: C
    bank_no: B
warehouses:
  "78": Utama
  "079": Dua
items:
  SKU-1:
amounts:
  service_fee: ""
  shipping: "410201"
colour: red
`
	_, err := Parse([]byte(bad))
	var problems *Problems
	if !errors.As(err, &problems) {
		t.Fatalf("error %v, want *Problems", err)
	}
	assertProblems(t, problems.List, []Problem{
		{Path: "timezone", Line: 1, Message: "unknown time zone"},
		{Path: "tax.enabled", Line: 3, Message: "true or false"},
		{Path: `stores."1009".bank_no`, Line: 7, Message: "is empty"},
		{Path: `stores."1010".bank_no`, Line: 9, Message: "missing"},
		{Path: `stores."1010".bank`, Line: 10, Message: "unknown key"},
		{Path: `stores."1010"`, Line: 11, Message: "duplicate key (first at line 8)"},
		{Path: `stores."abc"`, Line: 13, Message: "positive integer"},
		{Path: `warehouses."079"`, Line: 18, Message: "positive integer"},
		{Path: `items."SKU-1"`, Line: 20, Message: "is empty"},
		{Path: "amounts.service_fee", Line: 22, Message: "is empty"},
		{Path: "amounts.shipping", Line: 23, Message: "unknown key"},
		{Path: "colour", Line: 24, Message: "unknown key"},
	})

	msg := err.Error()
	if lines := strings.Split(msg, "\n"); len(lines) != 13 {
		t.Errorf("Error() has %d lines, want a heading and one per problem:\n%s", len(lines), msg)
	}
	for _, want := range []string{"12 problems", `line 7: stores."1009".bank_no: is empty`, "line 24: colour: unknown key"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Error() lacks %q:\n%s", want, msg)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()

	t.Run("a valid file loads", func(t *testing.T) {
		s, err := Load(filepath.Join(examplesDir, "mapping.yaml"))
		if err != nil || len(s.Stores) != 2 {
			t.Fatalf("settings %+v, error %v", s, err)
		}
	})
	t.Run("an invalid file's problems name the file", func(t *testing.T) {
		path := filepath.Join(dir, "mapping.yaml")
		if err := os.WriteFile(path, []byte("stores: {}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		var problems *Problems
		if !errors.As(err, &problems) || problems.File != path {
			t.Fatalf("error %v, want *Problems of %s", err, path)
		}
		if !strings.HasPrefix(err.Error(), path+" has 1 problem:") {
			t.Errorf("Error() = %q", err.Error())
		}
	})
	t.Run("a missing file is an I/O error, not a list of problems", func(t *testing.T) {
		_, err := Load(filepath.Join(dir, "absent.yaml"))
		var problems *Problems
		if !errors.Is(err, fs.ErrNotExist) || errors.As(err, &problems) {
			t.Errorf("error %v, want fs.ErrNotExist", err)
		}
	})
}

func TestLocationOfHandBuiltSettings(t *testing.T) {
	for _, tc := range []struct{ name, tz, want string }{
		{"no zone means Asia/Jakarta", "", "Asia/Jakarta"},
		{"a named zone is used", "Asia/Jayapura", "Asia/Jayapura"},
		{"an unknown zone falls back to Asia/Jakarta", "Mars/Olympus", "Asia/Jakarta"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Settings{Timezone: tc.tz}
			if got := s.Location().String(); got != tc.want {
				t.Errorf("location %s, want %s", got, tc.want)
			}
		})
	}
}

func TestReferencesListEverythingTheMappingNames(t *testing.T) {
	s, err := Parse([]byte(`
stores:
  "1010": {customer_no: C-TOKOPEDIA, bank_no: "110202"}
  "9": {customer_no: C-SHOPEE, bank_no: "110201", branch: Jakarta}
warehouses: {"78": Utama}
items: {TOPI-01: BRG-TOPI-01}
amounts: {shipping_fee: "410201", payment_difference: "610299"}
`))
	if err != nil {
		t.Fatal(err)
	}
	// Each reference carries the line of its value, for check --online.
	want := References{
		Customers:  []Reference{{`stores."9".customer_no`, 4, "C-SHOPEE"}, {`stores."1010".customer_no`, 3, "C-TOKOPEDIA"}},
		Banks:      []Reference{{`stores."9".bank_no`, 4, "110201"}, {`stores."1010".bank_no`, 3, "110202"}},
		Branches:   []Reference{{`stores."9".branch`, 4, "Jakarta"}},
		Warehouses: []Reference{{`warehouses."78"`, 5, "Utama"}},
		Items:      []Reference{{`items."TOPI-01"`, 6, "BRG-TOPI-01"}},
		Accounts:   []Reference{{"amounts.shipping_fee", 7, "410201"}, {"amounts.payment_difference", 7, "610299"}},
	}
	if got := s.References(); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}
