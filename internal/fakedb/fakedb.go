// Package fakedb is a packet-level fake MariaDB server for unit tests of
// the session and executor: it logs in any user, keeps per connection the
// state transactions depend on (BEGIN/COMMIT/ROLLBACK, XA branches,
// autocommit, the current database) and records what each write did: a
// write is "committed" when its transaction commits (or at once outside
// one), so a test can assert that a client's COMMIT reached every server.
// It answers SELECTs with one row of one column ("0"), which is all the
// session's own queries need. It is not a database: tests that need real
// answers use real MariaDB servers.
package fakedb

import (
	"encoding/binary"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

const caps = protocol.ClientLongPassword | protocol.ClientFoundRows | protocol.ClientLongFlag |
	protocol.ClientConnectWithDB | protocol.ClientProtocol41 | protocol.ClientTransactions |
	protocol.ClientSecureConnection | protocol.ClientMultiStatements | protocol.ClientMultiResults |
	protocol.ClientPSMultiResults | protocol.ClientPluginAuth | protocol.ClientConnectAttrs |
	protocol.ClientPluginAuthLenencClientData | protocol.ClientSessionTrack | protocol.ClientDeprecateEOF

// Server is one fake MariaDB server on 127.0.0.1.
type Server struct {
	ln net.Listener

	mu        sync.Mutex
	nextID    uint32
	committed []string
	prepared  map[string][]string // XA branches prepared, by xid text
	log       []string
	cmds      []Command
	conns     map[*conn]bool
	cols      [][2]string
	wg        sync.WaitGroup
}

// Start starts a server; t's cleanup stops it.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{ln: ln, prepared: map[string][]string{}, conns: map[*conn]bool{}}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// SetColumns sets what SHOW FULL COLUMNS answers for every table: pairs of
// name and type (the default is id BIGINT, name VARCHAR(40)).
func (s *Server) SetColumns(cols [][2]string) {
	s.mu.Lock()
	s.cols = cols
	s.mu.Unlock()
}

func (s *Server) columns() [][2]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cols == nil {
		return [][2]string{{"id", "bigint(20)"}, {"name", "varchar(40)"}}
	}
	return s.cols
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server and its connections.
func (s *Server) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Committed returns the writes committed so far, in commit order.
func (s *Server) Committed() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.committed...)
}

// Prepared returns the number of XA branches left prepared.
func (s *Server) Prepared() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.prepared)
}

// Log returns every statement received (COM_QUERY and executions).
func (s *Server) Log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

// Command is a statement (or COM_RESET_CONNECTION, as "COM_RESET_CONNECTION")
// one connection received.
type Command struct {
	Conn uint32 // the connection id
	SQL  string
}

// Commands returns every statement received, with the connection that
// received it, and every COM_RESET_CONNECTION.
func (s *Server) Commands() []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Command(nil), s.cmds...)
}

// InTransaction counts the connections with an open transaction.
func (s *Server) InTransaction() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		if c.inTrans {
			n++
		}
	}
	return n
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.nextID++
		c := &conn{srv: s, nc: nc, pc: protocol.NewConn(nc), id: s.nextID, autocommit: true, stmts: map[uint32]string{}}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c.serve()
			nc.Close()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// conn is the server side of one connection; its fields are guarded by
// srv.mu where other goroutines read them.
type conn struct {
	srv  *Server
	nc   net.Conn
	pc   *protocol.Conn
	id   uint32
	caps uint32

	inTrans    bool
	autocommit bool
	xid        string
	pending    []string
	stmts      map[uint32]string
	nextStmt   uint32
}

func (c *conn) serve() {
	g := protocol.AppendGreeting(nil, &protocol.Greeting{
		ServerVersion: "5.5.5-10.11.99-MariaDB-fakedb", ConnectionID: c.id, Scramble: protocol.NewScramble(),
		Capabilities: caps, Charset: protocol.CharsetUTF8MB4GeneralCI, Status: protocol.StatusAutocommit,
		AuthPlugin: protocol.AuthNativePassword,
	})
	c.pc.Seq = 0
	if c.pc.WriteFlush(g) != nil {
		return
	}
	p, err := c.pc.ReadPacket()
	if err != nil {
		return
	}
	resp, err := protocol.ParseHandshakeResponse(p)
	if err != nil {
		return
	}
	c.caps = resp.Capabilities & caps
	if c.writeOK(0, nil) != nil {
		return
	}
	for {
		c.pc.Seq = 0
		p, err := c.pc.ReadPacket()
		if err != nil || len(p) == 0 {
			return
		}
		var werr error
		switch p[0] {
		case protocol.ComQuit:
			return
		case protocol.ComQuery:
			werr = c.query(string(p[1:]), false)
		case protocol.ComStmtPrepare:
			werr = c.prepare(string(p[1:]))
		case protocol.ComStmtExecute:
			sql := ""
			if len(p) >= 5 {
				sql = c.stmts[binary.LittleEndian.Uint32(p[1:])]
			}
			werr = c.query(sql, true)
		case protocol.ComStmtClose, protocol.ComStmtSendLongData:
			continue
		case protocol.ComResetConnection, protocol.ComChangeUser:
			c.srv.mu.Lock()
			if p[0] == protocol.ComResetConnection {
				c.srv.cmds = append(c.srv.cmds, Command{c.id, "COM_RESET_CONNECTION"})
			}
			c.pending, c.inTrans, c.xid, c.autocommit = nil, false, "", true
			c.srv.mu.Unlock()
			werr = c.writeOK(0, nil)
		default: // COM_PING, COM_INIT_DB, ...
			werr = c.writeOK(0, nil)
		}
		if werr != nil {
			return
		}
	}
}

