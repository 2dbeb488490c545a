package integration

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

const dtxRules = `    default_slice: s0
    databases:
      - name: it_dtx
        tables:
          - {name: t_user, type: sharded, key: id, algorithm: hash, slices: [s0, s1, s2], tables_per_slice: 1}
          - {name: t_region, type: global}
          - {name: t_account, type: sharded, key: id, algorithm: mod, slices: [s0, s1, s2], tables_per_slice: 1}
          - {name: t_seq, type: sharded, key: id, algorithm: mod, slices: [s0, s1, s2], tables_per_slice: 1, sequence: {block: 10}}
`

// dtxSetup starts a proxy over three slices with a fresh it_dtx database.
func dtxSetup(t *testing.T) (*harness, *sql.DB) {
	h := startProxy(t, options{slices: 3, nsExtra: dtxRules})
	for _, sl := range h.topo.Slices[:3] {
		h.topo.Exec(t, sl.Primary, "DROP DATABASE IF EXISTS it_dtx", "CREATE DATABASE it_dtx")
	}
	t.Cleanup(func() {
		for _, sl := range h.topo.Slices[:3] {
			h.topo.Exec(t, sl.Primary, "DROP DATABASE IF EXISTS it_dtx")
		}
	})
	db := h.open(splitUser, splitPass, "it_dtx", "interpolateParams=true")
	mustExec(t, db,
		"CREATE TABLE t_user (id BIGINT PRIMARY KEY, name VARCHAR(40))",
		"CREATE TABLE t_region (id INT PRIMARY KEY, name VARCHAR(20))",
		"CREATE TABLE t_account (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL)",
		"CREATE TABLE t_seq (id BIGINT PRIMARY KEY, name VARCHAR(20))")
	return h, db
}

// countOn counts rows directly on a slice's primary.
func countOn(t *testing.T, h *harness, slice int, query string) int {
	t.Helper()
	var n int
	if err := h.rootDB(h.topo.Slices[slice].Primary, "it_dtx").QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s on slice %d: %v", query, slice, err)
	}
	return n
}

// TestGlobalTableWriteAllOrNothing: a duplicate key on one copy of a
// global table leaves no copy with the row (Gaea keeps it on the others).
func TestGlobalTableWriteAllOrNothing(t *testing.T) {
	h, db := dtxSetup(t)
	mustExec(t, db, "INSERT INTO t_region VALUES (1, 'north'), (2, 'south')")
	for s := 0; s < 3; s++ {
		if n := countOn(t, h, s, "SELECT COUNT(*) FROM t_region"); n != 2 {
			t.Fatalf("slice %d has %d rows of the global table, want 2", s, n)
		}
	}
	// Make the copies differ on purpose: id 5 only on slice 1.
	h.topo.Exec(t, h.topo.Slices[1].Primary, "INSERT INTO it_dtx.t_region VALUES (5, 'stray')")
	_, err := db.Exec("INSERT INTO t_region VALUES (5, 'east')")
	mysqlErr(t, err, 1062, "23000")
	for _, s := range []int{0, 2} {
		if n := countOn(t, h, s, "SELECT COUNT(*) FROM t_region WHERE id = 5"); n != 0 {
			t.Fatalf("slice %d kept the row of a failed global insert", s)
		}
	}
	// Updates reach every copy; the client sees one copy's count.
	res, err := db.Exec("UPDATE t_region SET name = 'N' WHERE id = 1")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("global update affected %d rows, want 1", n)
	}
	for s := 0; s < 3; s++ {
		if n := countOn(t, h, s, "SELECT COUNT(*) FROM t_region WHERE name = 'N'"); n != 1 {
			t.Fatalf("slice %d missed the global update", s)
		}
	}
}

