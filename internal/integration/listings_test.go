package integration

import (
	"database/sql"
	"strings"
	"testing"
)

// TestLogicalListings: listings that name no table show the logical tables
// of a sharded database, as SHOW FULL TABLES does, the same as MariaDB
// shows for the same tables unsharded (issue 11, defect 6); rewritten
// information_schema results keep ” as ” (defect 5).
func TestLogicalListings(t *testing.T) {
	h := startProxy(t, options{slices: 2, nsExtra: `    default_slice: s0
    databases:
      - name: it_list
        tables:
          - {name: t_user, type: sharded, key: id, algorithm: hash, slices: [s0, s1], tables_per_slice: 2}
          - {name: t_far, type: sharded, key: id, algorithm: hash, slices: [s1], tables_per_slice: 2}
`})
	ref := h.topo.Slices[2].Primary
	for _, n := range []int{0, 1, 2} {
		h.topo.Exec(t, h.topo.Slices[n].Primary, "DROP DATABASE IF EXISTS it_list", "CREATE DATABASE it_list")
	}
	t.Cleanup(func() {
		for _, n := range []int{0, 1, 2} {
			h.topo.Exec(t, h.topo.Slices[n].Primary, "DROP DATABASE IF EXISTS it_list")
		}
	})
	ddl := []string{
		"CREATE TABLE t_user (id BIGINT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(20) NOT NULL DEFAULT '' COMMENT 'the name')",
		"CREATE TABLE t_far (id BIGINT PRIMARY KEY, v INT)",
		"CREATE TABLE t_plain (id INT PRIMARY KEY)",
	}
	proxied := h.open(plainUser, plainPass, "it_list", "")
	direct := h.rootDB(ref, "it_list")
	mustExec(t, proxied, ddl...)
	mustExec(t, direct, ddl...)
	for _, q := range []string{
		"SHOW TABLE STATUS",
		"SHOW TABLE STATUS LIKE 't_u%'",
		"SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'it_list' ORDER BY TABLE_NAME",
		"SELECT TABLE_NAME, COLUMN_NAME, EXTRA, COLUMN_COMMENT, '' AS empty FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'it_list' ORDER BY TABLE_NAME, ORDINAL_POSITION",
		"SHOW FULL TABLES",
	} {
		want, got := listing(t, direct, q), listing(t, proxied, q)
		if want != got {
			t.Errorf("%s:\nproxy:\n%s\nMariaDB:\n%s", q, got, want)
		}
	}
}

// listing returns a result as text, NULL shown as NULL; for SHOW TABLE
// STATUS only the Name and Engine columns.
func listing(t *testing.T, db *sql.DB, q string) string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		n := len(cols)
		if strings.HasPrefix(q, "SHOW TABLE STATUS") {
			n = 2
		}
		for i := 0; i < n; i++ {
			if !vals[i].Valid {
				b.WriteString("NULL\t")
			} else {
				b.WriteString("'" + vals[i].String + "'\t")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
