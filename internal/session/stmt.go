package session

import (
	"encoding/binary"
	"strings"
	"time"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/relay"
	"github.com/switchyard-db/switchyard/internal/router"
	"github.com/switchyard-db/switchyard/internal/shard"
)

// stmt is a client-side prepared statement. Backend connections prepare
// the same SQL on demand and cache it, so a prepared statement does not pin
// the session.
type stmt struct {
	id       uint32
	sql      string
	analysis *router.Analysis
	params   uint16
	columns  uint16
	// types are the parameter types the client last sent; clients omit them
	// when re-executing with the same types.
	types []byte
	long  map[uint16][]byte
	// sharded: the statement names tables with sharding rules. The proxy
	// prepares it itself: each execution substitutes the parameters at
	// offsets and routes the resulting text like a query.
	sharded bool
	// text is what those executions substitute into: sql with the items of
	// its select list that hold a marker labelled as MariaDB labels them
	// (router.LabelParams); offsets are its markers.
	text    string
	offsets []int
	// template: the physical table follows one key parameter; executions
	// run the physical statement prepared on the backend (binary results
	// relayed as they are).
	template *router.Template
	// bound: the plan made once at prepare, when no parameter can change
	// it (router.Bound); executions bind the parameters into it. It holds
	// for the rules and database it was made with (boundRules, boundDB);
	// otherwise executions are planned as they come.
	bound      *router.Bound
	boundRules *shard.Rules
	boundDB    string
}

// prepare implements COM_STMT_PREPARE.
func (s *Session) prepare(sql string) bool {
	start := time.Now()
	sql, handled, alive := s.govern(sql, true)
	if handled {
		return alive
	}
	var a *router.Analysis
	if s.ns.Rules == nil {
		a = router.Analyze(sql)
	} else {
		var sp router.Node
		a, sp = router.AnalyzeSharded(sql, s.ns.Rules, s.db)
		// information_schema lookups may name a logical table in a
		// parameter: the proxy prepares them too.
		infoSchema := a.Kind == router.KindSelect && strings.Contains(strings.ToLower(sql), "information_schema")
		if sp != nil && a.Flags&router.FlagMulti == 0 {
			if tpl := s.planTemplate(sql); tpl != nil && s.prepareTemplate(sql, a, tpl, start) {
				return true
			}
		}
		if (sp != nil || infoSchema) && a.Flags&router.FlagMulti == 0 {
			s.prepareSharded(sql, a)
			s.observe(a.Kind, router.TargetProxy, start, false, sql)
			return true
		}
	}
	if a.Flags&router.FlagMulti != 0 {
		a = &router.Analysis{Kind: a.Kind, Err: protocol.NewError(1295, "HY000", "This command is not supported in the prepared statement protocol yet")}
	}
	if a.Err != nil {
		s.writeErr(a.Err)
		s.observe(a.Kind, router.TargetError, start, true, sql)
		return true
	}
	plan := router.Decide(a, s.routerState())
	// Prepare where the statement will probably run; the metadata is the
	// same on every node. (A statement refused in this session's present
	// state, such as ROW_COUNT() outside a transaction, is still prepared:
	// its executions are decided when they come.)
	if plan.Target == router.TargetProxy || plan.Target == router.TargetError || plan.Target == router.TargetPinned && !s.pin.active() {
		plan.Analysis, plan.Target = a, router.TargetPrimary
	}
	return s.prepareRetrying(&plan, a, sql, start)
}

