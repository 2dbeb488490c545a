package sequence

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/testtopo"
)

// realServer returns the primary of slice s0 of $SWITCHYARD_TOPOLOGY (the
// test is skipped without one), a fresh database name for this test, and
// dials backend connections to it as the proxy's backend user.
func realServer(t testing.TB) (tp *testtopo.Topology, db string, dial func() *backend.Conn) {
	t.Helper()
	tp = testtopo.Require(t)
	primary := tp.Slices[0].Primary
	db = fmt.Sprintf("sy_seq_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	opts := backend.DialOptions{User: tp.BackendUser, Password: tp.BackendPassword, ConnectTimeout: 10 * time.Second}
	dial = func() *backend.Conn {
		t.Helper()
		c, err := backend.Dial(context.Background(), primary.Addr, opts)
		if err != nil {
			t.Fatalf("dial %s: %v", primary.Addr, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	t.Cleanup(func() { tp.Exec(t, primary, "DROP DATABASE IF EXISTS `"+db+"`") })
	return tp, db, dial
}

func poolFor(t testing.TB, tp *testtopo.Topology) *backend.Pool {
	p := backend.NewPool(tp.Slices[0].Primary.Addr, backend.PoolOptions{
		Dial:    backend.DialOptions{User: tp.BackendUser, Password: tp.BackendPassword, ConnectTimeout: 10 * time.Second},
		MaxOpen: 4,
	})
	t.Cleanup(p.Close)
	return p
}

// TestTableMariaDB: two Table generators ("two proxies", one on a dedicated
// connection, one on a pool) with block 100, 8 goroutines each, allocate
// 20,000 IDs concurrently from one row of a real server.
func TestTableMariaDB(t *testing.T) {
	tp, db, dial := realServer(t)
	execA, _ := ForConn(dial())
	execB, _ := ForPool(poolFor(t, tp))
	cfg := TableConfig{Name: "shop.t_user", Table: db + ".sequences", Block: 100}
	a := newTable(t, cfg, execA)
	cfg.Refill = 0.8 // one of them refills in the background
	b := newTable(t, cfg, execB)

	// Both "proxies" create the table and the row at once.
	var wg sync.WaitGroup
	for _, g := range []*Table{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.Ensure(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()

	const goroutines, total = 8, 20000
	per := total / 2 / goroutines
	recs := []*recorder{{}, {}}
	start := time.Now()
	for i, g := range []*Table{a, b} {
		for w := 0; w < goroutines; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for left := per; left > 0; {
					n := min(1+(w+left)%7, left) // 1..7 rows per INSERT
					if err := recs[i].do(context.Background(), g, n); err != nil {
						t.Error(err)
						return
					}
					left -= n
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	checkMonotonic(t, recs[0].calls)
	checkMonotonic(t, recs[1].calls)
	if n := checkUnique(t, recs[0].calls, recs[1].calls); n != total {
		t.Errorf("%d distinct IDs, want %d", n, total)
	}

	// The row is past every ID, and blocks were burned only at the ends.
	var maxID uint64
	for _, r := range recs {
		for _, c := range r.calls {
			maxID = max(maxID, c.ids[len(c.ids)-1])
		}
	}
	_, query := ForConn(dial())
	v, err := query(context.Background(), "SELECT next_id FROM `"+db+"`.sequences WHERE name = 'shop.t_user'")
	if err != nil {
		t.Fatal(err)
	}
	row, _ := strconv.ParseUint(v, 10, 64)
	if row <= maxID || (row-1)%100 != 0 || row-1 > total+3*100 {
		t.Errorf("next_id = %d after %d IDs up to %d (block 100)", row, total, maxID)
	}
	t.Logf("%d IDs from 2 generators x %d goroutines in %v (%.0f IDs/s); next_id %d, %d blocks",
		total, goroutines, elapsed.Round(time.Millisecond), total/elapsed.Seconds(), row, (row-1)/100)

	// A restarted proxy gets IDs above everything handed out before.
	c := newTable(t, TableConfig{Name: "shop.t_user", Table: db + ".sequences", Block: 100}, execA)
	if got := next(t, c, 1); got[0] <= maxID {
		t.Errorf("after restart: %d, not above %d", got[0], maxID)
	}
}

// TestTableMariaDBSetup: creation on first use, odd names, Advance from a
// table's current MAX(id), and LAST_INSERT_ID bookkeeping.
func TestTableMariaDBSetup(t *testing.T) {
	tp, db, dial := realServer(t)
	conn := dial()
	exec, query := ForConn(conn)

	// First use on a server without the database: created, then allocated.
	weird := "we'ird\\na`me é"
	g := newTable(t, TableConfig{Name: weird, Table: db + ".seq`s", Block: 10, Start: 500}, exec)
	if got := next(t, g, 3); fmtIDs(got) != "500 501 502" {
		t.Errorf("first IDs %v, want [500 501 502]", got)
	}
	if conn.LastInsertID != 510 {
		t.Errorf("conn.LastInsertID = %d, want 510", conn.LastInsertID)
	}
	v, err := query(context.Background(), "SELECT CONCAT(name, '=', next_id) FROM `"+db+"`.`seq``s`")
	if err != nil || v != weird+"=510" {
		t.Errorf("row = %q, %v; want %q", v, err, weird+"=510")
	}
	// Names are case-sensitive: another sequence.
	h := newTable(t, TableConfig{Name: "WE'IRD\\NA`ME É", Table: db + ".seq`s", Block: 10}, exec)
	if got := next(t, h, 1); fmtIDs(got) != "1" {
		t.Errorf("second sequence: %v, want [1]", got)
	}

	// Migration: a sharded table with rows on two physical tables.
	primary := tp.Slices[0].Primary
	tp.Exec(t, primary,
		"CREATE TABLE `"+db+"`.t_0 (id BIGINT PRIMARY KEY)",
		"CREATE TABLE `"+db+"`.t_1 (id BIGINT PRIMARY KEY)",
		"CREATE TABLE `"+db+"`.t_2 (id BIGINT PRIMARY KEY)",
		"INSERT INTO `"+db+"`.t_0 VALUES (4), (88)",
		"INSERT INTO `"+db+"`.t_1 VALUES (7), (12345)")
	var qs []string
	for i := 0; i < 3; i++ {
		q, err := MaxIDSQL(fmt.Sprintf("%s.t_%d", db, i), "id")
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
	}
	m := newTable(t, TableConfig{Name: "t", Table: db + ".sequences"}, exec)
	top, err := m.AdvancePast(context.Background(), query, qs...)
	if err != nil || top != 12345 {
		t.Fatalf("AdvancePast = %d, %v", top, err)
	}
	if got := next(t, m, 2); fmtIDs(got) != "12346 12347" {
		t.Errorf("after AdvancePast: %v", got)
	}
}

// BenchmarkTableNextMariaDB: IDs per second from a real server, one ID per
// call from parallel goroutines, by block size.
func BenchmarkTableNextMariaDB(b *testing.B) {
	_, db, dial := realServer(b)
	for _, block := range []uint64{1, 10, 100, 1000} {
		for _, refill := range []float64{0, 0.8} {
			b.Run(fmt.Sprintf("block=%d/refill=%v", block, refill), func(b *testing.B) {
				exec, _ := ForConn(dial())
				g := newTable(b, TableConfig{Name: b.Name(), Table: db + ".sequences", Block: block, Refill: refill}, exec)
				if err := g.Ensure(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					ids := make([]uint64, 1)
					for pb.Next() {
						if err := g.Next(context.Background(), ids); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "IDs/s")
			})
		}
	}
}