// TestCrossSliceWritesAtomic: multi-row inserts and explicit transactions
// over several slices commit everywhere or nowhere; savepoints work on
// every participant.
func TestCrossSliceWritesAtomic(t *testing.T) {
	h, db := dtxSetup(t)
	// id % 3 picks the slice (mod over one table per slice).
	mustExec(t, db, "INSERT INTO t_user (id, name) VALUES (3, 'a'), (4, 'b'), (5, 'c')")
	for s := 0; s < 3; s++ {
		if n := countOn(t, h, s, fmt.Sprintf("SELECT COUNT(*) FROM t_user_%04d", s)); n != 1 {
			t.Fatalf("slice %d has %d users, want 1", s, n)
		}
	}
	// A duplicate on one slice fails the whole multi-row insert.
	_, err := db.Exec("INSERT INTO t_user (id, name) VALUES (6, 'd'), (7, 'e'), (5, 'dup')")
	mysqlErr(t, err, 1062, "23000")
	if n := countOn(t, h, 0, "SELECT COUNT(*) FROM t_user_0000 WHERE id = 6"); n != 0 { // 6 % 3 = 0
		t.Fatal("slice 0 kept a row of a failed multi-slice insert")
	}
	// An UPDATE over several slices reports the sum of affected rows.
	res, err := db.Exec("UPDATE t_user SET name = 'all'")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 3 {
		t.Fatalf("scatter update affected %d rows, want 3", n)
	}
	// An explicit transaction over three slices.
	conn := h.conn(db)
	ctx := context.Background()
	mustExec(t, conn, "BEGIN", "UPDATE t_user SET name = 'tx' WHERE id = 3", "UPDATE t_user SET name = 'tx' WHERE id = 4",
		"INSERT INTO t_user (id, name) VALUES (8, 'tx')", "COMMIT")
	if got := queryString(t, db, "/*master*/ SELECT COUNT(*) FROM t_user WHERE name = 'tx'"); got != "3" {
		t.Fatalf("committed cross-slice transaction: %s rows", got)
	}
	mustExec(t, conn, "BEGIN", "UPDATE t_user SET name = 'rb' WHERE id = 3", "UPDATE t_user SET name = 'rb' WHERE id = 4", "ROLLBACK")
	if got := queryString(t, db, "/*master*/ SELECT COUNT(*) FROM t_user WHERE name = 'rb'"); got != "0" {
		t.Fatalf("rolled back cross-slice transaction left %s rows", got)
	}
	// Savepoints apply to every participant, including slices that join later.
	mustExec(t, conn, "BEGIN", "INSERT INTO t_user (id, name) VALUES (9, 'sp')", "SAVEPOINT a",
		"INSERT INTO t_user (id, name) VALUES (10, 'sp')", "INSERT INTO t_user (id, name) VALUES (11, 'sp')",
		"ROLLBACK TO SAVEPOINT a", "INSERT INTO t_user (id, name) VALUES (12, 'sp')", "COMMIT")
	got := queryStrings(t, db, "/*master*/ SELECT id FROM t_user WHERE name = 'sp' ORDER BY id")
	if strings.Join(got, ",") != "9,12" {
		t.Fatalf("savepoint across slices: %v, want 9,12", got)
	}
	// Client XA statements are refused inside a proxy-made distributed transaction.
	mustExec(t, conn, "BEGIN", "UPDATE t_user SET name = 'x' WHERE id = 3", "UPDATE t_user SET name = 'x' WHERE id = 4")
	_, err = conn.ExecContext(ctx, "XA START 'mine'")
	mysqlErr(t, err, 1399, "XAE07")
	mustExec(t, conn, "ROLLBACK")
	conn.Close()
	// The decision rows of finished transactions do not pile up forever,
	// and nothing stays prepared.
	for s := 0; s < 3; s++ {
		rows := ourPrepared(t, h.rootDB(h.topo.Slices[s].Primary, ""))
		if len(rows) != 0 {
			t.Fatalf("slice %d has prepared XA branches left: %v", s, rows)
		}
	}
	h.poolsIdle(t)
}

