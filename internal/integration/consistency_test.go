package integration

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/testtopo"
)

// consistencyCount reads switchyard_consistency_reads_total for a level
// and outcome.
func consistencyCount(t *testing.T, h *harness, level, outcome string) float64 {
	t.Helper()
	body := h.scrape(t)
	prefix := `switchyard_consistency_reads_total{level="` + level + `",namespace="itest",outcome="` + outcome + `"} `
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, prefix) {
			v, _ := strconv.ParseFloat(strings.TrimPrefix(line, prefix), 64)
			return v
		}
	}
	return 0
}

func TestReadConsistencyLevels(t *testing.T) {
	topo := testtopo.StartPrivate(t, 1, 1, 0)
	h := startProxyOn(t, topo, options{
		extraTop: "monitor: {interval: 100ms}",
		pool:     "{connect_timeout: 1s}",
	})
	// consistency_timeout is short so that the fallback is quick.
	h.proxy.Topology().Namespaces["itest"].Config.ConsistencyTimeout = 300 * time.Millisecond
	s := topo.Slices[0]
	replica := strconv.Itoa(s.Replicas[0].Port)
	primary := strconv.Itoa(s.Primary.Port)
	topo.Exec(t, s.Primary, "CREATE DATABASE it_rc", "CREATE TABLE it_rc.t (id INT PRIMARY KEY, v INT)", "INSERT INTO it_rc.t VALUES (1, 0)")
	topo.WaitReplicas(t)

	writer := h.conn(h.open(splitUser, splitPass, "it_rc", ""))
	reader := h.conn(h.open(splitUser, splitPass, "it_rc", ""))
	ctx := context.Background()
	read := func(c *sql.Conn) (v, port string) {
		t.Helper()
		if err := c.QueryRowContext(ctx, "SELECT v, @@port FROM t WHERE id = 1").Scan(&v, &port); err != nil {
			t.Fatal(err)
		}
		return v, port
	}

	// The level is per session, settable and readable.
	if got := queryString(t, writer, "SELECT @@switchyard_read_consistency"); got != "eventual" {
		t.Fatalf("default level %q", got)
	}
	_, err := writer.ExecContext(ctx, "SET SESSION switchyard_read_consistency = 'strong'")
	me := mysqlErr(t, err, 1231, "42000")
	if !strings.Contains(me.Message, "eventual") {
		t.Fatalf("error does not name the allowed values: %s", me.Message)
	}
	mustExec(t, writer, "SET SESSION aurora_replica_read_consistency = 'session'")
	if got := queryString(t, writer, "SELECT @@aurora_replica_read_consistency"); got != "session" {
		t.Fatalf("level after SET = %q", got)
	}

	// 1. With replication running, a session read after its own write is
	// served by the replica (waiting for, or already having, the write).
	mustExec(t, writer, "UPDATE t SET v = 1 WHERE id = 1")
	if v, port := read(writer); v != "1" || port != replica {
		t.Fatalf("session read after write: v=%s on port %s, want 1 on the replica %s", v, port, replica)
	}

	// 2. Make the replica lag for real: its SQL thread stops applying.
	topo.Exec(t, s.Replicas[0], "STOP SLAVE SQL_THREAD")
	t.Cleanup(func() { topo.Exec(t, s.Replicas[0], "START SLAVE SQL_THREAD") })
	mustExec(t, writer, "UPDATE t SET v = 2 WHERE id = 1")
	// eventual (another session) may see the old row, from the replica.
	if v, port := read(reader); v != "1" || port != replica {
		t.Fatalf("eventual read: v=%s port=%s, want the stale 1 from the replica", v, port)
	}
	// session: the writer always sees its own write; the replica cannot
	// catch up, so the wait times out and the primary answers.
	before := consistencyCount(t, h, "session", "primary_timeout")
	if v, port := read(writer); v != "2" || port != primary {
		t.Fatalf("session read of own write: v=%s port=%s, want 2 from the primary", v, port)
	}
	if consistencyCount(t, h, "session", "primary_timeout") != before+1 {
		t.Fatalf("the timeout fallback was not counted")
	}
	// global: another session sees every committed write.
	mustExec(t, reader, "SET switchyard_read_consistency = 'global'")
	if v, _ := read(reader); v != "2" {
		t.Fatalf("global read: v=%s, want 2", v)
	}
	mustExec(t, reader, "SET switchyard_read_consistency = DEFAULT")
	if got := queryString(t, reader, "SELECT @@switchyard_read_consistency"); got != "eventual" {
		t.Fatalf("DEFAULT level %q", got)
	}

	// 3. Replication resumes: session reads return to the replica, and once
	// the monitor has seen the replica at the write's position no wait is
	// needed.
	topo.Exec(t, s.Replicas[0], "START SLAVE SQL_THREAD")
	topo.WaitReplicas(t)
	time.Sleep(300 * time.Millisecond) // a few monitor checks
	known := consistencyCount(t, h, "session", "replica_known")
	if v, port := read(writer); v != "2" || port != replica {
		t.Fatalf("after catch-up: v=%s port=%s", v, port)
	}
	if consistencyCount(t, h, "session", "replica_known") != known+1 {
		t.Fatalf("a replica known to have the write still waited")
	}
	// Per-node statement metrics show where reads went.
	body := h.scrape(t)
	if !strings.Contains(body, `switchyard_node_statements_total{namespace="itest",node="`+s.Replicas[0].Addr+`"`) {
		t.Fatalf("no per-node statement metric for the replica")
	}
}

