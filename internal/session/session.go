// Package session runs one client connection after login: it reads
// commands, asks the router where each statement goes, takes backend
// connections (pooled, or pinned while the session's state requires it),
// keeps the session's variables in step on whichever connection serves it,
// and relays results.
package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-db/switchyard/internal/auth"
	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/digest"
	"github.com/switchyard-db/switchyard/internal/governance"
	"github.com/switchyard-db/switchyard/internal/merge"
	"github.com/switchyard-db/switchyard/internal/metrics"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/relay"
	"github.com/switchyard-db/switchyard/internal/router"
	"github.com/switchyard-db/switchyard/internal/sequence"
	"github.com/switchyard-db/switchyard/internal/sessvars"
	"github.com/switchyard-db/switchyard/internal/shard"
	"github.com/switchyard-db/switchyard/internal/topology"
	"github.com/switchyard-db/switchyard/internal/xa"
)

// Env is what sessions share: the topology, metrics, logging and the
// registry of live sessions.
type Env struct {
	Topology *topology.Topology
	Metrics  *metrics.Metrics
	Log      *slog.Logger
	Auth     *auth.Authenticator
	Config   *config.Config
	// Gate admits logins (TLS required, connections per user); nil: no
	// limits.
	Gate *governance.Gate
	// Digests collects per-statement-shape statistics and SlowLog receives
	// slow statements (nil: off).
	Digests *digest.Store
	SlowLog *digest.SlowLog
	Started time.Time
	// FailoverHold bounds how long a statement that needs a primary waits
	// for one during a failover.
	FailoverHold time.Duration
	// MergeMemory is the proxy-wide budget of merged and held rows
	// (merge_memory; nil: unlimited).
	MergeMemory *merge.Shared

	mu       sync.Mutex
	sessions map[uint32]*Session
	queries  atomic.Int64

	posMu   sync.Mutex
	posByID map[*topology.Slice]*posBatcher

	seqMu sync.Mutex
	seqs  map[*shard.Table]sequence.Generator
	// schema: key column types for the router (schema.go).
	schema schemaCache
	// plans: plans of statements on ruled tables (plancache.go).
	plans planCache

	// ProxyID names this proxy in XA transaction ids.
	ProxyID string
	xaMu    sync.Mutex
	xas     map[string]*xa.Coordinator

	// snap is the current configuration snapshot (see reload.go).
	snap atomic.Pointer[Snapshot]
}

// positions returns the GTID position batcher of a slice.
func (e *Env) positions(s *topology.Slice) *posBatcher {
	e.posMu.Lock()
	defer e.posMu.Unlock()
	if e.posByID == nil {
		e.posByID = map[*topology.Slice]*posBatcher{}
	}
	b := e.posByID[s]
	if b == nil {
		b = &posBatcher{}
		e.posByID[s] = b
	}
	return b
}

// Register adds a session to the registry (for KILL and status).
func (e *Env) Register(s *Session) {
	e.mu.Lock()
	if e.sessions == nil {
		e.sessions = map[uint32]*Session{}
	}
	e.sessions[s.ID] = s
	e.mu.Unlock()
}

// Unregister removes a session.
func (e *Env) Unregister(s *Session) {
	e.mu.Lock()
	delete(e.sessions, s.ID)
	e.mu.Unlock()
}

// Lookup returns a live session by id.
func (e *Env) Lookup(id uint32) *Session {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sessions[id]
}

// Count returns the number of live sessions.
func (e *Env) Count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.sessions)
}

