package mapping

import (
	"errors"
	"fmt"
	"strings"

	"forstok-accurate-sync/money"
)

// Error is a permanent problem with an event that the seller fixes in the
// mapping or in the data; replaying the event after the fix posts it.
type Error struct {
	Key string // the mapping key to add or fix, e.g. amounts.service_fee; empty for a data problem
	Msg string // one sentence naming the Forstok value and what to do
}

func (e *Error) Error() string { return e.Msg }

// ErrOwingMissing means SalesReceipt was not told what a faktur still owes:
// the caller's mistake, not the seller's.
var ErrOwingMissing = errors.New("no outstanding amount given for faktur")

func mappingError(key, format string, args ...any) *Error {
	return &Error{Key: key, Msg: fmt.Sprintf(format, args...)}
}

func dataError(format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

// rp writes an amount for a message, as the docs write them: 11,650 or
// 106,952.50.
func rp(a money.Amount) string { return a.Group(',', '.') }

// named writes "store 1011 (Toko Baru Lazada)", or "store 1011" when Forstok
// gave no name.
func named(kind string, id int64, name string) string {
	if name = strings.TrimSpace(name); name != "" {
		return fmt.Sprintf("%s %d (%s)", kind, id, name)
	}
	return fmt.Sprintf("%s %d", kind, id)
}
