package sequence

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

func newTable(t testing.TB, cfg TableConfig, exec Execer) *Table {
	t.Helper()
	g, err := NewTable(cfg, exec)
	if err != nil {
		t.Fatalf("NewTable(%+v): %v", cfg, err)
	}
	return g
}

func next(t testing.TB, g Generator, n int) []uint64 {
	t.Helper()
	ids := make([]uint64, n)
	if err := g.Next(context.Background(), ids); err != nil {
		t.Errorf("Next(%d): %v", n, err) // not Fatal: also used in goroutines
	}
	return ids
}

func TestTableConfigErrors(t *testing.T) {
	exec := newFakeDB().execer(t)
	long := strings.Repeat("x", 129)
	for _, tc := range []struct {
		cfg  TableConfig
		want string
	}{
		{TableConfig{}, "empty sequence name"},
		{TableConfig{Name: long}, "longer than 128"},
		{TableConfig{Name: "a "}, "ends with a space"},
		{TableConfig{Name: "\xff"}, "not valid UTF-8"},
		{TableConfig{Name: "n", Table: "sequences"}, "want database.table"},
		{TableConfig{Name: "n", Table: "a.b.c"}, "want database.table"},
		{TableConfig{Name: "n", Table: ".t"}, "empty database"},
		{TableConfig{Name: "n", Table: "d."}, "empty table"},
		{TableConfig{Name: "n", Table: "d.t\x00"}, "NUL"},
		{TableConfig{Name: "n", Table: strings.Repeat("d", 65) + ".t"}, "longer than 64"},
		{TableConfig{Name: "n", Refill: 1.5}, "refill"},
		{TableConfig{Name: "n", Refill: -0.1}, "refill"},
		{TableConfig{Name: "n", Block: 1 << 63}, "too large"},
	} {
		_, err := NewTable(tc.cfg, exec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewTable(%+v) = %v, want error containing %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := NewTable(TableConfig{Name: "n"}, nil); err == nil {
		t.Errorf("NewTable with nil Execer: no error")
	}
}

func TestTableSQL(t *testing.T) {
	for _, tc := range []struct {
		name, table string
		start       uint64
		wantName    string // literal
		wantTable   string
	}{
		{"shop.t_user", "", 0, "'shop.t_user'", "`switchyard`.`sequences`"},
		{"it's", "my db.seq`s", 1000, "'it''s'", "`my db`.`seq``s`"},
		{`back\slash`, "d.t", 5, "_utf8mb4 X'6261636b5c736c617368'", "`d`.`t`"},
		{"naïve", "d.t", 0, "_utf8mb4 X'6e61c3af7665'", "`d`.`t`"},
		{"tab\there", "d.t", 0, "_utf8mb4 X'7461620968657265'", "`d`.`t`"},
		{"'; DROP TABLE x; --", "d.t", 0, "'''; DROP TABLE x; --'", "`d`.`t`"},
	} {
		g := newTable(t, TableConfig{Name: tc.name, Table: tc.table, Block: 100, Start: tc.start}, newFakeDB().execer(t))
		start := tc.start
		if start == 0 {
			start = 1
		}
		db, _, _ := strings.Cut(tc.wantTable, ".")
		want := []string{
			"CREATE DATABASE IF NOT EXISTS " + db,
			"CREATE TABLE IF NOT EXISTS " + tc.wantTable + " (name VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY, next_id BIGINT UNSIGNED NOT NULL) ENGINE=InnoDB",
			"INSERT INTO " + tc.wantTable + " (name, next_id) VALUES (" + tc.wantName + ", " + itoa(start) +
				") ON DUPLICATE KEY UPDATE next_id = GREATEST(next_id, " + itoa(start) + ")",
		}
		got := g.EnsureSQL()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%q: EnsureSQL =\n%s\nwant\n%s", tc.name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		wantUpd := "UPDATE " + tc.wantTable + " SET next_id = LAST_INSERT_ID(next_id + 100) WHERE name = " + tc.wantName
		if g.allocSQL != wantUpd {
			t.Errorf("%q: update = %s, want %s", tc.name, g.allocSQL, wantUpd)
		}
		// The fake decodes the literal back to the name.
		if got := decodeLit(t, quoteString(tc.name)); got != tc.name {
			t.Errorf("literal of %q decodes to %q", tc.name, got)
		}
	}
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

// TestTableNextSequence runs sequences of Next calls against a fresh fake
// and checks the IDs and the number of allocation round trips.
func TestTableNextSequence(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     TableConfig
		sizes   []int
		want    [][]uint64 // per call; nil = don't check
		updates int        // UPDATE statements expected in all
	}{
		{
			name:    "within one block",
			cfg:     TableConfig{Block: 10},
			sizes:   []int{1, 3, 6},
			want:    [][]uint64{{1}, {2, 3, 4}, {5, 6, 7, 8, 9, 10}},
			updates: 2, // the first hits the missing row, creates it, retries
		},
		{
			name:    "crossing blocks keeps the rest of the first",
			cfg:     TableConfig{Block: 4},
			sizes:   []int{3, 3, 2},
			want:    [][]uint64{{1, 2, 3}, {4, 5, 6}, {7, 8}},
			updates: 3,
		},
		{
			name:    "larger than a block takes a bigger one",
			cfg:     TableConfig{Block: 10},
			sizes:   []int{25, 1, 4},
			want:    [][]uint64{seq(1, 25), {26}, {27, 28, 29, 30}},
			updates: 2,
		},
		{
			name:    "start value",
			cfg:     TableConfig{Block: 5, Start: 1000},
			sizes:   []int{2, 4},
			want:    [][]uint64{{1000, 1001}, {1002, 1003, 1004, 1005}},
			updates: 3,
		},
		{
			name:    "block of one",
			cfg:     TableConfig{Block: 1},
			sizes:   []int{1, 1, 3},
			want:    [][]uint64{{1}, {2}, {3, 4, 5}},
			updates: 4,
		},
		{
			name:    "zero IDs",
			cfg:     TableConfig{Block: 5},
			sizes:   []int{0, 1},
			want:    [][]uint64{{}, {1}},
			updates: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeDB()
			tc.cfg.Name = "s"
			tc.cfg.Table = "d.t"
			g := newTable(t, tc.cfg, f.execer(t))
			for i, n := range tc.sizes {
				got := next(t, g, n)
				if tc.want != nil && fmtIDs(got) != fmtIDs(tc.want[i]) {
					t.Errorf("call %d: Next(%d) = %v, want %v", i, n, got, tc.want[i])
				}
			}
			if u := f.updates(); u != tc.updates {
				t.Errorf("%d UPDATEs, want %d:\n%s", u, tc.updates, strings.Join(f.statements(), "\n"))
			}
		})
	}
}

func seq(lo, hi uint64) []uint64 {
	var out []uint64
	for i := lo; i <= hi; i++ {
		out = append(out, i)
	}
	return out
}

// TestTableFirstUse checks the statements of the first allocation on an
// empty server and on one that has the table but not the row.
func TestTableFirstUse(t *testing.T) {
	f := newFakeDB()
	g := newTable(t, TableConfig{Name: "a", Table: "d.t", Block: 10}, f.execer(t))
	next(t, g, 1)
	want := []string{
		"UPDATE `d`.`t` SET next_id = LAST_INSERT_ID(next_id + 10) WHERE name = 'a'", // 1049
		"CREATE DATABASE IF NOT EXISTS `d`",
		"CREATE TABLE IF NOT EXISTS `d`.`t`",
		"INSERT INTO `d`.`t` (name, next_id) VALUES ('a', 1)",
		"UPDATE `d`.`t` SET next_id = LAST_INSERT_ID(next_id + 10) WHERE name = 'a'",
	}
	checkPrefixes(t, f.statements(), want)

	// A second sequence in the same table: the UPDATE matches no row.
	h := newTable(t, TableConfig{Name: "b", Table: "d.t", Block: 10, Start: 50}, f.execer(t))
	if got := next(t, h, 2); fmtIDs(got) != "50 51" {
		t.Errorf("b: %v, want [50 51]", got)
	}
	checkPrefixes(t, f.statements()[len(want):], []string{
		"UPDATE `d`.`t` SET next_id = LAST_INSERT_ID(next_id + 10) WHERE name = 'b'", // 0 rows
		"INSERT INTO `d`.`t` (name, next_id) VALUES ('b', 50)",
		"UPDATE `d`.`t` SET next_id = LAST_INSERT_ID(next_id + 10) WHERE name = 'b'",
	})
	if f.rows["a"] != 11 || f.rows["b"] != 60 {
		t.Errorf("rows = %v, want a:11 b:60", f.rows)
	}
}

func checkPrefixes(t testing.TB, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d statements, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
		return
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("statement %d = %s\nwant prefix %s", i, got[i], want[i])
		}
	}
}

