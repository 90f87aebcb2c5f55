package main

import "testing"

// The end-to-end tests of intake, workers, fairness, voids, returns,
// wake-ups and replay, again on a Redis Cluster of three masters: each
// shard's keys and queue share one hash tag, so every script finds its
// keys in one slot, and the service behaves as on one node.
func TestOnARedisCluster(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *world)
	}{
		{"the examples sync end to end", examplesSyncEndToEnd},
		{"a mapping failure is fixed and replayed", mappingFailureIsFixedAndReplayed},
		{"a void deletes its faktur", voidOfTheExampleDeletesItsFaktur},
		{"a void before its invoice keeps the invoice from ever posting", voidBeforeItsInvoiceEvent},
		{"a return is the bundle at the faktur's prices", returnOfTheExample},
		{"a payment is woken by its faktur", paymentIsWokenByItsFaktur},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newWorld(t).onCluster()) })
	}
	t.Run("one seller's backlog holds back no other seller", func(t *testing.T) {
		oneSellersBacklogHoldsBackNoOtherSeller(t, newFleetWorld(t).onCluster())
	})
}
