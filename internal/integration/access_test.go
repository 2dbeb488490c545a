package integration

import (
	"context"
	"database/sql"

	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/protocol"
)

// accessSetup starts a proxy with three tenants on the same servers:
// itest (gov_a, gov_a2; users w, app, ro read-only, narrow with gov_a only),
// govb (gov_b) and govopen (no list: everything but the others' databases).
func accessSetup(t *testing.T) *harness {
	t.Helper()
	topo := startProxy(t, options{}).topo // shared topology
	p := topo.Slices[0].Primary
	for _, db := range []string{"gov_a", "gov_a2", "gov_b", "gov_free"} {
		topo.Exec(t, p, "DROP DATABASE IF EXISTS "+db, "CREATE DATABASE "+db,
			fmt.Sprintf("CREATE TABLE %s.t (id INT PRIMARY KEY, secret VARCHAR(20))", db),
			fmt.Sprintf("INSERT INTO %s.t VALUES (1, '%s-secret')", db, db))
		root := topo.RootDB(t, p, "")
		name := db
		t.Cleanup(func() { root.Exec("DROP DATABASE IF EXISTS " + name) })
	}
	other := func(name, user, extra string) string {
		return fmt.Sprintf("  - name: %s\n    users: [{name: %s, password: pw}]\n    backend: {user: %s, password: %s}\n%s    slices: [{name: s0, primary: %s}]\n",
			name, user, topo.BackendUser, topo.BackendPassword, extra, p.Addr)
	}
	return startProxyOn(t, topo, options{
		nsExtra: "    allowed_databases: [gov_a, gov_a2]\n",
		users:   "      - {name: ro, password: pw, read_only: true}\n      - {name: narrow, password: pw, databases: [gov_a]}\n",
		extraNamespaces: other("govb", "ub", "    allowed_databases: [gov_b]\n") +
			other("govopen", "uo", ""),
	})
}

