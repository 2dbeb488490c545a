package integration

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/proxy"
	"github.com/switchyard-db/switchyard/internal/testtopo"
)

// The client matrix (issue 11): real drivers, ORMs and tools run one small
// scenario against MariaDB directly, through a plain namespace and through
// a sharded one; each cell's result through the proxy must equal the
// direct one. Client scripts live in testdata/clients; each prints
// "cell: value" lines. docs/clients.md shows the matrix (regenerate it with
// SWITCHYARD_WRITE_CLIENTS_MD=1).

// matrixCells are the scenario steps, in the order of docs/clients.md.
var matrixCells = []string{
	"connect", "use", "ddl", "insert_param", "lastrowid", "select_param", "types", "prepared",
	"multi_insert", "update_info", "order_limit", "dup_1062", "txn", "autocommit_off", "returning", "pool", "orm_count", "reconnect",
	"tls", "caching_sha2", "status", "dump_default", "dump_single_tx",
}

// matrixExpectedFailures are cells known to differ from MariaDB, with the
// reason. The test checks that they STILL fail, so that a fix removes them
// from this list (and docs/clients.md shows them as FAIL until then).
var matrixExpectedFailures = map[string]string{}

// matrixUnsupported are cells where the proxy refuses a construct it does
// not support with a clean error (1235 naming it), documented in
// docs/clients.md and docs/sql-support.md. The test checks that they still
// get that error code.
var matrixUnsupported = map[string]string{
	"SQLAlchemy ORM/sharded/orm_count":                "Query.count() wraps the query in a derived table, refused over several physical tables (1235); use func.count()",
	"mariadb CLI / mariadb-dump/sharded/dump_default": "LOCK TABLES over sharded tables is refused (1235, names --single-transaction); dump with --single-transaction",
}

// mxTarget is one server a client script talks to.
type mxTarget struct {
	name       string // direct, plain, sharded
	port       string
	user, pass string
	db         string
}

// mxEnv is the matrix's running proxy and targets.
type mxEnv struct {
	h       *harness
	targets []mxTarget
	// sha2Port is a second proxy whose auth_plugin is caching_sha2_password.
	sha2Port string
	// restart restarts the main proxy on its port.
	restart func(t *testing.T)
	// killDirect kills the direct target's client connections.
	killDirect func(t *testing.T)
	certDir    string

	mu      sync.Mutex
	results map[string]map[string]string // client -> cell -> status
}

// mxShardRules shard items by id over s0 and s1 with a proxy sequence.
const mxShardRules = `    default_slice: s0
    databases:
      - name: mx_shard
        tables:
          - {name: items, type: sharded, key: id, algorithm: hash, slices: [s0, s1], tables_per_slice: 2, sequence: {block: 10, start: 1000000}}
`

// freePort returns a free TCP port on 127.0.0.1.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, p, _ := net.SplitHostPort(l.Addr().String())
	return p
}

