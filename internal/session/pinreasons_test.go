package session

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard-db/switchyard/internal/fakedb"
	"github.com/switchyard-db/switchyard/internal/protocol"
)

// connOf returns the connection of srv that received sql (the last one
// that did), or 0.
func connOf(srv *fakedb.Server, sql string) uint32 {
	var id uint32
	for _, c := range srv.Commands() {
		if c.SQL == sql {
			id = c.Conn
		}
	}
	return id
}

// resets counts the COM_RESET_CONNECTIONs connection id received.
func resets(srv *fakedb.Server, id uint32) int {
	n := 0
	for _, c := range srv.Commands() {
		if c.Conn == id && c.SQL == "COM_RESET_CONNECTION" {
			n++
		}
	}
	return n
}

// TestPinReasons: a statement that binds state to its backend connection
// keeps the session on that connection until the state ends, and the
// connection goes back to the pool reset. What the fake slice saw shows
// it: every statement of the session ran on one connection, and a second
// session's statement ran on another one while the first held it (the
// pool hands out the connection given back last).
func TestPinReasons(t *testing.T) {
	cases := []struct {
		name   string
		steps  []string // the first session's statements
		pinned bool     // they leave it holding its connection
		then   []string // its next statements
		still  bool     // it holds its connection after them
		binary bool     // the steps also run as prepared statements
	}{
		{name: "user variable", steps: []string{"SET @a = 1", "SELECT @a"}, pinned: true, then: []string{"SELECT 1"}, still: true, binary: true},
		{name: "LOCK TABLES", steps: []string{"LOCK TABLES t_plain READ", "SELECT * FROM t_plain"}, pinned: true, then: []string{"UNLOCK TABLES"}},
		{name: "GET_LOCK", steps: []string{"SELECT GET_LOCK('l', 0)", "SELECT 2"}, pinned: true, then: []string{"SELECT RELEASE_LOCK('l')"}, still: true, binary: true},
		{name: "temporary table", steps: []string{"CREATE TEMPORARY TABLE tmp (a INT)", "INSERT INTO tmp VALUES (1)"}, pinned: true, then: []string{"SELECT * FROM tmp"}, still: true},
		{name: "SET TRANSACTION lasts one transaction", steps: []string{"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"}, pinned: true, then: []string{"BEGIN", "SELECT 3", "COMMIT"}},
		{name: "no reason", steps: []string{"SELECT 4", "SET autocommit=1"}, binary: true},
	}
	for _, tc := range cases {
		for _, prepared := range []bool{false, true} {
			if prepared && !tc.binary {
				continue
			}
			name := tc.name + "/text"
			if prepared {
				name = tc.name + "/prepared"
			}
			t.Run(name, func(t *testing.T) {
				h := newHarness(t, "xa")
				s0 := h.slices[0]
				a, b := h.connect(), h.connect()
				for _, sql := range tc.steps {
					a.run(prepared, sql)
				}
				held := connOf(s0, tc.steps[0])
				if held == 0 {
					t.Fatalf("slice s0 never saw %q: %v", tc.steps[0], s0.Commands())
				}
				for _, sql := range tc.steps[1:] {
					if id := connOf(s0, sql); id != held {
						t.Errorf("%q ran on connection %d, %q on %d", tc.steps[0], held, sql, id)
					}
				}
				// probe runs a statement in the second session: it gets the
				// first session's connection exactly when that was given
				// back.
				probe := func(step string, pinned bool) {
					t.Helper()
					sql := "SELECT '" + step + "'"
					b.run(false, sql)
					if got := connOf(s0, sql) == held; got == pinned {
						t.Errorf("after %s: the other session's statement ran on the first session's connection: %v, want %v", step, got, !pinned)
					}
				}
				probe("steps", tc.pinned)
				if tc.then != nil {
					for _, sql := range tc.then {
						a.run(prepared, sql)
						if tc.pinned {
							if id := connOf(s0, sql); id != held {
								t.Errorf("%q ran on connection %d, not the held %d", sql, id, held)
							}
						}
					}
					probe("then", tc.still)
				}
				// COM_RESET_CONNECTION gives the held connection back, reset
				// when it carries state.
				a.send(protocol.ComResetConnection, nil)
				if r := a.readResult(); r.err != nil {
					t.Fatal(r.err)
				}
				want := 0
				if tc.still {
					want = 1
				}
				if n := resets(s0, held); n != want {
					t.Errorf("connection %d was reset %d times, want %d", held, n, want)
				}
				probe("reset", false)
				if n := s0.InTransaction(); n != 0 {
					t.Errorf("%d connections left in a transaction", n)
				}
			})
		}
	}
}

