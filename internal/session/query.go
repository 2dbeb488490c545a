package session

import (
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"time"

	"github.com/switchyard-db/switchyard/internal/auth"
	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/metrics"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/relay"
	"github.com/switchyard-db/switchyard/internal/router"
	"github.com/switchyard-db/switchyard/internal/topology"
)

// query runs a COM_QUERY; false ends the session.
func (s *Session) query(sql string) bool {
	start := time.Now()
	s.env.queries.Add(1)
	s.route = routeNote{}
	sql, handled, alive := s.govern(sql, false)
	if handled {
		return alive
	}
	defer s.governed()
	var a *router.Analysis
	var root router.Node
	if s.ns.Rules != nil {
		a, root = s.planSharded(sql)
	} else {
		a = router.Analyze(sql)
	}
	if a.Flags&router.FlagMulti != 0 && s.caps&protocol.ClientMultiStatements == 0 {
		a = &router.Analysis{Kind: a.Kind, Err: protocol.NewError(protocol.ErrParse, "42000",
			"You have an error in your SQL syntax: multi-statements are not enabled for this connection")}
		root = nil
	}
	defer s.endImplicit()
	if done, failed := s.txnControl(a, sql); done {
		s.observe(a.Kind, router.TargetProxy, start, failed, sql)
		return true
	}
	plan := router.DecideNode(a, root, s.routerState())
	failed, err := s.exec(&plan, false, func(c *backend.Conn) error {
		c.Seq = 0
		s.buf = append(s.buf[:0], protocol.ComQuery)
		s.buf = append(s.buf, sql...)
		return c.WriteFlush(s.buf)
	})
	s.observe(a.Kind, plan.Target, start, failed, sql)
	return err == nil
}

// runRetries is how many times run re-sends a statement that a server
// reset the connection without reading.
const runRetries = 3

// run executes a statement on the plan's connection: send writes the
// command, and the response is relayed. pipeline lets a GTID wait go in
// the same flush as the statement (text statements only). It returns
// whether the statement failed and a non-nil error when the client is
// gone.
func (s *Session) run(plan *router.Plan, pipeline bool, send func(c *backend.Conn) error) (failed bool, clientErr error) {
	return s.runTry(plan, pipeline, send, runRetries)
}

// runTry is one attempt of run, with retries more left for a statement
// the server never read.
func (s *Session) runTry(plan *router.Plan, pipeline bool, send func(c *backend.Conn) error, retries int) (failed bool, clientErr error) {
	c, node, wait, err := s.acquireWait(plan, pipeline)
	if err != nil {
		s.writeErr(toProtoErr(err))
		return true, nil
	}
	s.active.Store(c)
	defer s.active.Store(nil)
	if wait.sql != "" {
		var ok bool
		if c, node, ok = s.waitThenSend(c, node, wait, send); !ok {
			return true, nil
		}
		return s.relayAndFinish(plan, c, node, send, retries)
	}
	if plan.Flags&router.FlagLastInsertID != 0 && c.LastInsertID != s.lastInsertID {
		// LAST_INSERT_ID() belongs to the session, not to the connection
		// that happens to serve it.
		if _, err := c.Exec("DO LAST_INSERT_ID(" + strconv.FormatUint(s.lastInsertID, 10) + ")"); err != nil {
			s.writeErr(s.lost(c, node, &relay.BackendError{Err: err}))
			return true, nil
		}
		c.LastInsertID = s.lastInsertID
	}
	if err := send(c); err != nil {
		if pe, ok := err.(*protocol.Error); ok && !c.Broken() {
			// Refused before execution (e.g. the backend could not prepare).
			s.writeErr(pe)
			if !s.pin.holds(c) {
				s.release(c, node)
			}
			return true, nil
		}
		s.writeErr(s.lost(c, node, &relay.BackendError{Err: err}))
		return true, nil
	}
	return s.relayAndFinish(plan, c, node, send, retries)
}