// Session is one logged-in client connection.
type Session struct {
	ID     uint32
	env    *Env
	cl     *protocol.Conn
	caps   uint32
	secure bool
	host   string
	user   *config.User
	gov    *governance.Policy // what the user may access (governance package)
	admit  func()             // releases the user's connection slot (governance.Gate)
	// govDone gives back the rate and concurrency turns of the running
	// statement (governance.Limiter).
	govDone func()
	// scatterSlices: the slices the running statement scattered over (for
	// digests and the slow log).
	scatterSlices []string
	ns            *topology.Namespace
	nsm           *metrics.NamespaceMetrics
	log           *slog.Logger

	db         string
	vars       *sessvars.Set
	autocommit bool

	// Read consistency: the level, the GTID of the session's last write,
	// and whether a write reported no GTID (binary log off).
	level int
	// shadowSet: SET switchyard_shadow (shadow.go).
	shadowSet uint8
	lastGTID  string
	// gtidBySlice: the GTID of the session's last write on each slice (a
	// replica of that slice must reach it); dirtySlices: slices written
	// where the GTID was not seen (a distributed commit), whose next
	// session-consistent read fetches the primary's position instead.
	gtidBySlice      map[*topology.Slice]string
	dirtySlices      map[*topology.Slice]bool
	wroteWithoutGTID bool

	// pin is the backend connection the session keeps and why (pin.go).
	pin pinState
	// txn is the session's transaction in a sharded namespace (txn.go).
	txn txnState

	stmts      map[uint32]*stmt
	nextStmtID uint32

	lastInsertID uint64
	rowCount     int64  // ROW_COUNT() of the last statement
	foundRows    uint64 // FOUND_ROWS() of the last result set
	relayer      relay.Relayer
	phys         *physNames // see logicalColumn
	renameFn     func(*protocol.ColumnDef) bool
	ret          *returning // the INSERT ... RETURNING being executed
	buf          []byte
	rw           protocol.ResultWriter // proxy-made result sets
	src          router.Sources
	// needs and fetched: what planning missed, and what was fetched for
	// the next pass (planner.go).
	needs   planNeeds
	fetched fetched
	// tookIDs: the statement being planned asked for sequence IDs (its
	// plan is not cached).
	tookIDs bool

	// route records the nodes the running statement used, for metrics.
	route routeNote

	active atomic.Pointer[backend.Conn] // connection running the current statement
	// activeMany: the connections running the physical statements of the
	// current scatter query.
	activeMany atomic.Pointer[[]*backend.Conn]
	closing    atomic.Bool

	// Reloads (see reload.go): gen is the snapshot the session uses, hold
	// the one it may still use (0: none, idle outside a transaction), gone
	// that its user was removed; who is read by reloads.
	gen  uint64
	hold atomic.Uint64
	gone atomic.Bool
	who  atomic.Pointer[owner]
}

// Login describes a client that has just authenticated.
type Login struct {
	ID        uint32
	Conn      *protocol.Conn
	Caps      uint32
	Secure    bool
	Host      string
	Namespace *config.Namespace
	User      *config.User
	DB        string
	Collation uint8
}

// New creates a session for an authenticated client.
func New(env *Env, l Login) *Session {
	s := &Session{
		ID:         l.ID,
		env:        env,
		cl:         l.Conn,
		caps:       l.Caps,
		secure:     l.Secure,
		host:       l.Host,
		autocommit: true,
		stmts:      map[uint32]*stmt{},
	}
	s.setUser(l.Namespace, l.User)
	s.vars = collationVars(l.Collation)
	s.renameFn = s.logicalColumn
	return s
}

func (s *Session) setUser(nc *config.Namespace, u *config.User) {
	s.user = u
	s.level, _ = parseLevel(u.ReadConsistency)
	s.lastGTID, s.wroteWithoutGTID = "", false
	s.gtidBySlice, s.dirtySlices = nil, nil
	ns, gen, ok := s.env.namespaceFor(nc)
	s.ns, s.gen = ns, gen
	s.hold.Store(gen)
	s.gone.Store(!ok)
	s.noteUser(u, nc.Name)
	s.gov = s.newPolicy(nc, u)
	s.nsm = s.env.Metrics.Namespace(nc.Name)
	s.log = s.env.Log.With("conn", s.ID, "user", u.Name, "namespace", nc.Name)
}