// newReplicaHarness is newHarness with a replica on slice s0 and a user
// whose reads may go to replicas; slices[2] is the replica.
func newReplicaHarness(t *testing.T) *harness {
	t.Helper()
	s0, s1, r0 := fakedb.Start(t), fakedb.Start(t), fakedb.Start(t)
	yaml := fmt.Sprintf(`listen: 127.0.0.1:0
namespaces:
  - name: ns
    users:
      - {name: app, password: pw, rw_split: true}
    backend: {user: proxy, password: proxy}
    transactions: xa
    default_slice: s0
    slices:
      - {name: s0, primary: %s, replicas: [%s]}
      - {name: s1, primary: %s}
    databases:
      - name: db
        tables:
          - {name: t_user, type: sharded, key: id, algorithm: mod, slices: [s0, s1], tables_per_slice: 1}
`, s0.Addr(), r0.Addr(), s1.Addr())
	return harnessOn(t, yaml, s0, s1, r0)
}

// TestReadOnlyTxnOnReplica: START TRANSACTION READ ONLY of a user with
// read/write splitting runs on a replica, on one connection from the
// first statement to COMMIT; a read-write transaction runs on the primary.
func TestReadOnlyTxnOnReplica(t *testing.T) {
	for _, prepared := range []bool{false, true} {
		t.Run(fmt.Sprintf("prepared=%v", prepared), func(t *testing.T) {
			h := newReplicaHarness(t)
			primary, replica := h.slices[0], h.slices[2]
			c := h.connect()
			if r := c.run(prepared, "START TRANSACTION READ ONLY"); r.status&protocol.StatusInTrans == 0 {
				t.Error("START TRANSACTION READ ONLY: no in-transaction flag")
			}
			if r := c.run(prepared, "SELECT * FROM t_plain"); r.status&protocol.StatusInTrans == 0 {
				t.Error("read in the transaction: no in-transaction flag")
			}
			c.run(prepared, "SELECT 5")
			if r := c.run(prepared, "COMMIT"); r.status&protocol.StatusInTrans != 0 {
				t.Error("COMMIT: in-transaction flag still set")
			}
			txn := []string{"START TRANSACTION READ ONLY", "SELECT * FROM t_plain", "SELECT 5", "COMMIT"}
			held := connOf(replica, txn[0])
			if held == 0 {
				t.Fatalf("the replica never saw the transaction: %v", replica.Commands())
			}
			for _, sql := range txn {
				if id := connOf(replica, sql); id != held {
					t.Errorf("%q ran on replica connection %d, not %d", sql, id, held)
				}
				if id := connOf(primary, sql); id != 0 {
					t.Errorf("%q reached the primary", sql)
				}
			}
			// A read-write transaction reads the primary.
			c.run(prepared, "BEGIN")
			c.run(prepared, "SELECT 6")
			c.run(prepared, "COMMIT")
			for _, sql := range []string{"BEGIN", "SELECT 6", "COMMIT"} {
				if connOf(primary, sql) == 0 {
					t.Errorf("%q of a read-write transaction did not reach the primary", sql)
				}
			}
			for _, sql := range []string{"BEGIN", "SELECT 6"} {
				if connOf(replica, sql) != 0 {
					t.Errorf("%q of a read-write transaction reached the replica", sql)
				}
			}
			for i, s := range h.slices {
				if n := s.InTransaction(); n != 0 {
					t.Errorf("server %d: %d connections left in a transaction", i, n)
				}
			}
		})
	}
}

// TestPinnedSurvivesSharded: a user variable pins the session to slice
// s0; a keyed write to s0 runs on that connection, and one to s1 is
// refused (a pinned session cannot span slices) without losing the pin.
func TestPinnedSurvivesSharded(t *testing.T) {
	h := newHarness(t, "xa")
	s0, s1 := h.slices[0], h.slices[1]
	c := h.connect()
	c.run(false, "SET @v = 7")
	held := connOf(s0, "SET @v = 7")
	c.run(false, "INSERT INTO t_user (id, name) VALUES (2, 'a')")
	var ins uint32
	for _, cmd := range s0.Commands() {
		if strings.HasPrefix(cmd.SQL, "INSERT") {
			ins = cmd.Conn
		}
	}
	if ins != held {
		t.Errorf("the write to s0 ran on connection %d, the pinned one is %d", ins, held)
	}
	r := c.query("INSERT INTO t_user (id, name) VALUES (1, 'b')")
	if r.err == nil || r.err.Code != protocol.ErrNotSupportedYet {
		t.Errorf("write to s1 from a session pinned to s0: %v, want error %d", r.err, protocol.ErrNotSupportedYet)
	}
	for _, cmd := range s1.Commands() {
		if strings.HasPrefix(cmd.SQL, "INSERT") {
			t.Errorf("s1 received %q", cmd.SQL)
		}
	}
	c.run(false, "SELECT @v")
	if id := connOf(s0, "SELECT @v"); id != held {
		t.Errorf("SELECT @v ran on connection %d after the refusal, the pinned one is %d", id, held)
	}
}