func (c *conn) status() uint16 {
	var st uint16
	if c.inTrans {
		st |= protocol.StatusInTrans
	}
	if c.autocommit {
		st |= protocol.StatusAutocommit
	}
	return st
}

func (c *conn) writeOK(affected uint64, state []byte) error {
	return c.writeOKMore(affected, state, false)
}

func (c *conn) writeOKMore(affected uint64, state []byte, more bool) error {
	st := c.status()
	if len(state) > 0 {
		st |= protocol.StatusSessionStateChange
	}
	if more {
		st |= protocol.StatusMoreResultsExists
	}
	ok := protocol.OK{AffectedRows: affected, Status: st, SessionState: state}
	return c.pc.WriteFlush(protocol.AppendOK(nil, protocol.OKHeader, &ok, c.caps))
}

func (c *conn) prepare(sql string) error {
	c.nextStmt++
	c.stmts[c.nextStmt] = sql
	cols := uint16(0)
	if isSelect(sql) {
		cols = 1
	}
	params := uint16(strings.Count(sql, "?"))
	b := protocol.AppendStmtPrepareOK(nil, &protocol.StmtPrepareOK{StmtID: c.nextStmt, NumColumns: cols, NumParams: params})
	if err := c.pc.WritePacket(b); err != nil {
		return err
	}
	var w protocol.ResultWriter
	w.Reset(c.pc, c.caps, false)
	defs := make([]protocol.ColumnDef, params)
	for i := range defs {
		defs[i] = protocol.ColumnDef{Name: "?", Charset: uint16(protocol.CharsetBinary), Type: protocol.TypeVarString}
	}
	if err := w.Defs(defs, c.status()); err != nil {
		return err
	}
	if cols > 0 {
		def := protocol.ColumnDef{Name: "c", Charset: uint16(protocol.CharsetUTF8MB4GeneralCI), Type: protocol.TypeVarString}
		if err := w.Defs([]protocol.ColumnDef{def}, c.status()); err != nil {
			return err
		}
	}
	return c.pc.Flush()
}

func isSelect(sql string) bool {
	u := strings.ToUpper(strings.TrimSpace(sql))
	return strings.HasPrefix(u, "SELECT") || strings.HasPrefix(u, "SHOW") || strings.HasPrefix(u, "XA RECOVER")
}