// waitThenSend writes a GTID wait and the statement in one flush and reads
// the wait's answer. When the replica did not reach the position in time,
// the statement's response is drained and the statement sent to the
// primary instead. ok is false when an error was already sent.
func (s *Session) waitThenSend(c *backend.Conn, node *topology.Node, wait gtidWait, send func(*backend.Conn) error) (*backend.Conn, *topology.Node, bool) {
	c.Seq = 0
	s.buf = append(s.buf[:0], protocol.ComQuery)
	s.buf = append(s.buf, wait.sql...)
	if err := c.WritePacket(s.buf); err == nil {
		_ = send(c) // a failed write shows as a broken connection below
	}
	_, rows, err := c.ReadRows()
	if err == nil && !c.Broken() && len(rows) == 1 && rows[0][0] == "0" {
		node.NoteReached(wait.need)
		s.nsm.ConsistencyRead(s.level, metrics.OutcomeReplicaWaited)
		return c, node, true
	}
	if c.Broken() {
		s.lost(c, node, &relay.BackendError{Err: err})
	} else {
		// The replica is behind: drop its answer, ask the primary.
		if _, derr := c.ReadResultDiscard(); derr != nil && c.Broken() {
			s.lost(c, node, &relay.BackendError{Err: derr})
		} else {
			s.release(c, node)
		}
	}
	s.nsm.ConsistencyRead(s.level, metrics.OutcomePrimaryTimeout)
	pc, pnode, perr := s.getPrimary(node.Slice)
	if perr != nil {
		s.writeErr(toProtoErr(perr))
		return nil, nil, false
	}
	s.active.Store(pc)
	if err := send(pc); err != nil {
		s.writeErr(s.lost(pc, pnode, &relay.BackendError{Err: err}))
		return nil, nil, false
	}
	return pc, pnode, true
}

// relayAndFinish relays the response of the statement sent on c and
// updates the session; a statement the server never read is sent again
// (by send, at most retries more times).
func (s *Session) relayAndFinish(plan *router.Plan, c *backend.Conn, node *topology.Node, send func(*backend.Conn) error, retries int) (failed bool, clientErr error) {
	o, err := s.relayer.Result(s.cl, s.caps, c)
	if err != nil {
		if relay.IsClientError(err) {
			s.lost(c, node, err)
			return true, err
		}
		if o.Results == 0 && errors.Is(err, syscall.ECONNRESET) && !s.pin.holds(c) && !s.isPart(c) && retries > 0 {
			// The server reset the connection without answering: it
			// closed the socket with our statement unread (a crash or a
			// restart just before it arrived), so the statement never
			// ran. Run it again on another connection (held during a
			// failover) instead of failing it.
			s.lost(c, node, err)
			node.Suspect()
			time.Sleep(10 * time.Millisecond)
			return s.runTry(plan, false, send, retries-1)
		}
		s.writeErr(s.lost(c, node, err))
		return true, nil
	}
	if plan.Kind == router.KindUse && o.Err == nil {
		s.db = plan.DB
	}
	s.after(c, node, plan, &o)
	return o.Err != nil, nil
}

func (s *Session) observe(k router.Kind, t router.Target, start time.Time, failed bool, sql string) {
	d := time.Since(start)
	route := s.route.route(t)
	s.route = routeNote{}
	s.nsm.ObserveQuery(queryType(k), route, d, failed)
	s.noteDigest(sql, route.String(), d, failed)
	if th := s.env.Config.SlowQueryThreshold; th > 0 && d >= th {
		s.nsm.SlowQuery()
		if len(sql) > 1024 {
			sql = sql[:1024] + "..."
		}
		s.log.Warn("slow query", "duration", d, "sql", sql)
	}
}

