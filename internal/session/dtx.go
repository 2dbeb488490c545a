package session

import (
	"context"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/relay"
	"github.com/switchyard-db/switchyard/internal/router"
	"github.com/switchyard-db/switchyard/internal/topology"
	"github.com/switchyard-db/switchyard/internal/xa"
)

// part is a slice that joined a transaction after its first one.
type part struct {
	c    *backend.Conn
	node *topology.Node
}

// distributed reports whether the session's transaction spans slices (or
// tracks savepoints for doing so).
func (s *Session) distributed() bool { return s.txn.distributed() }

// isPart reports whether c is a joined slice's connection.
func (s *Session) isPart(c *backend.Conn) bool { return s.txn.isPart(c) }

// errSingleSlice refuses a transaction that would span slices.
func (s *Session) errSingleSlice(slice *topology.Slice) *protocol.Error {
	return protocol.NewError(protocol.ErrNotSupportedYet, "42000",
		"Switchyard does not support a transaction (or pinned session) that spans slices in this namespace (transactions: %s): it is on slice %s, this statement goes to slice %s",
		s.ns.Config.Transactions, s.pin.pinnedNode().Slice.Name, slice.Name)
}

// canSpan reports whether the session's transaction may take in another
// slice.
func (s *Session) canSpan() bool {
	return s.ns.Rules != nil && s.ns.Config.Transactions != config.TxnSingleSlice && s.inTxn() && !s.pin.hasReasons()
}

// doom marks the transaction as unable to commit.
func (s *Session) doom(err error) { s.txn.doom(err) }

// ensureDtx starts tracking the pinned transaction for two-phase commit.
func (s *Session) ensureDtx() error {
	if s.txn.dtx != nil || s.ns.Config.Transactions != config.TxnXA || s.txn.readOnly {
		return nil
	}
	co, err := s.env.coordinator(s.ns)
	if err != nil {
		return err
	}
	s.txn.beginDtx(co.Begin(s.pin.pinnedNode().Slice.Name, s.pin.conn()))
	return nil
}

// joinSlice returns the connection of slice inside the session's
// transaction, making the slice a participant: an XA branch (transactions:
// xa), or a plain transaction of its own (best_effort, READ ONLY).
func (s *Session) joinSlice(slice *topology.Slice) (*backend.Conn, *topology.Node, error) {
	if p, ok := s.txn.part(slice.Name); ok {
		return p.c, p.node, nil
	}
	if err := s.ensureDtx(); err != nil {
		return nil, nil, toProtoErr(err)
	}
	c, node, err := s.getPrimary(slice)
	if err != nil {
		return nil, nil, err
	}
	if s.txn.dtx != nil {
		if err := s.txn.dtx.Join(slice.Name, c); err != nil {
			s.putBack(c, node)
			return nil, nil, xa.ClientError(err)
		}
	} else {
		begin := "BEGIN"
		if s.txn.readOnly {
			begin = "START TRANSACTION READ ONLY"
		}
		if _, err := c.Exec(begin); err != nil {
			s.putBack(c, node)
			return nil, nil, toProtoErr(err)
		}
	}
	s.txn.join(slice.Name, c, node)
	return c, node, nil
}

// putBack returns a connection to its pool (the pool closes broken ones).
func (s *Session) putBack(c *backend.Conn, node *topology.Node) {
	node.Pool(s.caps&protocol.ClientFoundRows != 0).Put(c)
}

