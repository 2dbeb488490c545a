package integration

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
)

// Transaction control must behave the same whether it arrives as text
// (COM_QUERY), as a prepared statement (COM_STMT_PREPARE/EXECUTE, what
// drivers with server-side prepares send) or implied by autocommit=0 (what
// PyMySQL, mysqlclient, SQLAlchemy, JDBC setAutoCommit(false) do). Every
// case writes on several slices (t_user: id % 3 picks the slice) and checks
// each slice's physical table directly.

// usersOn counts the rows with the given ids on their slices' primaries.
func usersOn(t *testing.T, h *harness, ids ...int) int {
	t.Helper()
	n := 0
	for _, id := range ids {
		n += countOn(t, h, id%3, fmt.Sprintf("SELECT COUNT(*) FROM t_user_%04d WHERE id = %d", id%3, id))
	}
	return n
}

// prepExec prepares q on the session's connection (server-side) and runs it.
func prepExec(t *testing.T, c *sql.Conn, q string, args ...any) {
	t.Helper()
	ctx := context.Background()
	st, err := c.PrepareContext(ctx, q)
	if err != nil {
		t.Fatalf("prepare %q: %v", q, err)
	}
	defer st.Close()
	if _, err := st.ExecContext(ctx, args...); err != nil {
		t.Fatalf("execute %q: %v", q, err)
	}
}

// TestPreparedTransactionControl: a prepared COMMIT commits every slice of
// the transaction (it used to commit only the first and lose the rest while
// answering OK), a prepared ROLLBACK rolls every slice back, and the
// session is out of its transaction afterwards.
func TestPreparedTransactionControl(t *testing.T) {
	h, db := dtxSetup(t)
	ps := h.open(splitUser, splitPass, "it_dtx", "") // server-side prepares
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		begin, end  string
		prepBegin   bool
		prepEnd     bool
		ids         []int
		wantVisible int
	}{
		{"text BEGIN, prepared COMMIT", "BEGIN", "COMMIT", false, true, []int{1, 3}, 2},
		{"prepared BEGIN, prepared COMMIT", "BEGIN", "COMMIT", true, true, []int{4, 6, 8}, 3},
		{"prepared START TRANSACTION, prepared ROLLBACK", "START TRANSACTION", "ROLLBACK", true, true, []int{7, 9}, 0},
		{"text BEGIN, prepared ROLLBACK", "BEGIN", "ROLLBACK", false, true, []int{10, 12}, 0},
		{"prepared BEGIN, text COMMIT", "BEGIN", "COMMIT", true, false, []int{13, 15}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ps.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if tc.prepBegin {
				prepExec(t, c, tc.begin)
			} else {
				mustExec(t, c, tc.begin)
			}
			for _, id := range tc.ids {
				prepExec(t, c, "INSERT INTO t_user (id, name) VALUES (?, 'p')", id)
			}
			if n := usersOn(t, h, tc.ids...); n != 0 {
				t.Fatalf("%d uncommitted rows visible before the end of the transaction", n)
			}
			if tc.prepEnd {
				prepExec(t, c, tc.end)
			} else {
				mustExec(t, c, tc.end)
			}
			if n := usersOn(t, h, tc.ids...); n != tc.wantVisible {
				t.Fatalf("after %s: %d of %d rows on their slices, want %d", tc.end, n, len(tc.ids), tc.wantVisible)
			}
			// Out of the transaction: a read of every slice works.
			var n int
			if err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM t_user").Scan(&n); err != nil {
				t.Fatalf("read of several slices after %s: %v", tc.end, err)
			}
		})
	}
	// BEGIN inside a transaction over several slices commits it first, as
	// MariaDB's implicit commit does; the ROLLBACK then ends only the new one.
	c := h.conn(db)
	mustExec(t, c, "BEGIN", "INSERT INTO t_user (id, name) VALUES (16, 'x'), (17, 'x')", "BEGIN", "ROLLBACK")
	if n := usersOn(t, h, 16, 17); n != 2 {
		t.Fatalf("BEGIN inside a transaction did not commit it: %d of 2 rows", n)
	}
	c2, err := ps.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	mustExec(t, c2, "BEGIN", "INSERT INTO t_user (id, name) VALUES (18, 'x'), (19, 'x')")
	prepExec(t, c2, "BEGIN")
	prepExec(t, c2, "ROLLBACK")
	if n := usersOn(t, h, 18, 19); n != 2 {
		t.Fatalf("prepared BEGIN inside a transaction did not commit it: %d of 2 rows", n)
	}
}