// TestSequenceAndLastInsertID: the proxy fills an omitted sequence column,
// the OK packet and LAST_INSERT_ID() carry the first generated ID, also
// after the session moved to other backend connections.
func TestSequenceAndLastInsertID(t *testing.T) {
	h, db := dtxSetup(t)
	conn := h.conn(db)
	defer conn.Close()
	ctx := context.Background()
	res, err := conn.ExecContext(ctx, "INSERT INTO t_seq (name) VALUES ('a'), ('b'), ('c'), ('d')")
	if err != nil {
		t.Fatal(err)
	}
	first, _ := res.LastInsertId()
	if first < 1 {
		t.Fatalf("OK packet insert id %d", first)
	}
	// The rows got consecutive IDs from one block and spread over the slices.
	ids := queryStrings(t, db, "/*master*/ SELECT id FROM t_seq ORDER BY id")
	if len(ids) != 4 || ids[0] != fmt.Sprint(first) {
		t.Fatalf("ids %v, first %d", ids, first)
	}
	mustExec(t, conn, "/*master*/ SELECT COUNT(*) FROM t_user") // another backend connection
	var lid int64
	if err := conn.QueryRowContext(ctx, "SELECT LAST_INSERT_ID()").Scan(&lid); err != nil || lid != first {
		t.Fatalf("LAST_INSERT_ID() = %d (%v), want %d", lid, err, first)
	}
	// A second proxy on the same namespace never hands out the same IDs.
	h2 := startProxyOn(t, h.topo, options{slices: 3, nsExtra: dtxRules})
	db2 := h2.open(splitUser, splitPass, "it_dtx", "interpolateParams=true")
	var wg sync.WaitGroup
	for _, d := range []*sql.DB{db, db2} {
		wg.Add(1)
		go func(d *sql.DB) {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				if _, err := d.Exec("INSERT INTO t_seq (name) VALUES ('p')"); err != nil {
					t.Error(err)
					return
				}
			}
		}(d)
	}
	wg.Wait()
	if got := queryString(t, db, "/*master*/ SELECT COUNT(DISTINCT id) FROM t_seq"); got != "64" {
		t.Fatalf("%s distinct ids, want 64", got)
	}
	// An ID given explicitly is kept.
	mustExec(t, db, "INSERT INTO t_seq (id, name) VALUES (1000000, 'given')")
	if got := queryString(t, db, "/*master*/ SELECT name FROM t_seq WHERE id = 1000000"); got != "given" {
		t.Fatalf("explicit id: %q", got)
	}
}

// TestXARecoveryAtStartup: a branch left prepared by a proxy that died
// after writing its commit decision is committed by the next proxy; one
// without a decision is rolled back.
func TestXARecoveryAtStartup(t *testing.T) {
	h, db := dtxSetup(t)
	mustExec(t, db, "INSERT INTO t_user (id, name) VALUES (4, 'before')") // slice 1
	_ = db
	p1 := h.topo.Slices[1].Primary
	p0 := h.topo.Slices[0].Primary
	// Make sure the decision table exists (the proxy creates it at startup).
	waitFor(t, 15*time.Second, func() bool {
		var n int
		err := h.rootDB(p0, "").QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'switchyard' AND table_name = 'xa_decisions'").Scan(&n)
		return err == nil && n == 1
	})
	const formatID = 0x53595831
	prepare := func(gtrid, sql string) {
		d := h.rootDB(p1, "it_dtx")
		c, err := d.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{fmt.Sprintf("XA START '%s','s1',%d", gtrid, formatID), sql,
			fmt.Sprintf("XA END '%s','s1',%d", gtrid, formatID), fmt.Sprintf("XA PREPARE '%s','s1',%d", gtrid, formatID)} {
			if _, err := c.ExecContext(context.Background(), q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		// The "dead proxy" drops its connection without XA COMMIT.
		c.Close()
		d.Close()
	}
	commitG, abortG := "sy1:itest:s0:dead01:1", "sy1:itest:s0:dead01:2"
	prepare(commitG, "UPDATE t_user_0001 SET name = 'committed' WHERE id = 4")
	h.topo.Exec(t, p0, fmt.Sprintf("INSERT INTO switchyard.xa_decisions (gtrid, decision) VALUES ('%s', 'commit')", commitG))
	prepare(abortG, "INSERT INTO t_user_0001 VALUES (7, 'orphan')")
	// The running proxy's recovery loop (every few seconds) settles both.
	direct := h.rootDB(p1, "it_dtx")
	waitFor(t, 30*time.Second, func() bool {
		var name string
		err := direct.QueryRow("SELECT name FROM t_user_0001 WHERE id = 4").Scan(&name)
		rows := ourPrepared(t, direct)
		return err == nil && name == "committed" && len(rows) == 0
	})
	if n := countOn(t, h, 1, "SELECT COUNT(*) FROM t_user_0001 WHERE id = 7"); n != 0 {
		t.Fatal("a prepared branch without a commit decision was committed")
	}
}

// TestConcurrentTransfers: clients move money between accounts on
// different slices while the proxy is replaced mid-run; afterwards the
// total is unchanged and no transfer is half-applied, checked directly on
// the backends.
func TestConcurrentTransfers(t *testing.T) {
	h, db := dtxSetup(t)
	const accounts, start = 12, 1000
	var vals []string
	for i := 0; i < accounts; i++ {
		vals = append(vals, fmt.Sprintf("(%d, %d)", i, start))
	}
	mustExec(t, db, "INSERT INTO t_account (id, balance) VALUES "+strings.Join(vals, ","))
	h2 := startProxyOn(t, h.topo, options{slices: 3, nsExtra: dtxRules})
	dbs := []*sql.DB{db, h2.open(splitUser, splitPass, "it_dtx", "interpolateParams=true")}
	var wg sync.WaitGroup
	var mu sync.Mutex
	committed, failed := 0, 0
	begun := time.Now()
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := 0; i < 150; i++ {
				d := dbs[(w+i)%2]
				from, to := r.IntN(accounts), r.IntN(accounts)
				if from == to {
					continue
				}
				amount := 1 + r.IntN(50)
				err := transfer(d, from, to, amount, r.IntN(10) == 0)
				mu.Lock()
				if err == nil {
					committed++
				} else {
					failed++
				}
				mu.Unlock()
			}
		}(w)
	}
	// Disturb: close the second proxy mid-run (its clients get errors),
	// then cut every backend connection to one slice.
	time.Sleep(200 * time.Millisecond)
	h2.proxy.Close()
	time.Sleep(100 * time.Millisecond)
	killer := h.rootDB(h.topo.Slices[2].Primary, "")
	// Only this test's backend connections (other packages' tests share
	// the topology and the backend user).
	ids := queryStrings(t, killer, "SELECT id FROM information_schema.processlist WHERE user = '"+h.topo.BackendUser+"' AND db = 'it_dtx'")
	for _, id := range ids {
		_, _ = killer.Exec("KILL CONNECTION " + id)
	}
	t.Logf("killed %d backend connections of slice 2", len(ids))
	wg.Wait()
	t.Logf("%d transfers committed, %d failed or aborted", committed, failed)
	if committed == 0 {
		t.Fatal("no transfer committed")
	}
	// Recovery settles whatever the closed proxy left prepared.
	t.Logf("transfers done in %v", time.Since(begun))
	var directs []*sql.DB
	for s := 0; s < 3; s++ {
		directs = append(directs, h.rootDB(h.topo.Slices[s].Primary, ""))
	}
	waitFor(t, 30*time.Second, func() bool {
		for _, d := range directs {
			if len(ourPrepared(t, d)) != 0 {
				return false
			}
		}
		return true
	})
	t.Logf("nothing prepared after %v", time.Since(begun))
	total := 0
	for s := 0; s < 3; s++ {
		total += countOn(t, h, s, fmt.Sprintf("SELECT COALESCE(SUM(balance), 0) FROM t_account_%04d", s))
	}
	if total != accounts*start {
		t.Fatalf("total balance %d, want %d: a transfer was half-applied", total, accounts*start)
	}
}

