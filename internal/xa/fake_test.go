package xa

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// A fake MariaDB that understands exactly the statements the coordinator
// sends, with MariaDB 10.11's XA semantics as verified against the real
// server (see the integration tests):
//
//   - a prepared branch stays attached to its connection; XA COMMIT/ROLLBACK
//     of it from another connection is XAER_NOTA until that one closes,
//     after which it is listed by XA RECOVER and can be resolved anywhere;
//   - closing a connection rolls back its ACTIVE/IDLE branch and its local
//     transaction;
//   - an INSERT into the decision table waits for another transaction's
//     uncommitted row with the same key (lock wait timeout → 1205),
//     duplicate key → 1062.
//
// Application data are "WRITE key value" statements; "DEADLOCK" makes the
// connection's transaction a deadlock victim.

type fakeServer struct {
	name string
	mu   sync.Mutex
	xas  map[string]*fakeXA // gtrid|bqual
	dec  map[string]fakeRow // committed decision rows
	lock map[string]*fakeConn
	data map[string]string // committed application data
	// clock for the decision rows' created column
	now     func() time.Time
	waiters int
}

type fakeRow struct {
	decision string
	created  time.Time
}

type fakeXA struct {
	gtrid, bqual string
	state        string // ACTIVE, IDLE, PREPARED, ROLLBACK ONLY
	owner        *fakeConn
	tx           *fakeTx
}

// fakeTx is the work of a local transaction or an XA branch.
type fakeTx struct {
	writes map[string]string
	ins    map[string]string // decision inserts
	del    map[string]bool
	sps    []fakeSP
}

type fakeSP struct {
	name   string
	writes map[string]string
}

func newTx() *fakeTx {
	return &fakeTx{writes: map[string]string{}, ins: map[string]string{}, del: map[string]bool{}}
}

func newFakeServer(name string) *fakeServer {
	return &fakeServer{name: name, xas: map[string]*fakeXA{}, dec: map[string]fakeRow{},
		lock: map[string]*fakeConn{}, data: map[string]string{}, now: time.Now}
}

func (s *fakeServer) conn() *fakeConn { return &fakeConn{srv: s, lockWait: "50"} }

// applyLocked commits a transaction's work. s.mu is held.
func (s *fakeServer) applyLocked(c *fakeConn, tx *fakeTx) {
	for k, v := range tx.writes {
		s.data[k] = v
	}
	for g, d := range tx.ins {
		s.dec[g] = fakeRow{decision: d, created: s.now()}
	}
	for g := range tx.del {
		delete(s.dec, g)
	}
	s.releaseLocked(c)
}

func (s *fakeServer) releaseLocked(c *fakeConn) {
	for g, h := range s.lock {
		if h == c {
			delete(s.lock, g)
		}
	}
}

func (s *fakeServer) prepared() []*fakeXA {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*fakeXA
	for _, x := range s.xas {
		if x.state == "PREPARED" {
			out = append(out, x)
		}
	}
	return out
}

func (s *fakeServer) get(k string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data[k]
}

func (s *fakeServer) decisions() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for g, r := range s.dec {
		out[g] = r.decision
	}
	return out
}

func (s *fakeServer) lockWaiters() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiters
}

type fakeConn struct {
	srv *fakeServer
	// hook runs before each statement; an error it returns is the
	// statement's (errCrash / errLostAfter have special meanings).
	hook func(c *fakeConn, stmt string) error

	mu       sync.Mutex // statements of one connection are serial
	tx       *fakeTx    // local transaction (nil: autocommit, none open)
	xa       *fakeXA
	lockWait string // seconds; one fake second is fakeSecond
	closed   bool
	broken   bool // MarkBroken was called
	log      []string
	trips    int
}

const fakeSecond = 200 * time.Millisecond

var (
	// errCrash from a hook: the connection dies before the statement runs.
	errCrash = fmt.Errorf("fake: connection lost: %w", io.ErrUnexpectedEOF)
	// errLostAfter from a hook: the statement runs, then the connection
	// dies before its reply.
	errLostAfter = fmt.Errorf("fake: connection lost after the statement: %w", io.ErrUnexpectedEOF)
)

func perr(code uint16, state, msg string) *protocol.Error {
	return &protocol.Error{Code: code, State: state, Message: msg}
}

func (c *fakeConn) MarkBroken() {
	c.mu.Lock()
	c.broken = true
	c.mu.Unlock()
}

func (c *fakeConn) isBroken() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.broken
}

func (c *fakeConn) statements() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.log...)
}

// Close disconnects: what a crash or the pool closing a broken connection
// does on the server.
func (c *fakeConn) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked()
}

