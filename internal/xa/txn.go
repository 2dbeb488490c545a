package xa

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// ErrInDoubt is matched (errors.Is) by the error of a Commit whose outcome is
// unknown: the local COMMIT carrying the decision was lost. Recover settles
// it from the decision table.
var ErrInDoubt = errors.New("xa: transaction outcome in doubt")

// ErrDone is returned by a Txn method called after Commit or Rollback.
var ErrDone = errors.New("xa: transaction already ended")

// BranchError is a failure on one participant. Err is the server's
// *protocol.Error (code and SQLSTATE preserved) when the server refused the
// statement, so errors.As(err, &pe) finds what to relay to the client.
type BranchError struct {
	Slice string // the participant
	Op    string // "XA START", "XA PREPARE", "COMMIT", "SAVEPOINT", ...
	Err   error
}

func (e *BranchError) Error() string {
	return fmt.Sprintf("xa: %s on slice %s: %v", e.Op, e.Slice, e.Err)
}
func (e *BranchError) Unwrap() error { return e.Err }

// InDoubtError is the error of a Commit whose outcome is unknown.
type InDoubtError struct {
	Gtrid string
	Err   error // what made it ambiguous
}

func (e *InDoubtError) Error() string {
	return fmt.Sprintf("xa: outcome of %s unknown until recovery (local commit: %v)", e.Gtrid, e.Err)
}
func (e *InDoubtError) Unwrap() error        { return e.Err }
func (e *InDoubtError) Is(target error) bool { return target == ErrInDoubt }

// ClientError returns the error to send to the client for an error returned
// by a Txn method: the server's own error when there is one (a BranchError's
// *protocol.Error, as is), 2013 for an outcome in doubt, else 1105.
func ClientError(err error) *protocol.Error {
	if err == nil {
		return nil
	}
	var id *InDoubtError
	if errors.As(err, &id) {
		return protocol.NewError(protocol.ErrLostBackend, "HY000",
			"Lost connection to a backend during COMMIT of distributed transaction %s: its outcome is unknown until recovery resolves it", id.Gtrid)
	}
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return pe
	}
	return protocol.NewError(protocol.ErrUnknown, "HY000", "%s", err.Error())
}

// errRolledBack is the error of a transaction whose decision went to
// rollback without a server error of its own to relay.
func errRolledBack(format string, args ...any) *protocol.Error {
	return protocol.NewError(codeXARBRollback, "XA100", "XA_RBROLLBACK: Transaction branch was rolled back: "+format, args...)
}

// Txn is one distributed transaction. It is used by one goroutine (the
// session's) at a time; it runs statements on its connections in parallel
// itself during Commit, Rollback and savepoint statements.
type Txn struct {
	c            *Coordinator
	local        string
	localConn    Conn
	gtrid        string
	branches     []*branch
	savepoints   []string
	rollbackOnly error
	done         bool
	unfinished   []string
}

type branch struct {
	slice string
	conn  Conn
	xid   xid
}

// Begin starts tracking a distributed transaction whose first slice is
// localSlice: local is that slice's primary connection, on which the session
// has already started a plain transaction (BEGIN, or autocommit=0). The
// local transaction also carries the commit decision, so it must be able
// to write (not START TRANSACTION READ ONLY).
func (c *Coordinator) Begin(localSlice string, local Conn) *Txn {
	return &Txn{c: c, local: localSlice, localConn: local}
}

// Local returns the first slice.
func (t *Txn) Local() string { return t.local }

// Gtrid returns the transaction's gtrid ("" while it has no XA branch).
func (t *Txn) Gtrid() string { return t.gtrid }

// Participants returns the slices taking part, the local slice first.
func (t *Txn) Participants() []string {
	out := []string{t.local}
	for _, b := range t.branches {
		out = append(out, b.slice)
	}
	return out
}

// Conn returns the connection of a participating slice (nil if the slice
// does not take part).
func (t *Txn) Conn(slice string) Conn {
	if slice == t.local {
		return t.localConn
	}
	for _, b := range t.branches {
		if b.slice == slice {
			return b.conn
		}
	}
	return nil
}