// finishTxn commits or rolls back the session's transaction on every
// participant and releases their connections. Without joined slices it is
// a plain COMMIT/ROLLBACK on the pinned connection.
func (s *Session) finishTxn(commit bool) error {
	ctx := context.Background()
	var err error
	if commit {
		// The commits' GTIDs are not seen here: reads that must see this
		// transaction's writes fetch the primaries' positions.
		if s.pin.active() {
			s.noteDirty(s.pin.pinnedNode().Slice)
		}
		for _, p := range s.txn.parts {
			s.noteDirty(p.node.Slice)
		}
	}
	switch {
	case commit && s.txn.doomed != nil && s.txn.dtx == nil:
		err = s.txn.doomed
		s.rollbackParts()
	case s.txn.dtx != nil:
		if commit {
			err = s.txn.dtx.Commit(ctx)
		} else {
			err = s.txn.dtx.Rollback(ctx)
		}
		if err != nil {
			err = xa.ClientError(err)
		}
	default:
		verb := "ROLLBACK"
		if commit {
			verb = "COMMIT"
		}
		if c := s.pin.conn(); c != nil {
			if _, e := c.Exec(verb); e != nil {
				err = toProtoErr(e)
				verb = "ROLLBACK" // best_effort: stop committing after a failure
			}
		}
		for _, name := range s.partOrder() {
			p := s.txn.parts[name]
			if _, e := p.c.Exec(verb); e != nil && err == nil {
				err = protocol.NewError(toProtoErr(e).Code, toProtoErr(e).State,
					"slice %s: %s (best_effort: the slices before it are committed)", name, toProtoErr(e).Message)
				verb = "ROLLBACK"
			}
		}
	}
	for _, p := range s.txn.parts {
		if p.c.Status&protocol.StatusInTrans != 0 {
			p.c.MarkBroken()
		}
		s.putBack(p.c, p.node)
	}
	s.txn.ended()
	if c := s.pin.conn(); c != nil {
		// The pinned connection goes back unless a reason keeps it; one
		// still in a transaction (the end failed) is not reused.
		stuck := c.Broken() || c.Status&protocol.StatusInTrans != 0
		if stuck || !s.pin.hasReasons() {
			if stuck {
				c.MarkBroken()
			}
			c, node, _ := s.pin.unpin()
			s.putBack(c, node)
		}
	}
	return err
}

func (s *Session) rollbackParts() {
	if c := s.pin.conn(); c != nil {
		_, _ = c.Exec("ROLLBACK")
	}
	for _, p := range s.txn.parts {
		_, _ = p.c.Exec("ROLLBACK")
	}
}

// partOrder lists the joined slices in a stable order.
func (s *Session) partOrder() []string {
	var names []string
	for name := range s.txn.parts {
		names = append(names, name)
	}
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && names[j] < names[j-1]; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	return names
}

// endTxn answers COMMIT or ROLLBACK of a transaction over several slices.
func (s *Session) endTxn(commit bool) (failed bool) {
	if err := s.finishTxn(commit); err != nil {
		s.writeErr(toProtoErr(err))
		return true
	}
	s.writeOK(0, 0)
	return false
}

// savepoint runs SAVEPOINT / ROLLBACK TO / RELEASE on every participant of
// a sharded transaction, so that later slices get the savepoint too.
func (s *Session) savepoint(a *router.Analysis) (failed bool) {
	if s.txn.held() {
		if _, _, err := s.beginPending(s.ns.Default); err != nil {
			s.writeErr(toProtoErr(err))
			return true
		}
	}
	if err := s.ensureDtx(); err != nil {
		s.writeErr(toProtoErr(err))
		return true
	}
	if s.txn.dtx == nil {
		s.writeErr(protocol.ErrUnsupported("savepoints in a transaction over several slices without two-phase commit (transactions: " + string(s.ns.Config.Transactions) + ")"))
		return true
	}
	var err error
	switch a.SavepointOp {
	case router.SavepointSet:
		err = s.txn.dtx.Savepoint(a.Savepoint)
	case router.SavepointRollbackTo:
		err = s.txn.dtx.RollbackTo(a.Savepoint)
	case router.SavepointRelease:
		err = s.txn.dtx.Release(a.Savepoint)
	}
	if err != nil {
		s.writeErr(xa.ClientError(err))
		return true
	}
	s.writeOK(0, 0)
	return false
}

// wantsDtxControl reports whether a statement must be handled by the
// distributed transaction logic instead of the pinned connection.
func (s *Session) wantsDtxControl(a *router.Analysis) bool {
	if s.ns.Rules == nil {
		return false
	}
	switch a.Kind {
	case router.KindCommit, router.KindRollback:
		return s.distributed()
	case router.KindSavepoint:
		return s.distributed() || (s.ns.Config.Transactions == config.TxnXA && (s.inTxn() || s.txn.held()) && !s.pin.hasReasons() && !s.txn.readOnly && !s.txn.pendingReadOnly)
	case router.KindXA:
		return s.distributed()
	case router.KindSet:
		return s.distributed() && a.Flags&router.FlagSessionVars != 0
	}
	return false
}