func (c *fakeConn) closeLocked() {
	if c.closed {
		return
	}
	c.closed = true
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	c.tx = nil
	s.releaseLocked(c)
	if x := c.xa; x != nil {
		if x.state == "PREPARED" {
			x.owner = nil
		} else {
			delete(s.xas, x.gtrid+"|"+x.bqual)
		}
		c.xa = nil
	}
}

func (c *fakeConn) Exec(sql string) (protocol.OK, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trips++
	if c.closed {
		return protocol.OK{}, errCrash
	}
	var last protocol.OK
	for _, stmt := range strings.Split(sql, "; ") {
		c.log = append(c.log, stmt)
		if c.hook != nil {
			c.mu.Unlock()
			err := c.hook(c, stmt)
			c.mu.Lock()
			if c.closed {
				return last, errCrash
			}
			switch {
			case err == errCrash:
				c.closeLocked()
				return last, err
			case err == errLostAfter:
				c.execLocked(stmt)
				c.closeLocked()
				return last, err
			case err != nil:
				return last, err
			}
		}
		ok, err := c.execLocked(stmt)
		if err != nil {
			return last, err
		}
		last = ok
	}
	return last, nil
}

func (c *fakeConn) QueryRows(sql string) ([]string, [][]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trips++
	if c.closed {
		return nil, nil, errCrash
	}
	c.log = append(c.log, sql)
	if c.hook != nil {
		c.mu.Unlock()
		err := c.hook(c, sql)
		c.mu.Lock()
		if err != nil {
			if err == errCrash || err == errLostAfter {
				c.closeLocked()
			}
			return nil, nil, err
		}
	}
	return c.queryLocked(sql)
}

var (
	reXA       = regexp.MustCompile(`^XA (START|END|PREPARE|COMMIT|ROLLBACK) '([^']*)','([^']*)',(\d+)$`)
	reIn       = regexp.MustCompile(`gtrid IN \(([^)]*)\)`)
	reEq       = regexp.MustCompile(`gtrid = '([^']*)'`)
	reInsert   = regexp.MustCompile(`^INSERT INTO \S+ \(gtrid, decision\) VALUES \('([^']*)', (.*)\)$`)
	reSP       = regexp.MustCompile("^(SAVEPOINT|ROLLBACK TO SAVEPOINT|RELEASE SAVEPOINT) `(.*)`$")
	reLockWait = regexp.MustCompile(`^SET SESSION innodb_lock_wait_timeout = (\d+)$`)
	reLeft     = regexp.MustCompile(`LEFT\(gtrid, \d+\) = '([^']*)'`)
)

func unquoteList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		out = append(out, strings.Trim(p, "'"))
	}
	return out
}

// cur returns the transaction statements write to, starting a local one in
// a non-XA connection only when asked (autocommit statements pass nil).
func (c *fakeConn) cur() *fakeTx {
	if c.xa != nil {
		return c.xa.tx
	}
	return c.tx
}

func (c *fakeConn) status() protocol.OK {
	st := protocol.StatusAutocommit
	if c.cur() != nil {
		st |= protocol.StatusInTrans
	}
	return protocol.OK{Status: st}
}

func (c *fakeConn) execLocked(stmt string) (protocol.OK, error) {
	s := c.srv
	switch {
	case stmt == "BEGIN":
		if c.xa != nil {
			return protocol.OK{}, perr(codeXAERRmfail, "XAE07", "XAER_RMFAIL: The command cannot be executed when global transaction is in the "+c.xa.state+" state")
		}
		c.tx = newTx()
		return c.status(), nil
	case stmt == "COMMIT":
		if c.xa != nil {
			return protocol.OK{}, perr(codeXAERRmfail, "XAE07", "XAER_RMFAIL")
		}
		if c.tx != nil {
			s.mu.Lock()
			s.applyLocked(c, c.tx)
			s.mu.Unlock()
			c.tx = nil
		}
		return c.status(), nil
	case stmt == "ROLLBACK":
		if c.xa != nil {
			return protocol.OK{}, perr(codeXAERRmfail, "XAE07", "XAER_RMFAIL")
		}
		c.tx = nil
		s.mu.Lock()
		s.releaseLocked(c)
		s.mu.Unlock()
		return c.status(), nil
	case stmt == "DEADLOCK":
		if c.xa != nil {
			c.xa.state = "ROLLBACK ONLY"
			c.xa.tx = newTx()
		} else {
			c.tx = nil
			s.mu.Lock()
			s.releaseLocked(c)
			s.mu.Unlock()
		}
		return protocol.OK{}, perr(codeDeadlock, "40001", "Deadlock found when trying to get lock; try restarting transaction")
	case strings.HasPrefix(stmt, "WRITE "):
		f := strings.Fields(stmt)
		if c.xa != nil && c.xa.state != "ACTIVE" {
			return protocol.OK{}, perr(codeXAERRmfail, "XAE07", "XAER_RMFAIL: The command cannot be executed when global transaction is in the "+c.xa.state+" state")
		}
		if tx := c.cur(); tx != nil {
			tx.writes[f[1]] = f[2]
		} else {
			s.mu.Lock()
			s.data[f[1]] = f[2]
			s.mu.Unlock()
		}
		return c.status(), nil
	case strings.HasPrefix(stmt, "CREATE "):
		return c.status(), nil
	}
	if m := reLockWait.FindStringSubmatch(stmt); m != nil {
		c.lockWait = m[1]
		return c.status(), nil
	}
	if m := reSP.FindStringSubmatch(stmt); m != nil {
		return c.savepoint(m[1], m[2])
	}
	if m := reXA.FindStringSubmatch(stmt); m != nil {
		return c.xaStmt(m[1], m[2], m[3], m[4])
	}
	if m := reInsert.FindStringSubmatch(stmt); m != nil {
		return c.insert(m[1], m[2])
	}
	if strings.HasPrefix(stmt, "DELETE FROM ") {
		m := reIn.FindStringSubmatch(stmt)
		gs := unquoteList(m[1])
		n := 0
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, g := range gs {
			if _, ok := s.dec[g]; ok {
				n++
			}
			if tx := c.cur(); tx != nil {
				tx.del[g] = true
			} else {
				delete(s.dec, g)
			}
		}
		ok := c.status()
		ok.AffectedRows = uint64(n)
		return ok, nil
	}
	return protocol.OK{}, perr(1064, "42000", "fake: unknown statement "+strconv.Quote(stmt))
}

