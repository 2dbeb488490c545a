package integration

import (
	"context"
	"database/sql"
	"testing"
)

// keysRules is the schema of issue 10's reproductions: t_a hashed on INT
// id over 4 physical tables on 2 slices, t_b linked on a_id, t_c by month
// of a DATETIME, t_g global.
const keysRules = `    default_slice: s0
    databases:
      - name: it_keys
        tables:
          - {name: t_a, type: sharded, key: id, algorithm: hash, slices: [s0, s1], tables_per_slice: 2}
          - {name: t_b, type: linked, parent: t_a, key: a_id}
          - {name: t_c, type: sharded, key: dt, algorithm: date_month, slices: [s0, s1], ranges: ["202301-202306", "202307-202312"], timezone: UTC}
          - {name: t_g, type: global}
`

// keysSetup starts a proxy over two slices with a fresh it_keys database.
func keysSetup(t *testing.T) (*harness, *sql.DB) {
	h := startProxy(t, options{slices: 2, nsExtra: keysRules})
	for _, sl := range h.topo.Slices[:2] {
		h.topo.Exec(t, sl.Primary, "DROP DATABASE IF EXISTS it_keys", "CREATE DATABASE it_keys")
	}
	t.Cleanup(func() {
		for _, sl := range h.topo.Slices[:2] {
			h.topo.Exec(t, sl.Primary, "DROP DATABASE IF EXISTS it_keys")
		}
	})
	db := h.open(splitUser, splitPass, "it_keys", "")
	mustExec(t, db,
		"CREATE TABLE t_a (id INT PRIMARY KEY, s VARCHAR(20))",
		"CREATE TABLE t_b (id INT PRIMARY KEY, a_id INT)",
		"CREATE TABLE t_c (id INT PRIMARY KEY, dt DATETIME)",
		"CREATE TABLE t_g (id INT PRIMARY KEY, s VARCHAR(40))")
	return h, db
}

// TestLockingReadsOnPrimary: LOCK IN SHARE MODE reaches MariaDB in its
// own syntax (the parser prints FOR SHARE, which MariaDB 10.11 rejects),
// and locking reads run on the primary. A row written on the primary
// with the binary log off never reaches the replica: only a read of the
// primary sees it.
func TestLockingReadsOnPrimary(t *testing.T) {
	h, db := keysSetup(t)
	ctx := context.Background()
	// id 1 lives in t_a_0001 on s0.
	c, err := h.rootDB(h.topo.Slices[0].Primary, "it_keys").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "SET sql_log_bin = 0", "INSERT INTO t_a_0001 (id, s) VALUES (1, 'primary only')", "SET sql_log_bin = 1")
	c.Close()
	for _, q := range []string{
		"SELECT s FROM t_a WHERE id = 1 LOCK IN SHARE MODE",
		"SELECT s FROM t_a WHERE id = 1 FOR UPDATE",
		"SELECT s FROM t_a WHERE id IN (1, 2) LOCK IN SHARE MODE",
		"SELECT s FROM t_a LOCK IN SHARE MODE",
	} {
		for _, inTxn := range []bool{false, true} {
			conn := h.conn(db)
			if inTxn {
				mustExec(t, conn, "BEGIN")
			}
			if got := queryString(t, conn, q); got != "primary only" {
				t.Errorf("%s (in transaction %v): %q", q, inTxn, got)
			}
			if inTxn {
				mustExec(t, conn, "COMMIT")
			}
			conn.Close()
		}
	}
}
