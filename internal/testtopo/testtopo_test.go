package testtopo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

func writeEnv(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "topology.env")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	p := writeEnv(t, `# comment
DIR=/tmp/topo dir

SLICES=2
REPLICAS=2
BASE_PORT=4310
HOST=127.0.0.1
ROOT_USER=root
ROOT_PASSWORD="rootpw"
BACKEND_USER=proxy
BACKEND_PASSWORD=proxy
export REPL_USER=repl
REPL_PASSWORD=repl
UNKNOWN_KEY=ignored
`)
	tp, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if tp.Dir != "/tmp/topo dir" {
		t.Errorf("Dir = %q", tp.Dir)
	}
	if tp.RootUser != "root" || tp.RootPassword != "rootpw" || tp.BackendUser != "proxy" ||
		tp.BackendPassword != "proxy" || tp.ReplUser != "repl" || tp.ReplPassword != "repl" {
		t.Errorf("credentials = %+v", tp)
	}
	if tp.EnvFile != p || tp.BasePort != 4310 {
		t.Errorf("EnvFile = %q, BasePort = %d", tp.EnvFile, tp.BasePort)
	}
	want := []Slice{
		{Name: "s0",
			Primary: Node{Slice: "s0", Role: "primary", Addr: "127.0.0.1:4310", Port: 4310},
			Replicas: []Node{
				{Slice: "s0", Role: "replica", Addr: "127.0.0.1:4311", Port: 4311},
				{Slice: "s0", Role: "replica", Addr: "127.0.0.1:4312", Port: 4312},
			}},
		{Name: "s1",
			Primary: Node{Slice: "s1", Role: "primary", Addr: "127.0.0.1:4320", Port: 4320},
			Replicas: []Node{
				{Slice: "s1", Role: "replica", Addr: "127.0.0.1:4321", Port: 4321},
				{Slice: "s1", Role: "replica", Addr: "127.0.0.1:4322", Port: 4322},
			}},
	}
	if !reflect.DeepEqual(tp.Slices, want) {
		t.Errorf("Slices =\n%+v\nwant\n%+v", tp.Slices, want)
	}
	if n := len(tp.Nodes()); n != 6 {
		t.Errorf("len(Nodes()) = %d, want 6", n)
	}
	if s, ok := tp.Slice("s1"); !ok || s.Primary.Port != 4320 {
		t.Errorf("Slice(s1) = %+v, %v", s, ok)
	}
	if _, ok := tp.Slice("s9"); ok {
		t.Error("Slice(s9) found")
	}
}

func TestLoadDefaults(t *testing.T) {
	p := writeEnv(t, "SLICES=3\nREPLICAS=0\nBASE_PORT=3310\n")
	tp, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if tp.Dir != filepath.Dir(p) {
		t.Errorf("Dir = %q, want %q", tp.Dir, filepath.Dir(p))
	}
	if tp.RootUser != "root" || tp.RootPassword != "root" || tp.BackendUser != "proxy" || tp.BackendPassword != "proxy" {
		t.Errorf("default credentials = %+v", tp)
	}
	if len(tp.Slices) != 3 || tp.Slices[2].Primary.Addr != "127.0.0.1:3330" || len(tp.Slices[2].Replicas) != 0 {
		t.Errorf("Slices = %+v", tp.Slices)
	}
}

