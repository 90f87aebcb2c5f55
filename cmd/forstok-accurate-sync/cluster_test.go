package main

import "testing"

// The end-to-end tests of intake, workers, fairness, voids, returns,
// wake-ups and replay, again on a Redis Cluster of three masters: each
// shard's keys and queue share one hash tag, so every script finds its
// keys in one slot, and the service behaves as on one node.
func TestOnARedisCluster(t *testing.T) {
	t.Run("the examples sync end to end", func(t *testing.T) {
		examplesSyncEndToEnd(t, newWorld(t).onCluster())
	})
	t.Run("a mapping failure is fixed and replayed", func(t *testing.T) {
		mappingFailureIsFixedAndReplayed(t, newWorld(t).onCluster())
	})
	t.Run("a void deletes its faktur", func(t *testing.T) {
		voidOfTheExampleDeletesItsFaktur(t, newWorld(t).onCluster())
	})
	t.Run("a void before its invoice keeps the invoice from ever posting", func(t *testing.T) {
		voidBeforeItsInvoiceEvent(t, newWorld(t).onCluster())
	})
	t.Run("a return is the bundle at the faktur's prices", func(t *testing.T) {
		returnOfTheExample(t, newWorld(t).onCluster())
	})
	t.Run("a payment is woken by its faktur", func(t *testing.T) {
		paymentIsWokenByItsFaktur(t, newWorld(t).onCluster())
	})
	t.Run("one seller's backlog holds back no other seller", func(t *testing.T) {
		oneSellersBacklogHoldsBackNoOtherSeller(t, newFleetWorld(t).onCluster())
	})
}