// startMatrix starts the proxies and databases of the matrix.
func startMatrix(t *testing.T) *mxEnv {
	t.Helper()
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	port := freePort(t)
	s2 := testtopo.Require(t).Slices[2]
	plainNS := fmt.Sprintf(`  - name: mxplain
    users: [{name: mxp, password: mxp_pw}]
    backend: {user: proxy, password: proxy}
    slices: [{name: s2, primary: %s}]
`, s2.Primary.Addr)
	o := options{slices: 2, nsExtra: mxShardRules, extraNamespaces: plainNS, listen: "127.0.0.1:" + port,
		extraTop: fmt.Sprintf("tls: {cert: %s, key: %s}", cert, key)}
	// The sequence of items stays above the scenario's explicit IDs (an
	// earlier run with another start may have left it lower).
	seqDB := testtopo.Require(t).RootDB(t, testtopo.Require(t).Slices[0].Primary, "")
	seqDB.Exec("UPDATE switchyard.sequences SET next_id = GREATEST(next_id, 1000000) WHERE name = 'mx_shard.items'")
	h := startProxy(t, o)
	sha2 := startProxy(t, options{slices: 1, extraTop: fmt.Sprintf("auth_plugin: caching_sha2_password\ntls: {cert: %s, key: %s}", cert, key)})
	for _, n := range []int{0, 1} {
		h.topo.Exec(t, h.topo.Slices[n].Primary, "DROP DATABASE IF EXISTS mx_shard", "CREATE DATABASE mx_shard")
	}
	h.topo.Exec(t, s2.Primary, "DROP DATABASE IF EXISTS mx_plain", "CREATE DATABASE mx_plain",
		"DROP DATABASE IF EXISTS mx_direct", "CREATE DATABASE mx_direct")
	t.Cleanup(func() {
		for _, n := range []int{0, 1} {
			h.topo.Exec(t, h.topo.Slices[n].Primary, "DROP DATABASE IF EXISTS mx_shard")
		}
		h.topo.Exec(t, s2.Primary, "DROP DATABASE IF EXISTS mx_plain", "DROP DATABASE IF EXISTS mx_direct")
	})
	e := &mxEnv{h: h, certDir: dir, results: map[string]map[string]string{}}
	_, sp, _ := net.SplitHostPort(sha2.addr)
	e.sha2Port = sp
	e.targets = []mxTarget{
		{name: "direct", port: fmt.Sprint(s2.Primary.Port), user: h.topo.BackendUser, pass: h.topo.BackendPassword, db: "mx_direct"},
		{name: "plain", port: port, user: "mxp", pass: "mxp_pw", db: "mx_plain"},
		{name: "sharded", port: port, user: plainUser, pass: plainPass, db: "mx_shard"},
	}
	top := t
	e.restart = func(t *testing.T) {
		h.proxy.Close()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		var p *proxy.Proxy
		var err error
		deadline := time.Now().Add(10 * time.Second)
		for {
			if p, err = proxy.New(h.cfg, log); err == nil {
				if err = p.Start(); err == nil {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("restarting the proxy: %v", err)
			}
			time.Sleep(50 * time.Millisecond) // the port is being released
		}
		h.proxy = p
		top.Cleanup(func() { p.Close() })
	}
	e.killDirect = func(t *testing.T) {
		root := h.rootDB(s2.Primary, "")
		rows, err := root.Query("SELECT id FROM information_schema.PROCESSLIST WHERE USER = ? AND DB = 'mx_direct'", h.topo.BackendUser)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		for _, id := range ids {
			root.Exec(fmt.Sprintf("KILL CONNECTION %d", id))
		}
	}
	return e
}

// mxLine is one "cell: value" line of a script's output.
var mxLine = regexp.MustCompile(`^([a-z_0-9]+): (.*)$`)

// runScript runs a client's scenario against target and returns its cells.
// The script prints "restart: now" and waits for a line on stdin when it
// is ready for the server to go away; the proxy is then restarted (the
// direct server's connections are killed instead).
func (e *mxEnv) runScript(t *testing.T, target mxTarget, mode string, argv []string, env []string) map[string]string {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "MX_HOST=127.0.0.1", "MX_PORT="+target.port, "MX_USER="+target.user, "MX_PASS="+target.pass,
		"MX_DB="+target.db, "MX_MODE="+mode, "MX_TARGET="+target.name, "MX_CA="+filepath.Join(e.certDir, "cert.pem"))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("%v: %v", argv, err)
	}
	timer := time.AfterFunc(3*time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	cells := map[string]string{}
	var raw strings.Builder
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		raw.WriteString(line + "\n")
		m := mxLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if m[1] == "restart" {
			if target.name == "direct" {
				e.killDirect(t)
			} else {
				e.restart(t)
			}
			io.WriteString(stdin, "go\n")
			continue
		}
		cells[m[1]] = m[2]
	}
	err := cmd.Wait()
	if err != nil {
		cells["exit"] = fmt.Sprintf("%v", err)
	}
	cells["_log"] = fmt.Sprintf("%v %s against %s (exit %v)\nstdout:\n%s\nstderr:\n%s", env, argv, target.name, err, raw.String(), stderr.String())
	return cells
}

// mxClient is one column of the matrix.
type mxClient struct {
	name string
	// need lists programs/files that must exist (else the client is
	// skipped, with a message).
	need []string
	argv []string
	env  []string
	// prepared: the client has server-side prepared statements in this
	// variant (otherwise the cell is "n/a").
	prepared bool
	// noSHA2: the client does not implement caching_sha2_password (against
	// MySQL 8 too), so that cell is "n/a".
	noSHA2 bool
}

