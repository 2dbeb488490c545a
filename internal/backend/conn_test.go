package backend_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/sessvars"
)

// scripted answers COM_QUERY from a table of canned responses.
func scripted(responses map[string]func(sc *serverConn) [][]byte) func(sc *serverConn, q string) bool {
	return func(sc *serverConn, q string) bool {
		f, ok := responses[q]
		if !ok {
			return false
		}
		return writeAll(sc, f(sc)...)
	}
}

func okPkt(sc *serverConn, o protocol.OK) []byte {
	return protocol.AppendOK(nil, protocol.OKHeader, &o, sc.caps)
}

func errPkt(code uint16, state, msg string) []byte {
	return protocol.AppendErr(nil, protocol.NewError(code, state, "%s", msg))
}

func connTo(t *testing.T, s *fakeServer) *backend.Conn {
	t.Helper()
	c, err := dial(t, s.addr(), "app", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestQueryRows(t *testing.T) {
	s := newFakeServer(t)
	s.query = scripted(map[string]func(sc *serverConn) [][]byte{
		"SELECT a, b": func(sc *serverConn) [][]byte {
			return resultSet(sc.caps, protocol.StatusAutocommit, []string{"a", "b"}, [][]*string{
				{strp("1"), strp("x")},
				{strp(""), nil},
				{strp(strings.Repeat("z", 300)), strp("ü")},
			})
		},
		"SELECT none": func(sc *serverConn) [][]byte {
			return resultSet(sc.caps, protocol.StatusAutocommit, []string{"c"}, nil)
		},
		"UPDATE t": func(sc *serverConn) [][]byte {
			return [][]byte{okPkt(sc, protocol.OK{AffectedRows: 3, Status: protocol.StatusAutocommit})}
		},
		"SELECT err": func(sc *serverConn) [][]byte {
			return [][]byte{errPkt(1146, "42S02", "Table 'x' doesn't exist")}
		},
		"SELECT midway": func(sc *serverConn) [][]byte {
			rs := resultSet(sc.caps, 0, []string{"a"}, [][]*string{{strp("1")}})
			return append(rs[:len(rs)-1], errPkt(1317, "70100", "Query execution was interrupted"))
		},
		"SELECT 1; SELECT 2": func(sc *serverConn) [][]byte {
			first := resultSet(sc.caps, protocol.StatusAutocommit|protocol.StatusMoreResultsExists, []string{"1"}, [][]*string{{strp("1")}})
			second := resultSet(sc.caps, protocol.StatusAutocommit, []string{"2"}, [][]*string{{strp("2")}})
			return append(first, second...)
		},
		"SELECT bad row": func(sc *serverConn) [][]byte {
			rs := resultSet(sc.caps, 0, []string{"a", "b"}, nil)
			return append(rs[:len(rs)-1], []byte{1, 'x'}, rs[len(rs)-1]) // a row with one of two columns
		},
	})
	s.start()
	c := connTo(t, s)

	cols, rows, err := c.QueryRows("SELECT a, b")
	if err != nil {
		t.Fatal(err)
	}
	wantRows := [][]string{{"1", "x"}, {"", ""}, {strings.Repeat("z", 300), "ü"}}
	if !reflect.DeepEqual(cols, []string{"a", "b"}) || !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("QueryRows = %q, %q", cols, rows)
	}

	cols, rows, err = c.QueryRows("SELECT none")
	if err != nil || !reflect.DeepEqual(cols, []string{"c"}) || len(rows) != 0 {
		t.Errorf("empty result = %q, %q, %v", cols, rows, err)
	}

	cols, rows, err = c.QueryRows("UPDATE t")
	if err != nil || cols != nil || rows != nil {
		t.Errorf("OK result = %q, %q, %v", cols, rows, err)
	}

	_, _, err = c.QueryRows("SELECT err")
	var pe *protocol.Error
	if !errors.As(err, &pe) || pe.Code != 1146 || pe.State != "42S02" {
		t.Errorf("err = %v, want 1146", err)
	}
	if c.Broken() {
		t.Error("a server error broke the connection")
	}

	_, _, err = c.QueryRows("SELECT midway")
	if !errors.As(err, &pe) || pe.Code != 1317 {
		t.Errorf("err = %v, want 1317", err)
	}

	cols, rows, err = c.QueryRows("SELECT 1; SELECT 2")
	if err != nil || !reflect.DeepEqual(cols, []string{"1"}) || !reflect.DeepEqual(rows, [][]string{{"1"}}) {
		t.Errorf("multi result = %q, %q, %v", cols, rows, err)
	}
	// The second result was drained: the connection is in sync.
	if err := c.Ping(); err != nil {
		t.Fatalf("Ping after a multi-result query: %v", err)
	}

	_, _, err = c.QueryRows("SELECT bad row")
	if !errors.Is(err, protocol.ErrMalformed) || !c.Broken() {
		t.Errorf("malformed row: err = %v, broken = %v", err, c.Broken())
	}
}

func TestExecAndReadResultDiscard(t *testing.T) {
	s := newFakeServer(t)
	s.query = scripted(map[string]func(sc *serverConn) [][]byte{
		"INSERT": func(sc *serverConn) [][]byte {
			return [][]byte{okPkt(sc, protocol.OK{AffectedRows: 2, LastInsertID: 10, Status: protocol.StatusAutocommit | protocol.StatusInTrans, Warnings: 1})}
		},
		"CALL p()": func(sc *serverConn) [][]byte {
			rs := resultSet(sc.caps, protocol.StatusMoreResultsExists, []string{"a"}, [][]*string{{strp("1")}, {strp("2")}})
			rs = append(rs, okPkt(sc, protocol.OK{AffectedRows: 5, Status: protocol.StatusMoreResultsExists}))
			return append(rs, okPkt(sc, protocol.OK{AffectedRows: 7, Status: protocol.StatusAutocommit}))
		},
		"SELECT rows": func(sc *serverConn) [][]byte {
			return resultSet(sc.caps, protocol.StatusAutocommit, []string{"a"}, [][]*string{{strp("1")}})
		},
		"BAD": func(sc *serverConn) [][]byte {
			return [][]byte{errPkt(1064, "42000", "syntax")}
		},
		"LOAD DATA LOCAL": func(sc *serverConn) [][]byte {
			return [][]byte{append([]byte{protocol.LocalInfileHeader}, "/etc/passwd"...)}
		},
		"SET x": func(sc *serverConn) [][]byte {
			state := protocol.AppendLenEncString(nil, "autocommit")
			state = protocol.AppendLenEncString(state, "OFF")
			block := protocol.AppendLenEncBytes([]byte{protocol.SessionTrackSystemVariables}, state)
			return [][]byte{okPkt(sc, protocol.OK{Status: protocol.StatusSessionStateChange, SessionState: block})}
		},
	})
	s.start()
	c := connTo(t, s)

	ok, err := c.Exec("INSERT")
	if err != nil || ok.AffectedRows != 2 || ok.LastInsertID != 10 || ok.Warnings != 1 {
		t.Errorf("Exec(INSERT) = %+v, %v", ok, err)
	}
	if c.Status != protocol.StatusAutocommit|protocol.StatusInTrans {
		t.Errorf("Status = %#x", c.Status)
	}
	ok, err = c.Exec("CALL p()")
	if err != nil || ok.AffectedRows != 7 {
		t.Errorf("Exec(CALL) = %+v, %v; want the last OK", ok, err)
	}
	if _, err := c.Exec("SELECT rows"); err != nil {
		t.Errorf("Exec(SELECT) = %v", err)
	}
	_, err = c.Exec("BAD")
	var pe *protocol.Error
	if !errors.As(err, &pe) || pe.Code != 1064 || c.Broken() {
		t.Errorf("Exec(BAD) = %v, broken %v", err, c.Broken())
	}
	ok, err = c.Exec("SET x")
	if err != nil || len(ok.SessionState) == 0 {
		t.Errorf("Exec(SET) = %+v, %v; want the session state", ok, err)
	}
	// LOAD DATA LOCAL: the client answers with an empty packet (no file);
	// the fake server then reads that as a zero-length command and hangs up.
	_, _ = c.Exec("LOAD DATA LOCAL")

	cmds := s.conn(0).commands()
	want := []string{"COM_QUERY SET SESSION session_track_system_variables='*'", "COM_QUERY INSERT", "COM_QUERY CALL p()", "COM_QUERY SELECT rows", "COM_QUERY BAD", "COM_QUERY SET x", "COM_QUERY LOAD DATA LOCAL"}
	if !reflect.DeepEqual(cmds, want) {
		t.Errorf("server saw %q\n want %q", cmds, want)
	}
}

// TestExecEmptyPacket: a zero-length response packet must be an error, not
// an index-out-of-range panic (conn.go ReadResultDiscard tests p[0] after
// IsErr/IsOK, which are false for an empty packet).
func TestExecEmptyPacket(t *testing.T) {
	s := newFakeServer(t)
	s.query = scripted(map[string]func(sc *serverConn) [][]byte{
		"EMPTY": func(sc *serverConn) [][]byte { return [][]byte{{}} },
	})
	s.start()
	c := connTo(t, s)
	noPanic(t, "Conn.Exec on an empty response packet", func() {
		if _, err := c.Exec("EMPTY"); err == nil {
			t.Error("Exec succeeded on an empty response packet")
		}
	})
}

func TestConnCommands(t *testing.T) {
	s := newFakeServer(t)
	s.start()
	c := connTo(t, s)
	if err := c.InitDB("shop"); err != nil || c.DB != "shop" {
		t.Fatalf("InitDB: %v, DB %q", err, c.DB)
	}
	if err := c.Ping(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Prepare("SELECT ?"); err != nil {
		t.Fatal(err)
	}
	c.Vars = (*sessvars.Set)(nil).With(map[string]string{"autocommit": "OFF"})
	c.Dirty = true
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	if c.Vars != nil || c.Dirty || c.NumStmts() != 0 || c.CachedStmt("SELECT ?") != nil {
		t.Errorf("after Reset: Vars %v Dirty %v stmts %d", c.Vars, c.Dirty, c.NumStmts())
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	sc := s.conn(0)
	<-sc.done
	want := []string{
		"COM_QUERY SET SESSION session_track_system_variables='*'",
		"COM_INIT_DB shop",
		"COM_PING",
		"COM_STMT_PREPARE 1 SELECT ?",
		"COM_RESET_CONNECTION",
		"COM_QUERY SET SESSION session_track_system_variables='*'",
		"COM_QUIT",
	}
	if got := sc.commands(); !reflect.DeepEqual(got, want) {
		t.Errorf("server saw %q\n want %q", got, want)
	}

	// A broken connection closes without COM_QUIT.
	c2 := connTo(t, s)
	c2.MarkBroken()
	if !c2.Broken() {
		t.Fatal("MarkBroken did not mark")
	}
	c2.Close()
	sc2 := s.conn(1)
	<-sc2.done
	for _, cmd := range sc2.commands() {
		if cmd == "COM_QUIT" {
			t.Error("COM_QUIT sent on a broken connection")
		}
	}
}

func TestConnIOErrorsMarkBroken(t *testing.T) {
	s := newFakeServer(t)
	s.query = func(sc *serverConn, q string) bool {
		if q == "HANGUP" {
			sc.nc.Close()
			return true
		}
		return false
	}
	s.start()
	ops := []struct {
		name string
		op   func(c *backend.Conn) error
	}{
		{"Exec", func(c *backend.Conn) error { _, err := c.Exec("HANGUP"); return err }},
		{"QueryRows", func(c *backend.Conn) error { _, _, err := c.QueryRows("HANGUP"); return err }},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			c := connTo(t, s)
			if err := op.op(c); err == nil {
				t.Fatal("no error after the server hung up")
			}
			if !c.Broken() {
				t.Error("connection not marked broken after an I/O error")
			}
		})
	}
}

// TestBackendWithoutDeprecateEOF: backend.Conn parses result sets in
// CLIENT_DEPRECATE_EOF framing only, but Dial masks its capabilities with
// the server's, so a server without DEPRECATE_EOF (MySQL < 5.7.5, MariaDB <
// 10.2) gets classic framing: column defs, EOF, rows, EOF. Dial must either
// refuse such a server or QueryRows must read its rows.
func TestBackendWithoutDeprecateEOF(t *testing.T) {
	s := newFakeServer(t)
	s.caps = fakeServerCaps &^ protocol.ClientDeprecateEOF
	s.query = scripted(map[string]func(sc *serverConn) [][]byte{
		"SELECT a": func(sc *serverConn) [][]byte {
			return [][]byte{
				{1},
				protocol.AppendColumnDef(nil, &protocol.ColumnDef{Name: "a"}),
				protocol.AppendEOF(nil, 0, protocol.StatusAutocommit),
				protocol.AppendLenEncString(nil, "row1"),
				protocol.AppendLenEncString(nil, "row2"),
				protocol.AppendEOF(nil, 0, protocol.StatusAutocommit),
			}
		},
	})
	s.start()
	c, err := dial(t, s.addr(), "app", "")
	if err != nil {
		return // refusing such a backend is fine
	}
	defer c.Close()
	if c.Caps&protocol.ClientDeprecateEOF != 0 {
		t.Fatalf("negotiated DEPRECATE_EOF with a server that does not offer it")
	}
	_, rows, err := c.QueryRows("SELECT a")
	if err != nil || !reflect.DeepEqual(rows, [][]string{{"row1"}, {"row2"}}) {
		t.Errorf("BUG: Dial accepted a backend without CLIENT_DEPRECATE_EOF (Caps %#x) and QueryRows returned %q, %v; want rows row1, row2", c.Caps, rows, err)
	}
	if err := c.Ping(); err != nil {
		t.Errorf("connection out of sync after the query: %v", err)
	}
}