// Has reports whether a slice takes part.
func (t *Txn) Has(slice string) bool { return t.Conn(slice) != nil }

// Unfinished lists the branches a successful Commit left prepared (their XA
// COMMIT failed): committed by decision, made visible by Recover.
func (t *Txn) Unfinished() []string { return t.unfinished }

// SetRollbackOnly dooms the transaction: Commit will roll back and return
// err. The session calls it when a participant lost its transaction (a
// deadlock or a lock wait timeout with innodb_rollback_on_timeout rolled it
// back, a connection was lost): committing the others would not be atomic.
func (t *Txn) SetRollbackOnly(err error) {
	if t.rollbackOnly == nil {
		if err == nil {
			err = errRolledBack("the transaction was marked rollback-only")
		}
		t.rollbackOnly = err
	}
}

// RollbackOnly returns the error passed to SetRollbackOnly (or set by a
// failed savepoint statement), nil if the transaction can still commit.
func (t *Txn) RollbackOnly() error { return t.rollbackOnly }

// Join makes slice a participant as an XA branch: XA START on conn (a fresh
// primary connection, not in a transaction), followed by the transaction's
// current savepoints so that ROLLBACK TO works on every participant. One
// round trip.
func (t *Txn) Join(slice string, conn Conn) error {
	if t.done {
		return ErrDone
	}
	if t.Has(slice) {
		return fmt.Errorf("xa: slice %s already takes part in the transaction", slice)
	}
	if t.gtrid == "" {
		g, err := t.c.newGtrid(t.local)
		if err != nil {
			return err
		}
		t.gtrid = g
	}
	bq := escapePart(slice)
	if len(bq) > MaxXIDPart {
		return fmt.Errorf("xa: slice name %q is too long for an XA bqual", slice)
	}
	b := &branch{slice: slice, conn: conn, xid: xid{gtrid: t.gtrid, bqual: bq}}
	var q strings.Builder
	q.WriteString("XA START " + b.xid.sql())
	for _, sp := range t.savepoints {
		q.WriteString("; SAVEPOINT " + quoteIdent(sp))
	}
	if _, err := conn.Exec(q.String()); err != nil {
		if len(t.savepoints) > 0 || !isServerError(err) {
			// XA START may have worked before a SAVEPOINT failed: undo it.
			t.rollbackBranch(b)
		}
		return &BranchError{Slice: slice, Op: "XA START", Err: err}
	}
	t.branches = append(t.branches, b)
	return nil
}

// participants returns the connections of every participant, local first.
func (t *Txn) all() []Conn {
	out := []Conn{t.localConn}
	for _, b := range t.branches {
		out = append(out, b.conn)
	}
	return out
}

// onAll runs sql on every participant in parallel and returns the first
// failure (in participant order).
func (t *Txn) onAll(op, sql string) error {
	conns := t.all()
	errs := make([]error, len(conns))
	parallel(len(conns), func(i int) { _, errs[i] = conns[i].Exec(sql) })
	for i, err := range errs {
		if err != nil {
			return &BranchError{Slice: t.Participants()[i], Op: op, Err: err}
		}
	}
	return nil
}

func (t *Txn) findSavepoint(name string) int {
	for i := len(t.savepoints) - 1; i >= 0; i-- {
		if strings.EqualFold(t.savepoints[i], name) {
			return i
		}
	}
	return -1
}

// Savepoint sets a savepoint on every participant; branches joining later
// get it too. A failure dooms the transaction (the participants would no
// longer agree on their savepoints).
func (t *Txn) Savepoint(name string) error {
	if t.done {
		return ErrDone
	}
	if err := t.onAll("SAVEPOINT", "SAVEPOINT "+quoteIdent(name)); err != nil {
		t.SetRollbackOnly(err)
		return err
	}
	// Re-using a name moves the savepoint.
	if i := t.findSavepoint(name); i >= 0 {
		t.savepoints = append(t.savepoints[:i], t.savepoints[i+1:]...)
	}
	t.savepoints = append(t.savepoints, name)
	return nil
}

