package integration

import (
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

const diffRules = `    default_slice: s0
    databases:
      - name: it_diff
        tables:
          - {name: t_user, type: sharded, key: id, algorithm: hash, slices: [s0, s1, s2], tables_per_slice: 2}
          - {name: t_order, type: linked, parent: t_user, key: user_id}
`

const diffSchema = `CREATE TABLE t_user (
  id BIGINT PRIMARY KEY, name VARCHAR(40), city VARCHAR(20), age INT,
  score DECIMAL(10,2), ratio DOUBLE, created DATETIME, note VARCHAR(20) NULL, tag VARCHAR(10))`

const diffOrderSchema = `CREATE TABLE t_order (id BIGINT PRIMARY KEY, user_id BIGINT, amount INT, status VARCHAR(10))`

// diffOrders builds orders for users 1..users (some users have none).
func diffOrders(n, users int) []string {
	var rows []string
	for id := 1; id <= n; id++ {
		uid := (id*7)%users + 1
		if uid%5 == 0 {
			uid++
		}
		st := []string{"new", "paid", "sent"}[id%3]
		rows = append(rows, fmt.Sprintf("(%d, %d, %d, '%s')", 1000+id, uid, (id*37)%1000, st))
	}
	return rows
}

// diffJoinQueries exercise joins and subqueries of the sharded table and
// the table linked to it.
var diffJoinQueries = []string{
	"SELECT u.id, o.id, o.amount FROM t_user u JOIN t_order o ON o.user_id = u.id ORDER BY o.id",
	"SELECT u.id, o.id, o.amount FROM t_user u JOIN t_order o ON o.user_id = u.id WHERE u.id IN (3, 8, 14) ORDER BY o.id",
	"SELECT u.city, SUM(o.amount), COUNT(*) FROM t_user u JOIN t_order o ON o.user_id = u.id GROUP BY u.city",
	"SELECT u.city, o.status, AVG(o.amount) FROM t_user u JOIN t_order o ON o.user_id = u.id WHERE o.amount > 100 GROUP BY u.city, o.status",
	"SELECT * FROM t_user WHERE id IN (SELECT user_id FROM t_order WHERE amount > 500) ORDER BY id",
	"SELECT u.id, COUNT(o.id) FROM t_user u LEFT JOIN t_order o ON o.user_id = u.id GROUP BY u.id ORDER BY u.id LIMIT 40",
	"SELECT u.name, o.amount FROM t_user u, t_order o WHERE u.id = o.user_id AND u.id = 22 ORDER BY o.amount, o.id",
	"SELECT COUNT(*) FROM t_user u WHERE NOT EXISTS (SELECT 1 FROM t_order o WHERE o.user_id = u.id)",
	"SELECT o.status, COUNT(DISTINCT o.user_id) FROM t_order o GROUP BY o.status",
	"SELECT user_id, SUM(amount) AS s FROM t_order GROUP BY user_id HAVING s > 1500 ORDER BY s DESC, user_id LIMIT 5",
	"SELECT * FROM (SELECT id, name FROM t_user WHERE id = 17) d",
	"SELECT (SELECT name FROM t_user WHERE id = 22) AS n",
}

// diffRows builds deterministic rows. ratio values are multiples of 0.25,
// so double sums are exact whatever the order of addition.
func diffRows(n int) []string {
	cities := []string{"paris", "berlin", "rome", "oslo", "lima", "quito", "tokyo"}
	tags := []string{"Red", "red", "RED", "blue", "Blue"}
	var rows []string
	seed := uint64(42)
	next := func(m uint64) uint64 {
		seed = seed*6364136223846793005 + 1442695040888963407
		return (seed >> 33) % m
	}
	for id := 1; id <= n; id++ {
		note := "NULL"
		if next(3) != 0 {
			note = fmt.Sprintf("'n%d'", next(6))
		}
		rows = append(rows, fmt.Sprintf("(%d, 'user%03d', '%s', %d, %d.%02d, %g, '2024-%02d-%02d %02d:00:00', %s, '%s')",
			id, next(200), cities[next(uint64(len(cities)))], 18+next(50), next(1000), next(100),
			float64(next(400))/4, 1+next(12), 1+next(28), next(24), note, tags[next(uint64(len(tags)))]))
	}
	return rows
}

// diffQueries are compared between the proxy (sharded over 6 physical
// tables on 3 slices) and one plain database holding the same rows.
// Queries whose ORDER BY is not a total order on the rows returned are
// compared as multisets; the others row by row.
var diffQueries = []string{
	"SELECT id, name FROM t_user {w} ORDER BY id",
	"SELECT id, name FROM t_user {w} ORDER BY id DESC LIMIT 7",
	"SELECT id, age FROM t_user {w} ORDER BY age, id LIMIT 5, 10",
	"SELECT * FROM t_user {w} ORDER BY score DESC, id LIMIT 20",
	"SELECT name FROM t_user {w} ORDER BY created, id",
	"SELECT id, name FROM t_user {w}",
	"SELECT COUNT(*) FROM t_user {w}",
	"SELECT COUNT(*), SUM(age), MIN(age), MAX(age), AVG(age) FROM t_user {w}",
	"SELECT SUM(score), AVG(score), MIN(score), MAX(score) FROM t_user {w}",
	"SELECT SUM(ratio), MIN(ratio), AVG(ratio) FROM t_user {w}",
	"SELECT city, COUNT(*) FROM t_user {w} GROUP BY city",
	"SELECT city, COUNT(*), AVG(score) FROM t_user {w} GROUP BY city ORDER BY city DESC",
	"SELECT city, COUNT(*) AS n FROM t_user {w} GROUP BY city HAVING n > 5 ORDER BY n DESC, city",
	"SELECT city, age, COUNT(*) FROM t_user {w} GROUP BY city, age ORDER BY 3 DESC, 1, 2 LIMIT 10",
	"SELECT COUNT(DISTINCT city) FROM t_user {w}",
	"SELECT city, COUNT(DISTINCT age), MAX(score) FROM t_user {w} GROUP BY city",
	"SELECT DISTINCT city FROM t_user {w} ORDER BY city",
	"SELECT DISTINCT city, age FROM t_user {w} ORDER BY age, city LIMIT 8",
	"SELECT city, SUM(age) FROM t_user {w} GROUP BY city HAVING SUM(age) > 100 AND COUNT(*) BETWEEN 2 AND 1000",
	"SELECT MAX(created), MIN(name) FROM t_user {w}",
	"SELECT note, COUNT(*) FROM t_user {w} GROUP BY note",
	"SELECT id, note FROM t_user {w} ORDER BY note, id LIMIT 15",
	"SELECT age, AVG(ratio) FROM t_user {w} GROUP BY age ORDER BY age",
	"SELECT COUNT(note), COUNT(*) FROM t_user {w}",
	"SELECT city, MIN(created), MAX(age) FROM t_user {w} GROUP BY city ORDER BY MAX(age) DESC, city LIMIT 3",
	"SELECT SUM(DISTINCT age), AVG(DISTINCT age), COUNT(DISTINCT age) FROM t_user {w}",
	"SELECT city, COUNT(DISTINCT age), COUNT(*), SUM(score), AVG(age) FROM t_user {w} GROUP BY city",
	"SELECT * FROM t_user {w} ORDER BY 4 DESC, 1 LIMIT 9",
	"SELECT t_user.* FROM t_user {w} ORDER BY id LIMIT 4",
	"SELECT id, score * 2 AS dbl FROM t_user {w} ORDER BY dbl DESC, id LIMIT 5",
	"SELECT age, COUNT(*) FROM t_user {w} GROUP BY age ORDER BY COUNT(*) DESC, age LIMIT 5",
	"SELECT LOWER(tag), COUNT(*) FROM t_user {w} GROUP BY tag",
	"SELECT COUNT(*) AS n, tag = 'red' FROM t_user {w} GROUP BY tag = 'red'",
	"SELECT city, age FROM t_user {w} ORDER BY city, age DESC, id LIMIT 12",
	"SELECT city, MAX(score) - MIN(score) FROM t_user {w} GROUP BY city",
	"SELECT city, COUNT(*) FROM t_user {w} GROUP BY city HAVING MIN(age) < 20 OR MAX(age) > 66",
	"SELECT COUNT(*) FROM t_user {w} LIMIT 0",
	"SELECT id FROM t_user {w} ORDER BY id LIMIT 1000, 5",
}

var diffWheres = []string{
	"",
	"WHERE age > 40",
	"WHERE id IN (3, 7, 11, 20, 33, 90)",
	"WHERE city = 'paris' OR age < 25",
	"WHERE id = 17",
	"WHERE note IS NULL",
	"WHERE id = 1 AND id = 2",
}

// totallyOrdered reports whether a query's result order is defined: every
// ORDER BY above ends with a unique column or orders groups, and MariaDB
// returns GROUP BY results in group order (so does the proxy).
func totallyOrdered(q string) bool {
	u := strings.ToUpper(q)
	return strings.Contains(u, "ORDER BY") || strings.Contains(u, "GROUP BY")
}

type diffResult struct {
	cols []string
	rows []string
	err  error
}

// runDiff runs q in the text protocol, or as a server-side prepared
// statement when prepared is set.
func runDiff(db *sql.DB, prepared bool, q string) diffResult {
	var rows *sql.Rows
	var err error
	if prepared {
		var st *sql.Stmt
		if st, err = db.Prepare(q); err != nil {
			return diffResult{err: err}
		}
		defer st.Close()
		rows, err = st.Query()
	} else {
		rows, err = db.Query(q)
	}
	if err != nil {
		return diffResult{err: err}
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return diffResult{err: err}
		}
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteString(" | ")
			}
			if v == nil {
				b.WriteString("NULL")
			} else {
				b.Write(v)
			}
		}
		out = append(out, b.String())
	}
	return diffResult{cols: cols, rows: out, err: rows.Err()}
}