// transfer moves amount between two accounts in one transaction (rolled
// back instead of committed when abort is set). Accounts are locked in id
// order, as applications do to avoid deadlocks: InnoDB cannot see a
// deadlock whose cycle spans two servers, so it would only end by
// innodb_lock_wait_timeout.
func transfer(d *sql.DB, from, to, amount int, abort bool) error {
	tx, err := d.Begin()
	if err != nil {
		return err
	}
	first, second := from, to
	delta1, delta2 := -amount, amount
	if to < from {
		first, second, delta1, delta2 = to, from, amount, -amount
	}
	if _, err := tx.Exec("UPDATE t_account SET balance = balance + ? WHERE id = ?", delta1, first); err != nil {
		tx.Rollback()
		return err
	}
	if _, err := tx.Exec("UPDATE t_account SET balance = balance + ? WHERE id = ?", delta2, second); err != nil {
		tx.Rollback()
		return err
	}
	if abort {
		tx.Rollback()
		return fmt.Errorf("aborted")
	}
	return tx.Commit()
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not reached within %v", timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestTransactionModes: best_effort commits slice by slice without XA;
// single_slice_only refuses a second slice; a snowflake sequence fills IDs
// and @@last_insert_id reports the first.
func TestTransactionModes(t *testing.T) {
	h, _ := dtxSetup(t)
	rules := strings.Replace(dtxRules, "sequence: {block: 10}", "sequence: {type: snowflake}", 1)
	be := startProxyOn(t, h.topo, options{slices: 3, nsExtra: rules + "    transactions: best_effort\n    worker_id: 7\n"})
	db := be.open(splitUser, splitPass, "it_dtx", "interpolateParams=true")
	mustExec(t, db, "INSERT INTO t_user (id, name) VALUES (3, 'a'), (4, 'b')")
	conn := be.conn(db)
	mustExec(t, conn, "BEGIN", "UPDATE t_user SET name = 'be' WHERE id = 3", "UPDATE t_user SET name = 'be' WHERE id = 4", "COMMIT")
	if got := queryString(t, db, "/*master*/ SELECT COUNT(*) FROM t_user WHERE name = 'be'"); got != "2" {
		t.Fatalf("best_effort commit: %s rows", got)
	}
	// A failure on a later slice leaves the earlier one written, and says so.
	_, err := db.Exec("INSERT INTO t_user (id, name) VALUES (6, 'c'), (4, 'dup')")
	me := mysqlErr(t, err, 1062, "23000")
	if !strings.Contains(me.Message, "best_effort") {
		t.Fatalf("best_effort failure message: %q", me.Message)
	}
	for s := 0; s < 3; s++ {
		if n := len(ourPrepared(t, h.rootDB(h.topo.Slices[s].Primary, ""))); n != 0 {
			t.Fatalf("best_effort left %d XA branches on slice %d", n, s)
		}
	}
	// Snowflake IDs: increasing, carrying the worker id, reported by
	// @@last_insert_id after moving to other connections.
	res, err := conn.ExecContext(context.Background(), "INSERT INTO t_seq (name) VALUES ('s1'), ('s2')")
	if err != nil {
		t.Fatal(err)
	}
	first, _ := res.LastInsertId()
	if first <= 0 || (first>>12)&1023 != 7 {
		t.Fatalf("snowflake id %d (worker %d), want worker 7", first, (first>>12)&1023)
	}
	mustExec(t, conn, "/*master*/ SELECT COUNT(*) FROM t_user")
	if got := queryString(t, conn, "SELECT @@last_insert_id"); got != fmt.Sprint(first) {
		t.Fatalf("@@last_insert_id = %s, want %d", got, first)
	}
	conn.Close()

	one := startProxyOn(t, h.topo, options{slices: 3, nsExtra: dtxRules + "    transactions: single_slice_only\n"})
	db1 := one.open(splitUser, splitPass, "it_dtx", "interpolateParams=true")
	c1 := one.conn(db1)
	defer c1.Close()
	mustExec(t, c1, "BEGIN", "UPDATE t_user SET name = 'x' WHERE id = 3")
	_, err = c1.ExecContext(context.Background(), "UPDATE t_user SET name = 'x' WHERE id = 4")
	mysqlErr(t, err, 1235, "42000")
	mustExec(t, c1, "ROLLBACK")
	_, err = db1.Exec("UPDATE t_region SET name = 'n'")
	mysqlErr(t, err, 1235, "42000")
}

// TestClientXAPassthrough: a client's own XA transaction on one slice
// passes through; reaching a second slice is refused.
func TestClientXAPassthrough(t *testing.T) {
	_, db := dtxSetup(t)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// id 3 and 6 are on slice s0 (mod 3), the default slice.
	mustExec(t, conn, "XA START 'client1'", "INSERT INTO t_user (id, name) VALUES (3, 'xa'), (6, 'xa')", "XA END 'client1'", "XA PREPARE 'client1'", "XA COMMIT 'client1'")
	if got := queryString(t, db, "/*master*/ SELECT COUNT(*) FROM t_user WHERE name = 'xa'"); got != "2" {
		t.Fatalf("client XA transaction: %s rows", got)
	}
	mustExec(t, conn, "XA START 'client2'", "INSERT INTO t_user (id, name) VALUES (9, 'xa2')")
	_, err = conn.ExecContext(context.Background(), "INSERT INTO t_user (id, name) VALUES (4, 'xa2')") // slice s1
	mysqlErr(t, err, 1235, "42000")
	mustExec(t, conn, "XA END 'client2'", "XA ROLLBACK 'client2'")
	if got := queryString(t, db, "/*master*/ SELECT COUNT(*) FROM t_user WHERE name = 'xa2'"); got != "0" {
		t.Fatalf("rolled back client XA transaction left %s rows", got)
	}
}

// TestPreparedByKey: statements prepared with the key as a parameter run
// as prepared statements on the physical table the key selects (the
// backend's COM_STMT_EXECUTE counters move), also inside a transaction
// over several slices.
func TestPreparedByKey(t *testing.T) {
	h, db := dtxSetup(t)
	// Server-side prepares; reads on replicas see every committed write.
	ps := h.open(splitUser, splitPass, "it_dtx", "switchyard_read_consistency=%27global%27")
	executes := func() int {
		n := 0
		for s := 0; s < 3; s++ {
			var name string
			var v int
			if err := h.rootDB(h.topo.Slices[s].Primary, "").QueryRow("SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'").Scan(&name, &v); err != nil {
				t.Fatal(err)
			}
			n += v
		}
		return n
	}
	before := executes()
	ins, err := ps.Prepare("INSERT INTO t_user (id, name) VALUES (?, ?)")
	if err != nil {
		t.Fatal(err)
	}
	for id := 1; id <= 9; id++ {
		if _, err := ins.Exec(id, fmt.Sprintf("p%d", id)); err != nil {
			t.Fatal(err)
		}
	}
	ins.Close()
	if n := executes() - before; n < 9 {
		t.Fatalf("%d backend executions for 9 prepared inserts, want at least 9", n)
	}
	sel, err := ps.Prepare("SELECT name FROM t_user WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	defer sel.Close()
	for id := 1; id <= 9; id++ {
		var name string
		if err := sel.QueryRow(id).Scan(&name); err != nil || name != fmt.Sprintf("p%d", id) {
			t.Fatalf("id %d: %q %v", id, name, err)
		}
	}
	// A transaction over two slices with prepared statements.
	tx, err := ps.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int{1, 2} {
		if _, err := tx.Exec("UPDATE t_user SET name = ? WHERE id = ?", "tx", id); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, db, "/*master*/ SELECT COUNT(*) FROM t_user WHERE name = 'tx'"); got != "2" {
		t.Fatalf("prepared cross-slice transaction: %s rows", got)
	}
	if _, err := ps.Exec("DELETE FROM t_user WHERE id = ?", 9); err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, db, "/*master*/ SELECT COUNT(*) FROM t_user"); got != "8" {
		t.Fatalf("after prepared delete: %s rows", got)
	}
	// A NULL key falls back to the proxy's own routing (no row matches).
	var name sql.NullString
	err = sel.QueryRow(nil).Scan(&name)
	if err != sql.ErrNoRows {
		t.Fatalf("NULL key: %v", err)
	}
}

// ourPrepared lists the prepared XA branches of the test namespace
// ("itest") on a server; other packages' tests share the topology.
func ourPrepared(t *testing.T, d *sql.DB) []string {
	t.Helper()
	rows, err := d.Query("XA RECOVER")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var format, glen, blen int64
		var data []byte
		if err := rows.Scan(&format, &glen, &blen, &data); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(string(data), "sy1:itest:") {
			out = append(out, string(data))
		}
	}
	return out
}