// RollbackTo rolls every participant back to a savepoint (which stays; later
// ones go). An unknown name is error 1305, as from the server.
func (t *Txn) RollbackTo(name string) error {
	if t.done {
		return ErrDone
	}
	i := t.findSavepoint(name)
	if i < 0 {
		return protocol.NewError(codeSPNotExist, "42000", "SAVEPOINT %s does not exist", name)
	}
	if err := t.onAll("ROLLBACK TO SAVEPOINT", "ROLLBACK TO SAVEPOINT "+quoteIdent(name)); err != nil {
		t.SetRollbackOnly(err)
		return err
	}
	t.savepoints = t.savepoints[:i+1]
	return nil
}

// Release releases a savepoint (and the later ones) on every participant.
func (t *Txn) Release(name string) error {
	if t.done {
		return ErrDone
	}
	i := t.findSavepoint(name)
	if i < 0 {
		return protocol.NewError(codeSPNotExist, "42000", "SAVEPOINT %s does not exist", name)
	}
	if err := t.onAll("RELEASE SAVEPOINT", "RELEASE SAVEPOINT "+quoteIdent(name)); err != nil {
		t.SetRollbackOnly(err)
		return err
	}
	t.savepoints = t.savepoints[:i]
	return nil
}

// Commit commits the transaction. Without XA branches it is a plain COMMIT
// on the local connection. Otherwise:
//
//   - nil: committed (branches whose XA COMMIT failed are listed by
//     Unfinished; their connections are marked broken and Recover commits
//     them);
//   - a *BranchError (wrapping the server's *protocol.Error when there is
//     one): a participant failed before the decision; everything was rolled
//     back;
//   - an error matching ErrInDoubt (*InDoubtError): the local COMMIT was
//     lost; every connection was marked broken and Recover settles the
//     outcome;
//   - a *protocol.Error 1402 (XA_RBROLLBACK): rolled back for another
//     reason (the local transaction was gone, recovery claimed the outcome,
//     the prepare phase was too slow).
//
// After Commit returns, every connection is out of the transaction (unless
// marked broken) and can go back to its pool.
func (t *Txn) Commit(ctx context.Context) error {
	if t.done {
		return ErrDone
	}
	t.done = true
	c := t.c
	if t.rollbackOnly != nil {
		t.abort()
		return t.rollbackOnly
	}
	if len(t.branches) == 0 {
		_, err := t.localConn.Exec("COMMIT")
		if err == nil {
			c.stats.localCommits.Add(1)
		}
		return err
	}
	if err := ctx.Err(); err != nil {
		t.abort()
		return err
	}

	// Phase 1: prepare every branch.
	start := c.opt.Now()
	errs := make([]error, len(t.branches))
	parallel(len(t.branches), func(i int) {
		b := t.branches[i]
		_, errs[i] = b.conn.Exec("XA END " + b.xid.sql() + "; XA PREPARE " + b.xid.sql())
	})
	for i, err := range errs {
		if err != nil {
			t.abort()
			return &BranchError{Slice: t.branches[i].slice, Op: "XA PREPARE", Err: err}
		}
	}
	if d := c.opt.Now().Sub(start); d > c.opt.MaxDecisionDelay {
		t.abort()
		return errRolledBack("the prepare phase took %v (more than %v)", d, c.opt.MaxDecisionDelay)
	}

	// The decision, inside the local transaction. The IF makes the INSERT
	// fail (1048) instead of autocommitting should the local transaction
	// be gone (rolled back by a deadlock, implicitly committed).
	// Finished decisions are deleted after the COMMIT, in their own
	// statement running alongside the XA COMMITs: deleting them inside the
	// transaction took gap locks that deadlocked concurrent decisions.
	done := c.takeCleanup(t.local)
	q := "INSERT INTO " + c.table + " (gtrid, decision) VALUES (" + quoteString(t.gtrid) +
		", IF(@@in_transaction = 1, 'commit', NULL)); COMMIT"
	_, err := t.localConn.Exec(q)
	if err != nil {
		committed, derr := t.settleLocal(err)
		if derr != nil {
			// Nobody knows: leave every branch prepared, detached, for Recover.
			c.requeueCleanup(t.local, done)
			for _, b := range t.branches {
				markBroken(b.conn)
			}
			markBroken(t.localConn)
			c.stats.inDoubt.Add(1)
			return &InDoubtError{Gtrid: t.gtrid, Err: err}
		}
		if !committed {
			c.requeueCleanup(t.local, done)
			t.abortBranches()
			c.stats.aborts.Add(1)
			switch {
			case serverError(err, codeDupKey):
				return errRolledBack("recovery rolled back %s while it was being prepared", t.gtrid)
			case serverError(err, codeBadNull):
				return errRolledBack("the transaction on slice %s was no longer open (rolled back by a deadlock or implicitly committed)", t.local)
			}
			return &BranchError{Slice: t.local, Op: "COMMIT", Err: err}
		}
		// The COMMIT went through after all (its reply was an error).
	}

	// Phase 2: commit every branch (and clean up finished decisions on the
	// local connection meanwhile).
	c.stats.xaCommits.Add(1)
	errs = make([]error, len(t.branches))
	var cleanErr error
	parallel(len(t.branches)+1, func(i int) {
		if i == len(t.branches) {
			if len(done) > 0 {
				_, cleanErr = t.localConn.Exec("DELETE FROM " + c.table + " WHERE gtrid IN (" + quoteList(done) + ")")
			}
			return
		}
		b := t.branches[i]
		_, errs[i] = b.conn.Exec("XA COMMIT " + b.xid.sql())
	})
	if cleanErr != nil {
		c.requeueCleanup(t.local, done)
	}
	for i, err := range errs {
		if err != nil {
			// Committed by decision; Recover will commit it once the
			// connection is closed (a prepared branch attached to a live
			// connection cannot be committed from another).
			markBroken(t.branches[i].conn)
			t.unfinished = append(t.unfinished, t.branches[i].slice)
		}
	}
	if len(t.unfinished) > 0 {
		c.stats.commitPhaseFailures.Add(1)
	} else {
		c.queueCleanup(t.local, t.gtrid)
	}
	return nil
}

