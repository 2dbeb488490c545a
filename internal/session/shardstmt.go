package session

import (
	"github.com/switchyard-db/switchyard/internal/merge"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/router"
)

// prepareSharded answers COM_STMT_PREPARE for a statement on sharded or
// global tables: the proxy keeps it, counts its parameters, and announces
// no result columns (the definitions come with each execution's result).
func (s *Session) prepareSharded(sql string, a *router.Analysis) {
	offsets, ok := router.ParamOffsets(sql)
	if !ok {
		s.writeErr(protocol.NewError(protocol.ErrParse, "42000", "You have an error in your SQL syntax (the statement to prepare does not parse)"))
		return
	}
	if len(offsets) > 0xffff {
		s.writeErr(protocol.NewError(1390, "HY000", "Prepared statement contains too many placeholders"))
		return
	}
	s.nextStmtID++
	st := &stmt{id: s.nextStmtID, sql: sql, analysis: a, params: uint16(len(offsets)), sharded: true, offsets: offsets}
	s.stmts[st.id] = st
	r := protocol.StmtPrepareOK{StmtID: st.id, NumParams: st.params}
	s.buf = protocol.AppendStmtPrepareOK(s.buf[:0], &r)
	s.cl.WritePacket(s.buf)
	if st.params > 0 {
		def := protocol.ColumnDef{Name: "?", Charset: uint16(protocol.CharsetBinary), Type: protocol.TypeVarString}
		for i := 0; i < int(st.params); i++ {
			s.buf = protocol.AppendColumnDef(s.buf[:0], &def)
			s.cl.WritePacket(s.buf)
		}
		if s.caps&protocol.ClientDeprecateEOF == 0 {
			s.cl.WritePacket(protocol.AppendEOF(s.buf[:0], 0, s.status()))
		}
	}
}

// passthrough is the merge plan of a single physical SELECT whose text
// rows are re-encoded for the binary protocol.
var passthrough = router.Scatter{Wildcard: true, Plan: merge.Plan{Limit: -1}}

// executeSharded runs an execution of a proxy-prepared statement.
func (s *Session) executeSharded(st *stmt, nullmap, values []byte) (failed bool, clientErr error) {
	sql := st.sql
	if st.params > 0 {
		lits, perr := paramLiterals(int(st.params), nullmap, st.types, values, st.long)
		if perr != nil {
			s.writeErr(perr)
			return true, nil
		}
		sql = substitute(st.sql, st.offsets, lits)
	}
	a, sp := router.AnalyzeShardedWith(sql, s.ns.Rules, s.db, s.sources())
	if a.Err != nil {
		s.writeErr(a.Err)
		return true, nil
	}
	if sp == nil {
		// No sharded table after all: the default slice runs it.
		sp = &router.ShardPlan{Steps: []router.Step{{Slice: s.ns.Default.Name, SQL: sql}}}
	}
	if done, failed := s.lazyTxn(a); done {
		return failed, nil
	}
	if sp.Rename != nil || sp.ShowTables != nil {
		return s.runMeta(a, sp, true)
	}
	if sp.Err == nil && sp.Scatter == nil && !sp.Fanout && sp.Explain == nil && a.Kind == router.KindSelect {
		one := *sp
		one.Scatter = &passthrough
		return s.runScatter(a, &one, true)
	}
	if sp.Scatter != nil {
		return s.runScatter(a, sp, true)
	}
	if sp.Write || sp.InsertID != 0 {
		return s.runWrite(a, sp), nil
	}
	if sp.Explain != nil {
		return s.explain(sp.Explain, true), nil
	}
	return s.runSharded(a, sp)
}
