package backend_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/protocol"
)

// stmtServer answers COM_STMT_PREPARE with 0 params and 0 columns, except
// for "WITH DEFS" (2 params, 1 column), "BAD" (an error) and "HANGUP".
func stmtServer(t *testing.T) *fakeServer {
	s := newFakeServer(t)
	s.command = func(sc *serverConn, p []byte) bool {
		if p[0] != protocol.ComStmtPrepare {
			return false
		}
		switch string(p[1:]) {
		case "WITH DEFS":
			id := s.nextStmt.Add(1)
			sc.log(fmt.Sprintf("COM_STMT_PREPARE %d WITH DEFS", id))
			def := func(name string) []byte { return protocol.AppendColumnDef(nil, &protocol.ColumnDef{Name: name}) }
			return writeAll(sc, protocol.AppendStmtPrepareOK(nil, &protocol.StmtPrepareOK{StmtID: id, NumParams: 2, NumColumns: 1}), def("?"), def("?"), def("c"))
		case "BAD":
			sc.log("COM_STMT_PREPARE BAD")
			return writeAll(sc, errPkt(1064, "42000", "syntax error"))
		case "HANGUP":
			sc.nc.Close()
			return true
		}
		return false
	}
	return s.start()
}

// sync makes sure the server processed everything sent so far
// (COM_STMT_CLOSE has no response) and returns its command log without the
// login's SET and the PINGs.
func syncCommands(t *testing.T, c *backend.Conn, sc *serverConn) []string {
	t.Helper()
	if err := c.Ping(); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, cmd := range sc.commands() {
		if cmd == "COM_PING" || strings.HasPrefix(cmd, "COM_QUERY SET SESSION session_track") {
			continue
		}
		out = append(out, cmd)
	}
	return out
}

func TestPrepareCache(t *testing.T) {
	s := stmtServer(t)
	c := connTo(t, s)
	a, err := c.Prepare("SELECT a")
	if err != nil {
		t.Fatal(err)
	}
	a2, err := c.Prepare("SELECT a")
	if err != nil || a2 != a {
		t.Fatalf("second Prepare = %p, %v; want the cached %p", a2, err, a)
	}
	if c.NumStmts() != 1 || c.CachedStmt("SELECT a") != a || c.CachedStmt("SELECT b") != nil {
		t.Errorf("cache: %d statements", c.NumStmts())
	}
	d, err := c.Prepare("WITH DEFS")
	if err != nil {
		t.Fatal(err)
	}
	if d.NumParams != 2 || d.NumColumns != 1 || d.ID != 2 {
		t.Errorf("stmt %+v", *d)
	}
	want := []string{"COM_STMT_PREPARE 1 SELECT a", "COM_STMT_PREPARE 2 WITH DEFS"}
	if got := syncCommands(t, c, s.conn(0)); !reflect.DeepEqual(got, want) {
		t.Errorf("server saw %q, want %q", got, want)
	}

	// A server error is returned, nothing is cached and the connection
	// stays usable.
	_, err = c.Prepare("BAD")
	var pe *protocol.Error
	if !errors.As(err, &pe) || pe.Code != 1064 || c.Broken() || c.CachedStmt("BAD") != nil {
		t.Errorf("Prepare(BAD) = %v, broken %v", err, c.Broken())
	}
	if err := c.Ping(); err != nil {
		t.Fatal(err)
	}
	// An I/O error breaks it.
	if _, err := c.Prepare("HANGUP"); err == nil || !c.Broken() {
		t.Errorf("Prepare(HANGUP) = %v, broken %v", err, c.Broken())
	}
}