// matrixClients are the script-driven clients.
func matrixClients(dir string) []mxClient {
	py := "/usr/bin/python3"
	node := []string{"node", filepath.Join(dir, "node.js")}
	nodeModules := nodeModulesDir(dir)
	java := []string{"java", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp", "/usr/share/java/mariadb-java-client.jar:" + javaClasses(dir), "Matrix"}
	php := []string{"php", filepath.Join(dir, "php.php")}
	return []mxClient{
		{name: "PyMySQL", need: []string{py}, argv: []string{py, filepath.Join(dir, "dbapi.py")}, env: []string{"MX_DRIVER=pymysql"}},
		{name: "mysqlclient", need: []string{py}, argv: []string{py, filepath.Join(dir, "dbapi.py")}, env: []string{"MX_DRIVER=MySQLdb"}},
		{name: "SQLAlchemy ORM", need: []string{py}, argv: []string{py, filepath.Join(dir, "sqla.py")}},
		{name: "Django ORM", need: []string{py}, argv: []string{py, filepath.Join(dir, "django_mx.py")}},
		{name: "mysql2 query", need: []string{"node", nodeModules + "/mysql2"}, argv: node, env: []string{"MX_DRIVER=mysql2", "MX_PS=0"}},
		{name: "mysql2 execute", need: []string{"node", nodeModules + "/mysql2"}, argv: node, env: []string{"MX_DRIVER=mysql2", "MX_PS=1"}, prepared: true},
		{name: "mysql (node)", need: []string{"node", nodeModules + "/mysql"}, argv: node, env: []string{"MX_DRIVER=mysql", "MX_PS=0"}, noSHA2: true},
		{name: "Connector/J sps=true", need: []string{"java", "javac", "/usr/share/java/mariadb-java-client.jar"}, argv: java, env: []string{"MX_PS=1"}, prepared: true},
		{name: "Connector/J sps=false", need: []string{"java", "javac", "/usr/share/java/mariadb-java-client.jar"}, argv: java, env: []string{"MX_PS=0"}},
		{name: "PDO emulate=on", need: []string{"php"}, argv: php, env: []string{"MX_DRIVER=pdo", "MX_PS=0"}},
		{name: "PDO emulate=off", need: []string{"php"}, argv: php, env: []string{"MX_DRIVER=pdo", "MX_PS=1"}, prepared: true},
		{name: "mysqli", need: []string{"php"}, argv: php, env: []string{"MX_DRIVER=mysqli", "MX_PS=1"}, prepared: true},
	}
}

// missing reports what a client needs and this machine lacks.
func (c mxClient) missing(dir string) string {
	for _, n := range c.need {
		if strings.HasPrefix(n, "/") {
			if _, err := os.Stat(n); err != nil {
				return n
			}
		} else if _, err := exec.LookPath(n); err != nil {
			return n
		}
	}
	return ""
}

// compare fills the matrix row of one client from its cells per target.
func (e *mxEnv) compare(t *testing.T, client string, byTarget map[string]map[string]string, prepared bool) {
	t.Helper()
	direct := byTarget["direct"]
	row := map[string]string{}
	logged := map[string]bool{}
	logOnce := func(tg string) {
		if !logged[tg] {
			logged[tg] = true
			t.Log(direct["_log"])
			t.Log(byTarget[tg]["_log"])
		}
	}
	for _, tg := range []string{"plain", "sharded"} {
		got := byTarget[tg]
		for _, cell := range matrixCells {
			key := client + "/" + tg + "/" + cell
			want, have := direct[cell], got[cell]
			if cell == "caching_sha2" && have == "" {
				row[tg+"/"+cell] = "n/a (client lacks caching_sha2_password)"
				continue
			}
			if cell == "tls" || cell == "caching_sha2" {
				want = "ok" // MariaDB here has neither: the proxy's answer must be ok
			}
			if (cell == "prepared" && !prepared) || (want == "" && have == "" && direct["exit"] == "") {
				row[tg+"/"+cell] = "n/a" // not in this client's scenario
				continue
			}
			ok := have == want && have != ""
			reason, expected := matrixExpectedFailures[key]
			if why, unsup := matrixUnsupported[key]; unsup {
				if have != "ERROR 1235" {
					t.Errorf("%s: documented as unsupported (%s) but got %q (MariaDB %q): update matrixUnsupported", key, why, have, want)
				}
				row[tg+"/"+cell] = "unsupported¹"
				continue
			}
			switch {
			case ok && expected:
				t.Errorf("%s: now matches MariaDB (%q): remove it from matrixExpectedFailures (%s)", key, have, reason)
				row[tg+"/"+cell] = "OK"
			case ok:
				row[tg+"/"+cell] = "OK"
			case expected:
				row[tg+"/"+cell] = "FAIL (expected: " + reason + ")"
				t.Logf("%s: expected failure (%s): got %q, MariaDB %q", key, reason, have, want)
			default:
				row[tg+"/"+cell] = "FAIL"
				t.Errorf("%s: got %q, MariaDB directly %q", key, have, want)
				logOnce(tg)
			}
		}
	}
	e.mu.Lock()
	e.results[client] = row
	e.mu.Unlock()
}

// TestClientMatrix runs every client of the matrix.
func TestClientMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("client matrix: not in -short")
	}
	e := startMatrix(t)
	dir, _ := filepath.Abs("testdata/clients")
	for _, c := range matrixClients(dir) {
		t.Run(c.name, func(t *testing.T) {
			if m := c.missing(dir); m != "" {
				if os.Getenv("CI") != "" {
					t.Fatalf("client %s is not installed (%s missing): .ci/run must install it (npm: %v)", c.name, m, npmErr)
				}
				t.Skipf("client %s is not installed here (%s missing; CI installs it: see .ci/run)", c.name, m)
			}
			by := map[string]map[string]string{}
			for _, tg := range e.targets {
				by[tg.name] = e.runScript(t, tg, "full", c.argv, c.env)
			}
			// TLS and caching_sha2 logins: through the proxies only.
			for _, tg := range e.targets[1:] {
				tls := e.runScript(t, tg, "tls", c.argv, c.env)
				by[tg.name]["tls"] = tls["connect"]
				sha := tg
				sha.port = e.sha2Port
				sha.db = ""
				sha.user, sha.pass = plainUser, plainPass
				if c.noSHA2 {
					continue
				}
				cs := e.runScript(t, sha, "connect", c.argv, c.env)
				by[tg.name]["caching_sha2"] = cs["connect"]
			}
			e.compare(t, c.name, by, c.prepared)
		})
	}
	e.goClients(t)
	e.toolCells(t)
	table := e.markdown()
	t.Log("\n" + table)
	if os.Getenv("SWITCHYARD_WRITE_CLIENTS_MD") != "" {
		writeClientsMD(t, table)
	}
}