// query runs each statement of a (multi-)statement query.
func (c *conn) query(sql string, binaryRows bool) error {
	parts := splitStatements(sql)
	for i, q := range parts {
		more := i < len(parts)-1
		errPkt, rows, affected, state := c.apply(q)
		if errPkt != nil {
			return c.pc.WriteFlush(protocol.AppendErr(nil, errPkt))
		}
		var err error
		switch {
		case rows && strings.HasPrefix(strings.ToUpper(q), "SHOW FULL COLUMNS"):
			var out [][]string
			for _, col := range c.srv.columns() {
				out = append(out, []string{col[0], col[1], "", "YES", "", "", "", "", ""})
			}
			err = c.writeResult([]string{"Field", "Type", "Collation", "Null", "Key", "Default", "Extra", "Privileges", "Comment"}, out, binaryRows, more)
		case rows && strings.HasPrefix(strings.ToUpper(q), "XA RECOVER"):
			err = c.writeResult([]string{"formatID", "gtrid_length", "bqual_length", "data"}, nil, binaryRows, more)
		case rows:
			err = c.writeResult([]string{"c"}, [][]string{{"0"}}, binaryRows, more)
		default:
			err = c.writeOKMore(affected, state, more)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writeResult sends a result set of VARCHAR columns.
func (c *conn) writeResult(cols []string, rows [][]string, binaryRows, more bool) error {
	defs := make([]protocol.ColumnDef, len(cols))
	for i, name := range cols {
		defs[i] = protocol.ColumnDef{Name: name, Charset: uint16(protocol.CharsetUTF8MB4GeneralCI), Type: protocol.TypeVarString, Length: 256}
	}
	st := c.status()
	if more {
		st |= protocol.StatusMoreResultsExists
	}
	var w protocol.ResultWriter
	w.Reset(c.pc, c.caps, binaryRows)
	if err := w.Begin(defs, st); err != nil {
		return err
	}
	vals := make([][]byte, len(cols))
	for _, r := range rows {
		for i, v := range r {
			vals[i] = []byte(v)
		}
		if err := w.Values(vals...); err != nil {
			return err
		}
	}
	if err := w.End(st, 0); err != nil {
		return err
	}
	return c.pc.Flush()
}

// apply changes the connection's state for one statement.
func (c *conn) apply(q string) (e *protocol.Error, rows bool, affected uint64, state []byte) {
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, q)
	s.cmds = append(s.cmds, Command{c.id, q})
	u := strings.ToUpper(strings.Join(strings.Fields(q), " "))
	commit := func() {
		s.committed = append(s.committed, c.pending...)
		c.pending, c.inTrans = nil, false
	}
	switch {
	case strings.HasPrefix(u, "XA START"):
		if c.inTrans {
			return protocol.NewError(1399, "XAE07", "XAER_RMFAIL: The command cannot be executed when global transaction is in the ACTIVE state"), false, 0, nil
		}
		c.xid, c.inTrans = strings.TrimSpace(q[len("XA START"):]), true
	case strings.HasPrefix(u, "XA END"):
	case strings.HasPrefix(u, "XA PREPARE"):
		s.prepared[c.xid] = c.pending
		c.pending, c.inTrans, c.xid = nil, false, ""
	case strings.HasPrefix(u, "XA COMMIT"):
		x := strings.TrimSpace(q[len("XA COMMIT"):])
		s.committed = append(s.committed, s.prepared[x]...)
		delete(s.prepared, x)
	case strings.HasPrefix(u, "XA ROLLBACK"):
		delete(s.prepared, strings.TrimSpace(q[len("XA ROLLBACK"):]))
	case strings.HasPrefix(u, "XA RECOVER"):
		return nil, true, 0, nil
	case u == "BEGIN" || strings.HasPrefix(u, "START TRANSACTION"):
		commit()
		c.inTrans = true
	case u == "COMMIT":
		commit()
	case u == "ROLLBACK":
		c.pending, c.inTrans = nil, false
	case strings.HasPrefix(u, "SAVEPOINT") || strings.HasPrefix(u, "ROLLBACK TO") || strings.HasPrefix(u, "RELEASE"):
	case strings.HasPrefix(u, "SET ") && strings.Contains(u, "AUTOCOMMIT"):
		on := strings.Contains(u, "AUTOCOMMIT=1") || strings.Contains(u, "AUTOCOMMIT = 1") || strings.Contains(u, "AUTOCOMMIT=ON")
		if on && !c.autocommit {
			commit()
		}
		c.autocommit = on
		v := "OFF"
		if on {
			v = "ON"
		}
		state = trackVar("autocommit", v)
	case strings.HasPrefix(u, "INSERT") || strings.HasPrefix(u, "UPDATE") || strings.HasPrefix(u, "DELETE") || strings.HasPrefix(u, "REPLACE"):
		if c.inTrans || !c.autocommit {
			c.pending = append(c.pending, q)
			c.inTrans = true
		} else {
			s.committed = append(s.committed, q)
		}
		affected = 1
	case strings.HasPrefix(u, "CREATE") || strings.HasPrefix(u, "ALTER") || strings.HasPrefix(u, "DROP") || strings.HasPrefix(u, "TRUNCATE"):
		commit()
		s.committed = append(s.committed, q)
	case isSelect(q):
		if !c.autocommit && strings.Contains(u, " FROM ") && !strings.Contains(u, "@@") {
			c.inTrans = true
		}
		return nil, true, 0, nil
	}
	return nil, false, affected, state
}

// trackVar is session_state_info reporting one system variable.
func trackVar(name, value string) []byte {
	data := protocol.AppendLenEncString(nil, name)
	data = protocol.AppendLenEncString(data, value)
	b := []byte{protocol.SessionTrackSystemVariables}
	return protocol.AppendLenEncBytes(b, data)
}

// splitStatements splits a multi-statement query at semicolons outside
// quotes.
func splitStatements(sql string) []string {
	var out []string
	var quote byte
	start := 0
	for i := 0; i < len(sql); i++ {
		ch := sql[i]
		switch {
		case quote != 0:
			if ch == '\\' {
				i++
			} else if ch == quote {
				quote = 0
			}
		case ch == '\'' || ch == '"' || ch == '`':
			quote = ch
		case ch == ';':
			if s := strings.TrimSpace(sql[start:i]); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(sql[start:]); s != "" {
		out = append(out, s)
	}
	return out
}