// TestTableTwoProxies: two generators sharing a row get disjoint blocks.
func TestTableTwoProxies(t *testing.T) {
	f := newFakeDB()
	a := newTable(t, TableConfig{Name: "s", Table: "d.t", Block: 3}, f.execer(t))
	b := newTable(t, TableConfig{Name: "s", Table: "d.t", Block: 3}, f.execer(t))
	var got []string
	for _, g := range []*Table{a, b, a, b, a, a} {
		got = append(got, fmtIDs(next(t, g, 2)))
	}
	want := []string{"1 2", "4 5", "3 7", "6 10", "8 9", "13 14"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTableErrors(t *testing.T) {
	boom := errors.New("connection refused")
	for _, tc := range []struct {
		name   string
		setup  func(f *fakeDB)
		want   string
		errIs  error
		thenOK bool // a later Next succeeds once the fault is gone
	}{
		{
			name:   "exec error",
			setup:  func(f *fakeDB) { f.hook = func(context.Context, string) error { return boom } },
			errIs:  boom,
			thenOK: true,
		},
		{
			name: "server error",
			setup: func(f *fakeDB) {
				f.hook = func(_ context.Context, sql string) error {
					if strings.HasPrefix(sql, "UPDATE") {
						return protocol.NewError(1290, "HY000", "The MariaDB server is running with the --read-only option")
					}
					return nil
				}
			},
			want:   "1290",
			thenOK: true,
		},
		{
			name: "create table fails",
			setup: func(f *fakeDB) {
				f.hook = func(_ context.Context, sql string) error {
					if strings.HasPrefix(sql, "CREATE TABLE") {
						return protocol.NewError(1142, "42000", "CREATE command denied")
					}
					return nil
				}
			},
			want:   "1142",
			thenOK: true,
		},
		{
			name: "row still missing after creating it",
			setup: func(f *fakeDB) {
				f.okHook = func(sql string, ok protocol.OK) protocol.OK {
					if strings.HasPrefix(sql, "UPDATE") {
						return protocol.OK{}
					}
					return ok
				}
			},
			want: "no row in d.t after creating it",
		},
		{
			name: "no LAST_INSERT_ID in the OK packet",
			setup: func(f *fakeDB) {
				f.okHook = func(sql string, ok protocol.OK) protocol.OK {
					ok.LastInsertID = 0
					return ok
				}
			},
			want: "is LAST_INSERT_ID in the OK packet",
		},
		{
			name: "overflow",
			setup: func(f *fakeDB) {
				f.dbOK, f.tableOK = true, true
				f.rows["s"] = ^uint64(0) - 5
			},
			want: "out of range",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeDB()
			tc.setup(f)
			g := newTable(t, TableConfig{Name: "s", Table: "d.t", Block: 10}, f.execer(t))
			err := g.Next(context.Background(), make([]uint64, 1))
			if err == nil {
				t.Fatalf("Next: no error")
			}
			if tc.errIs != nil && !errors.Is(err, tc.errIs) {
				t.Errorf("Next: %v, want %v", err, tc.errIs)
			}
			if tc.want != "" && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Next: %v, want it to contain %q", err, tc.want)
			}
			if tc.thenOK {
				f.hook = nil
				if got := next(t, g, 2); fmtIDs(got) != "1 2" {
					t.Errorf("after recovery: %v, want [1 2]", got)
				}
			}
		})
	}
}