// collationVars returns the session variables implied by a handshake
// collation, relative to the utf8mb4_general_ci backends log in with.
func collationVars(id uint8) *sessvars.Set {
	c, _ := protocol.LookupCollation(id)
	if c.ID == protocol.CharsetUTF8MB4GeneralCI {
		return nil
	}
	return (*sessvars.Set)(nil).With(map[string]string{
		"character_set_client":     c.Charset,
		"character_set_connection": c.Charset,
		"character_set_results":    c.Charset,
		"collation_connection":     c.Name,
	})
}

// UseDB selects the initial database (from the handshake). It returns the
// error to send instead of the login OK.
func (s *Session) UseDB(db string) *protocol.Error {
	if db == "" {
		return nil
	}
	return s.initDB(db)
}

// Namespace returns the session's namespace name.
func (s *Session) Namespace() string { return s.ns.Name }

// User returns the session's user name.
func (s *Session) User() string { return s.user.Name }

// Metrics returns the session's namespace metrics.
func (s *Session) Metrics() *metrics.NamespaceMetrics { return s.nsm }

// Run serves commands until the client quits or the connection fails. A
// panic while serving ends this session only, with an error to the client.
func (s *Session) Run() {
	defer s.Close()
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("internal error; closing the session", "panic", r, "stack", string(debug.Stack()))
			if c := s.pin.conn(); c != nil {
				c.MarkBroken()
			}
			s.cl.Seq = 1
			s.writeErr(protocol.NewError(protocol.ErrUnknown, "HY000", "Switchyard internal error: %v", r))
			s.cl.Flush()
		}
	}()
	for {
		s.cl.Seq = 0
		if !s.parkIdle() {
			return
		}
		p, err := s.cl.ReadPacket()
		if err != nil {
			if errors.Is(err, protocol.ErrPacketTooLarge) {
				s.writeErr(protocol.NewError(protocol.ErrNetPacketTooLarge, "08S01", "Got a packet bigger than 'max_allowed_packet' bytes"))
				s.cl.Flush()
			}
			return
		}
		if len(p) == 0 {
			s.writeErr(protocol.NewError(protocol.ErrUnknownCom, "08S01", "Unknown command"))
			if s.cl.Flush() != nil {
				return
			}
			continue
		}
		if !s.boundary() || !s.dispatch(p) {
			return
		}
		if err := s.cl.Flush(); err != nil {
			return
		}
	}
}

// dispatch runs one command; false ends the session.
func (s *Session) dispatch(p []byte) bool {
	if s.chooseSide(p) {
		return true
	}
	s.followDDL(p)
	// Relayed column definitions are parsed for logical names only in
	// namespaces with sharding rules.
	s.relayer.Rename = nil
	if s.ns.Rules != nil {
		s.relayer.Rename = s.renameFn
	}
	switch p[0] {
	case protocol.ComQuit:
		return false
	case protocol.ComPing:
		s.writeOK(0, 0)
	case protocol.ComQuery:
		return s.query(string(p[1:]))
	case protocol.ComInitDB:
		if e := s.initDB(string(p[1:])); e != nil {
			s.writeErr(e)
		} else {
			s.writeOK(0, 0)
		}
	case protocol.ComFieldList:
		return s.fieldList(p)
	case protocol.ComStmtPrepare:
		return s.prepare(string(p[1:]))
	case protocol.ComStmtExecute:
		return s.execute(p)
	case protocol.ComStmtSendLongData:
		s.sendLongData(p)
	case protocol.ComStmtClose:
		s.closeStmt(p)
	case protocol.ComStmtReset:
		s.resetStmt(p)
	case protocol.ComResetConnection:
		s.resetSession()
		s.writeOK(0, 0)
	case protocol.ComChangeUser:
		return s.changeUser(p)
	case protocol.ComSetOption:
		s.setOption(p)
	case protocol.ComStatistics:
		s.statistics()
	default:
		s.writeErr(protocol.NewError(protocol.ErrUnknownCom, "08S01", "Unknown command %s (0x%02x)", protocol.CommandName(p[0]), p[0]))
	}
	return true
}

