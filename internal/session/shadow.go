package session

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"

	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/router"
	"github.com/switchyard-db/switchyard/internal/topology"
)

// Shadow mode of a session (SET switchyard_shadow): shadowUser follows the
// user's configured flag.
const (
	shadowUser uint8 = iota
	shadowOn
	shadowOff
)

// shadowMode reports whether the session's statements go to the shadow
// data sources without a hint.
func (s *Session) shadowMode() bool {
	switch s.shadowSet {
	case shadowOn:
		return true
	case shadowOff:
		return false
	}
	return s.user.Shadow
}

// chooseSide runs before each command: it answers SET and SELECT of
// switchyard_shadow, and moves the session to the shadow side of its
// namespace (or back to production) when the command is marked as shadow
// traffic (the session's mode or a /*+ shadow */ hint) and the session is
// on the other side. A session holding a transaction, a pinned connection
// or a distributed transaction never changes sides: the command is
// refused (1235). done reports that the command was answered here.
func (s *Session) chooseSide(p []byte) (done bool) {
	var want bool
	switch p[0] {
	case protocol.ComQuery, protocol.ComStmtPrepare:
		sql := string(p[1:])
		if p[0] == protocol.ComQuery {
			if st, ok := router.AnalyzeShadow(sql); ok {
				s.shadowStatement(st)
				return true
			}
		}
		want = s.shadowMode() || router.ShadowHint(sql) || s.shadowByColumns(sql)
	case protocol.ComStmtExecute:
		if len(p) < 5 {
			return false
		}
		st := s.stmts[binary.LittleEndian.Uint32(p[1:])]
		if st == nil {
			return false // the command answers the unknown handle
		}
		want = s.shadowMode() || router.ShadowHint(st.sql) || s.shadowByColumns(st.sql)
	case protocol.ComInitDB, protocol.ComFieldList:
		want = s.shadowMode()
	default:
		return false
	}
	if e := s.toSide(want); e != nil {
		s.writeErr(e)
		return true
	}
	return false
}

// shadowStatement answers SET/SELECT @@switchyard_shadow.
func (s *Session) shadowStatement(st router.ShadowStmt) {
	switch {
	case st.Err != nil:
		s.writeErr(st.Err)
	case st.Show:
		v := "OFF"
		if s.shadowMode() {
			v = "ON"
		}
		s.writeStringResult(st.Label, v, false)
	case st.Set:
		next := shadowOff
		switch {
		case st.Default:
			next = shadowUser
		case st.On:
			next = shadowOn
		}
		was := s.shadowMode()
		old := s.shadowSet
		s.shadowSet = next
		if s.shadowMode() != was && !s.movable() {
			s.shadowSet = old
			s.writeErr(errShadowSwitch)
			return
		}
		if s.shadowMode() && s.ns.Side(true) == nil {
			s.shadowSet = old
			s.writeErr(errNoShadow(s.ns.Name))
			return
		}
		s.writeOK(0, 0)
	}
}

var errShadowSwitch = protocol.ErrUnsupported("switching between production and shadow data sources inside a transaction or while the session is pinned to a backend connection; finish the transaction (or unpin: no temporary tables, user locks or session state that pins) first")

func errNoShadow(ns string) *protocol.Error {
	return protocol.ErrUnsupported("shadow traffic in namespace " + ns + ": it has no shadow data sources (shadow.slices in the configuration)")
}

// toSide moves the session to the shadow side of its namespace (shadow
// true) or to production.
func (s *Session) toSide(shadow bool) *protocol.Error {
	if s.ns.IsShadow() == shadow {
		return nil
	}
	target := s.ns.Side(shadow)
	if target == nil {
		return errNoShadow(s.ns.Name)
	}
	if !s.movable() {
		return errShadowSwitch
	}
	s.ns = target
	// Prepared statements placed with the other side's rules are placed
	// again (their tables are the other side's objects); without a
	// template they are routed at each execution.
	for _, st := range s.stmts {
		if st.template == nil {
			continue
		}
		st.template = nil
		if target.Rules != nil {
			st.template = router.PrepareTemplate(st.sql, target.Rules, s.db)
		}
	}
	return nil
}