// markdown renders the matrix: one row per client and target, one column
// per cell.
func (e *mxEnv) markdown() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var names []string
	for n := range e.results {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("| client | namespace | " + strings.Join(matrixCells, " | ") + " |\n|---|---|")
	b.WriteString(strings.Repeat("---|", len(matrixCells)) + "\n")
	for _, n := range names {
		for _, tg := range []string{"plain", "sharded"} {
			fmt.Fprintf(&b, "| %s | %s |", n, tg)
			for _, c := range matrixCells {
				v := e.results[n][tg+"/"+c]
				if v == "" {
					v = "–"
				}
				fmt.Fprintf(&b, " %s |", v)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// writeClientsMD replaces the generated table in docs/clients.md.
func writeClientsMD(t *testing.T, table string) {
	const begin, end = "<!-- matrix begin -->\n", "<!-- matrix end -->"
	path := filepath.Join("..", "..", "docs", "clients.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the matrix markers", path)
	}
	s = s[:i+len(begin)] + table + s[j:]
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

var (
	npmOnce sync.Once
	npmErr  error
)

// nodeModulesDir installs the Node drivers of package-lock.json into
// dir/node_modules with npm ci (once per test binary) and returns it.
func nodeModulesDir(dir string) string {
	mods := filepath.Join(dir, "node_modules")
	npmOnce.Do(func() {
		if _, err := os.Stat(filepath.Join(mods, "mysql2", "package.json")); err == nil {
			return
		}
		if _, err := exec.LookPath("npm"); err != nil {
			npmErr = err
			return
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--prefix", dir)
		if b, err := cmd.CombinedOutput(); err != nil {
			npmErr = fmt.Errorf("npm ci: %v\n%s", err, b)
		}
	})
	return mods
}

var (
	javacOnce sync.Once
	javacDir  string
)

// javaClasses compiles Matrix.java once per test binary (a JVM compiling
// the source at every start would take seconds per run) and returns the
// class directory.
func javaClasses(dir string) string {
	javacOnce.Do(func() {
		if _, err := exec.LookPath("javac"); err != nil {
			return
		}
		out, err := os.MkdirTemp("", "switchyard-matrix-java")
		if err != nil {
			return
		}
		cmd := exec.Command("javac", "-cp", "/usr/share/java/mariadb-java-client.jar", "-d", out, filepath.Join(dir, "Matrix.java"))
		if b, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "javac: %v\n%s", err, b)
			return
		}
		javacDir = out
	})
	return javacDir
}