// status is the server status the proxy reports in its own OK packets.
func (s *Session) status() uint16 {
	var st uint16
	if s.autocommit {
		st |= protocol.StatusAutocommit
	}
	if s.pin.inTxn() || s.txn.held() {
		st |= protocol.StatusInTrans
	}
	return st
}

func (s *Session) writeOK(affected, lastID uint64) {
	ok := protocol.OK{AffectedRows: affected, LastInsertID: lastID, Status: s.status()}
	s.buf = protocol.AppendOK(s.buf[:0], protocol.OKHeader, &ok, s.caps)
	s.cl.WritePacket(s.buf)
}

func (s *Session) writeErr(e *protocol.Error) {
	s.buf = protocol.AppendErr(s.buf[:0], e)
	s.cl.WritePacket(s.buf)
}

// toProtoErr converts any error to the MySQL error sent to the client.
func toProtoErr(err error) *protocol.Error {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return pe
	}
	return protocol.NewError(protocol.ErrUnknown, "HY000", "%v", err)
}

// inTxn reports whether the session has an open transaction.
func (s *Session) inTxn() bool {
	return s.pin.inTxn()
}

func (s *Session) routerState() router.Session {
	return router.Session{
		Consistency: router.Consistency(s.level),
		InTxn:       s.inTxn() || !s.autocommit || s.txn.held(),
		Pinned:      s.pin.active(),
		RWSplit:     s.user.RWSplit,
	}
}

// acquire returns the backend connection for a plan, with the session's
// database and variables applied.
func (s *Session) acquire(plan *router.Plan) (*backend.Conn, *topology.Node, error) {
	c, node, _, err := s.acquireWait(plan, false)
	return c, node, err
}

// acquireWait is acquire for a statement that may carry a GTID wait in
// the same flush (pipeline): a replica read that must first reach the
// session's position returns the wait to send before the statement
// instead of waiting for it here.
func (s *Session) acquireWait(plan *router.Plan, pipeline bool) (*backend.Conn, *topology.Node, gtidWait, error) {
	slice := s.ns.Default
	if plan.Slice != "" {
		slice = s.ns.Slices[plan.Slice]
	}
	crossCheck := plan.Slice != "" || plan.NamesTables
	if !crossCheck && s.pin.active() && plan.Target == router.TargetPinned {
		// A statement naming no table runs on the pinned connection,
		// whatever its slice (COMMIT, SELECT 1, SET ...).
		s.route.note(s.pin.pinnedNode())
		return s.pin.conn(), s.pin.pinnedNode(), gtidWait{}, nil
	}
	if crossCheck && s.pin.active() && !s.pin.pinnedTo(slice) {
		if s.canSpan() {
			// The transaction takes in another slice (two-phase commit).
			c, node, err := s.joinSlice(slice)
			return c, node, gtidWait{}, err
		}
		return nil, nil, gtidWait{}, s.errSingleSlice(slice)
	}
	if plan.Target == router.TargetPinned {
		// A pinned connection must not be swapped for the primary after a
		// wait times out: wait synchronously.
		c, node, err := s.acquirePinned(plan, slice)
		return c, node, gtidWait{}, err
	}
	if plan.Target == router.TargetReplica {
		if c, r, wait := s.replicaRead(slice, plan.Consistency, pipeline); c != nil {
			return c, r, wait, nil
		}
		if err := s.primaryReadsAllowed(); err != nil {
			return nil, nil, gtidWait{}, err
		}
	}
	c, node, err := s.getPrimary(slice)
	return c, node, gtidWait{}, err
}