// TestDifferentialSharded runs the same queries through the proxy and on
// one plain database and compares the answers. An unsupported query must
// be a clean 1235 error, never a different answer.
func TestDifferentialSharded(t *testing.T) {
	h := startProxy(t, options{slices: 3, nsExtra: diffRules})
	s0 := h.topo.Slices[0].Primary
	for _, sl := range h.topo.Slices[:3] {
		h.topo.Exec(t, sl.Primary, "DROP DATABASE IF EXISTS it_diff", "CREATE DATABASE it_diff")
	}
	h.topo.Exec(t, s0, "DROP DATABASE IF EXISTS it_diff_ref", "CREATE DATABASE it_diff_ref")
	t.Cleanup(func() {
		for _, sl := range h.topo.Slices[:3] {
			h.topo.Exec(t, sl.Primary, "DROP DATABASE IF EXISTS it_diff")
		}
		h.topo.Exec(t, s0, "DROP DATABASE IF EXISTS it_diff_ref")
	})
	proxyDB := h.open(splitUser, splitPass, "it_diff", "interpolateParams=true")
	refDB := h.rootDB(s0, "it_diff_ref")
	mustExec(t, proxyDB, diffSchema)
	mustExec(t, refDB, diffSchema)
	rows := diffRows(300)
	for _, r := range rows {
		mustExec(t, proxyDB, "INSERT INTO t_user (id, name, city, age, score, ratio, created, note, tag) VALUES "+r)
	}
	mustExec(t, refDB, "INSERT INTO t_user VALUES "+strings.Join(rows, ","))
	mustExec(t, proxyDB, diffOrderSchema)
	mustExec(t, refDB, diffOrderSchema)
	orders := diffOrders(600, 300)
	for _, r := range orders {
		mustExec(t, proxyDB, "INSERT INTO t_order (id, user_id, amount, status) VALUES "+r)
	}
	mustExec(t, refDB, "INSERT INTO t_order VALUES "+strings.Join(orders, ","))
	h.topo.WaitReplicas(t)

	var queries []string
	for _, tmpl := range diffQueries {
		for _, w := range diffWheres {
			queries = append(queries, strings.Replace(tmpl, "{w}", w, 1))
		}
	}
	queries = append(queries, diffJoinQueries...)
	// A second proxy runs at most one statement per slice at a time
	// (scatter_parallel: 1): the other physical tables queue behind it, or
	// are read first and held for ordered merges.
	h1 := startProxyOn(t, h.topo, options{slices: 3, nsExtra: diffRules + "    scatter_parallel: 1\n"})
	serialDB := h1.open(splitUser, splitPass, "it_diff", "interpolateParams=true")
	var pass, refused int
	for _, mode := range []int{0, 1, 2} {
		prepared := mode == 1
		proxyDB := proxyDB
		if mode == 2 {
			proxyDB = serialDB
		}
		for _, q := range queries {
			{
				want := runDiff(refDB, prepared, q)
				if want.err != nil {
					t.Fatalf("reference database rejects %q: %v", q, want.err)
				}
				got := runDiff(proxyDB, prepared, q)
				if got.err != nil {
					var me *mysql.MySQLError
					if errors.As(got.err, &me) && me.Number == 1235 {
						refused++
						t.Logf("refused: %s: %v", q, got.err)
						continue
					}
					t.Errorf("%s (prepared=%v): %v", q, prepared, got.err)
					continue
				}
				if strings.Join(got.cols, ",") != strings.Join(want.cols, ",") {
					t.Errorf("%s (prepared=%v): columns %q, want %q", q, prepared, got.cols, want.cols)
					continue
				}
				if !totallyOrdered(q) {
					sort.Strings(got.rows)
					sort.Strings(want.rows)
				}
				if strings.Join(got.rows, "\n") != strings.Join(want.rows, "\n") {
					t.Errorf("%s (prepared=%v): wrong result\n got: %q\nwant: %q", q, prepared, head(got.rows), head(want.rows))
					continue
				}
				pass++
			}
		}
	}
	t.Logf("differential: %d queries equal, %d refused", pass, refused)
	if total := 3 * len(queries); pass+refused != total || refused > total/20 {
		t.Errorf("%d of %d queries refused", refused, total)
	}
	h.poolsIdle(t)
	h1.poolsIdle(t)
}

func head(rows []string) []string {
	if len(rows) > 12 {
		return append(rows[:12:12], fmt.Sprintf("... %d rows", len(rows)))
	}
	return rows
}