func queryType(k router.Kind) metrics.QueryType {
	switch k {
	case router.KindSelect:
		return metrics.QuerySelect
	case router.KindInsert:
		return metrics.QueryInsert
	case router.KindReplace:
		return metrics.QueryReplace
	case router.KindUpdate:
		return metrics.QueryUpdate
	case router.KindDelete:
		return metrics.QueryDelete
	case router.KindDDL:
		return metrics.QueryDDL
	case router.KindSet, router.KindUse:
		return metrics.QuerySet
	case router.KindBegin, router.KindCommit, router.KindRollback, router.KindSavepoint, router.KindXA:
		return metrics.QueryTxn
	case router.KindShow:
		return metrics.QueryShow
	}
	return metrics.QueryOther
}

// initDB changes the session's database after checking it on a backend.
func (s *Session) initDB(db string) *protocol.Error {
	if e := s.gov.CheckDB(db); e != nil {
		return e
	}
	plan := router.Plan{Analysis: &router.Analysis{Kind: router.KindUse, DB: db}, Target: router.TargetPrimary}
	if s.pin.active() {
		plan.Target = router.TargetPinned
	} else if s.ns.Default.Primary() == nil && s.ns.Default.PickReplica() != nil {
		// During a failover the database is checked on a replica, so that
		// logins and USE do not wait for a primary.
		plan.Target = router.TargetReplica
	}
	c, node, err := s.acquire(&plan)
	if err != nil {
		return toProtoErr(err)
	}
	if err := c.InitDB(db); err != nil {
		if c.Broken() {
			return s.lost(c, node, &relay.BackendError{Err: err})
		}
		s.release(c, node)
		return toProtoErr(err)
	}
	s.db = db
	s.release(c, node)
	return nil
}

// fieldList relays COM_FIELD_LIST to the primary (or the pinned connection).
func (s *Session) fieldList(p []byte) bool {
	plan := router.Plan{Analysis: &router.Analysis{Kind: router.KindShow}, Target: router.TargetPrimary}
	if s.pin.active() {
		plan.Target = router.TargetPinned
	}
	p = s.fieldListTarget(p, &plan)
	c, node, err := s.acquire(&plan)
	if err != nil {
		s.writeErr(toProtoErr(err))
		return true
	}
	c.Seq = 0
	if err := c.WriteFlush(p); err != nil {
		s.writeErr(s.lost(c, node, err))
		return true
	}
	if _, err := s.relayer.FieldList(s.cl, s.caps, c); err != nil {
		e := s.lost(c, node, err)
		if relay.IsClientError(err) {
			return false
		}
		s.writeErr(e)
		return true
	}
	s.release(c, node)
	return true
}

// local answers a statement without a backend; false means it failed.
func (s *Session) local(plan *router.Plan, binary bool) bool {
	switch plan.Local {
	case router.LocalKill:
		return s.kill(plan)
	case router.LocalLastInsertID:
		s.writeUint64Result(plan.Label, s.lastInsertID, binary)
		return true
	case router.LocalConnectionID:
		s.writeIntCol(plan.Label, uint64(s.ID), protocol.TypeLong, 10, true, binary)
		return true
	case router.LocalRowCount:
		s.writeInt64Result(plan.Label, s.rowCount, binary)
		return true
	case router.LocalFoundRows:
		s.writeInt64Result(plan.Label, int64(s.foundRows), binary)
		return true
	case router.LocalSetConsistency:
		return s.setConsistency(plan.Value)
	case router.LocalShowConsistency:
		s.showConsistency(plan.Label, binary)
		return true
	}
	s.writeErr(protocol.NewError(protocol.ErrUnknown, "HY000", "internal error: unknown local statement"))
	return false
}

func (s *Session) kill(plan *router.Plan) bool {
	if plan.KillID == uint64(s.ID) && !plan.KillQuery {
		s.writeOK(0, 0)
		s.closing.Store(true)
		return true
	}
	t := s.env.Lookup(uint32(plan.KillID))
	if t == nil || plan.KillID > 0xffffffff {
		s.writeErr(protocol.NewError(1094, "HY000", "Unknown thread id: %d", plan.KillID))
		return false
	}
	if t.user.Name != s.user.Name {
		s.writeErr(protocol.NewError(1095, "HY000", "You are not owner of thread %d", plan.KillID))
		return false
	}
	if t == s {
		s.writeOK(0, 0)
		return true
	}
	t.Kill(plan.KillQuery)
	s.writeOK(0, 0)
	return true
}

