package session

import (
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/router"
)

// txnControl applies transaction control in a sharded namespace, the same
// way for COM_QUERY and COM_STMT_EXECUTE (both call it before routing):
//
//   - BEGIN / START TRANSACTION: commits an open transaction over several
//     slices first (MariaDB's implicit commit), then starts lazily on the
//     slice of the next statement;
//   - COMMIT / ROLLBACK / SAVEPOINT / XA inside a transaction over several
//     slices: every participant (two-phase commit with transactions: xa);
//   - SET autocommit = 1 (when it was 0) commits an open transaction
//     first, as MariaDB does;
//   - DDL (other than on temporary tables) commits an open transaction
//     first (implicit commit);
//   - with autocommit off, a statement outside a transaction starts one,
//     exactly as after BEGIN (an implicit transaction).
//
// done reports that the statement was answered here. Callers run
// endImplicit when the statement is finished.
func (s *Session) txnControl(a *router.Analysis, sql string) (done, failed bool) {
	if s.ns.Rules == nil || a.Err != nil {
		return false, false
	}
	if !s.autocommit && !s.txn.held() && !s.inTxn() && !s.distributed() && startsTxn(a) {
		// autocommit=0: this statement opens a transaction, as BEGIN would.
		s.txn.holdImplicit()
	}
	switch a.Kind {
	case router.KindBegin:
		if s.distributed() {
			if err := s.finishTxn(true); err != nil {
				s.writeErr(toProtoErr(err))
				return true, true
			}
		}
		if done, failed := s.lazyTxn(a); done {
			return done, failed
		}
	case router.KindCommit, router.KindRollback:
		if s.distributed() {
			return true, s.endTxn(a.Kind == router.KindCommit)
		}
		if done, failed := s.lazyTxn(a); done {
			return done, failed
		}
	case router.KindSavepoint, router.KindXA:
		if s.wantsDtxControl(a) {
			return true, s.dtxControl(a, sql)
		}
	case router.KindSet:
		if a.Flags&router.FlagAutocommit != 0 {
			switch a.Autocommit {
			case router.AutocommitOn:
				if s.autocommit {
					// Already on: nothing changes, no implicit commit.
					if s.distributed() {
						s.writeOK(0, 0)
						return true, false
					}
					break
				}
				// Turning autocommit on commits the open transaction.
				if s.distributed() {
					if err := s.finishTxn(true); err != nil {
						s.writeErr(toProtoErr(err))
						return true, true
					}
				}
				if !s.pin.active() {
					s.txn.dropHeld()
				}
			case router.AutocommitUnknown:
				if s.distributed() {
					s.writeErr(protocol.ErrUnsupported("SET autocommit to an expression inside a transaction over several slices; use 0 or 1"))
					return true, true
				}
			}
		}
		if s.wantsDtxControl(a) {
			return true, s.dtxControl(a, sql)
		}
	case router.KindDDL:
		if a.Flags&router.FlagTempTable == 0 {
			// DDL commits the open transaction before it runs.
			if s.distributed() || s.inTxn() {
				if err := s.finishTxn(true); err != nil {
					s.writeErr(toProtoErr(err))
					return true, true
				}
			}
			if !s.pin.active() {
				s.txn.dropHeld()
			}
		}
	}
	return false, false
}

// endImplicit forgets an implicit transaction that the statement did not
// start (it was answered without a backend).
func (s *Session) endImplicit() {
	if !s.txn.implicit {
		return
	}
	s.txn.implicitDone()
	if s.txn.held() && !s.pin.active() {
		s.txn.dropHeld()
	}
}

// startsTxn reports whether a statement opens a transaction when
// autocommit is off (statements that read or write tables).
func startsTxn(a *router.Analysis) bool {
	if a.Local != router.LocalNone || a.Flags&router.FlagMulti != 0 {
		return false
	}
	switch a.Kind {
	case router.KindSavepoint:
		return a.SavepointOp == router.SavepointSet
	case router.KindSelect, router.KindInsert, router.KindReplace, router.KindUpdate, router.KindDelete,
		router.KindCall, router.KindDo, router.KindLoadData, router.KindOther:
		return true
	}
	return false
}
