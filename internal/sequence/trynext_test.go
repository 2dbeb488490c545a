package sequence

import (
	"testing"
	"time"
)

// TestTableTryNext: TryNext never waits or contacts the server: it fails
// until a block is held, then serves from it, all or nothing.
func TestTableTryNext(t *testing.T) {
	db := newFakeDB()
	g := newTable(t, TableConfig{Name: "db.t", Block: 10}, db.execer(t))
	ids := make([]uint64, 3)
	if g.TryNext(ids) {
		t.Fatal("TryNext served IDs before any block was fetched")
	}
	if n := db.updates(); n > 1 {
		t.Fatalf("%d allocations for one TryNext", n)
	}
	first := next(t, g, 1) // Next fetches (waits for) a block
	if !g.TryNext(ids) {
		t.Fatal("TryNext failed with a block held")
	}
	for i, id := range ids {
		if want := first[0] + 1 + uint64(i); id != want {
			t.Fatalf("TryNext ids %v after %v, want consecutive", ids, first)
		}
	}
	big := make([]uint64, 1000)
	if g.TryNext(big) {
		t.Fatal("TryNext served more IDs than the generator holds")
	}
	if !g.TryNext(ids[:1]) || ids[0] != first[0]+4 {
		t.Fatalf("a failed TryNext took IDs: next is %d, want %d", ids[0], first[0]+4)
	}
}

// TestSnowflakeTryNext: TryNext gives IDs when no wait is needed, and fails
// instead of waiting when 4096 IDs of one millisecond are used up.
func TestSnowflakeTryNext(t *testing.T) {
	now := SnowflakeEpoch.Add(time.Hour)
	s, err := NewSnowflake(7, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]uint64, 4096)
	if !s.TryNext(ids) {
		t.Fatal("TryNext failed for one millisecond's IDs")
	}
	if s.TryNext(ids[:1]) {
		t.Fatal("TryNext served an ID of a used-up millisecond instead of failing")
	}
	now = now.Add(time.Millisecond)
	if !s.TryNext(ids[:1]) {
		t.Fatal("TryNext failed in a new millisecond")
	}
}
