package admin

import (
	"regexp"
	"strings"
)

// Kinds of failure, by what the seller has to do about it.
const (
	FixMapping     = "mapping"     // add or correct a mapping key, then replay
	FixAccurate    = "accurate"    // create or correct a record in Accurate, then replay
	FixForstok     = "forstok"     // correct the order or payment in Forstok, then replay a corrected body
	FixInvoice     = "invoice"     // sync the payment's invoice first, then replay
	FixCredentials = "credentials" // Accurate refuses the API token
	FixWait        = "wait"        // Accurate was away; replay when it answers
	FixOther       = "other"       // read the reason
)

// Diagnosis is a failure reason read for what to fix.
type Diagnosis struct {
	Kind string `json:"kind"`
	// Key is the mapping key to add or fix (amounts.service_fee,
	// stores."1011".customer_no), for FixMapping.
	Key string `json:"key,omitempty"`
	// Record is the Accurate record or document concerned (faktur
	// SO-2411-0001, Accurate's own words), for FixAccurate and FixInvoice.
	Record string `json:"record,omitempty"`
}

var (
	mappingKey   = regexp.MustCompile(`\b(?:stores|warehouses|items|amounts)(?:\.(?:"[^"]*"|[A-Za-z0-9_\-]+))+`)
	refused      = regexp.MustCompile(`^Accurate refused (.+?): accurate [^:]+: [a-z_]+(?: \(HTTP \d+\))?: (.+?)\. (?:Create it|Fix the data)`)
	refusedShort = regexp.MustCompile(`^Accurate refused ([^:]+):`)
	fakturFirst  = regexp.MustCompile(`faktur (\S+) is not in Accurate yet`)
	missingIn    = regexp.MustCompile(`^faktur (\S+) names what Accurate does not have: (.+?)\. Add them`)
)

// Diagnose reads a failure reason the worker wrote (its sentences are the
// service's own) for the kind of fix it needs and the key or record to fix.
func Diagnose(reason string) Diagnosis {
	switch {
	case reason == "":
		return Diagnosis{Kind: FixOther}
	case strings.Contains(reason, "ACCURATE_API_TOKEN"):
		return Diagnosis{Kind: FixCredentials}
	case strings.Contains(reason, "sync the invoice first") || fakturFirst.MatchString(reason):
		d := Diagnosis{Kind: FixInvoice}
		if m := fakturFirst.FindStringSubmatch(reason); m != nil {
			d.Record = "faktur " + m[1]
		}
		return d
	case missingIn.MatchString(reason):
		// Items (and a customer) Accurate lacks: create them there, or let
		// auto_create do it.
		m := missingIn.FindStringSubmatch(reason)
		return Diagnosis{Kind: FixAccurate, Record: "faktur " + m[1] + ", missing " + m[2]}
	case strings.HasPrefix(reason, "Accurate refused"):
		d := Diagnosis{Kind: FixAccurate}
		if m := refused.FindStringSubmatch(reason); m != nil {
			d.Record = m[1] + ": " + m[2]
		} else if m := refusedShort.FindStringSubmatch(reason); m != nil {
			d.Record = m[1]
		}
		return d
	case strings.Contains(reason, "replay when Accurate answers again"):
		return Diagnosis{Kind: FixWait}
	}
	if k := mappingKey.FindString(reason); k != "" {
		return Diagnosis{Kind: FixMapping, Key: k}
	}
	if strings.Contains(reason, "in Forstok") || strings.Contains(reason, "not a valid webhook") {
		return Diagnosis{Kind: FixForstok}
	}
	return Diagnosis{Kind: FixOther}
}