func TestAccessIsolation(t *testing.T) {
	h := accessSetup(t)
	ctx := context.Background()
	a := h.open(plainUser, plainPass, "gov_a", "multiStatements=true")
	const denied = "Access denied for user 'w'@'127.0.0.1' to database '%s'"

	// What the tenant may do.
	if got := queryString(t, a, "SELECT secret FROM t"); got != "gov_a-secret" {
		t.Fatalf("own table: %q", got)
	}
	if got := queryString(t, a, "SELECT secret FROM gov_a2.t"); got != "gov_a2-secret" {
		t.Fatalf("own second database: %q", got)
	}

	// Every way of reaching another database.
	for _, c := range []struct {
		sql  string
		code uint16
		db   string
	}{
		{"USE gov_b", 1044, "gov_b"},
		{"SELECT * FROM gov_b.t", 1044, "gov_b"},
		{"SELECT * FROM `gov_b`.`t`", 1044, "gov_b"},
		{"SELECT * FROM gov_free.t", 1044, "gov_free"},
		{"SELECT user, password FROM mysql.user", 1044, "mysql"},
		{"SELECT * FROM switchyard.xa_decisions", 1044, "switchyard"},
		{"SELECT * FROM performance_schema.threads", 1044, "performance_schema"},
		{"SELECT * FROM t WHERE EXISTS (SELECT 1 FROM gov_b.t)", 1044, "gov_b"},
		{"SELECT secret FROM t UNION SELECT secret FROM gov_b.t", 1044, "gov_b"},
		{"SELECT (SELECT secret FROM gov_b.t LIMIT 1)", 1044, "gov_b"},
		{"INSERT INTO t SELECT id + 10, secret FROM gov_b.t", 1044, "gov_b"},
		{"UPDATE t JOIN gov_b.t b ON b.id = t.id SET t.secret = b.secret", 1044, "gov_b"},
		{"CREATE VIEW v AS SELECT * FROM gov_b.t", 1044, "gov_b"},
		{"SELECT 1; SELECT * FROM gov_b.t", 1044, "gov_b"},
		{"USE gov_b; SELECT * FROM t", 1044, "gov_b"},
		{"SHOW TABLES FROM gov_b", 1044, "gov_b"},
		{"SHOW CREATE TABLE gov_b.t", 1044, "gov_b"},
		{"SHOW COLUMNS FROM t FROM gov_b", 1044, "gov_b"},
		{"SHOW CREATE DATABASE gov_b", 1044, "gov_b"},
		{"CREATE DATABASE gov_new", 1044, "gov_new"},
		{"DROP DATABASE gov_b", 1044, "gov_b"},
		{"PREPARE s FROM 'SELECT * FROM gov_b.t'", 1044, "gov_b"},
		{"SELECT * FROM gov_b.t FOR SYSTEM_TIME ALL", 1044, "gov_b"}, // not parsed by the proxy's parser
		{"PREPARE s FROM @q", 1235, ""},
		{"EXECUTE IMMEDIATE 'SELECT * FROM gov_b.t'", 1235, ""},
		{"SHOW PROCESSLIST", 1227, ""},
		{"SHOW ENGINE INNODB STATUS", 1227, ""},
		{"SELECT info FROM information_schema.processlist", 1142, ""},
		{"USE information_schema; SELECT info FROM processlist", 1142, ""},
		{"GRANT SELECT ON gov_b.* TO 'w'@'%'", 1227, ""},
	} {
		_, err := a.ExecContext(ctx, c.sql)
		me := mysqlErr(t, err, c.code, "42000")
		if c.db != "" && me.Message != fmt.Sprintf(denied, c.db) {
			t.Errorf("%s: message %q", c.sql, me.Message)
		}
	}
	// The binary protocol.
	_, err := a.QueryContext(ctx, "SELECT secret FROM gov_b.t WHERE id = ?", 1)
	mysqlErr(t, err, 1044, "42000")
	// COM_INIT_DB and connecting with a database.
	raw := h.raw(plainUser, plainPass)
	if err := raw.InitDB("gov_b"); err == nil || !strings.Contains(err.Error(), "1044") {
		t.Fatalf("COM_INIT_DB gov_b: %v", err)
	}
	if err := h.open(plainUser, plainPass, "gov_b", "").PingContext(ctx); err == nil {
		t.Fatal("connect with database gov_b succeeded")
	} else {
		mysqlErr(t, err, 1044, "42000")
	}
	// The session is still usable after the refusals.
	if got := queryString(t, a, "SELECT COUNT(*) FROM t"); got != "1" {
		t.Fatalf("after refusals: %q", got)
	}

	// information_schema and SHOW answer for the tenant's databases only.
	schemas := queryStrings(t, a, "SELECT schema_name FROM information_schema.schemata ORDER BY 1")
	if strings.Join(schemas, ",") != "gov_a,gov_a2,information_schema" {
		t.Fatalf("SCHEMATA: %q", schemas)
	}
	if got := queryString(t, a, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema IN ('gov_b', 'mysql', 'gov_free')"); got != "0" {
		t.Fatalf("tables of other databases visible: %s", got)
	}
	if got := queryString(t, a, "SELECT COUNT(DISTINCT table_schema) FROM information_schema.columns WHERE table_schema <> 'information_schema'"); got != "2" {
		t.Fatalf("columns of %s databases visible", got)
	}
	if got := queryStrings(t, a, "SHOW DATABASES"); strings.Join(got, ",") != "gov_a,gov_a2,information_schema" {
		t.Fatalf("SHOW DATABASES: %q", got)
	}
	if got := queryStrings(t, a, "SHOW SCHEMAS LIKE 'gov%'"); strings.Join(got, ",") != "gov_a,gov_a2" {
		t.Fatalf("SHOW SCHEMAS LIKE: %q", got)
	}
	if got := queryStrings(t, a, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'gov_a'"); strings.Join(got, ",") != "t" {
		t.Fatalf("own tables: %q", got)
	}

	if m := h.scrape(t); !strings.Contains(m, `switchyard_statements_refused_total{namespace="itest",reason="access"}`) {
		t.Error("refusals not counted")
	}

	// The other tenant sees its own database and not the first's.
	b := h.open("ub", "pw", "gov_b", "")
	if got := queryString(t, b, "SELECT secret FROM t"); got != "gov_b-secret" {
		t.Fatalf("tenant b: %q", got)
	}
	_, err = b.ExecContext(ctx, "SELECT * FROM gov_a.t")
	mysqlErr(t, err, 1044, "42000")

	// An open namespace sees everything but the listed tenants' and the
	// reserved databases.
	o := h.open("uo", "pw", "gov_free", "")
	if got := queryString(t, o, "SELECT secret FROM t"); got != "gov_free-secret" {
		t.Fatalf("open namespace: %q", got)
	}
	for _, q := range []string{"SELECT * FROM gov_a.t", "SELECT * FROM gov_b.t", "SELECT * FROM mysql.user"} {
		_, err := o.ExecContext(ctx, q)
		mysqlErr(t, err, 1044, "42000")
	}
	dbs := queryStrings(t, o, "SHOW DATABASES")
	for _, d := range dbs {
		if d == "gov_a" || d == "gov_b" || d == "mysql" || d == "switchyard" || d == "performance_schema" || d == "sys" {
			t.Fatalf("open namespace lists %s: %q", d, dbs)
		}
	}
	if !sort.StringsAreSorted(dbs) || !contains(dbs, "gov_free") {
		t.Fatalf("open namespace SHOW DATABASES: %q", dbs)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestAccessUserLimits(t *testing.T) {
	h := accessSetup(t)
	ctx := context.Background()
	ro := h.open("ro", "pw", "gov_a", "")
	if got := queryString(t, ro, "SELECT secret FROM t"); got != "gov_a-secret" {
		t.Fatalf("read-only select: %q", got)
	}
	for _, q := range []string{"INSERT INTO t VALUES (2, 'x')", "UPDATE t SET secret = 'x'", "DELETE FROM gov_a2.t", "CREATE TABLE t2 (id INT)", "DROP TABLE t"} {
		_, err := ro.ExecContext(ctx, q)
		me := mysqlErr(t, err, 1142, "42000")
		if !strings.Contains(me.Message, "command denied to user 'ro'@'127.0.0.1' for table `gov_a") {
			t.Errorf("%s: %q", q, me.Message)
		}
	}
	if got := queryString(t, ro, "SELECT COUNT(*) FROM t"); got != "1" {
		t.Fatalf("read-only user changed data: %s rows", got)
	}
	narrow := h.open("narrow", "pw", "gov_a", "")
	_, err := narrow.ExecContext(ctx, "SELECT * FROM gov_a2.t")
	mysqlErr(t, err, 1044, "42000")
	if got := queryStrings(t, narrow, "SHOW DATABASES"); strings.Join(got, ",") != "gov_a,information_schema" {
		t.Fatalf("narrow SHOW DATABASES: %q", got)
	}
}

// TestAccessChangeUser: COM_CHANGE_USER into another tenant checks the
// database against the new user, and the new user's rules apply after.
func TestAccessChangeUser(t *testing.T) {
	h := accessSetup(t)
	change := func(db string) []byte {
		c := h.raw(plainUser, plainPass)
		if err := c.InitDB("gov_a"); err != nil {
			t.Fatal(err)
		}
		c.Seq = 0
		pkt := append([]byte{protocol.ComChangeUser}, "ub"...)
		pkt = append(pkt, 0, 0)
		pkt = append(pkt, db...)
		pkt = append(pkt, 0, protocol.CharsetUTF8MB4GeneralCI, 0)
		pkt = append(pkt, protocol.AuthNativePassword...)
		if err := c.WriteFlush(append(pkt, 0)); err != nil {
			t.Fatal(err)
		}
		p, err := c.ReadPacket()
		if err != nil {
			t.Fatal(err)
		}
		_, data, err := protocol.ParseAuthSwitch(p)
		if err != nil {
			t.Fatalf("want auth switch: %q", p)
		}
		c.WriteFlush(protocol.ScrambleNative(data, "pw"))
		p, err = c.ReadPacket()
		if err != nil {
			t.Fatal(err)
		}
		p = append([]byte(nil), p...) // the connection reuses its buffer
		if protocol.IsOK(p) {
			_, _, err := c.QueryRows("SELECT * FROM gov_a.t")
			if err == nil || !strings.Contains(err.Error(), "1044") {
				t.Fatalf("after change user: %v", err)
			}
		}
		return p
	}
	if p := change("gov_a"); protocol.IsOK(p) || protocol.ParseErr(p).Code != 1044 {
		t.Fatalf("change user into gov_a: %q", p)
	}
	if p := change("gov_b"); !protocol.IsOK(p) {
		t.Fatalf("change user into gov_b: %q", p)
	}
}

// TestAccessMariadbCLI runs the attack with the mariadb client.
func TestAccessMariadbCLI(t *testing.T) {
	h := accessSetup(t)
	out, err := h.mariadbCLI(t, plainUser, plainPass, "gov_b", nil, "SELECT 1;")
	if err == nil || !strings.Contains(out, "1044") {
		t.Fatalf("mariadb gov_b: %v\n%s", err, out)
	}
	out, err = h.mariadbCLI(t, plainUser, plainPass, "gov_a", nil, "SHOW DATABASES;\nSELECT * FROM gov_b.t;\n")
	if !strings.Contains(out, "Database\ngov_a\ngov_a2\ninformation_schema\n") || !strings.Contains(out, "ERROR 1044 (42000)") {
		t.Fatalf("mariadb: %v\n%s", err, out)
	}
}

// TestAccessLogin: allowed addresses (1130), require_tls (1045 without TLS),
// connections per user (1203), and the failed-login throttle (delayed, then
// the address is refused with 1129 even with the right password).
func TestAccessLogin(t *testing.T) {
	cert, key := writeCert(t, t.TempDir())
	h := startProxy(t, options{
		extraTop: fmt.Sprintf("tls: {cert: %s, key: %s}\nlogin_throttle: {delay_after: 2, delay: 100ms, block_after: 5, cool_down: 1h}", cert, key),
		users: "      - {name: far, password: pw, allowed_ips: [10.0.0.0/8]}\n" +
			"      - {name: near, password: pw, allowed_ips: [10.0.0.0/8, 127.0.0.1]}\n" +
			"      - {name: sec, password: pw, require_tls: true}\n" +
			"      - {name: one, password: pw, max_connections: 1}\n",
	})
	ctx := context.Background()
	// Addresses.
	err := h.open("far", "pw", "", "").PingContext(ctx)
	me := mysqlErr(t, err, 1130, "HY000")
	if me.Message != "Host '127.0.0.1' is not allowed to connect to this MariaDB server" {
		t.Fatalf("1130 message: %q", me.Message)
	}
	if got := queryString(t, h.open("near", "pw", "", ""), "SELECT 'near'"); got != "near" {
		t.Fatal(got)
	}
	// TLS.
	mysqlErr(t, h.open("sec", "pw", "", "").PingContext(ctx), 1045, "28000")
	if got := queryString(t, h.open("sec", "pw", "", "tls=skip-verify"), "SELECT 'sec'"); got != "sec" {
		t.Fatal(got)
	}
	// Connections per user.
	one := h.open("one", "pw", "", "")
	held := h.conn(one)
	if err := held.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	second, err := sql.Open("mysql", h.dsn("one", "pw", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	me = mysqlErr(t, second.PingContext(ctx), 1203, "42000")
	if me.Message != "User one already has more than 'max_user_connections' active connections" {
		t.Fatalf("1203 message: %q", me.Message)
	}
	held.Close()
	one.Close() // closes the client connection, not just returns it to the pool
	waitFor(t, 10*time.Second, func() bool { return second.PingContext(ctx) == nil })

	// Failed logins: the first two answer at once, the next ones late,
	// the fifth blocks the address.
	for i := 1; i <= 5; i++ {
		start := time.Now()
		bad, _ := sql.Open("mysql", h.dsn(plainUser, "wrong", "", ""))
		err := bad.PingContext(ctx)
		bad.Close()
		mysqlErr(t, err, 1045, "28000")
		if took := time.Since(start); i > 2 && took < 100*time.Millisecond {
			t.Fatalf("failure %d answered after %v, want the 100ms delay", i, took)
		}
	}
	err = h.open(plainUser, plainPass, "", "").PingContext(ctx)
	me = mysqlErr(t, err, 1129, "HY000")
	if !strings.Contains(me.Message, "Host '127.0.0.1' is blocked") {
		t.Fatalf("1129 message: %q", me.Message)
	}
	m := h.scrape(t)
	for _, want := range []string{`switchyard_login_refused_total{reason="blocked_host"} 1`, `switchyard_login_refused_total{reason="host_not_allowed"} 1`,
		`switchyard_login_refused_total{reason="tls_required"} 1`, `switchyard_login_refused_total{reason="max_user_connections"} `, // once or more: waitFor retries
		`switchyard_auth_failures_total{namespace="itest"} 5`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestAccessReload: a reload that narrows a namespace's databases and adds
// a rule applies to a running session from its next statement.
func TestAccessReload(t *testing.T) {
	h := accessSetup(t)
	a := h.open(plainUser, plainPass, "gov_a", "")
	a.SetMaxOpenConns(1)
	if got := queryString(t, a, "SELECT secret FROM gov_a2.t"); got != "gov_a2-secret" {
		t.Fatal(got)
	}
	y := strings.Replace(h.yaml, "    allowed_databases: [gov_a, gov_a2]\n",
		"    allowed_databases: [gov_a]\n    sql_rules: [{name: no_counting, regex: \"(?i)count\\\\(\"}]\n", 1)
	cfg, err := config.Parse([]byte(y), "itest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.proxy.Apply(cfg, 2); err != nil {
		t.Fatal(err)
	}
	_, err = a.ExecContext(context.Background(), "SELECT secret FROM gov_a2.t")
	mysqlErr(t, err, 1044, "42000")
	_, err = a.ExecContext(context.Background(), "SELECT COUNT(*) FROM t")
	mysqlErr(t, err, 1148, "42000")
	if got := queryString(t, a, "SELECT secret FROM t"); got != "gov_a-secret" {
		t.Fatal(got)
	}
}
