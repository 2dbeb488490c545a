package integration

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
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
          - {name: t_s, type: sharded, key: name, algorithm: hash, slices: [s0, s1], tables_per_slice: 2}
          - {name: t_r, type: sharded, key: id, algorithm: range, slices: [s0, s1], ranges: [[0, 100], [100, 200]]}
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
		"CREATE TABLE t_s (id INT PRIMARY KEY, name VARCHAR(20))",
		"CREATE TABLE t_r (id INT PRIMARY KEY, v INT)",
		"CREATE TABLE t_g (id INT AUTO_INCREMENT PRIMARY KEY, s VARCHAR(80), n BIGINT UNSIGNED, ts TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6))")
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

// misplaced counts rows of t_a and t_b that are not in the physical table
// their key selects (hash: CAST(key AS UNSIGNED) % 4; tables 0-1 on s0,
// 2-3 on s1).
func misplaced(t *testing.T, h *harness) int {
	t.Helper()
	n := 0
	for i := 0; i < 4; i++ {
		node := h.topo.Slices[i/2].Primary
		d := h.rootDB(node, "it_keys")
		for _, q := range []string{
			fmt.Sprintf("SELECT COUNT(*) FROM t_a_%04d WHERE CAST(id AS UNSIGNED) %% 4 <> %d", i, i),
			fmt.Sprintf("SELECT COUNT(*) FROM t_b_%04d WHERE CAST(a_id AS UNSIGNED) %% 4 <> %d", i, i),
		} {
			var k int
			if err := d.QueryRow(q).Scan(&k); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			n += k
		}
	}
	return n
}

// TestKeyValuesAsMariaDBReadsThem (issue 10, defects 1 and 2): rows are
// placed by the value MariaDB stores, conditions route by the value it
// compares with, for text and prepared statements.
func TestKeyValuesAsMariaDBReadsThem(t *testing.T) {
	h, db := keysSetup(t)
	ps := h.open(splitUser, splitPass, "it_keys", "") // server-side prepares
	for _, q := range []string{
		"INSERT INTO t_a (id, s) VALUES ('-16115', 'a'), (' 14', 'b'), (1e1, 'c'), (0x0b, 'd'), (b'1100', 'e'), (TRUE, 'f')",
		"INSERT INTO t_a (id, s) VALUES (13.0, 'g'), ('15 ', 'h'), ('1.6e1', 'i'), (' +17 ', 'j'), (18.5, 'k'), ('-19', 'l')",
		"INSERT INTO t_a (id, s) VALUES (32, 'm'), (228, 'n'), (0, 'o')",
		"INSERT INTO t_b (id, a_id) VALUES (1, ' 14'), (2, '-16115'), (3, 1e1), (4, 0x0b)",
	} {
		mustExec(t, db, q)
	}
	// Prepared parameters: mysql2 and others send JS numbers as DOUBLE;
	// go-sql-driver sends float64 so.
	if _, err := ps.Exec("INSERT INTO t_a (id, s) VALUES (?, ?)", float64(20), "p"); err != nil {
		t.Fatalf("INSERT with a DOUBLE key parameter: %v", err)
	}
	if _, err := ps.Exec("INSERT INTO t_a (id, s) VALUES (?, ?)", " 21", "q"); err != nil {
		t.Fatalf("INSERT with a string key parameter: %v", err)
	}
	if n := misplaced(t, h); n != 0 {
		t.Fatalf("%d rows misplaced", n)
	}
	reads := []struct{ q, want string }{
		{"SELECT s FROM t_a WHERE id = '-19' ORDER BY s", "l"},
		{"SELECT s FROM t_a WHERE id = ' 10' ORDER BY s", "c"},
		{"SELECT s FROM t_a WHERE id = '32 ' ORDER BY s", "m"},
		{"SELECT s FROM t_a WHERE id IN (TRUE, ' 228') ORDER BY s", "f,n"},
		{"SELECT s FROM t_a WHERE id = 0x0a ORDER BY s", "c"},
		{"SELECT s FROM t_a WHERE id = X'0a' ORDER BY s", "o"},
		{"SELECT s FROM t_a WHERE id = 'abc' ORDER BY s", "o"},
		{"SELECT s FROM t_a WHERE id = 10.5 ORDER BY s", ""},
		{"SELECT s FROM t_a WHERE id = 1.9e1 ORDER BY s", "k"},
		{"SELECT s FROM t_a WHERE id = '20' ORDER BY s", "p"},
		{"SELECT s FROM t_a WHERE id = -16115 ORDER BY s", "a"},
		{"SELECT s FROM t_a WHERE id BETWEEN 13.5 AND '15.5' ORDER BY s", "b,h"},
		{"SELECT b.id FROM t_b b WHERE a_id = ' 14' ORDER BY b.id", "1"},
	}
	for _, r := range reads {
		for _, d := range []*sql.DB{db, ps} {
			if got := strings.Join(queryStrings(t, d, "/*master*/ "+r.q), ","); got != r.want {
				t.Errorf("%s: got %q want %q", r.q, got, r.want)
			}
		}
	}
	// Prepared key parameters of every type.
	for _, p := range []struct {
		arg  any
		want string
	}{{float64(10), "c"}, {" 10", "c"}, {"32 ", "m"}, {int64(-19), "l"}, {10.5, ""}, {"1e1", "c"}} {
		if got := strings.Join(queryStrings(t, ps, "/*master*/ SELECT s FROM t_a WHERE id = ? ORDER BY s", p.arg), ","); got != p.want {
			t.Errorf("id = ? with %T %v: got %q want %q", p.arg, p.arg, got, p.want)
		}
	}
	// Writes by the same rules.
	res, err := db.Exec("UPDATE t_a SET s = 'M' WHERE id = '32 '")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Errorf("UPDATE ... WHERE id = '32 ' changed %d rows", n)
	}
	res, err = db.Exec("DELETE FROM t_a WHERE id IN (TRUE, ' 228')")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 2 {
		t.Errorf("DELETE ... WHERE id IN (TRUE, ' 228') deleted %d rows", n)
	}
	if n := misplaced(t, h); n != 0 {
		t.Fatalf("%d rows misplaced after writes", n)
	}
}

