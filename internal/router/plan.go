// Package router decides where a statement runs. It parses SQL once (with
// the TiDB MySQL parser), classifies it, and turns the classification plus
// the session's situation into a Plan. It does no I/O, so every routing
// decision is testable without sockets.
package router

import (
	"strings"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// Kind classifies a statement.
type Kind uint8

// Statement kinds.
const (
	KindOther Kind = iota
	KindSelect
	KindInsert
	KindReplace
	KindUpdate
	KindDelete
	KindSet
	KindUse
	KindBegin
	KindCommit
	KindRollback
	KindSavepoint
	KindDDL
	KindShow
	KindLockTables
	KindUnlockTables
	KindPrepare
	KindExecute
	KindDeallocate
	KindLoadData
	KindExplain
	KindKill
	KindCall
	KindDo
	KindXA
	KindEmpty
)

var kindNames = [...]string{"other", "select", "insert", "replace", "update", "delete", "set", "use", "begin", "commit", "rollback", "savepoint", "ddl", "show", "lock_tables", "unlock_tables", "prepare", "execute", "deallocate", "load_data", "explain", "kill", "call", "do", "xa", "empty"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Flag records facts about a statement that affect routing and pinning.
type Flag uint32

// Statement flags.
const (
	// FlagLockingRead: SELECT ... FOR UPDATE / LOCK IN SHARE MODE.
	FlagLockingRead Flag = 1 << iota
	// FlagUserVarWrite: assigns a user variable (SET @x, @x := , INTO @x).
	FlagUserVarWrite
	// FlagUserVarRead: reads a user variable.
	FlagUserVarRead
	// FlagLockFunc: calls GET_LOCK / RELEASE_LOCK / RELEASE_ALL_LOCKS.
	FlagLockFunc
	// FlagTempTable: creates or drops a temporary table.
	FlagTempTable
	// FlagLastInsertID: reads LAST_INSERT_ID(), FOUND_ROWS() or ROW_COUNT().
	FlagLastInsertID
	// FlagNextTxn: SET TRANSACTION without scope (applies to the next transaction).
	FlagNextTxn
	// FlagReadOnlyTxn: START TRANSACTION READ ONLY.
	FlagReadOnlyTxn
	// FlagWrites: the statement may modify data or schema.
	FlagWrites
	// FlagSessionVars: sets session (system) variables.
	FlagSessionVars
	// FlagMulti: several statements in one COM_QUERY.
	FlagMulti
	// FlagUnparsed: the parser did not understand the statement; it was
	// classified by its first keyword only.
	FlagUnparsed
	// FlagIntoFile: SELECT ... INTO OUTFILE/DUMPFILE.
	FlagIntoFile
	// FlagLocalInfile: LOAD DATA LOCAL INFILE.
	FlagLocalInfile
	// FlagSQLCalcFoundRows: SELECT SQL_CALC_FOUND_ROWS.
	FlagSQLCalcFoundRows
	// FlagNeedsPrimary: reads state only the primary has (named locks,
	// sequences) without making the session connection-bound.
	FlagNeedsPrimary
	// FlagAutocommit: SET assigns the session's autocommit
	// (Analysis.Autocommit says to what).
	FlagAutocommit
	// FlagSessionCounters: reads ROW_COUNT() or FOUND_ROWS(), whose values
	// only the connection that ran the session's previous statement has.
	FlagSessionCounters
)

// SavepointOp is what a savepoint statement does.
type SavepointOp uint8

// Savepoint statements.
const (
	SavepointSet        SavepointOp = iota // SAVEPOINT x
	SavepointRollbackTo                    // ROLLBACK TO [SAVEPOINT] x
	SavepointRelease                       // RELEASE SAVEPOINT x
)

// Hint is a routing hint found in a leading comment.
type Hint uint8

// Hints.
const (
	HintNone Hint = iota
	// HintPrimary: /*master*/, /*+ primary */ or /*+ master */.
	HintPrimary
	// HintReplica: /*+ replica */ or /*+ slave */.
	HintReplica
)

// Target says which backend node serves a statement.
type Target uint8

// Targets.
const (
	// TargetPrimary: the slice's primary (a pooled connection).
	TargetPrimary Target = iota
	// TargetReplica: a replica of the slice (a pooled connection).
	TargetReplica
	// TargetPinned: the session's pinned connection (transaction or other
	// connection-bound state).
	TargetPinned
	// TargetProxy: answered by the proxy itself.
	TargetProxy
	// TargetError: not executed; Plan.Err says why.
	TargetError
)

var targetNames = [...]string{"primary", "replica", "pinned", "proxy", "error"}

func (t Target) String() string {
	if int(t) < len(targetNames) {
		return targetNames[t]
	}
	return "unknown"
}

// Pin is a reason to keep a session on one backend connection.
type Pin uint16

// Pin reasons (besides an open transaction, which the server's status flags report).
const (
	PinLockTables Pin = 1 << iota
	PinLockFunc
	PinTempTable
	PinUserVar
	PinPrepare
	PinNextTxn
	PinReadOnlyTxn
	PinFoundRows
	PinXA
	PinHandler
	PinRole
)

// pinNames lists the pin reasons in bit order, for status output.
var pinNames = []string{"lock_tables", "get_lock", "temporary_table", "user_variable", "text_prepare", "set_transaction", "read_only_transaction", "sql_calc_found_rows", "xa", "handler", "role"}

func (p Pin) String() string {
	var parts []string
	for i, n := range pinNames {
		if p&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, ",")
}

// Analysis is what the router learns from a statement's text, independent
// of the session. It can be cached (prepared statements).
type Analysis struct {
	Kind  Kind
	Flags Flag
	Hint  Hint
	// DB is the database of USE.
	DB string
	// Local names a statement the proxy answers itself (see local.go).
	Local Local
	// Err, when set, is returned to the client instead of running anything.
	Err *protocol.Error
	// Label is the column label of a locally answered SELECT.
	Label string
	// Savepoint and SavepointOp describe a KindSavepoint statement.
	Savepoint   string
	SavepointOp SavepointOp
	// Value is the value of a locally handled SET.
	Value string
	// Autocommit is what a FlagAutocommit SET assigns: AutocommitOn,
	// AutocommitOff, or AutocommitUnknown (an expression).
	Autocommit AutocommitValue
	// NamesTables: the statement names a table (set by AnalyzeSharded,
	// where a statement on an unlisted table belongs to the default slice,
	// while one naming no table may run on any pinned slice).
	NamesTables bool
	// Pins are the reasons this statement makes the session connection-bound;
	// Unpins the reasons it clears.
	Pins, Unpins Pin
	// KillID and KillQuery describe KILL [QUERY|CONNECTION] id.
	KillID    uint64
	KillQuery bool
}

// AutocommitValue is the value a SET gives autocommit.
type AutocommitValue uint8

// Autocommit values.
const (
	AutocommitUnknown AutocommitValue = iota
	AutocommitOn
	AutocommitOff
)

// Consistency is the read consistency a replica read must give (Aurora's
// aurora_replica_read_consistency levels).
type Consistency uint8

// Read consistency levels.
const (
	// ConsistencyEventual: the replica answers as it is.
	ConsistencyEventual Consistency = iota
	// ConsistencySession: the replica has applied the session's writes.
	ConsistencySession
	// ConsistencyGlobal: the replica has applied every write committed
	// before the statement started.
	ConsistencyGlobal
)

var consistencyNames = [...]string{"eventual", "session", "global"}

func (c Consistency) String() string {
	if int(c) < len(consistencyNames) {
		return consistencyNames[c]
	}
	return "unknown"
}

// Session is the part of the session state routing depends on.
type Session struct {
	// Consistency is the session's read consistency level.
	Consistency Consistency
	// InTxn: the session's pinned connection has an open transaction.
	InTxn bool
	// Pinned: the session holds a pinned connection.
	Pinned bool
	// RWSplit: the user may read from replicas.
	RWSplit bool
}

// Plan is the routing decision for one statement.
type Plan struct {
	*Analysis
	Target Target
	// Pin is set when the statement makes the session pinned; Unpin when it
	// clears a pin reason.
	Pin, Unpin Pin
	// OnReplica: a new pinned connection is taken from a replica (START
	// TRANSACTION READ ONLY for a read/write-splitting user).
	OnReplica bool
	// Consistency is what a replica must have applied before it answers
	// (Target replica, or OnReplica); reads elsewhere need none.
	Consistency Consistency
	// Slice runs the statement ("" = the namespace's default slice).
	Slice string
	// Root is the plan tree of a statement on tables with sharding rules
	// (nil: the statement runs as it is on Slice). Target then says where
	// its physical statements read: the primary, a replica, or the
	// session's pinned connection.
	Root Node
	// Inner is the plan of the statement an Explain root names.
	Inner *Plan
}

// Decide turns an analysis into a plan for a session.
func Decide(a *Analysis, s Session) Plan {
	p := Plan{Analysis: a}
	if a.Err != nil {
		p.Target = TargetError
		return p
	}
	if a.Local != LocalNone {
		p.Target = TargetProxy
		if (a.Local == LocalRowCount || a.Local == LocalFoundRows) && (s.Pinned || s.InTxn) {
			// The pinned connection knows the exact value.
			p.Target = TargetPinned
		}
		return p
	}
	pin, unpin := derivePins(a)
	p.Pin = pin | a.Pins
	p.Unpin = (unpin | a.Unpins) &^ p.Pin
	switch {
	case s.Pinned || s.InTxn:
		p.Target = TargetPinned
	case p.Pin != 0 || a.Kind == KindBegin:
		// The statement starts connection-bound state: it runs on a
		// connection the session keeps.
		p.Target = TargetPinned
		p.OnReplica = a.Kind == KindBegin && a.Flags&FlagReadOnlyTxn != 0 && s.RWSplit && a.Hint != HintPrimary
	case a.Hint == HintPrimary:
		p.Target = TargetPrimary
	case a.Hint == HintReplica && readOnly(a):
		// The hint forces a replica for reads only: a write or a locking
		// read would fail there or lose its locks.
		p.Target = TargetReplica
	case s.RWSplit && readOnly(a):
		p.Target = TargetReplica
	default:
		p.Target = TargetPrimary
	}
	if p.Target == TargetReplica || p.OnReplica {
		p.Consistency = s.Consistency
	}
	if a.Flags&(FlagSessionCounters|FlagMulti) == FlagSessionCounters && p.Target != TargetPinned {
		// A pooled connection did not run the session's previous
		// statement: its ROW_COUNT() and FOUND_ROWS() are another's. The
		// proxy answers them alone (SELECT ROW_COUNT()).
		refused := *a
		refused.Err = protocol.ErrUnsupported("ROW_COUNT() or FOUND_ROWS() inside another statement outside a transaction (the proxy answers them alone: SELECT ROW_COUNT(), SELECT FOUND_ROWS())")
		p = Plan{Analysis: &refused, Target: TargetError}
	}
	return p
}

// DecideNode turns the analysis and plan tree of a statement on tables
// with rules into a plan for a session. A nil root is Decide.
func DecideNode(a *Analysis, root Node, s Session) Plan {
	p := Decide(a, s)
	if root == nil {
		return p
	}
	if p.Target == TargetError {
		// Refused in this session's state (see Decide).
		p.Root = &Refuse{Err: p.Err}
		return p
	}
	p.Root = root
	switch n := root.(type) {
	case *Refuse:
		p.Target = TargetError
		return p
	case *Explain:
		p.Target = TargetProxy
		inner := DecideNode(n.Analysis, n.Of, s)
		p.Inner = &inner
		return p
	case *Route:
		p.Slice = n.Step.Slice
	case *Prepared:
		p.Slice = n.Step.Slice
	}
	if p.Target == TargetProxy || p.Target == TargetError {
		// Answered by its physical statements, never by the proxy.
		p.Target = TargetPrimary
	}
	return p
}

// readOnly reports whether a statement may run on a replica.
func readOnly(a *Analysis) bool {
	if a.Flags&(FlagLockingRead|FlagUserVarWrite|FlagLockFunc|FlagWrites|FlagIntoFile|FlagLastInsertID|FlagSQLCalcFoundRows|FlagMulti|FlagUnparsed|FlagNeedsPrimary) != 0 {
		return false
	}
	return a.Kind == KindSelect
}

// derivePins computes the pin reasons of one statement from its kind and
// flags.
func derivePins(a *Analysis) (pin, unpin Pin) {
	if a.Flags&FlagUserVarWrite != 0 {
		pin |= PinUserVar
	}
	if a.Flags&FlagLockFunc != 0 {
		pin |= PinLockFunc
	}
	if a.Flags&FlagTempTable != 0 {
		pin |= PinTempTable
	}
	if a.Flags&FlagNextTxn != 0 {
		pin |= PinNextTxn
	}
	if a.Flags&FlagSQLCalcFoundRows != 0 {
		// FOUND_ROWS() must be asked on the same connection.
		pin |= PinFoundRows
	}
	switch a.Kind {
	case KindLockTables:
		pin |= PinLockTables
	case KindUnlockTables:
		unpin |= PinLockTables
	case KindPrepare:
		pin |= PinPrepare
	case KindBegin:
		if a.Flags&FlagReadOnlyTxn != 0 {
			pin |= PinReadOnlyTxn
		}
	}
	return pin, unpin
}
