// Package defaults fills the unset fields of a component's configuration,
// one way for every component: a number or a duration that is not positive
// takes its default, and so does a string, pointer or interface left empty.
package defaults

import "time"

// Number is what Positive fills.
type Number interface {
	~int | ~int64 | ~float64
}

// Positive sets *v to def unless *v is positive (zero and below mean unset).
func Positive[T Number](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Empty sets *v to def when *v is its type's zero value (unset).
func Empty[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Clock is now, or time.Now when now is nil: the clock a component reads.
func Clock(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}