// TestDateKeysAsMariaDBReadsThem (issue 10, defect 2): an integer compared
// with a DATETIME key is a date (20230301 is 2023-03-01), a date outside
// every configured month reads as an empty set, and an INSERT there is
// refused with 1526 (MariaDB's "no partition for value").
func TestDateKeysAsMariaDBReadsThem(t *testing.T) {
	_, db := keysSetup(t)
	mustExec(t, db,
		"INSERT INTO t_c (id, dt) VALUES (1, '2023-01-15'), (2, 20230301), (3, '2023-03-01 12:00:00'), (4, 20230620), (5, 20230621103000), (6, '2023-12-31 23:59:59')")
	for _, r := range []struct{ q, want string }{
		{"SELECT id FROM t_c WHERE dt <= 20230301 ORDER BY id", "1,2"},
		{"SELECT id FROM t_c WHERE dt < 20230621 ORDER BY id", "1,2,3,4"},
		{"SELECT id FROM t_c WHERE dt = 20230301 ORDER BY id", "2"},
		{"SELECT id FROM t_c WHERE dt = 230301120000 ORDER BY id", "3"},
		{"SELECT id FROM t_c WHERE dt >= '2023-3-1 12' ORDER BY id", "3,4,5,6"},
		{"SELECT id FROM t_c WHERE dt = '2022-06-15' ORDER BY id", ""},
		{"SELECT COUNT(*) FROM t_c WHERE dt IN ('2022-06-15', '2024-01-01')", "0"},
	} {
		if got := strings.Join(queryStrings(t, db, "/*master*/ "+r.q), ","); got != r.want {
			t.Errorf("%s: got %q want %q", r.q, got, r.want)
		}
	}
	res, err := db.Exec("UPDATE t_c SET id = id + 10 WHERE dt < 20230621")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 4 {
		t.Errorf("UPDATE ... WHERE dt < 20230621 changed %d rows, want 4", n)
	}
	res, err = db.Exec("DELETE FROM t_c WHERE dt = '2022-06-15'")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 0 {
		t.Errorf("DELETE outside every month deleted %d rows", n)
	}
	_, err = db.Exec("INSERT INTO t_c (id, dt) VALUES (9, '2022-06-15')")
	mysqlErr(t, err, 1526, "HY000")
}

// globalCopies returns every row of t_g on each slice's primary.
func globalCopies(t *testing.T, h *harness) [2]string {
	var out [2]string
	for i := 0; i < 2; i++ {
		rows := queryStrings(t, h.rootDB(h.topo.Slices[i].Primary, "it_keys"),
			"SELECT CONCAT_WS('|', id, s, n, ts) FROM t_g ORDER BY id")
		out[i] = strings.Join(rows, "\n")
	}
	return out
}

