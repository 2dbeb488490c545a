package session

import (
	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/topology"
	"github.com/switchyard-db/switchyard/internal/xa"
)

// txnState is a session's transaction in a sharded namespace, besides the
// pinned connection of its first slice: a BEGIN held until the first
// statement picks a slice, the slices that joined later, and the
// coordinator of a transaction over several slices.
type txnState struct {
	// pending is a BEGIN not sent yet ("" when none); pendingReadOnly: it
	// is START TRANSACTION READ ONLY.
	pending         string
	pendingReadOnly bool
	// implicit: pending was set because autocommit is off (the statement
	// running now opens the transaction); see txnControl.
	implicit bool
	// dtx coordinates a transaction over several slices (transactions:
	// xa); parts are the connections of the slices that joined after the
	// first; readOnly: it began READ ONLY; doomed: it lost a participant's
	// work and can only roll back.
	dtx      *xa.Txn
	parts    map[string]part
	readOnly bool
	doomed   error
}

// hold remembers BEGIN (or START TRANSACTION READ ONLY) until the first
// statement.
func (t *txnState) hold(readOnly bool) {
	t.pending, t.pendingReadOnly, t.implicit = "BEGIN", readOnly, false
	if readOnly {
		t.pending = "START TRANSACTION READ ONLY"
	}
}

// holdImplicit opens the implicit transaction of autocommit=0.
func (t *txnState) holdImplicit() { t.pending, t.pendingReadOnly, t.implicit = "BEGIN", false, true }

// held reports a BEGIN not sent yet.
func (t *txnState) held() bool { return t.pending != "" }

// dropHeld forgets a BEGIN that was never sent (COMMIT, ROLLBACK or an
// implicit commit before any statement).
func (t *txnState) dropHeld() { t.pending, t.pendingReadOnly, t.implicit = "", false, false }

// started records that the held BEGIN ran on a slice.
func (t *txnState) started() {
	t.readOnly = t.pendingReadOnly
	t.pending, t.pendingReadOnly = "", false
}

// distributed reports a transaction over several slices (or one tracking
// savepoints for that).
func (t *txnState) distributed() bool { return t.dtx != nil || len(t.parts) > 0 }

// ended clears what a finished transaction leaves.
func (t *txnState) ended() { t.parts, t.dtx, t.doomed, t.readOnly = nil, nil, nil, false }

// implicitDone forgets that the held BEGIN came from autocommit=0 (the
// statement that might have opened it is over).
func (t *txnState) implicitDone() { t.implicit = false }

// noteTxnFlag follows the server's in-transaction flag after a statement:
// outside a transaction over several slices, READ ONLY ends with the
// transaction.
func (t *txnState) noteTxnFlag(inTrans bool) {
	if !inTrans && !t.distributed() {
		t.readOnly = false
	}
}

// beginDtx starts coordinating the transaction for two-phase commit.
func (t *txnState) beginDtx(d *xa.Txn) { t.dtx = d }

// join adds slice's connection as a participant.
func (t *txnState) join(slice string, c *backend.Conn, node *topology.Node) {
	if t.parts == nil {
		t.parts = map[string]part{}
	}
	t.parts[slice] = part{c, node}
}

// part returns the participant of slice.
func (t *txnState) part(slice string) (part, bool) {
	p, ok := t.parts[slice]
	return p, ok
}

// isPart reports whether c is a participant's connection.
func (t *txnState) isPart(c *backend.Conn) bool {
	for _, p := range t.parts {
		if p.c == c {
			return true
		}
	}
	return false
}

// leave drops slice's participant (its connection was lost).
func (t *txnState) leave(slice string) { delete(t.parts, slice) }

// leaveConn drops the participant whose connection is c.
func (t *txnState) leaveConn(c *backend.Conn) {
	for name, p := range t.parts {
		if p.c == c {
			delete(t.parts, name)
		}
	}
}

// doom marks the transaction as unable to commit (the first cause is
// kept).
func (t *txnState) doom(err error) {
	if t.dtx != nil {
		t.dtx.SetRollbackOnly(err)
	}
	if t.doomed == nil {
		t.doomed = err
	}
}