func TestLaggingReplicaSkipped(t *testing.T) {
	topo := testtopo.StartPrivate(t, 1, 1, 0)
	h := startProxyOn(t, topo, options{extraTop: "monitor: {interval: 100ms, max_replica_lag: 2s}"})
	s := topo.Slices[0]
	replica, primary := strconv.Itoa(s.Replicas[0].Port), strconv.Itoa(s.Primary.Port)
	db := h.conn(h.open(splitUser, splitPass, "", ""))
	waitPort := func(want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for queryString(t, db, "SELECT @@port") != want {
			if time.Now().After(deadline) {
				t.Fatalf("reads never moved to port %s", want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitPort(replica)
	// A stopped SQL thread means unknown (unbounded) lag: the replica is
	// skipped and reads fall back to the primary...
	topo.Exec(t, s.Replicas[0], "STOP SLAVE SQL_THREAD")
	waitPort(primary)
	// ...and it returns when it catches up.
	topo.Exec(t, s.Replicas[0], "START SLAVE SQL_THREAD")
	waitPort(replica)
}

// TestConsistencyWithoutBinlog: a write the server does not log (here
// sql_log_bin=0, as on a server with the binary log off) reports no GTID;
// a session-consistency read after it goes to the primary, counted as
// primary_no_gtid, and never returns the stale replica row.
func TestConsistencyWithoutBinlog(t *testing.T) {
	h := startProxy(t, options{})
	p := h.topo.Slices[0].Primary
	h.topo.Exec(t, p, "DROP DATABASE IF EXISTS it_nobin", "CREATE DATABASE it_nobin", "CREATE TABLE it_nobin.t (id INT PRIMARY KEY, v INT)", "INSERT INTO it_nobin.t VALUES (1, 0)")
	t.Cleanup(func() { h.topo.Exec(t, p, "DROP DATABASE IF EXISTS it_nobin") })
	h.topo.WaitReplicas(t)
	c := h.conn(h.open(splitUser, splitPass, "it_nobin", ""))
	ctx := context.Background()
	mustExec(t, c, "SET SESSION switchyard_read_consistency = 'session'", "SET SESSION sql_log_bin = 0", "UPDATE t SET v = 7 WHERE id = 1")
	before := consistencyCount(t, h, "session", "primary_no_gtid")
	var v, port string
	if err := c.QueryRowContext(ctx, "SELECT v, @@port FROM t WHERE id = 1").Scan(&v, &port); err != nil {
		t.Fatal(err)
	}
	if v != "7" || port != strconv.Itoa(p.Port) {
		t.Fatalf("read after an unlogged write: v=%s from port %s, want 7 from the primary %d", v, port, p.Port)
	}
	if after := consistencyCount(t, h, "session", "primary_no_gtid"); after != before+1 {
		t.Fatalf("primary_no_gtid %v -> %v, want one more", before, after)
	}
	// The replica really is stale: without the primary fallback the read
	// would have been wrong.
	var rv string
	if err := h.rootDB(h.topo.Slices[0].Replicas[0], "it_nobin").QueryRow("SELECT v FROM t WHERE id = 1").Scan(&rv); err != nil || rv != "0" {
		t.Fatalf("replica has %q (%v), want the old 0", rv, err)
	}
}

// TestConsistencyNoFalseNoGTID: with the binary log on, writes that get
// their GTID only at COMMIT (inside BEGIN or with autocommit off) and
// writes that change no row are not taken for writes without a GTID: a
// session-consistency read after them still goes to the replica once it
// has the session's GTID (issue 11, defect 9).
func TestConsistencyNoFalseNoGTID(t *testing.T) {
	h := startProxy(t, options{})
	p := h.topo.Slices[0].Primary
	h.topo.Exec(t, p, "DROP DATABASE IF EXISTS it_gtidok", "CREATE DATABASE it_gtidok", "CREATE TABLE it_gtidok.t (id INT PRIMARY KEY, v INT)", "INSERT INTO it_gtidok.t VALUES (1, 0)")
	t.Cleanup(func() { h.topo.Exec(t, p, "DROP DATABASE IF EXISTS it_gtidok") })
	h.topo.WaitReplicas(t)
	for _, tc := range []struct {
		name  string
		stmts []string
	}{
		{"begin-commit", []string{"BEGIN", "UPDATE t SET v = v + 1 WHERE id = 1", "COMMIT"}},
		{"no-row-changed", []string{"UPDATE t SET v = 5 WHERE id = 999"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.conn(h.open(splitUser, splitPass, "it_gtidok", ""))
			mustExec(t, c, "SET SESSION switchyard_read_consistency = 'session'")
			before := consistencyCount(t, h, "session", "primary_no_gtid")
			mustExec(t, c, tc.stmts...)
			var v string
			if err := c.QueryRowContext(context.Background(), "SELECT v FROM t WHERE id = 1").Scan(&v); err != nil {
				t.Fatal(err)
			}
			if after := consistencyCount(t, h, "session", "primary_no_gtid"); after != before {
				t.Fatalf("primary_no_gtid %v -> %v after %v: a write was taken for one without GTID", before, after, tc.stmts)
			}
		})
	}
}
