package globalcheck_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/globalcheck"
	"github.com/switchyard-db/switchyard/internal/proxy"
	"github.com/switchyard-db/switchyard/internal/testtopo"
)

// gcEnv is a database on the first three slices' primaries and a
// configuration whose global tables live there.
type gcEnv struct {
	t       *testing.T
	tp      *testtopo.Topology
	db      string
	cfg     *config.Config
	cfgPath string
	dbs     []*sql.DB // root connections to s0..s2's primaries
}

func newGCEnv(t *testing.T, tables ...string) *gcEnv {
	t.Helper()
	tp := testtopo.Require(t)
	if len(tp.Slices) < 3 {
		t.Skipf("needs 3 slices, the topology has %d", len(tp.Slices))
	}
	e := &gcEnv{t: t, tp: tp, db: fmt.Sprintf("it_gc_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)}
	var b strings.Builder
	fmt.Fprintf(&b, "listen: 127.0.0.1:0\nadmin: {listen: 127.0.0.1:0, user: admin, password: admin}\nlog: {level: warn}\n")
	b.WriteString("namespaces:\n  - name: gc\n    users: [{name: gcuser, password: gcpw}]\n")
	fmt.Fprintf(&b, "    backend: {user: %s, password: %s}\n    default_slice: s0\n    slices:\n", tp.BackendUser, tp.BackendPassword)
	for _, s := range tp.Slices[:3] {
		fmt.Fprintf(&b, "      - {name: %s, primary: %s}\n", s.Name, s.Primary.Addr)
	}
	fmt.Fprintf(&b, "    databases:\n      - name: %s\n        tables:\n", e.db)
	for _, name := range tables {
		fmt.Fprintf(&b, "          - {name: %s, type: global}\n", name)
	}
	e.cfgPath = filepath.Join(t.TempDir(), "gc.yaml")
	if err := os.WriteFile(e.cfgPath, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(e.cfgPath)
	if err != nil {
		t.Fatalf("config: %v\n%s", err, b.String())
	}
	e.cfg = cfg
	for _, s := range tp.Slices[:3] {
		tp.Exec(t, s.Primary, "CREATE DATABASE "+e.db)
		e.dbs = append(e.dbs, tp.RootDB(t, s.Primary, e.db))
	}
	t.Cleanup(func() {
		for _, s := range tp.Slices[:3] {
			tp.Exec(t, s.Primary, "DROP DATABASE IF EXISTS "+e.db)
		}
	})
	return e
}

// all runs statements on every copy.
func (e *gcEnv) all(stmts ...string) {
	e.t.Helper()
	for i := range e.dbs {
		e.on(i, stmts...)
	}
}

// on runs statements on copy i (slice s<i>).
func (e *gcEnv) on(i int, stmts ...string) {
	e.t.Helper()
	for _, s := range stmts {
		if _, err := e.dbs[i].Exec(s); err != nil {
			e.t.Fatalf("s%d: %s: %v", i, s, err)
		}
	}
}

// dump reads a table with NULL kept apart from the empty string.
func (e *gcEnv) dump(i int, q string) []string {
	e.t.Helper()
	rows, err := e.dbs[i].Query(q)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for j := range vals {
			ptrs[j] = &vals[j]
		}
		if err := rows.Scan(ptrs...); err != nil {
			e.t.Fatal(err)
		}
		var parts []string
		for _, v := range vals {
			if v.Valid {
				parts = append(parts, fmt.Sprintf("%q", v.String))
			} else {
				parts = append(parts, "NULL")
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// assertEqualCopies compares every copy with s0's directly.
func (e *gcEnv) assertEqualCopies(q string) {
	e.t.Helper()
	want := e.dump(0, q)
	for i := 1; i < len(e.dbs); i++ {
		if got := e.dump(i, q); !reflect.DeepEqual(got, want) {
			e.t.Fatalf("s%d differs from s0 after repair:\n s0: %v\n s%d: %v", i, want, i, got)
		}
	}
}

func (e *gcEnv) check(opts globalcheck.Options) *globalcheck.Report {
	e.t.Helper()
	rep, err := globalcheck.Check(e.t.Context(), e.cfg.Namespaces, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return rep
}

func (e *gcEnv) cli(args ...string) (int, string) {
	e.t.Helper()
	var out, errb bytes.Buffer
	code := globalcheck.Command(append([]string{"--config", e.cfgPath}, args...), &out, &errb)
	if errb.Len() > 0 {
		e.t.Logf("stderr: %s", errb.String())
	}
	return code, out.String()
}

func rowSummary(t *globalcheck.TableReport) []string {
	var out []string
	for _, r := range t.Rows {
		var key []string
		for _, k := range r.Key {
			key = append(key, k.String())
		}
		s := r.Copy + " " + r.Kind + " " + strings.Join(key, ",")
		for _, c := range r.Columns {
			s += fmt.Sprintf(" %s:%s->%s", c.Column, c.Reference, c.Copy)
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func TestCheckAndRepairMariaDB(t *testing.T) {
	e := newGCEnv(t, "t_region", "t_nokey")
	e.all("CREATE TABLE t_region (id INT PRIMARY KEY, name VARCHAR(20) NULL, note VARCHAR(20) NULL, amount DECIMAL(10,2), "+
		"twice INT AS (id*2) VIRTUAL, created TIMESTAMP NOT NULL DEFAULT '2024-01-02 03:04:05')",
		"INSERT INTO t_region (id, name, note, amount) SELECT seq, CONCAT('r', seq), IF(seq % 3 = 0, NULL, CONCAT('n', seq)), seq * 1.25 FROM seq_1_to_20",
		"CREATE TABLE t_nokey (a INT, b VARCHAR(10))",
		"INSERT INTO t_nokey VALUES (1, 'x'), (2, NULL)")
	e.on(1, "DELETE FROM t_region WHERE id = 5", // missing on s1
		"UPDATE t_region SET name = 'changed' WHERE id = 7") // different on s1
	e.on(2, "INSERT INTO t_region (id, name, note, amount) VALUES (100, 'extra', NULL, 1)", // extra on s2
		"UPDATE t_region SET note = '' WHERE id = 9") // NULL on s0, '' on s2

	// The library call finds exactly those rows.
	rep := e.check(globalcheck.Options{Table: e.db + ".t_region"})
	if len(rep.Tables) != 1 || rep.ExitCode() != 1 {
		t.Fatalf("report: %+v", rep)
	}
	tr := rep.Tables[0]
	if tr.Error != "" || tr.Equal || tr.DifferingRows != 4 || tr.Reference != "s0" || tr.KeyName != "primary key" {
		t.Fatalf("table report: %+v", tr)
	}
	want := []string{
		"s1 different '7' name:'r7'->'changed'",
		"s1 missing '5'",
		"s2 different '9' note:NULL->''",
		"s2 extra '100'",
	}
	if got := rowSummary(tr); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows:\n got %q\nwant %q", got, want)
	}
	if rows := []int64{tr.Copies[0].Rows, tr.Copies[1].Rows, tr.Copies[2].Rows}; !reflect.DeepEqual(rows, []int64{20, 19, 21}) {
		t.Fatalf("rows per copy %v", rows)
	}

	// The table without a key: whole-table checksums only.
	e.on(2, "UPDATE t_nokey SET b = '' WHERE a = 2")
	rep = e.check(globalcheck.Options{Table: e.db + ".t_nokey"})
	nk := rep.Tables[0]
	if nk.Equal || rep.ExitCode() != 1 || len(nk.Notes) == 0 || !strings.Contains(nk.Notes[0], "needs a primary key") {
		t.Fatalf("keyless report: %+v", nk)
	}

	// The command line: the same findings, exit status 1.
	code, out := e.cli("--table", e.db+".t_region")
	t.Logf("check:\n%s", out)
	if code != 1 || !strings.Contains(out, "s1 missing id='5'") || !strings.Contains(out, "s2 different id='9': note s0=NULL s2=''") {
		t.Fatalf("exit %d:\n%s", code, out)
	}

	// A dry run prints the statements and changes nothing.
	code, out = e.cli("--table", e.db+".t_region", "--repair-from", "s0", "--dry-run")
	t.Logf("dry run:\n%s", out)
	if code != 1 || !strings.Contains(out, "DELETE FROM `"+e.db+"`.`t_region` WHERE `id` IN (100);") ||
		!strings.Contains(out, "REPLACE INTO `"+e.db+"`.`t_region` (`id`,`name`,`note`,`amount`,`created`) VALUES (5,'r5','n5',6.25,'2024-01-02 03:04:05'),(7,'r7','n7',8.75,'2024-01-02 03:04:05');") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if rep := e.check(globalcheck.Options{Table: e.db + ".t_region"}); rep.Tables[0].DifferingRows != 4 {
		t.Fatalf("a dry run changed rows: %+v", rep.Tables[0])
	}

	// Repair from s0 (all global tables: the keyless one cannot be repaired).
	code, out = e.cli("--repair-from", "s0")
	t.Logf("repair:\n%s", out)
	if code != 2 || !strings.Contains(out, "not repaired: the table has no usable key") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	rep = e.check(globalcheck.Options{Table: e.db + ".t_region", RepairFrom: "s0"})
	if rep.Tables[0].DifferingRows != 0 || rep.ExitCode() != 0 {
		t.Fatalf("after repair: %+v", rep.Tables[0])
	}
	e.assertEqualCopies("SELECT * FROM t_region ORDER BY id")

	// Repair through the library reports what it changed.
	e.on(1, "UPDATE t_region SET amount = NULL WHERE id = 3", "DELETE FROM t_region WHERE id IN (11, 12)")
	e.on(2, "INSERT INTO t_region (id, name) VALUES (0, 'zero'), (-4, 'neg')")
	rep = e.check(globalcheck.Options{Table: e.db + ".t_region", RepairFrom: "s0"})
	tr = rep.Tables[0]
	if tr.Error != "" || rep.ExitCode() != 1 || tr.Repair == nil || tr.Repair.StillDiffering != 0 ||
		tr.Copies[1].Replaced != 3 || tr.Copies[1].Deleted != 0 || tr.Copies[2].Replaced != 0 || tr.Copies[2].Deleted != 2 ||
		tr.Copies[1].Collateral != 0 {
		t.Fatalf("repair report: %+v %+v", tr, tr.Copies)
	}
	e.assertEqualCopies("SELECT * FROM t_region ORDER BY id")
	if code, out := e.cli("--table", e.db+".t_region"); code != 0 {
		t.Fatalf("after repair: exit %d\n%s", code, out)
	}
}

// TestCompositeKeyMariaDB: a two-column key, case-only key differences
// under a case-insensitive collation, binary, bit and large columns.
func TestCompositeKeyMariaDB(t *testing.T) {
	e := newGCEnv(t, "t_comp")
	e.all("CREATE TABLE t_comp (k VARCHAR(10) NOT NULL, n INT NOT NULL, bin VARBINARY(8), flags BIT(10), doc LONGTEXT, "+
		"d DATETIME(3), PRIMARY KEY (k, n)) DEFAULT CHARSET utf8mb4 COLLATE utf8mb4_general_ci",
		"INSERT INTO t_comp SELECT CONCAT('k', seq % 7), seq, UNHEX(HEX(seq)), seq, REPEAT('é', seq), '2024-05-06 07:08:09.123' FROM seq_1_to_300")
	e.on(1, "UPDATE t_comp SET k = UPPER(k) WHERE k = 'k3' AND n = 3",
		"UPDATE t_comp SET flags = 1023 WHERE n = 50", "UPDATE t_comp SET doc = CONCAT(doc, 'x') WHERE n = 60",
		"UPDATE t_comp SET bin = X'00FF' WHERE n = 70")
	e.on(2, "DELETE FROM t_comp WHERE n BETWEEN 100 AND 109", "INSERT INTO t_comp (k, n) VALUES ('a''b\\\\c', 1)")
	rep := e.check(globalcheck.Options{Chunk: 40})
	tr := rep.Tables[0]
	t.Logf("%q", rowSummary(tr))
	// s1: 'K3',3 extra + 'k3',3 missing + 3 different; s2: 10 missing + 1 extra.
	if tr.Error != "" || tr.DifferingRows != 16 || tr.Copies[1].Missing != 1 || tr.Copies[1].Extra != 1 || tr.Copies[1].Different != 3 ||
		tr.Copies[2].Missing != 10 || tr.Copies[2].Extra != 1 || !reflect.DeepEqual(tr.Key, []string{"k", "n"}) {
		t.Fatalf("report: %+v %+v", tr, tr.Copies)
	}
	code, out := e.cli("--repair-from", "s0", "--chunk", "40")
	t.Logf("repair:\n%s", out)
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	e.assertEqualCopies("SELECT CAST(k AS BINARY), n, HEX(bin), flags+0, MD5(doc), d FROM t_comp ORDER BY CAST(k AS BINARY), n")
	if code, out := e.cli("--chunk", "40"); code != 0 {
		t.Fatalf("after repair: exit %d\n%s", code, out)
	}
}

// TestChunking50kMariaDB: 50,000 rows in chunks of 1,000: only the chunks
// that differ are read row by row; a chunk where one copy holds 5,000
// extra rows is split along that copy's keys.
func TestChunking50kMariaDB(t *testing.T) {
	e := newGCEnv(t, "t_big")
	e.all("CREATE TABLE t_big (id INT PRIMARY KEY, v VARCHAR(32) NOT NULL, n INT NULL)",
		"INSERT INTO t_big SELECT seq, MD5(seq), IF(seq % 10 = 0, NULL, seq) FROM seq_1_to_50000")
	e.on(1, "UPDATE t_big SET n = -1 WHERE id = 1500")
	e.on(2, "DELETE FROM t_big WHERE id = 42000", "INSERT INTO t_big VALUES (60000, 'x', NULL)")

	start := time.Now()
	rep := e.check(globalcheck.Options{Chunk: 1000})
	took := time.Since(start)
	tr := rep.Tables[0]
	t.Logf("check of 3 x 50,000 rows, chunk 1000: %v (%d chunks, %d differing)", took, tr.Chunks, tr.DifferingChunks)
	if tr.Error != "" || tr.Chunks != 50 || tr.DifferingChunks != 3 || tr.ScannedRanges != 3 || tr.DifferingRows != 3 {
		t.Fatalf("report: %+v", tr)
	}
	if got := rowSummary(tr); !reflect.DeepEqual(got, []string{"s1 different '1500' n:NULL->'-1'", "s2 extra '60000'", "s2 missing '42000'"}) {
		t.Fatalf("rows %q", got)
	}
	start = time.Now()
	rep = e.check(globalcheck.Options{})
	t.Logf("check of 3 x 50,000 rows, chunk 10000 (default): %v", time.Since(start))
	if rep.Tables[0].Chunks != 5 || rep.Tables[0].DifferingRows != 3 {
		t.Fatalf("report: %+v", rep.Tables[0])
	}

	// 5,000 rows that only s1 has, all after the reference's last chunk boundary.
	e.on(1, "INSERT INTO t_big SELECT seq, 'only s1', NULL FROM seq_50001_to_55000")
	rep = e.check(globalcheck.Options{Chunk: 1000})
	tr = rep.Tables[0]
	if tr.Chunks != 50 || tr.DifferingChunks != 3 || tr.ScannedRanges != 2+5 || tr.DifferingRows != 5003 || !tr.RowsTruncated || len(tr.Rows) != 100 {
		t.Fatalf("report: %+v", tr)
	}
	start = time.Now()
	rep = e.check(globalcheck.Options{Chunk: 1000, RepairFrom: "s0"})
	t.Logf("repair of 5,003 rows: %v", time.Since(start))
	tr = rep.Tables[0]
	if tr.Error != "" || tr.Copies[1].Deleted != 5000 || tr.Copies[1].Replaced != 1 || tr.Copies[2].Deleted != 1 || tr.Copies[2].Replaced != 1 {
		t.Fatalf("repair: %+v %+v", tr, tr.Copies)
	}
	e.assertEqualCopies("SELECT COUNT(*), SUM(id), SUM(CRC32(v)), SUM(COALESCE(n, -7)), SUM(n IS NULL) FROM t_big")
	rep = e.check(globalcheck.Options{Chunk: 1000})
	if rep.ExitCode() != 0 {
		t.Fatalf("after repair: %+v", rep.Tables[0])
	}
}

// TestAdminAPIMariaDB: GET /api/global-tables on a running proxy.
func TestAdminAPIMariaDB(t *testing.T) {
	e := newGCEnv(t, "t_api")
	e.all("CREATE TABLE t_api (id INT PRIMARY KEY, v INT)", "INSERT INTO t_api SELECT seq, seq FROM seq_1_to_100")
	e.on(2, "UPDATE t_api SET v = 0 WHERE id = 50")
	p, err := proxy.New(e.cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	req, _ := http.NewRequest("GET", "http://"+p.AdminAddr().String()+"/api/global-tables?chunk=10&table="+e.db+".t_api", nil)
	req.SetBasicAuth("admin", "admin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var rep globalcheck.Report
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if !rep.Differences || len(rep.Tables) != 1 || rep.Tables[0].Chunks != 10 || rep.Tables[0].DifferingRows != 1 || rep.Tables[0].Rows[0].Copy != "s2" {
		t.Fatalf("%s", body)
	}
	// The API never repairs.
	if got := e.dump(2, "SELECT v FROM t_api WHERE id = 50"); got[0] != `"0"` {
		t.Fatal(got)
	}
	req, _ = http.NewRequest("GET", "http://"+p.AdminAddr().String()+"/api/global-tables?table=nope.nope", nil)
	req.SetBasicAuth("admin", "admin")
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != 400 {
		t.Fatalf("unknown table: %d", resp2.StatusCode)
	}
}

// TestSchemaAndMissingCopyMariaDB: copies whose columns differ are reported
// (not compared row by row); a missing copy is an error.
func TestSchemaAndMissingCopyMariaDB(t *testing.T) {
	e := newGCEnv(t, "t_s")
	e.all("CREATE TABLE t_s (id INT PRIMARY KEY, v INT)")
	e.on(2, "ALTER TABLE t_s ADD COLUMN w INT")
	code, out := e.cli("--json")
	var rep globalcheck.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if code != 1 || !rep.Tables[0].SchemaDiffers || !strings.Contains(rep.Tables[0].Notes[0], "copy s2: columns") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	e.on(1, "DROP TABLE t_s")
	code, out = e.cli()
	if code != 2 || !strings.Contains(out, "copy s1: table `"+e.db+"`.`t_s` does not exist") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}