// acquirePinned returns the connection of a plan that runs on the pinned
// connection, pinning one (on slice) when there is none yet.
func (s *Session) acquirePinned(plan *router.Plan, slice *topology.Slice) (*backend.Conn, *topology.Node, error) {
	if s.pin.active() {
		s.route.note(s.pin.pinnedNode())
		return s.pin.conn(), s.pin.pinnedNode(), nil
	}
	if s.txn.held() {
		return s.beginPending(slice)
	}
	if plan.OnReplica {
		// A read-only transaction applies the consistency level once,
		// when it starts.
		if c, r, _ := s.replicaRead(slice, plan.Consistency, false); c != nil {
			s.pin.pin(c, r)
			return c, r, nil
		}
		if err := s.primaryReadsAllowed(); err != nil {
			return nil, nil, err
		}
	}
	c, node, err := s.getPrimary(slice)
	if err != nil {
		return nil, nil, err
	}
	s.pin.pin(c, node)
	return c, node, nil
}

// primaryReadsAllowed refuses a replica read's fallback to the primary
// when the namespace says primary_reads: never.
func (s *Session) primaryReadsAllowed() error {
	if s.ns.Config.PrimaryReads == config.PrimaryReadsNever {
		return protocol.NewError(protocol.ErrUnknown, "HY000", "no replica of slice %s can serve this read, and primary_reads is never", s.ns.Default.Name)
	}
	return nil
}

// getPrimary returns a connection to the slice's primary. While the slice
// has no reachable primary (a failover), it waits up to the failover hold
// time for one instead of failing the statement.
func (s *Session) getPrimary(slice *topology.Slice) (*backend.Conn, *topology.Node, error) {
	hold := s.env.FailoverHold
	if len(slice.Nodes) < 2 {
		// Nothing can take over a slice of one node: fail within the
		// connect timeout instead of holding.
		hold = 0
	}
	deadline := time.Now().Add(hold)
	for {
		node, err := slice.WaitPrimary(context.Background(), time.Until(deadline))
		if err != nil {
			var np *topology.ErrNoPrimary
			if errors.As(err, &np) {
				return nil, nil, protocol.NewError(protocol.ErrConnectToBackend, "HY000", "%v", np)
			}
			return nil, nil, toProtoErr(err)
		}
		c, err := s.get(node)
		if err == nil {
			return c, node, nil
		}
		var pe *protocol.Error
		retryable := errors.As(err, &pe) && pe.Code == protocol.ErrConnectToBackend && !strings.Contains(pe.Message, "Access denied")
		if !retryable || time.Now().After(deadline) {
			return nil, nil, err
		}
		// The primary refused a connection: have the monitor look now, and
		// retry until it is back or another node takes over.
		node.Suspect()
		select {
		case <-time.After(100 * time.Millisecond):
		case <-slice.Changed():
		}
	}
}

// get takes a pooled connection from node and brings it in step with the
// session.
func (s *Session) get(node *topology.Node) (*backend.Conn, error) {
	pool := node.Pool(s.caps&protocol.ClientFoundRows != 0)
	ctx := context.Background()
	c, err := pool.Get(ctx)
	if err != nil {
		s.nsm.BackendError(node.Slice.Name, node.Addr)
		return nil, s.backendUnavailable(node, err)
	}
	s.route.note(node)
	if err := s.sync(c); err != nil {
		pool.Put(c)
		return nil, err
	}
	return c, nil
}

func (s *Session) backendUnavailable(node *topology.Node, err error) *protocol.Error {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return protocol.NewError(protocol.ErrConnectToBackend, "HY000", "Can't connect to backend %s %s %s: %s", node.Slice.Name, node.Role(), node.Addr, pe.Message)
	}
	if errors.Is(err, backend.ErrPoolTimeout) {
		return protocol.NewError(protocol.ErrConCount, "08004", "Too many connections: no free backend connection to %s %s %s within the pool wait timeout", node.Slice.Name, node.Role(), node.Addr)
	}
	return protocol.NewError(protocol.ErrConnectToBackend, "HY000", "Can't connect to backend %s %s %s: %v", node.Slice.Name, node.Role(), node.Addr, err)
}