// TestAutocommitOff: with autocommit=0 every statement runs inside a
// transaction that COMMIT or ROLLBACK ends, over any number of slices,
// in both protocols, exactly as after BEGIN.
func TestAutocommitOff(t *testing.T) {
	h, db := dtxSetup(t)
	ps := h.open(splitUser, splitPass, "it_dtx", "")
	ctx := context.Background()
	for _, prepared := range []bool{false, true} {
		name := "text"
		if prepared {
			name = "prepared"
		}
		t.Run(name, func(t *testing.T) {
			base := 100
			if prepared {
				base = 200
			}
			c, err := ps.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			run := func(q string, args ...any) {
				t.Helper()
				if prepared {
					prepExec(t, c, q, args...)
					return
				}
				if _, err := c.ExecContext(ctx, interpolate(q, args...)); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			run("SET autocommit=0")
			var ac string
			if err := c.QueryRowContext(ctx, "SELECT @@autocommit").Scan(&ac); err != nil || ac != "0" {
				t.Fatalf("@@autocommit = %q, %v; want 0", ac, err)
			}
			// The first read of several slices opens the transaction.
			var n int
			if err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM t_user").Scan(&n); err != nil {
				t.Fatalf("read of several slices with autocommit=0: %v", err)
			}
			ids := []int{base, base + 1, base + 2}
			for _, id := range ids {
				run("INSERT INTO t_user (id, name) VALUES (?, 'ac')", id)
			}
			if got := usersOn(t, h, ids...); got != 0 {
				t.Fatalf("%d rows visible before COMMIT", got)
			}
			run("COMMIT")
			if got := usersOn(t, h, ids...); got != 3 {
				t.Fatalf("after COMMIT: %d of 3 rows", got)
			}
			// The next statement opens a new transaction; ROLLBACK undoes
			// it on every slice.
			run("UPDATE t_user SET name = 'rolled' WHERE id IN (?, ?, ?)", ids[0], ids[1], ids[2])
			run("ROLLBACK")
			if got := queryString(t, db, fmt.Sprintf("/*master*/ SELECT COUNT(*) FROM t_user WHERE name = 'rolled' AND id >= %d AND id < %d", base, base+10)); got != "0" {
				t.Fatalf("ROLLBACK left %s updated rows", got)
			}
			// SET autocommit=1 commits the open transaction (MariaDB).
			run("INSERT INTO t_user (id, name) VALUES (?, 'ac1'), (?, 'ac1')", base+3, base+4)
			run("SET autocommit=1")
			if got := usersOn(t, h, base+3, base+4); got != 2 {
				t.Fatalf("SET autocommit=1 did not commit: %d of 2 rows", got)
			}
			// DDL commits the open transaction, then runs on every table.
			run("SET autocommit=0")
			run("INSERT INTO t_user (id, name) VALUES (?, 'ddl'), (?, 'ddl')", base+5, base+6)
			if _, err := c.ExecContext(ctx, fmt.Sprintf("ALTER TABLE t_account COMMENT = 'c%d'", base)); err != nil {
				t.Fatalf("DDL on a sharded table with autocommit=0: %v", err)
			}
			if got := usersOn(t, h, base+5, base+6); got != 2 {
				t.Fatalf("DDL did not commit the open transaction: %d of 2 rows", got)
			}
			run("ROLLBACK")
			if got := usersOn(t, h, base+5, base+6); got != 2 {
				t.Fatalf("ROLLBACK after DDL undid committed rows: %d of 2", got)
			}
			run("SET autocommit=1")
		})
	}
}

// interpolate replaces ? with integer arguments (the text variant).
func interpolate(q string, args ...any) string {
	out := []byte{}
	i := 0
	for k := 0; k < len(q); k++ {
		if q[k] == '?' && i < len(args) {
			out = fmt.Appendf(out, "%v", args[i])
			i++
			continue
		}
		out = append(out, q[k])
	}
	return string(out)
}

// TestNoDatabaseSession: a session that chose no database never runs in
// the database another session left on a pooled connection.
func TestNoDatabaseSession(t *testing.T) {
	h := startProxy(t, options{pool: "{max_open: 1}"})
	h.createDB("it_nodb")
	withDB := h.open(plainUser, plainPass, "it_nodb", "")
	mustExec(t, withDB, "CREATE TABLE IF NOT EXISTS t (id INT)")
	noDB := h.open(plainUser, plainPass, "", "")
	for i := 0; i < 3; i++ {
		if got := queryString(t, withDB, "SELECT DATABASE()"); got != "it_nodb" {
			t.Fatalf("DATABASE() = %q, want it_nodb", got)
		}
		var name sql.NullString
		if err := noDB.QueryRow("SELECT DATABASE()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if name.Valid {
			t.Fatalf("a session without a database sees DATABASE() = %q, want NULL", name.String)
		}
		_, err := noDB.Exec("CREATE TABLE leak_test (id INT)")
		mysqlErr(t, err, 1046, "3D000")
	}
}

// TestProxyWritesIgnoreClientAutocommit: a connection a client left with
// autocommit=0 serves the proxy's own writes (a sequence block) without
// putting them in a transaction the pool would roll back.
func TestProxyWritesIgnoreClientAutocommit(t *testing.T) {
	h := startProxy(t, options{slices: 3, nsExtra: dtxRules, pool: "{max_open: 1}"})
	for _, sl := range h.topo.Slices[:3] {
		h.topo.Exec(t, sl.Primary, "DROP DATABASE IF EXISTS it_dtx", "CREATE DATABASE it_dtx")
	}
	t.Cleanup(func() {
		for _, sl := range h.topo.Slices[:3] {
			h.topo.Exec(t, sl.Primary, "DROP DATABASE IF EXISTS it_dtx")
		}
	})
	db := h.open(plainUser, plainPass, "it_dtx", "")
	db.SetMaxOpenConns(1)
	mustExec(t, db, "CREATE TABLE t_seq (id BIGINT PRIMARY KEY, name VARCHAR(20))")
	// Leave autocommit=0 on the one slice-0 connection (where the
	// sequence table is).
	c := h.conn(db)
	mustExec(t, c, "SET autocommit=0", "SELECT * FROM t_seq WHERE id = 3", "COMMIT")
	c.Close()
	res, err := db.Exec("INSERT INTO t_seq (name) VALUES ('a')")
	if err != nil {
		t.Fatal(err)
	}
	if id, err := res.LastInsertId(); err != nil || id == 0 {
		t.Fatalf("sequence id %d, %v", id, err)
	}
	// The block the proxy took is committed on the sequence table.
	var n int
	if err := h.rootDB(h.topo.Slices[0].Primary, "").QueryRow("SELECT COUNT(*) FROM switchyard.sequences").Scan(&n); err != nil || n == 0 {
		t.Fatalf("sequence table rows: %d, %v (the allocation was rolled back)", n, err)
	}
}
