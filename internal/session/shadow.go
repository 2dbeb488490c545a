package session

import (
	"encoding/binary"

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
		want = s.shadowMode() || router.ShadowHint(sql)
	case protocol.ComStmtExecute:
		if len(p) < 5 {
			return false
		}
		st := s.stmts[binary.LittleEndian.Uint32(p[1:])]
		if st == nil {
			return false // the command answers the unknown handle
		}
		want = s.shadowMode() || router.ShadowHint(st.sql)
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