// prepareRetrying prepares sql on the plan's connection, on another one
// when the server reset the first before answering (a crash or a restart:
// preparing has no effect, so it is safe), up to three times.
func (s *Session) prepareRetrying(plan *router.Plan, a *router.Analysis, sql string, start time.Time) bool {
	for attempt := 0; ; attempt++ {
		done, retry := s.prepareOn(plan, a, sql, start, attempt == 2)
		if !retry {
			return done
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// prepareOn prepares sql on the plan's connection. retry reports that the
// connection was lost before anything reached the client (nothing was
// answered yet); on the last attempt the error is answered instead.
func (s *Session) prepareOn(plan *router.Plan, a *router.Analysis, sql string, start time.Time, last bool) (done, retry bool) {
	c, node, err := s.acquire(plan)
	if err != nil {
		s.writeErr(toProtoErr(err))
		return true, false
	}
	s.nextStmtID++
	st := &stmt{id: s.nextStmtID, sql: sql, analysis: a}
	first := true
	params, cols := 0, 0
	seen := 0
	deprecateEOF := s.caps&protocol.ClientDeprecateEOF != 0
	_, err = c.PrepareRelay(sql, func(p []byte) error {
		if first {
			first = false
			r, err := protocol.ParseStmtPrepareOK(p)
			if err != nil {
				return &relay.BackendError{Err: err}
			}
			st.params, st.columns = r.NumParams, r.NumColumns
			params, cols = int(r.NumParams), int(r.NumColumns)
			r.StmtID = st.id
			s.buf = protocol.AppendStmtPrepareOK(s.buf[:0], &r)
			if err := s.cl.WritePacket(s.buf); err != nil {
				return &relay.ClientError{Err: err}
			}
			return nil
		}
		if err := s.cl.WriteColumnDef(p, c.ExtCaps); err != nil {
			return &relay.ClientError{Err: err}
		}
		seen++
		if !deprecateEOF && ((seen == params && params > 0) || (seen == params+cols && cols > 0)) {
			s.buf = protocol.AppendEOF(s.buf[:0], 0, s.status())
			if err := s.cl.WritePacket(s.buf); err != nil {
				return &relay.ClientError{Err: err}
			}
		}
		return nil
	})
	if err != nil {
		if pe, ok := err.(*protocol.Error); ok {
			s.writeErr(pe)
			s.release(c, node)
			s.nextStmtID--
			return true, false
		}
		pinned := s.pin.holds(c)
		e := s.lost(c, node, err)
		if relay.IsClientError(err) {
			return false, false
		}
		if first && !pinned && !last {
			s.nextStmtID--
			node.Suspect()
			return true, true
		}
		if first {
			s.writeErr(e)
		}
		return first, false
	}
	s.stmts[st.id] = st
	s.release(c, node)
	s.observe(router.KindOther, plan.Target, start, false, sql)
	return true, false
}

func (s *Session) lookupStmt(p []byte, cmd string) (*stmt, *protocol.Error) {
	if len(p) < 5 {
		return nil, protocol.NewError(protocol.ErrWrongArguments, "HY000", "Incorrect arguments to %s", cmd)
	}
	id := binary.LittleEndian.Uint32(p[1:])
	st := s.stmts[id]
	if st == nil {
		return nil, protocol.NewError(protocol.ErrUnknownStmtHandler, "HY000", "Unknown prepared statement handler (%d) given to %s", id, cmd)
	}
	return st, nil
}

// execute implements COM_STMT_EXECUTE.
func (s *Session) execute(p []byte) bool {
	start := time.Now()
	s.env.queries.Add(1)
	s.route = routeNote{}
	st, e := s.lookupStmt(p, "mysqld_stmt_execute")
	if e != nil {
		s.writeErr(e)
		return true
	}
	if len(p) < 10 {
		s.writeErr(protocol.NewError(protocol.ErrWrongArguments, "HY000", "Incorrect arguments to mysqld_stmt_execute"))
		return true
	}
	defer s.endImplicit()
	if !s.governExecute(st.sql) {
		return true
	}
	defer s.governed()
	if !st.sharded || st.template != nil {
		// Transaction control applies as in the text protocol (statements
		// the proxy prepared itself get it after substitution).
		if done, failed := s.txnControl(st.analysis, st.sql); done {
			s.observe(st.analysis.Kind, router.TargetProxy, start, failed, st.sql)
			for k := range st.long {
				delete(st.long, k)
			}
			return true
		}
	}
	// Body after id: flags(1) iterations(4) [null bitmap, bound flag, types, values].
	rest := p[10:]
	var values []byte
	if n := int(st.params); n > 0 {
		nb := (n + 7) / 8
		if len(rest) < nb+1 {
			s.writeErr(protocol.NewError(protocol.ErrWrongArguments, "HY000", "Incorrect arguments to mysqld_stmt_execute"))
			return true
		}
		nullmap := rest[:nb]
		bound := rest[nb]
		rest = rest[nb+1:]
		if bound == 1 {
			if len(rest) < 2*n {
				s.writeErr(protocol.NewError(protocol.ErrWrongArguments, "HY000", "Incorrect arguments to mysqld_stmt_execute"))
				return true
			}
			st.types = append(st.types[:0], rest[:2*n]...)
			rest = rest[2*n:]
		} else if len(st.types) != 2*n {
			s.writeErr(protocol.NewError(protocol.ErrWrongArguments, "HY000", "Incorrect arguments to mysqld_stmt_execute: parameter types were never sent"))
			return true
		}
		values = rest
		if st.template != nil {
			if done, ok := s.executeTemplate(st, p, nullmap, values, start); done {
				for k := range st.long {
					delete(st.long, k)
				}
				return ok
			}
		}
		if st.sharded {
			failed, t, err := s.executeSharded(st, p, nullmap, values)
			s.observe(st.analysis.Kind, t, start, failed, st.sql)
			for k := range st.long {
				delete(st.long, k)
			}
			return err == nil
		}
	}
	if st.sharded {
		failed, t, err := s.executeSharded(st, p, nil, nil)
		s.observe(st.analysis.Kind, t, start, failed, st.sql)
		return err == nil
	}
	plan := router.Decide(st.analysis, s.routerState())
	failed, err := s.exec(&plan, true, s.sendStmt(st, p, values))
	for k := range st.long {
		delete(st.long, k)
	}
	s.observe(st.analysis.Kind, plan.Target, start, failed, st.sql)
	return err == nil
}

// sendStmt returns the writer of an execution of st on a backend: it
// prepares st there first (once per connection) and sends its long data.
func (s *Session) sendStmt(st *stmt, p, values []byte) func(*backend.Conn) error {
	return func(c *backend.Conn) error {
		bs, err := c.Prepare(st.sql)
		if err != nil {
			return err
		}
		for param, data := range st.long {
			c.Seq = 0
			s.buf = append(s.buf[:0], protocol.ComStmtSendLongData)
			s.buf = binary.LittleEndian.AppendUint32(s.buf, bs.ID)
			s.buf = binary.LittleEndian.AppendUint16(s.buf, param)
			s.buf = append(s.buf, data...)
			if err := c.WritePacket(s.buf); err != nil {
				return err
			}
		}
		c.Seq = 0
		s.buf = append(s.buf[:0], protocol.ComStmtExecute)
		s.buf = binary.LittleEndian.AppendUint32(s.buf, bs.ID)
		s.buf = append(s.buf, 0)          // no cursor: results are streamed
		s.buf = append(s.buf, p[6:10]...) // iteration count
		if n := int(st.params); n > 0 {
			nb := (n + 7) / 8
			s.buf = append(s.buf, p[10:10+nb]...)
			s.buf = append(s.buf, 1)
			s.buf = append(s.buf, st.types...)
			s.buf = append(s.buf, values...)
		}
		return c.WriteFlush(s.buf)
	}
}

// sendLongData implements COM_STMT_SEND_LONG_DATA (no response).
func (s *Session) sendLongData(p []byte) {
	st, e := s.lookupStmt(p, "mysqld_stmt_send_long_data")
	if e != nil || len(p) < 7 {
		return
	}
	param := binary.LittleEndian.Uint16(p[5:])
	if param >= st.params {
		return
	}
	if st.long == nil {
		st.long = map[uint16][]byte{}
	}
	st.long[param] = append(st.long[param], p[7:]...)
}

// closeStmt implements COM_STMT_CLOSE (no response).
func (s *Session) closeStmt(p []byte) {
	if len(p) >= 5 {
		delete(s.stmts, binary.LittleEndian.Uint32(p[1:]))
	}
}

// resetStmt implements COM_STMT_RESET.
func (s *Session) resetStmt(p []byte) {
	st, e := s.lookupStmt(p, "mysqld_stmt_reset")
	if e != nil {
		s.writeErr(e)
		return
	}
	for k := range st.long {
		delete(st.long, k)
	}
	s.writeOK(0, 0)
}