func (c *fakeConn) savepoint(verb, name string) (protocol.OK, error) {
	tx := c.cur()
	if tx == nil {
		if verb == "SAVEPOINT" {
			return c.status(), nil
		}
		return protocol.OK{}, perr(codeSPNotExist, "42000", "SAVEPOINT "+name+" does not exist")
	}
	idx := -1
	for i, sp := range tx.sps {
		if strings.EqualFold(sp.name, name) {
			idx = i
		}
	}
	switch verb {
	case "SAVEPOINT":
		if idx >= 0 {
			tx.sps = append(tx.sps[:idx], tx.sps[idx+1:]...)
		}
		w := map[string]string{}
		for k, v := range tx.writes {
			w[k] = v
		}
		tx.sps = append(tx.sps, fakeSP{name: name, writes: w})
		return c.status(), nil
	}
	if idx < 0 {
		return protocol.OK{}, perr(codeSPNotExist, "42000", "SAVEPOINT "+name+" does not exist")
	}
	if verb == "RELEASE SAVEPOINT" {
		tx.sps = tx.sps[:idx]
		return c.status(), nil
	}
	tx.writes = map[string]string{}
	for k, v := range tx.sps[idx].writes {
		tx.writes[k] = v
	}
	tx.sps = tx.sps[:idx+1]
	return c.status(), nil
}

func (c *fakeConn) xaStmt(verb, g, b, format string) (protocol.OK, error) {
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	key := g + "|" + b
	rmfail := func(state string) error {
		return perr(codeXAERRmfail, "XAE07", "XAER_RMFAIL: The command cannot be executed when global transaction is in the "+state+" state")
	}
	nota := perr(codeXAERNota, "XAE04", "XAER_NOTA: Unknown XID")
	if format != strconv.Itoa(FormatID) {
		return protocol.OK{}, perr(1064, "42000", "fake: unexpected formatID "+format)
	}
	mine := c.xa != nil && c.xa.gtrid == g && c.xa.bqual == b
	switch verb {
	case "START":
		if c.tx != nil || c.xa != nil {
			return protocol.OK{}, perr(1400, "XAE09", "XAER_OUTSIDE: Some work is done outside global transaction")
		}
		if s.xas[key] != nil {
			return protocol.OK{}, perr(codeXAERDupid, "XAE08", "XAER_DUPID: The XID already exists")
		}
		c.xa = &fakeXA{gtrid: g, bqual: b, state: "ACTIVE", owner: c, tx: newTx()}
		s.xas[key] = c.xa
		return c.status(), nil
	case "END":
		if !mine {
			return protocol.OK{}, rmfail("NON-EXISTING")
		}
		if c.xa.state != "ACTIVE" {
			return protocol.OK{}, rmfail(c.xa.state)
		}
		c.xa.state = "IDLE"
		return c.status(), nil
	case "PREPARE":
		if !mine {
			return protocol.OK{}, rmfail("NON-EXISTING")
		}
		if c.xa.state != "IDLE" {
			return protocol.OK{}, rmfail(c.xa.state)
		}
		c.xa.state = "PREPARED"
		return c.status(), nil
	}
	// COMMIT, ROLLBACK
	var x *fakeXA
	switch {
	case mine:
		x = c.xa
	case c.xa != nil:
		return protocol.OK{}, rmfail(c.xa.state)
	default:
		x = s.xas[key]
		if x == nil || x.owner != nil || x.state != "PREPARED" {
			return protocol.OK{}, nota
		}
	}
	if verb == "COMMIT" {
		if x.state != "PREPARED" {
			return protocol.OK{}, rmfail(x.state)
		}
		s.applyLocked(c, x.tx)
	} else if x.state == "ACTIVE" {
		return protocol.OK{}, rmfail("ACTIVE")
	}
	delete(s.xas, key)
	if mine {
		c.xa = nil
	}
	return c.status(), nil
}