// TestTableRowLowered: a row set back by hand must not produce IDs this
// generator already handed out.
func TestTableRowLowered(t *testing.T) {
	f := newFakeDB()
	g := newTable(t, TableConfig{Name: "s", Table: "d.t", Block: 5}, f.execer(t))
	next(t, g, 5)
	f.mu.Lock()
	f.rows["s"] = 3
	f.mu.Unlock()
	err := g.Next(context.Background(), make([]uint64, 1))
	if err == nil || !strings.Contains(err.Error(), "below IDs already handed out") {
		t.Fatalf("Next after lowering the row: %v", err)
	}
}

func TestTableAdvance(t *testing.T) {
	f := newFakeDB()
	g := newTable(t, TableConfig{Name: "s", Table: "d.t", Block: 10}, f.execer(t))
	if got := next(t, g, 2); fmtIDs(got) != "1 2" {
		t.Fatalf("got %v", got)
	}
	// Held IDs 3..10 below the new floor are dropped, the row raised.
	if err := g.Advance(context.Background(), 7); err != nil {
		t.Fatal(err)
	}
	if got := next(t, g, 5); fmtIDs(got) != "7 8 9 10 11" {
		t.Errorf("after Advance(7): %v, want [7 8 9 10 11]", got)
	}
	if f.rows["s"] != 21 {
		t.Errorf("row = %d, want 21", f.rows["s"])
	}
	// Advance never lowers.
	if err := g.Advance(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	if got := next(t, g, 1); fmtIDs(got) != "12" {
		t.Errorf("after Advance(3): %v, want [12]", got)
	}

	// AdvancePast over several physical tables, on a fresh server.
	f2 := newFakeDB()
	h := newTable(t, TableConfig{Name: "shop.t_user", Table: "d.t", Block: 10}, f2.execer(t))
	var queries []string
	for _, pt := range []string{"shop.t_user_0000", "shop.t_user_0001", "shop.t_user_0002"} {
		q, err := MaxIDSQL(pt, "id")
		if err != nil {
			t.Fatal(err)
		}
		queries = append(queries, q)
	}
	answers := map[string]string{queries[0]: "41", queries[1]: "", queries[2]: "1234"}
	q := func(_ context.Context, sql string) (string, error) { return answers[sql], nil }
	top, err := h.AdvancePast(context.Background(), q, queries...)
	if err != nil || top != 1234 {
		t.Fatalf("AdvancePast = %d, %v; want 1234", top, err)
	}
	if queries[0] != "SELECT MAX(`id`) FROM `shop`.`t_user_0000`" {
		t.Errorf("MaxIDSQL = %s", queries[0])
	}
	if got := next(t, h, 2); fmtIDs(got) != "1235 1236" {
		t.Errorf("after AdvancePast: %v, want [1235 1236]", got)
	}
	answers[queries[0]] = "12x"
	if _, err := h.AdvancePast(context.Background(), q, queries...); err == nil {
		t.Errorf("AdvancePast with a non-number: no error")
	}
	if _, err := MaxIDSQL("t", "id"); err == nil {
		t.Errorf("MaxIDSQL without database: no error")
	}
}

// TestTableAdvanceDuringAllocation: an allocation that raced with Advance
// (its UPDATE ran first, its result arrives after Advance returned) must not
// hand out IDs below the new floor.
func TestTableAdvanceDuringAllocation(t *testing.T) {
	f := newFakeDB()
	f.dbOK, f.tableOK = true, true
	f.rows["s"] = 1
	inner := f.execer(t)
	executed := make(chan struct{})
	gate := make(chan struct{})
	var once sync.Once
	exec := func(ctx context.Context, sql string) (protocol.OK, error) {
		ok, err := inner(ctx, sql)
		if strings.HasPrefix(sql, "UPDATE") {
			once.Do(func() {
				close(executed)
				<-gate
			})
		}
		return ok, err
	}
	g := newTable(t, TableConfig{Name: "s", Table: "d.t", Block: 10}, exec)
	done := make(chan []uint64)
	go func() { done <- next(t, g, 3) }()
	<-executed
	if err := g.Advance(context.Background(), 5); err != nil {
		t.Fatal(err)
	}
	close(gate)
	if got := <-done; fmtIDs(got) != "5 6 7" {
		t.Errorf("IDs %v, want [5 6 7] (floor 5)", got)
	}
}

// TestTableRefill: with Refill, the next block is fetched in the background
// and callers do not wait for it.
func TestTableRefill(t *testing.T) {
	f := newFakeDB()
	var block atomic.Bool
	gate := make(chan struct{})
	f.hook = func(_ context.Context, sql string) error {
		if strings.HasPrefix(sql, "UPDATE") && block.Load() {
			<-gate
		}
		return nil
	}
	g := newTable(t, TableConfig{Name: "s", Table: "d.t", Block: 10, Refill: 0.8}, f.execer(t))
	if got := next(t, g, 7); fmtIDs(got) != "1 2 3 4 5 6 7" {
		t.Fatalf("got %v", got)
	}
	if u := f.updates(); u != 2 { // missing row + retry
		t.Fatalf("%d updates, want 2", u)
	}
	block.Store(true)
	// 8 of 10 used: a prefetch starts and blocks; Next must not wait.
	done := make(chan []uint64, 1)
	go func() { done <- next(t, g, 1) }()
	select {
	case got := <-done:
		if fmtIDs(got) != "8" {
			t.Errorf("got %v, want [8]", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next waited for the background refill")
	}
	got := next(t, g, 2) // 9 10, still from the first block
	if fmtIDs(got) != "9 10" {
		t.Errorf("got %v, want [9 10]", got)
	}
	close(gate)
	got = next(t, g, 2) // waits for the prefetch, if still running
	if fmtIDs(got) != "11 12" {
		t.Errorf("got %v, want [11 12]", got)
	}
	// No further UPDATE than the prefetch (+ possibly the next prefetch
	// being far away: 8 IDs left of 10 is above the low-water mark).
	if u := f.updates(); u != 3 {
		t.Errorf("%d updates, want 3:\n%s", u, strings.Join(f.statements(), "\n"))
	}
}

// TestTableRefillFailureBacksOff: a failing background refill is not
// retried on every Next, and callers then get its error only when they
// need a block.
func TestTableRefillFailureBacksOff(t *testing.T) {
	f := newFakeDB()
	var fail atomic.Bool
	var calls atomic.Int32
	f.hook = func(_ context.Context, sql string) error {
		if strings.HasPrefix(sql, "UPDATE") && fail.Load() {
			calls.Add(1)
			return errors.New("down")
		}
		return nil
	}
	g := newTable(t, TableConfig{Name: "s", Table: "d.t", Block: 100, Refill: 0.5}, f.execer(t))
	next(t, g, 10)
	fail.Store(true)
	next(t, g, 40) // 50 left: the refill starts, and fails
	for deadline := time.Now().Add(5 * time.Second); calls.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	for i := 0; i < 20; i++ { // IDs 51..70: no new refill during the backoff
		next(t, g, 1)
	}
	time.Sleep(20 * time.Millisecond)
	if n := calls.Load(); n != 1 {
		t.Errorf("%d failed refills, want 1 (backoff)", n)
	}
	next(t, g, 30) // 71..100 are still there
	if err := g.Next(context.Background(), make([]uint64, 1)); err == nil || !strings.Contains(err.Error(), "down") {
		t.Errorf("Next with an empty generator and a failing server: %v", err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d failed allocations, want 2", n)
	}
}

// TestTableContextCancel: a caller giving up does not disturb others
// waiting for the same allocation, nor lose IDs it did not take.
func TestTableContextCancel(t *testing.T) {
	f := newFakeDB()
	gate := make(chan struct{})
	started := make(chan struct{}, 10)
	f.hook = func(_ context.Context, sql string) error {
		if strings.HasPrefix(sql, "UPDATE") {
			started <- struct{}{}
			<-gate
		}
		return nil
	}
	f.dbOK, f.tableOK = true, true
	f.rows["s"] = 1
	g := newTable(t, TableConfig{Name: "s", Table: "d.t", Block: 10}, f.execer(t))

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- g.Next(ctx, make([]uint64, 3)) }()
	<-started
	other := make(chan []uint64, 1)
	go func() { other <- next(t, g, 2) }()
	time.Sleep(10 * time.Millisecond) // let it queue
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled Next = %v", err)
	}
	close(gate)
	if got := <-other; fmtIDs(got) != "1 2" {
		t.Errorf("other waiter got %v, want [1 2]", got)
	}
	if got := next(t, g, 1); fmtIDs(got) != "3" {
		t.Errorf("then %v, want [3]", got)
	}
}

// TestTableConcurrent: many goroutines on several generators sharing one
// row, with a slow server so callers pile up while blocks are fetched.
func TestTableConcurrent(t *testing.T) {
	for _, refill := range []float64{0, 0.8} {
		f := newFakeDB()
		f.delay = 200 * time.Microsecond
		const gens, workers, calls = 3, 32, 200
		recs := make([]*recorder, gens)
		var wg sync.WaitGroup
		for i := range recs {
			recs[i] = &recorder{}
			g := newTable(t, TableConfig{Name: "s", Table: "d.t", Block: 50, Refill: refill}, f.execer(t))
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for c := 0; c < calls; c++ {
						n := 1 + (w*7+c)%9
						if c%97 == 0 {
							n = 120 // more than a block
						}
						if err := recs[i].do(context.Background(), g, n); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
		}
		wg.Wait()
		var sets [][]call
		want := 0
		for _, r := range recs {
			checkMonotonic(t, r.calls)
			sets = append(sets, r.calls)
			for _, c := range r.calls {
				want += len(c.ids)
			}
		}
		if n := checkUnique(t, sets...); n != want {
			t.Errorf("refill %v: %d distinct IDs, want %d", refill, n, want)
		}
		t.Logf("refill %v: %d IDs, %d UPDATEs", refill, want, f.updates())
	}
}

// TestTableCancelHead: callers queued behind a large request that gives
// up are served from the IDs at hand.
func TestTableCancelHead(t *testing.T) {
	f := newFakeDB()
	g := newTable(t, TableConfig{Name: "s", Table: "d.t", Block: 10}, f.execer(t))
	next(t, g, 5) // 6..10 left
	gate := make(chan struct{})
	defer close(gate)
	f.hook = func(_ context.Context, sql string) error {
		if strings.HasPrefix(sql, "UPDATE") {
			<-gate
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- g.Next(ctx, make([]uint64, 20)) }()
	for {
		g.mu.Lock()
		n := len(g.waiters)
		g.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	small := make(chan []uint64, 1)
	go func() { small <- next(t, g, 2) }() // queued behind the 20
	time.Sleep(10 * time.Millisecond)
	select {
	case got := <-small:
		t.Fatalf("served %v ahead of an earlier caller", got)
	default:
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled Next = %v", err)
	}
	select {
	case got := <-small:
		if fmtIDs(got) != "6 7" {
			t.Errorf("got %v, want [6 7]", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the caller behind the canceled one still waits")
	}
}