// dtxControl handles what wantsDtxControl selected.
func (s *Session) dtxControl(a *router.Analysis, sql string) (failed bool) {
	switch a.Kind {
	case router.KindCommit:
		return s.endTxn(true)
	case router.KindRollback:
		return s.endTxn(false)
	case router.KindSavepoint:
		return s.savepoint(a)
	case router.KindXA:
		s.writeErr(protocol.NewError(1399, "XAE07", "XAER_RMFAIL: client XA statements cannot run inside a transaction that Switchyard spreads over several slices"))
		return true
	case router.KindSet:
		if a.Flags&router.FlagAutocommit != 0 && a.Autocommit != router.AutocommitOff {
			// txnControl commits first when autocommit is turned on.
			s.writeErr(protocol.ErrUnsupported("changing autocommit inside a transaction over several slices; COMMIT or ROLLBACK first"))
			return true
		}
		// Session variables apply to every participant; the session
		// records what the server reported.
		applied := false
		for _, c := range append([]*backend.Conn{s.pin.conn()}, s.partConns()...) {
			if c == nil {
				continue
			}
			ok, err := c.Exec(sql)
			if err != nil {
				s.writeErr(toProtoErr(err))
				return true
			}
			if !applied {
				applied = true
				s.applyState(ok.SessionState)
			}
			c.Vars = s.vars
		}
		s.writeOK(0, 0)
		return false
	}
	return false
}

func (s *Session) partConns() []*backend.Conn {
	var out []*backend.Conn
	for _, name := range s.partOrder() {
		out = append(out, s.txn.parts[name].c)
	}
	return out
}

// stepConn returns the connection a write step runs on inside the
// session's transaction.
func (s *Session) stepConn(slice *topology.Slice) (*backend.Conn, *topology.Node, error) {
	if !s.pin.active() {
		if !s.txn.held() {
			s.txn.hold(false)
		}
		return s.beginPending(slice)
	}
	if s.pin.pinnedTo(slice) {
		return s.pin.conn(), s.pin.pinnedNode(), nil
	}
	if !s.canSpan() {
		return nil, nil, s.errSingleSlice(slice)
	}
	return s.joinSlice(slice)
}

