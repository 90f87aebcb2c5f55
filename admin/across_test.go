package admin_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"forstok-accurate-sync/admin"
	"forstok-accurate-sync/events"
	"forstok-accurate-sync/internal/testredis"
	"forstok-accurate-sync/mapping"
)

func TestListEveryPagesThroughEverySellerNewestFirst(t *testing.T) {
	ctx := context.Background()
	r := testredis.New(t)
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	store := events.New(r.Client(t), events.Config{Namespace: r.Namespace, Now: func() time.Time { return now }})
	settings, err := mapping.Parse([]byte("stores: {\"1009\": {customer_no: C, bank_no: B}}\nwarehouses: {\"78\": Utama}\n"))
	if err != nil {
		t.Fatal(err)
	}
	svc := admin.New(admin.Config{StoreFor: func(id string) admin.Store { return store.Seller(id) },
		Sellers: func() []admin.Seller {
			return []admin.Seller{admin.SellerFromMapping("toko-a", settings), admin.SellerFromMapping("toko-b", settings)}
		}})
	// Failed events, one a minute, toko-a's and toko-b's interleaved;
	// the last two in the same millisecond, and one synced in between.
	var want []string
	fail := func(seller, key, state string) {
		t.Helper()
		st := store.Seller(seller)
		in := events.Incoming{Key: key, Type: "invoice.created", Payload: []byte(`{}`)}
		if _, err := st.Accept(ctx, in); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Begin(ctx, in); err != nil {
			t.Fatal(err)
		}
		if err := st.Finish(ctx, key, events.Result{State: state, Error: "x", AccurateNumber: "X"}); err != nil {
			t.Fatal(err)
		}
		if state == events.StateFailed {
			want = append([]string{seller + " " + key}, want...)
		}
	}
	for i, seller := range []string{"toko-a", "toko-a", "toko-b", "toko-a", "toko-b", "toko-b", "toko-a"} {
		state := events.StateFailed
		if i == 3 {
			state = events.StateSynced
		}
		fail(seller, fmt.Sprintf("invoice.created:%d", i+1), state)
		if i < 5 {
			now = now.Add(time.Minute)
		}
	}
	for _, limit := range []int{1, 2, 4, 50} {
		t.Run(fmt.Sprintf("pages of %d show every failed event of both sellers once, newest first", limit), func(t *testing.T) {
			var got []string
			cursor := ""
			for range 20 {
				evs, next, err := svc.ListEvery(ctx, admin.All, admin.ListQuery{State: events.StateFailed, Limit: limit, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				if len(evs) > limit {
					t.Fatalf("a page of %d events; want at most %d", len(evs), limit)
				}
				for _, ev := range evs {
					got = append(got, ev.Seller+" "+ev.Key)
				}
				if cursor = next; cursor == "" {
					break
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("listed %v; want %v", got, want)
			}
		})
	}
	t.Run("a seller's token lists its own events only", func(t *testing.T) {
		evs, _, err := svc.ListEvery(ctx, admin.Scope{Seller: "toko-b"}, admin.ListQuery{State: events.StateFailed})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Seller != "toko-b" {
				t.Errorf("toko-b's token sees %s of %s", ev.Key, ev.Seller)
			}
		}
		if len(evs) != 3 {
			t.Errorf("toko-b's token sees %d events; want its 3", len(evs))
		}
	})
	t.Run("a forged cursor is refused", func(t *testing.T) {
		if _, _, err := svc.ListEvery(ctx, admin.All, admin.ListQuery{Cursor: "AAAA"}); admin.AnswerOf(err).Status != 400 {
			t.Errorf("err %v; want a 400", err)
		}
	})
}