func (c *fakeConn) insert(g, expr string) (protocol.OK, error) {
	s := c.srv
	var decision string
	switch expr {
	case "'rollback'", "'commit'":
		decision = strings.Trim(expr, "'")
	case "IF(@@in_transaction = 1, 'commit', NULL)":
		if c.cur() == nil {
			return protocol.OK{}, perr(codeBadNull, "23000", "Column 'decision' cannot be null")
		}
		decision = "commit"
	default:
		return protocol.OK{}, perr(1064, "42000", "fake: unexpected decision "+expr)
	}
	wait, _ := strconv.Atoi(c.lockWait)
	deadline := time.Now().Add(time.Duration(wait) * fakeSecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		h := s.lock[g]
		if h == nil || h == c {
			break
		}
		if time.Now().After(deadline) {
			return protocol.OK{}, perr(codeLockWait, "HY000", "Lock wait timeout exceeded; try restarting transaction")
		}
		s.waiters++
		s.mu.Unlock()
		time.Sleep(time.Millisecond)
		s.mu.Lock()
		s.waiters--
	}
	tx := c.cur()
	if _, ok := s.dec[g]; ok || (tx != nil && tx.ins[g] != "") {
		return protocol.OK{}, perr(codeDupKey, "23000", "Duplicate entry '"+g+"' for key 'PRIMARY'")
	}
	if tx != nil {
		tx.ins[g] = decision
		s.lock[g] = c
	} else {
		s.dec[g] = fakeRow{decision: decision, created: s.now()}
	}
	ok := c.status()
	ok.AffectedRows = 1
	return ok, nil
}

func (c *fakeConn) queryLocked(sql string) ([]string, [][]string, error) {
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case sql == "XA RECOVER":
		var rows [][]string
		for _, k := range sortedKeys(s.xas) {
			x := s.xas[k]
			if x.state != "PREPARED" {
				continue
			}
			f := strconv.Itoa(FormatID)
			if strings.HasPrefix(x.gtrid, "foreign") {
				f = "1"
			}
			rows = append(rows, []string{f, strconv.Itoa(len(x.gtrid)), strconv.Itoa(len(x.bqual)), x.gtrid + x.bqual})
		}
		return []string{"formatID", "gtrid_length", "bqual_length", "data"}, rows, nil
	case sql == "SELECT @@SESSION.innodb_lock_wait_timeout":
		return []string{"@@SESSION.innodb_lock_wait_timeout"}, [][]string{{c.lockWait}}, nil
	case strings.HasPrefix(sql, "SELECT decision FROM "):
		g := reEq.FindStringSubmatch(sql)[1]
		if tx := c.cur(); tx != nil && tx.ins[g] != "" {
			return []string{"decision"}, [][]string{{tx.ins[g]}}, nil
		}
		if r, ok := s.dec[g]; ok {
			return []string{"decision"}, [][]string{{r.decision}}, nil
		}
		return []string{"decision"}, nil, nil
	case strings.HasPrefix(sql, "SELECT gtrid, decision FROM "):
		var rows [][]string
		for _, g := range unquoteList(reIn.FindStringSubmatch(sql)[1]) {
			if r, ok := s.dec[g]; ok {
				rows = append(rows, []string{g, r.decision})
			}
		}
		return []string{"gtrid", "decision"}, rows, nil
	case strings.HasPrefix(sql, "SELECT gtrid, decision, TIMESTAMPDIFF"):
		prefix := reLeft.FindStringSubmatch(sql)[1]
		var rows [][]string
		keys := make([]string, 0, len(s.dec))
		for g := range s.dec {
			keys = append(keys, g)
		}
		sort.Strings(keys)
		for _, g := range keys {
			if strings.HasPrefix(g, prefix) {
				r := s.dec[g]
				rows = append(rows, []string{g, r.decision, strconv.FormatInt(s.now().Sub(r.created).Microseconds(), 10)})
			}
		}
		return []string{"gtrid", "decision", "age"}, rows, nil
	}
	return nil, nil, perr(1064, "42000", "fake: unknown query "+strconv.Quote(sql))
}

// errIs reports whether err carries the server error code.
func errCode(err error) uint16 {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return 0
}