// runWrite executes a write made of several physical statements (rows of
// one INSERT on several tables, an UPDATE/DELETE over several tables, a
// write to every copy of a global table): all apply or none. Outside a
// transaction it runs as its own transaction (two-phase commit when it
// spans slices); inside one, a savepoint makes it atomic.
func (s *Session) runWrite(a *router.Analysis, sp *router.Write) (failed bool) {
	sp, failed = s.evalGlobal(sp)
	if failed {
		return true
	}
	slices := map[string]bool{}
	for _, st := range sp.Steps {
		slices[st.Slice] = true
	}
	mode := s.ns.Config.Transactions
	inTxn := s.routerState().InTxn
	if len(slices) > 1 && mode == config.TxnSingleSlice {
		s.writeErr(protocol.ErrUnsupported("a write that reaches several slices in this namespace (transactions: single_slice_only)"))
		return true
	}
	if len(slices) > 1 && mode == config.TxnBestEffort && !inTxn {
		return s.writeBestEffort(sp)
	}
	// A one-statement write outside a transaction needs none.
	if len(sp.Steps) == 1 && !inTxn {
		slice := s.ns.Slices[sp.Steps[0].Slice]
		c, node, err := s.getPrimary(slice)
		if err != nil {
			s.writeErr(toProtoErr(err))
			return true
		}
		ok, err := s.execStep(c, 0, sp.Steps[0].SQL)
		if err != nil {
			if c.Broken() {
				s.writeErr(s.lost(c, node, &relay.BackendError{Err: err}))
				return true
			}
			s.release(c, node)
			s.writeErr(toProtoErr(err))
			return true
		}
		node.CountStatement()
		s.noteExec(slice, ok)
		s.release(c, node)
		return s.writeWriteOK(sp, ok.AffectedRows, ok.LastInsertID, string(ok.Info))
	}
	own := !inTxn
	if own {
		s.txn.hold(false)
	}
	guarded := false
	var affected, lastID uint64
	var info okInfo
	fail := func(err error) bool {
		pe := toProtoErr(err)
		if own {
			_ = s.finishTxn(false)
		} else if guarded && s.txn.dtx != nil {
			if e := s.txn.dtx.RollbackTo("sy_stmt"); e != nil {
				s.doom(e)
			}
		} else if !guarded {
			s.doom(pe)
		}
		s.writeErr(pe)
		return true
	}
	for i, st := range sp.Steps {
		slice := s.ns.Slices[st.Slice]
		c, node, err := s.stepConn(slice)
		if err != nil {
			return fail(err)
		}
		if i == 0 && !own && len(sp.Steps) > 1 && mode == config.TxnXA && !s.txn.readOnly {
			if err := s.ensureDtx(); err == nil && s.txn.dtx != nil {
				if err := s.txn.dtx.Savepoint("sy_stmt"); err == nil {
					guarded = true
				}
			}
		}
		ok, err := s.execStep(c, i, st.SQL)
		if err != nil {
			if c.Broken() {
				if s.pin.holds(c) {
					s.lost(c, node, &relay.BackendError{Err: err})
				} else {
					s.txn.leave(st.Slice)
					s.putBack(c, node)
				}
				s.doom(err)
			} else if pe := toProtoErr(err); pe.Code == 1213 {
				s.doom(pe)
			}
			return fail(err)
		}
		node.CountStatement()
		s.noteExec(slice, ok)
		if sp.Global {
			affected = ok.AffectedRows
			info = okInfo{}
		} else {
			affected += ok.AffectedRows
		}
		if len(sp.Steps) > 1 {
			info.addStep(st.SQL, ok.Info, ok.AffectedRows, ok.Warnings)
		}
		if lastID == 0 {
			lastID = ok.LastInsertID
		}
	}
	if guarded {
		_ = s.txn.dtx.Release("sy_stmt")
	}
	if own {
		if err := s.finishTxn(true); err != nil {
			s.writeErr(toProtoErr(err))
			return true
		}
	}
	return s.writeWriteOK(sp, affected, lastID, info.String())
}

// writeBestEffort applies each step in its own autocommit statement
// (transactions: best_effort): the first failure stops the rest and is
// reported with what was already applied.
func (s *Session) writeBestEffort(sp *router.Write) (failed bool) {
	var affected, lastID uint64
	var info okInfo
	for i, st := range sp.Steps {
		slice := s.ns.Slices[st.Slice]
		c, node, err := s.getPrimary(slice)
		if err == nil {
			var ok protocol.OK
			ok, err = s.execStep(c, i, st.SQL)
			if err != nil && c.Broken() {
				s.lost(c, node, &relay.BackendError{Err: err})
			} else {
				node.CountStatement()
				s.noteExec(slice, ok)
				s.release(c, node)
			}
			if err == nil {
				if len(sp.Steps) > 1 {
					info.addStep(st.SQL, ok.Info, ok.AffectedRows, ok.Warnings)
				}
				affected += ok.AffectedRows
				if lastID == 0 {
					lastID = ok.LastInsertID
				}
			}
		}
		if err != nil {
			pe := toProtoErr(err)
			s.writeErr(protocol.NewError(pe.Code, pe.State, "%s (best_effort: %d of %d physical statements were applied before this one failed)", pe.Message, i, len(sp.Steps)))
			return true
		}
	}
	return s.writeWriteOK(sp, affected, lastID, info.String())
}

// writeWriteOK answers a write with its affected rows, the ID the proxy
// generated (or the backend's) and the statement's info string.
func (s *Session) writeWriteOK(sp *router.Write, affected, lastID uint64, info string) bool {
	if sp.InsertID != 0 {
		lastID = sp.InsertID
	}
	if lastID != 0 {
		s.lastInsertID = lastID
	}
	if s.ret != nil {
		s.writeReturning(sp)
		return false
	}
	s.rowCount = int64(affected)
	ok := protocol.OK{AffectedRows: affected, LastInsertID: lastID, Status: s.status(), Info: []byte(info)}
	s.buf = protocol.AppendOK(s.buf[:0], protocol.OKHeader, &ok, s.caps)
	s.cl.WritePacket(s.buf)
	return false
}