func TestPrepareLRUEviction(t *testing.T) {
	s := stmtServer(t)
	c := connTo(t, s)
	c.SetMaxStmts(2)
	c.SetMaxStmts(0) // ignored
	prep := func(q string) *backend.Stmt {
		t.Helper()
		st, err := c.Prepare(q)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	a := prep("a") // id 1
	b := prep("b") // id 2
	prep("a")      // a is now the most recent; b the least
	prep("c")      // id 3, evicts b
	if c.NumStmts() != 2 || c.CachedStmt("b") != nil || c.CachedStmt("a") != a || c.CachedStmt("c") == nil {
		t.Fatalf("after evicting b: %d statements, b cached %v", c.NumStmts(), c.CachedStmt("b") != nil)
	}
	want := []string{"COM_STMT_PREPARE 1 a", "COM_STMT_PREPARE 2 b", "COM_STMT_PREPARE 3 c", fmt.Sprintf("COM_STMT_CLOSE %d", b.ID)}
	if got := syncCommands(t, c, s.conn(0)); !reflect.DeepEqual(got, want) {
		t.Errorf("server saw %q\n want %q", got, want)
	}
	// CachedStmt also refreshes: touch a, then d evicts c (id 3).
	c.CachedStmt("a")
	prep("d") // id 4
	if c.CachedStmt("c") != nil || c.CachedStmt("a") == nil {
		t.Error("CachedStmt did not refresh a")
	}
	// Re-preparing an evicted statement prepares it again.
	b2 := prep("b") // id 5, evicts d (a was touched by the check above)
	if b2 == b || b2.ID != 5 {
		t.Errorf("re-prepared b = %+v", *b2)
	}
	want = append(want, "COM_STMT_PREPARE 4 d", "COM_STMT_CLOSE 3", "COM_STMT_PREPARE 5 b", "COM_STMT_CLOSE 4")
	if got := syncCommands(t, c, s.conn(0)); !reflect.DeepEqual(got, want) {
		t.Errorf("server saw %q\n want %q", got, want)
	}

	// DropStmt closes and forgets.
	c.DropStmt("a")
	c.DropStmt("never prepared")
	if c.CachedStmt("a") != nil || c.NumStmts() != 1 {
		t.Errorf("DropStmt: %d statements", c.NumStmts())
	}
	want = append(want, fmt.Sprintf("COM_STMT_CLOSE %d", a.ID))
	if got := syncCommands(t, c, s.conn(0)); !reflect.DeepEqual(got, want) {
		t.Errorf("server saw %q\n want %q", got, want)
	}
}

func TestPrepareLRUMaxOne(t *testing.T) {
	s := stmtServer(t)
	c := connTo(t, s)
	c.SetMaxStmts(1)
	for i := 0; i < 5; i++ {
		if _, err := c.Prepare(fmt.Sprintf("q%d", i)); err != nil {
			t.Fatal(err)
		}
		if c.NumStmts() != 1 {
			t.Fatalf("NumStmts = %d", c.NumStmts())
		}
	}
	closes := 0
	for _, cmd := range syncCommands(t, c, s.conn(0)) {
		if strings.HasPrefix(cmd, "COM_STMT_CLOSE") {
			closes++
		}
	}
	if closes != 4 {
		t.Errorf("%d COM_STMT_CLOSE, want 4", closes)
	}
}

func TestPrepareRelay(t *testing.T) {
	s := stmtServer(t)
	c := connTo(t, s)
	var got [][]byte
	collect := func(p []byte) error {
		got = append(got, append([]byte(nil), p...))
		return nil
	}
	st, err := c.PrepareRelay("WITH DEFS", collect)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("relayed %d packets, want 4 (prepare OK + 3 defs)", len(got))
	}
	if r, err := protocol.ParseStmtPrepareOK(got[0]); err != nil || r.StmtID != st.ID || r.NumParams != 2 {
		t.Errorf("first packet %+v, %v", r, err)
	}
	if c.CachedStmt("WITH DEFS") != st {
		t.Error("relayed statement not cached")
	}
	// Preparing the same SQL again relays the response but keeps the cached
	// statement and closes the duplicate.
	got = nil
	st2, err := c.PrepareRelay("WITH DEFS", collect)
	if err != nil || st2 != st || len(got) != 4 {
		t.Fatalf("duplicate PrepareRelay = %+v, %v (%d packets)", st2, err, len(got))
	}
	want := []string{"COM_STMT_PREPARE 1 WITH DEFS", "COM_STMT_PREPARE 2 WITH DEFS", "COM_STMT_CLOSE 2"}
	if cmds := syncCommands(t, c, s.conn(0)); !reflect.DeepEqual(cmds, want) {
		t.Errorf("server saw %q\n want %q", cmds, want)
	}
	// A server error is returned as *protocol.Error without calling fn.
	got = nil
	_, err = c.PrepareRelay("BAD", collect)
	var pe *protocol.Error
	if !errors.As(err, &pe) || len(got) != 0 {
		t.Errorf("PrepareRelay(BAD) = %v, %d packets relayed", err, len(got))
	}
	// An error from fn is returned as is.
	boom := errors.New("client gone")
	if _, err := c.PrepareRelay("SELECT 1", func([]byte) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("fn error: %v", err)
	}
}