// TestGlobalCopiesNeverDiffer (issue 10, defect 10): non-deterministic
// values in writes to a global table are evaluated once and sent to every
// copy; DEFAULT CURRENT_TIMESTAMP columns an INSERT leaves out get that
// value too; what cannot be made the same (ids left to AUTO_INCREMENT, ON
// UPDATE CURRENT_TIMESTAMP left to each copy, per-row functions in an
// UPDATE) is refused with 1235.
func TestGlobalCopiesNeverDiffer(t *testing.T) {
	h, db := keysSetup(t)
	ps := h.open(splitUser, splitPass, "it_keys", "")
	for _, q := range []string{
		"INSERT INTO t_g (id, s, n) VALUES (1, UUID(), UUID_SHORT()), (2, CONCAT(@@hostname, RAND()), CONNECTION_ID())",
		"INSERT INTO t_g (id, s, n, ts) VALUES (3, SYSDATE(6), @@server_id, NOW(6))",
		"INSERT INTO t_g SET id = 4, s = UUID(), n = UNIX_TIMESTAMP()",
		"UPDATE t_g SET s = CONCAT(s, NOW(6)), ts = NOW(6) WHERE id IN (1, 2)",
		"DELETE FROM t_g WHERE id = 2 AND ts < NOW(6) + INTERVAL 1 DAY",
		"REPLACE INTO t_g (id, s, n) VALUES (5, UUID(), @@server_id)",
	} {
		mustExec(t, db, q)
	}
	if _, err := ps.Exec("INSERT INTO t_g (id, s, n) VALUES (?, UUID(), @@server_id)", 6); err != nil {
		t.Fatalf("prepared INSERT: %v", err)
	}
	c := globalCopies(t, h)
	if c[0] != c[1] {
		t.Fatalf("copies differ:\ns0: %s\ns1: %s", c[0], c[1])
	}
	if n := strings.Count(c[0], "\n") + 1; n != 5 {
		t.Fatalf("%d rows, want 5:\n%s", n, c[0])
	}
	for _, q := range []string{
		"INSERT INTO t_g (s) VALUES ('auto')",
		"INSERT INTO t_g (id, s) VALUES (NULL, 'auto')",
		"UPDATE t_g SET s = 'y' WHERE id = 1",
		"UPDATE t_g SET s = UUID(), ts = NOW() WHERE id = 1",
		"DELETE FROM t_g WHERE RAND() < 0.5",
	} {
		_, err := db.Exec(q)
		mysqlErr(t, err, 1235, "42000")
	}
	if c2 := globalCopies(t, h); c2 != c {
		t.Fatalf("a refused write changed the copies")
	}
}

// TestStringAndRangeKeys: a VARCHAR key compares by its collation (case
// and trailing spaces ignored) and with numbers as DOUBLE, so such reads
// go to every table and find what MariaDB finds; a range rule reads values
// outside its ranges as an empty set and refuses to store them (1526).
func TestStringAndRangeKeys(t *testing.T) {
	_, db := keysSetup(t)
	mustExec(t, db,
		"INSERT INTO t_s (id, name) VALUES (1, 'abc'), (2, 'ABC '), (3, '10'), (4, '1e1'), (5, 11)",
		"INSERT INTO t_r (id, v) VALUES (5, 1), ('150', 2), (99.5, 3)")
	for _, r := range []struct{ q, want string }{
		{"SELECT id FROM t_s WHERE name = 'abc' ORDER BY id", "1,2"},
		{"SELECT id FROM t_s WHERE name = 'ABC' ORDER BY id", "1,2"},
		{"SELECT id FROM t_s WHERE name = 10 ORDER BY id", "3,4"},
		{"SELECT id FROM t_s WHERE name IN ('11', 'x') ORDER BY id", "5"},
		{"SELECT id FROM t_r WHERE id = '150 ' ORDER BY id", "150"},
		{"SELECT id FROM t_r WHERE id = 100 ORDER BY id", "100"},
		{"SELECT id FROM t_r WHERE id = 500 ORDER BY id", ""},
		{"SELECT id FROM t_r WHERE id >= 99.5 ORDER BY id", "100,150"},
	} {
		if got := strings.Join(queryStrings(t, db, "/*master*/ "+r.q), ","); got != r.want {
			t.Errorf("%s: got %q want %q", r.q, got, r.want)
		}
	}
	_, err := db.Exec("INSERT INTO t_r (id, v) VALUES (500, 1)")
	mysqlErr(t, err, 1526, "HY000")
}