// setOption implements COM_SET_OPTION (multi-statements on/off).
func (s *Session) setOption(p []byte) {
	if len(p) < 3 {
		s.writeErr(protocol.NewError(protocol.ErrUnknownCom, "08S01", "Malformed COM_SET_OPTION"))
		return
	}
	switch uint16(p[1]) | uint16(p[2])<<8 {
	case 0:
		s.caps |= protocol.ClientMultiStatements
	case 1:
		s.caps &^= protocol.ClientMultiStatements
	default:
		s.writeErr(protocol.NewError(protocol.ErrUnknownCom, "08S01", "Unknown COM_SET_OPTION value"))
		return
	}
	// MariaDB answers with an EOF: under DEPRECATE_EOF an OK with the EOF
	// header, as at the end of a result set.
	s.buf = protocol.AppendResultEnd(s.buf[:0], &protocol.OK{Status: s.status()}, s.caps)
	s.cl.WritePacket(s.buf)
}

// statistics implements COM_STATISTICS with the proxy's own figures.
func (s *Session) statistics() {
	up := time.Since(s.env.Started)
	q := s.env.queries.Load()
	qps := float64(q) / max(up.Seconds(), 1)
	msg := fmt.Sprintf("Uptime: %d  Threads: %d  Questions: %d  Slow queries: 0  Opens: 0  Open tables: 0  Queries per second avg: %.3f",
		int64(up.Seconds()), s.env.Count(), q, qps)
	s.cl.WritePacket([]byte(msg))
}

// changeUser implements COM_CHANGE_USER: authenticate again, then start
// over as a fresh session of (possibly) another namespace.
func (s *Session) changeUser(p []byte) bool {
	pos := 1
	user, n := protocol.ReadNulString(p[pos:])
	if n == 0 {
		s.writeErr(protocol.NewError(protocol.ErrHandshake, "08S01", "Bad handshake"))
		return false
	}
	pos += n
	var resp []byte
	if s.caps&protocol.ClientSecureConnection != 0 && pos < len(p) {
		l := int(p[pos])
		if pos+1+l > len(p) {
			s.writeErr(protocol.NewError(protocol.ErrHandshake, "08S01", "Bad handshake"))
			return false
		}
		resp = p[pos+1 : pos+1+l]
		pos += 1 + l
	} else {
		r, n := protocol.ReadNulString(p[pos:])
		resp, pos = r, pos+n
	}
	dbName, n := protocol.ReadNulString(p[min(pos, len(p)):])
	db := string(dbName) // p's buffer is reused by the auth exchange below
	pos += n
	var collation uint8 = protocol.CharsetUTF8MB4GeneralCI
	if pos+2 <= len(p) {
		collation = p[pos]
		pos += 2
	}
	plugin := ""
	if pos < len(p) {
		name, _ := protocol.ReadNulString(p[pos:])
		plugin = string(name)
	}
	nc, u, err := s.env.Auth.Verify(s.cl, auth.Request{
		User: string(user), Host: s.host, Plugin: plugin, Response: append([]byte(nil), resp...),
		Secure: s.secure, ForceSwitch: true, Check: s.checkHost,
	})
	if err != nil {
		if pe, ok := err.(*protocol.Error); ok {
			s.writeErr(pe)
			s.cl.Flush()
		}
		return false
	}
	if e := s.admitChange(nc, u); e != nil {
		s.writeErr(e)
		s.cl.Flush()
		return false
	}
	s.resetSession()
	s.db = ""
	s.setUser(nc, u)
	s.vars = collationVars(collation)
	if e := s.UseDB(string(db)); e != nil {
		s.writeErr(e)
		return true
	}
	s.writeOK(0, 0)
	return true
}