// sync applies the session's database and variables to c.
func (s *Session) sync(c *backend.Conn) error {
	if c.DB != s.db {
		if s.db == "" {
			// A database cannot be unselected: log in again without one,
			// so that the session never runs in another one's database.
			if err := c.ClearDB(); err != nil {
				c.MarkBroken()
				return toProtoErr(err)
			}
		} else if err := c.InitDB(s.db); err != nil {
			return toProtoErr(err)
		}
	}
	if c.Vars.Key() != s.vars.Key() {
		if q := sessvars.Diff(c.Vars, s.vars); q != "" {
			if _, err := c.Exec(q); err != nil {
				return toProtoErr(err)
			}
		}
		c.Vars = s.vars
	}
	return nil
}

// release returns a non-pinned connection to its pool.
func (s *Session) release(c *backend.Conn, node *topology.Node) {
	if s.pin.holds(c) || s.isPart(c) {
		return
	}
	node.Pool(s.caps&protocol.ClientFoundRows != 0).Put(c)
}

// after updates the session from a statement's outcome and decides whether
// the connection stays pinned.
func (s *Session) after(c *backend.Conn, node *topology.Node, plan *router.Plan, o *relay.Outcome) {
	hadGTID := s.lastGTID
	for _, st := range o.SessionState {
		s.applyState(st)
	}
	if s.lastGTID != hadGTID {
		s.noteGTID(node.Slice, s.lastGTID)
	}
	// A write inside a transaction gets its GTID at COMMIT, and one that
	// changed no row gets none: neither means the binary log is off.
	if node.Role() == topology.RolePrimary && o.Err == nil && c.Status&protocol.StatusInTrans == 0 && o.OK.AffectedRows > 0 {
		s.noteWrite(plan, s.lastGTID != hadGTID)
	}
	node.CountStatement()
	c.Vars = s.vars
	c.DB = s.db
	if o.OK.LastInsertID != 0 {
		s.lastInsertID = o.OK.LastInsertID
		c.LastInsertID = o.OK.LastInsertID
	}
	if o.ResultSet {
		s.rowCount = -1
		s.foundRows = uint64(o.Rows)
	} else if o.Err == nil {
		s.rowCount = int64(o.OK.AffectedRows)
	}
	inTrans := c.Status&protocol.StatusInTrans != 0
	s.pin.statementDone(plan.Pin, plan.Unpin, o.Err == nil || o.Results > 0, inTrans)
	s.txn.noteTxnFlag(inTrans)
	if s.distributed() && (s.pin.holds(c) || s.isPart(c)) {
		// A participant of a transaction over several slices stays until
		// COMMIT/ROLLBACK; one whose transaction ended (a deadlock rolled
		// it back) dooms the whole.
		if !inTrans || (o.Err != nil && o.Err.Code == 1213) {
			s.doom(protocol.NewError(1213, "40001", "Deadlock found when trying to get lock; the transaction over several slices was rolled back on slice %s; ROLLBACK and try again", node.Slice.Name))
		}
		return
	}
	if s.pin.settle(c, node, inTrans) {
		s.putBack(c, node)
	}
}