func TestLoadErrors(t *testing.T) {
	for name, content := range map[string]string{
		"missing slices":   "REPLICAS=1\nBASE_PORT=3310\n",
		"missing replicas": "SLICES=1\nBASE_PORT=3310\n",
		"bad base port":    "SLICES=1\nREPLICAS=1\nBASE_PORT=x\n",
		"zero slices":      "SLICES=0\nREPLICAS=1\nBASE_PORT=3310\n",
		"too many repl":    "SLICES=1\nREPLICAS=10\nBASE_PORT=3310\n",
		"port overflow":    "SLICES=2\nREPLICAS=1\nBASE_PORT=65530\n",
		"no equals":        "SLICES=1\nREPLICAS=1\nBASE_PORT=3310\ngarbage\n",
	} {
		t.Run(name, func(t *testing.T) {
			if tp, err := Load(writeEnv(t, content)); err == nil {
				t.Errorf("Load succeeded: %+v", tp)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "nope.env")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestFindScript(t *testing.T) {
	s, err := findScript()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(s, filepath.Join("scripts", "topology.sh")) {
		t.Errorf("findScript = %q", s)
	}
}

func uniqueName(prefix string) string {
	return fmt.Sprintf("%s_%d_%d", prefix, os.Getpid(), time.Now().UnixNano()%1e9)
}

// checkTopology verifies what every consumer of a topology relies on.
func checkTopology(t *testing.T, tp *Topology) {
	ctx := context.Background()
	for _, n := range tp.Nodes() {
		db := tp.RootDB(t, n, "")
		var ro int
		if err := db.QueryRowContext(ctx, "SELECT @@read_only").Scan(&ro); err != nil {
			t.Fatalf("%s: %v", n.Addr, err)
		}
		if want := n.Role == "replica"; (ro == 1) != want {
			t.Errorf("%s %s: read_only = %d", n.Role, n.Addr, ro)
		}
		// The backend user can connect everywhere.
		if err := tp.BackendDB(t, n, "").PingContext(ctx); err != nil {
			t.Errorf("%s as %s: %v", n.Addr, tp.BackendUser, err)
		}
	}

	// Write on each primary, read it back on every replica, and check the
	// backend user cannot write on a replica (no READ_ONLY ADMIN).
	dbName := uniqueName("testtopo")
	for _, s := range tp.Slices {
		tp.Exec(t, s.Primary,
			"CREATE DATABASE "+dbName,
			"USE "+dbName,
			"CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))",
			"INSERT INTO t VALUES (1, '"+s.Name+"')")
	}
	t.Cleanup(func() {
		for _, s := range tp.Slices {
			tp.Exec(t, s.Primary, "DROP DATABASE IF EXISTS "+dbName)
		}
		tp.WaitReplicas(t)
	})
	tp.WaitReplicas(t)

	for _, s := range tp.Slices {
		for _, r := range s.Replicas {
			var v string
			if err := tp.RootDB(t, r, dbName).QueryRowContext(ctx, "SELECT v FROM t WHERE id = 1").Scan(&v); err != nil {
				t.Fatalf("replica %s: %v", r.Addr, err)
			}
			if v != s.Name {
				t.Errorf("replica %s: v = %q, want %q", r.Addr, v, s.Name)
			}

			conn, err := tp.BackendDB(t, r, dbName).Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// sql_log_bin=0: should the write succeed anyway, it must not
			// create a GTID on the replica and break replication.
			if _, err := conn.ExecContext(ctx, "SET SESSION sql_log_bin = 0"); err != nil {
				t.Fatalf("replica %s: %v", r.Addr, err)
			}
			_, err = conn.ExecContext(ctx, "INSERT INTO t VALUES (2, 'x')")
			var me *mysql.MySQLError
			if !errors.As(err, &me) || me.Number != 1290 {
				t.Errorf("replica %s: write as %s: err = %v, want error 1290 (read-only)", r.Addr, tp.BackendUser, err)
			}
			conn.Close()
		}
	}
}

func TestSharedTopology(t *testing.T) {
	tp := Require(t)
	if len(tp.Slices) == 0 {
		t.Fatal("no slices")
	}
	checkTopology(t, tp)
}

func TestWaitReplicasEmptyPosition(t *testing.T) {
	tp := Require(t)
	// Whatever the state, a position every replica already has returns at once.
	for _, s := range tp.Slices {
		for _, r := range s.Replicas {
			var res sql.NullInt64
			if err := tp.RootDB(t, r, "").QueryRow("SELECT MASTER_GTID_WAIT('', 1)").Scan(&res); err != nil {
				t.Fatal(err)
			}
			if !res.Valid || res.Int64 != 0 {
				t.Errorf("%s: MASTER_GTID_WAIT('') = %v", r.Addr, res)
			}
		}
	}
}

func TestStartPrivate(t *testing.T) {
	tp := StartPrivate(t, 1, 1, 0)
	if len(tp.Slices) != 1 || len(tp.Slices[0].Replicas) != 1 {
		t.Fatalf("slices = %+v", tp.Slices)
	}
	if tp.BasePort < 4000 {
		t.Errorf("BasePort = %d, want a port picked from 4000 up", tp.BasePort)
	}
	checkTopology(t, tp)
}
