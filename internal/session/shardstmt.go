package session

import (
	"github.com/switchyard-db/switchyard/internal/backend"
	"time"

	"github.com/switchyard-db/switchyard/internal/merge"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/router"
)

// prepareSharded answers COM_STMT_PREPARE for a statement on sharded or
// global tables: the proxy keeps it, counts its parameters, and announces
// no result columns (the definitions come with each execution's result).
func (s *Session) prepareSharded(sql string, a *router.Analysis) {
	text := router.LabelParams(sql)
	offsets, ok := router.ParamOffsets(text)
	if !ok {
		s.writeErr(protocol.NewError(protocol.ErrParse, "42000", "You have an error in your SQL syntax (the statement to prepare does not parse)"))
		return
	}
	if len(offsets) > 0xffff {
		s.writeErr(protocol.NewError(1390, "HY000", "Prepared statement contains too many placeholders"))
		return
	}
	s.nextStmtID++
	st := &stmt{id: s.nextStmtID, sql: sql, analysis: a, params: uint16(len(offsets)), sharded: true, text: text, offsets: offsets}
	if st.params > 0 && s.ns.Rules != nil {
		st.bound, st.boundRules, st.boundDB = s.planBound(sql), s.ns.Rules, s.db
	}
	s.stmts[st.id] = st
	r := protocol.StmtPrepareOK{StmtID: st.id, NumParams: st.params}
	s.buf = protocol.AppendStmtPrepareOK(s.buf[:0], &r)
	s.cl.WritePacket(s.buf)
	defs := make([]protocol.ColumnDef, st.params)
	for i := range defs {
		defs[i] = protocol.ColumnDef{Name: "?", Charset: uint16(protocol.CharsetBinary), Type: protocol.TypeVarString}
	}
	s.result(false).Defs(defs, s.status())
}

// passthrough is the merge plan of a single physical SELECT whose text
// rows are re-encoded for the binary protocol.
var passthrough = router.Scatter{Wildcard: true, Plan: merge.Plan{Limit: -1}}

// executeSharded runs an execution of a proxy-prepared statement; t is
// where its plan ran, for metrics.
func (s *Session) executeSharded(st *stmt, p, nullmap, values []byte) (failed bool, t router.Target, clientErr error) {
	sql := st.sql
	var a *router.Analysis
	var root router.Node
	var send func(*backend.Conn) error
	if st.params > 0 {
		bound := st.bound != nil && st.boundRules == s.ns.Rules && st.boundDB == s.db
		var route *router.Route
		if bound {
			route, _ = st.bound.Root.(*router.Route)
		}
		if r := route; r != nil {
			// Planned once, one physical statement: it is prepared on
			// its backend and runs with the client's parameters, so
			// MariaDB reads them (types, labels) as it would itself.
			a = st.bound.Analysis
			root, send = s.preparedStep(st, r.Step, p, values)
		} else {
			lits, perr := paramLiterals(int(st.params), nullmap, st.types, values, st.long)
			if perr != nil {
				s.writeErr(perr)
				return true, router.TargetError, nil
			}
			if bound {
				// Planned once: the parameters go into its physical
				// statements. (txnControl reads the text of transaction
				// statements only, which are never bound.)
				a, root = st.bound.Analysis, st.bound.Bind(lits)
			} else {
				sql = router.Substitute(st.text, st.offsets, lits)
			}
		}
	}
	if a == nil {
		a, root = s.planSharded(sql)
	}
	if a.Err != nil {
		s.writeErr(a.Err)
		return true, router.TargetError, nil
	}
	if root == nil {
		// No sharded table after all: the default slice runs it.
		root = &router.Route{Step: router.Step{Slice: s.ns.Default.Name, SQL: sql}}
	}
	if done, failed := s.txnControl(a, sql); done {
		return failed, router.TargetProxy, nil
	}
	plan := router.DecideNode(a, root, s.routerState())
	failed, clientErr = s.exec(&plan, true, send)
	return failed, plan.Target, clientErr
}

// prepareTemplate prepares a statement whose physical table follows one
// key parameter: the first physical statement is prepared on its slice for
// the metadata the client gets (every physical table has the same
// columns). It reports false when the backend could not be reached before
// anything was answered, to fall back to proxy-side preparing.
func (s *Session) prepareTemplate(sql string, a *router.Analysis, tpl *router.Template, start time.Time) bool {
	// Executions whose key cannot be read are prepared by the proxy: they
	// substitute into text (see stmt.text).
	text := router.LabelParams(sql)
	offsets, ok := router.ParamOffsets(text)
	if !ok {
		return false
	}
	first := tpl.Table.All()[0]
	plan := router.Decide(a, s.routerState())
	plan.Slice = first.Slice
	if plan.Target == router.TargetProxy || plan.Target == router.TargetError || plan.Target == router.TargetPinned && !s.pin.active() {
		plan.Target = router.TargetPrimary
	}
	if s.pin.active() && s.pin.pinnedNode().Slice.Name != first.Slice {
		// Prepare where the session is; the metadata is the same.
		plan.Target = router.TargetPinned
		plan.Slice = s.pin.pinnedNode().Slice.Name
		found := false
		for _, t := range tpl.Table.All() {
			if t.Slice == plan.Slice {
				first, found = t, true
				break
			}
		}
		if !found {
			return false
		}
	}
	before := s.nextStmtID
	s.prepareRetrying(&plan, a, tpl.SQL[first], start)
	if st := s.stmts[s.nextStmtID]; s.nextStmtID != before && st != nil {
		// Prepared: executions route by the key; other paths use the
		// logical statement.
		st.sql, st.template, st.sharded, st.text, st.offsets = sql, tpl, true, text, offsets
	}
	return true
}

// executeTemplate runs an execution of a template statement on the
// physical table its key parameter selects. done is false when the key
// cannot be read (a NULL or non-integer, non-string key): the caller then
// routes the execution as proxy-prepared.
func (s *Session) executeTemplate(st *stmt, p, nullmap, values []byte, start time.Time) (done, ok bool) {
	key, isKey := keyValue(st.template.KeyParam, int(st.params), nullmap, st.types, values, st.long)
	if !isKey {
		return false, true
	}
	x, physical, err := st.template.Place(key)
	if err != nil {
		return false, true
	}
	root, send := s.preparedStep(st, router.Step{Slice: x.Slice, SQL: physical}, p, values)
	plan := router.DecideNode(st.analysis, root, s.routerState())
	failed, cerr := s.exec(&plan, true, send)
	s.observe(st.analysis.Kind, plan.Target, start, failed, st.sql)
	return true, cerr == nil
}

// preparedStep is the plan root and writer of an execution of st as the
// physical statement step, prepared on its backend and run there with the
// client's parameters (router.Prepared).
func (s *Session) preparedStep(st *stmt, step router.Step, p, values []byte) (router.Node, func(*backend.Conn) error) {
	phys := *st
	phys.sql = step.SQL
	return &router.Prepared{Step: step}, s.sendStmt(&phys, p, values)
}