// xaKey is the key of a namespace side's two-phase-commit coordinator: the
// shadow side has its own (its decision tables are on the shadow slices).
func xaKey(ns *topology.Namespace) string {
	if ns.IsShadow() {
		return ns.Name + xaShadowSuffix
	}
	return ns.Name
}

const xaShadowSuffix = "\x00shadow"

// sides returns ns and its shadow side, if any.
func sides(ns *topology.Namespace) []*topology.Namespace {
	if ns.Shadow != nil {
		return []*topology.Namespace{ns, ns.Shadow}
	}
	return []*topology.Namespace{ns}
}

// followDDL runs schema DDL sent to production on the shadow side first,
// so that shadow schemas follow production: with a session of its own
// (same user, database and session variables) whose answer is read here.
// A failure there is logged; the statement then runs in production as
// usual and the client gets production's answer.
func (s *Session) followDDL(p []byte) {
	if p[0] != protocol.ComQuery || s.ns.Shadow == nil || !s.movable() {
		return
	}
	sql := string(p[1:])
	if !router.FollowedByShadow(sql) {
		return
	}
	out := &captureConn{}
	sub := &Session{
		ID: s.ID, env: s.env, cl: protocol.NewConn(out), caps: s.caps, secure: s.secure, host: s.host,
		user: s.user, gov: s.gov, ns: s.ns.Shadow, nsm: s.nsm, log: s.log, db: s.db, vars: s.vars,
		autocommit: true, stmts: map[uint32]*stmt{}, level: s.level, gen: s.gen,
	}
	sub.cl.ExtCaps = s.cl.ExtCaps
	sub.relayer.Rename = sub.logicalColumn
	sub.query(sql)
	sub.dropPinned()
	_ = sub.cl.Flush()
	if msg, failed := out.firstError(); failed {
		s.log.Warn("DDL failed on the shadow data sources (production runs it anyway)", "sql", sql, "err", msg)
	}
}

// captureConn is the client side of a session run by the proxy itself: it
// keeps what the session writes.
type captureConn struct {
	net.Conn // nil: only Write and Close are used
	buf      bytes.Buffer
}

func (c *captureConn) Write(p []byte) (int, error) { return c.buf.Write(p) }
func (c *captureConn) Read([]byte) (int, error)    { return 0, io.EOF }
func (c *captureConn) Close() error                { return nil }

// firstError returns the message of the first packet written when it is an
// error packet.
func (c *captureConn) firstError() (string, bool) {
	b := c.buf.Bytes()
	if len(b) < 5 || b[4] != 0xff {
		return "", false
	}
	n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	payload := b[4:min(len(b), 4+n)]
	if len(payload) < 3 {
		return "error", true
	}
	msg := payload[3:]
	if len(msg) > 6 && msg[0] == '#' {
		msg = msg[6:]
	}
	return fmt.Sprintf("%d: %s", binary.LittleEndian.Uint16(payload[1:3]), msg), true
}

// explainSlice is the slice column of EXPLAIN: "s0 (shadow)" on the shadow
// side.
func (s *Session) explainSlice(name string) string {
	if s.ns.IsShadow() {
		return name + " (shadow)"
	}
	return name
}

// shadowByColumns applies the namespace's column-value rules to sql.
func (s *Session) shadowByColumns(sql string) bool {
	prod := s.ns.Side(false)
	if prod.Config.Shadow == nil || len(prod.Config.Shadow.Rules) == 0 {
		return false
	}
	return router.ShadowByColumns(sql, prod.Config.Shadow.Rules)
}

// sameSide returns the side of ns (a namespace of a new snapshot) that
// the session is on in cur: a session in shadow mode stays on the shadow
// side across a reload, or goes to production when the new configuration
// has no shadow side (its next marked statement is then refused).
func sameSide(ns, cur *topology.Namespace) *topology.Namespace {
	if cur.IsShadow() && ns.Shadow != nil {
		return ns.Shadow
	}
	return ns
}