// TestReadYourWritesAfterProxyWrites: writes the proxy runs itself (rows
// of one INSERT on several slices, committed with XA) still give the
// session read-your-writes on replicas, per slice.
func TestReadYourWritesAfterProxyWrites(t *testing.T) {
	h, _ := dtxSetup(t)
	rep := h.topo.Slices[1].Replicas[0]
	h.topo.Exec(t, rep, "STOP SLAVE SQL_THREAD")
	t.Cleanup(func() { h.topo.Exec(t, rep, "START SLAVE SQL_THREAD") })
	db := h.open(splitUser, splitPass, "it_dtx", "interpolateParams=true")
	conn := h.conn(db)
	defer conn.Close()
	mustExec(t, conn, "SET SESSION switchyard_read_consistency = 'session'")
	// id 4 is on slice s1 (stalled replica), id 5 on s2: an XA write.
	mustExec(t, conn, "INSERT INTO t_user (id, name) VALUES (4, 'mine'), (5, 'mine')")
	for _, id := range []int{4, 5} {
		if got := queryString(t, conn, "SELECT name FROM t_user WHERE id = ?", id); got != "mine" {
			t.Fatalf("read of id %d after the session's own write: %q", id, got)
		}
	}
	// A one-table write the proxy runs itself (a sequence id).
	mustExec(t, conn, "INSERT INTO t_seq (name) VALUES ('seq')")
	if got := queryString(t, conn, "SELECT COUNT(*) FROM t_seq WHERE name = 'seq'"); got != "1" {
		t.Fatalf("scatter read after the session's own sequence insert: %q", got)
	}
}