// settleLocal finds out, after the decision statement failed, whether the
// local transaction committed the decision: it rolls back whatever is still
// open and reads the decision row. An error means nobody can tell now.
func (t *Txn) settleLocal(execErr error) (committed bool, err error) {
	if !isServerError(execErr) {
		return false, execErr
	}
	if _, err := t.localConn.Exec("ROLLBACK"); err != nil {
		return false, err
	}
	d, err := t.c.readDecision(t.localConn, t.gtrid)
	if err != nil {
		return false, err
	}
	return d == "commit", nil
}

// Rollback rolls the transaction back everywhere. It returns the local
// ROLLBACK's error, if any; branch failures only mark their connections
// broken (a closed connection rolls its branch back, or leaves it prepared
// for Recover, which rolls back what has no decision).
func (t *Txn) Rollback(ctx context.Context) error {
	if t.done {
		return ErrDone
	}
	t.done = true
	return t.abort()
}

func (t *Txn) abort() error {
	var localErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := t.localConn.Exec("ROLLBACK"); err != nil {
			markBroken(t.localConn)
			localErr = &BranchError{Slice: t.local, Op: "ROLLBACK", Err: err}
		}
	}()
	t.abortBranches()
	wg.Wait()
	t.c.stats.aborts.Add(1)
	return localErr
}

func (t *Txn) abortBranches() {
	parallel(len(t.branches), func(i int) { t.rollbackBranch(t.branches[i]) })
}

// rollbackBranch ends and rolls back a branch in whatever state it is:
// ACTIVE (END then ROLLBACK), IDLE, PREPARED or ROLLBACK ONLY (ROLLBACK).
// A branch that cannot be rolled back has its connection marked broken.
func (t *Txn) rollbackBranch(b *branch) {
	_, err := b.conn.Exec("XA END " + b.xid.sql() + "; XA ROLLBACK " + b.xid.sql())
	if err == nil {
		return
	}
	if isServerError(err) {
		_, err = b.conn.Exec("XA ROLLBACK " + b.xid.sql())
		if err == nil || serverError(err, codeXAERNota) {
			return
		}
	}
	markBroken(b.conn)
}