// applyState records variable and schema changes the backend reported.
func (s *Session) applyState(state []byte) {
	changes := map[string]string{}
	protocol.WalkSessionState(state, func(typ byte, data []byte) {
		switch typ {
		case protocol.SessionTrackSystemVariables:
			if v, ok := protocol.ParseSessionVar(data); ok {
				name := strings.ToLower(string(v.Name))
				if name == "last_gtid" {
					if len(v.Value) > 0 {
						s.lastGTID = string(v.Value)
					}
					return
				}
				changes[name] = string(v.Value)
			}
		case protocol.SessionTrackSchema:
			if db, _, n := protocol.ReadLenEncString(data); n > 0 {
				s.db = string(db)
			}
		case protocol.SessionTrackGTIDs:
			// MySQL, session_track_gtids=OWN_GTID: an encoding byte (0)
			// then the GTID set the statement committed.
			if len(data) > 1 && data[0] == 0 {
				if set, _, n := protocol.ReadLenEncString(data[1:]); n > 0 && len(set) > 0 {
					s.lastGTID = string(set)
				}
			}
		}
	})
	if len(changes) == 0 {
		return
	}
	if v, ok := changes["autocommit"]; ok {
		s.autocommit = strings.EqualFold(v, "ON") || v == "1"
	}
	s.vars = s.vars.With(changes)
}

// lost handles a backend connection that failed mid-statement.
func (s *Session) lost(c *backend.Conn, node *topology.Node, err error) *protocol.Error {
	c.MarkBroken()
	if s.distributed() && (s.pin.holds(c) || s.isPart(c)) {
		s.doom(protocol.NewError(protocol.ErrLostBackend, "HY000", "lost the connection to slice %s inside a transaction over several slices; it can only roll back", node.Slice.Name))
		s.txn.leaveConn(c)
	}
	wasTxn := false
	if s.pin.holds(c) {
		_, _, wasTxn = s.pin.unpin()
	}
	node.Pool(s.caps&protocol.ClientFoundRows != 0).Put(c)
	s.nsm.BackendError(node.Slice.Name, node.Addr)
	node.Suspect()
	msg := fmt.Sprintf("Lost connection to backend %s %s %s during query: %v", node.Slice.Name, node.Role(), node.Addr, errors.Unwrap(err))
	if wasTxn {
		msg += "; the transaction was rolled back"
	}
	if s.closing.Load() {
		return protocol.NewError(protocol.ErrQueryInterrupted, "70100", "Query execution was interrupted")
	}
	return protocol.NewError(protocol.ErrLostBackend, "HY000", "%s", msg)
}

// Close releases the session's backend state.
func (s *Session) Close() {
	s.leave()
	s.dropPinned()
	s.cl.Close()
}

// dropPinned gives the pinned connection back, reset if it carries state.
func (s *Session) dropPinned() {
	if s.distributed() {
		_ = s.finishTxn(false)
	}
	c, node, dirty := s.pin.unpin()
	if c == nil {
		return
	}
	if dirty {
		c.Dirty = true
	}
	s.putBack(c, node)
}

// resetSession implements COM_RESET_CONNECTION.
func (s *Session) resetSession() {
	s.dropPinned()
	s.vars = nil
	s.autocommit = true
	s.level, _ = parseLevel(s.user.ReadConsistency)
	s.shadowSet = shadowUser
	s.stmts = map[uint32]*stmt{}
	s.lastInsertID = 0
}

// Kill interrupts the session (KILL from another session): with query set,
// only the running statement.
func (s *Session) Kill(query bool) {
	if c := s.active.Load(); c != nil {
		s.killBackendQuery(c)
	}
	if many := s.activeMany.Load(); many != nil {
		// A query over several shards: stop every physical statement.
		for _, c := range *many {
			s.killBackendQuery(c)
		}
	}
	if !query {
		s.closing.Store(true)
		s.cl.Conn.Close()
	}
}

// killBackendQuery asks the backend to stop c's statement.
func (s *Session) killBackendQuery(c *backend.Conn) {
	for _, sl := range s.ns.Slices {
		for _, n := range sl.Nodes {
			if n.Addr != c.Addr {
				continue
			}
			k, err := n.Pool(false).Get(context.Background())
			if err != nil {
				return
			}
			_, _ = k.Exec(fmt.Sprintf("KILL QUERY %d", c.ServerID))
			n.Pool(false).Put(k)
			return
		}
	}
}
