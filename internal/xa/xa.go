// Package xa is Switchyard's two-phase-commit coordinator for transactions
// that write on more than one slice, over MariaDB/MySQL XA.
//
// # Protocol
//
// A distributed transaction (Txn) starts as a plain local transaction on the
// first slice it touches (the session sent BEGIN there), so a transaction
// that stays on one slice costs nothing extra: Commit is a plain COMMIT.
// Every other slice joins as an XA branch (XA START gtrid,bqual). At commit:
//
//  1. XA END + XA PREPARE on every branch, in parallel (one round trip);
//  2. if all prepared, the commit decision is INSERTed into the decision
//     table INSIDE the local transaction, which is then COMMITted (one round
//     trip): the decision is durable atomically with the first slice's data
//     (the "last resource" / logging-in-the-local-transaction optimization);
//  3. XA COMMIT on every branch, in parallel (one round trip);
//  4. the decision row is deleted later, batched into the next decision
//     write on the same slice (or by FlushCleanup / Recover).
//
// If anything fails before the decision, the local transaction is rolled
// back and every branch is XA ROLLBACKed. If the local COMMIT fails
// ambiguously (connection lost), the outcome is whatever the decision table
// says; Recover resolves it.
//
// # Recovery
//
// Gtrids are self-describing: sy1:<namespace>:<decision slice>:<proxy id>:<n>.
// Recover lists prepared branches (XA RECOVER) on every slice primary and,
// for each of ours, looks up the decision row on the decision slice: present
// (commit) → XA COMMIT; absent → it claims the outcome by INSERTing a
// 'rollback' row. The primary key on gtrid lets exactly one decision win: if
// the owner's local transaction already inserted its commit row and is still
// open, the claim blocks on the row lock until the owner commits (duplicate
// key → the branch is committed) or rolls back (the claim succeeds → XA
// ROLLBACK). Recover is therefore safe to run at any time, from any proxy.
//
// # Using it from the session
//
//	co, _ := xa.New(xa.Options{Namespace: ns, ProxyID: id, Slices: names})
//	co.Ensure(primaries)                  // once at startup: the decision table
//	go loop { co.Recover(ctx, primaries) } // at startup, then every few seconds
//
//	// first statement of a transaction, on slice A's primary connection:
//	conn.Exec("BEGIN"); tx := co.Begin("A", conn)
//	// first statement for another slice B, on a fresh primary connection:
//	if !tx.Has("B") { tx.Join("B", connB) } // then run the statement on connB
//	// SAVEPOINT / ROLLBACK TO / RELEASE: tx.Savepoint, tx.RollbackTo, tx.Release
//	// a participant deadlocked or lost its connection: tx.SetRollbackOnly(err)
//	// COMMIT: err := tx.Commit(ctx); ROLLBACK / client gone: tx.Rollback(ctx)
//	// reply ClientError(err) when err != nil; then put every connection
//	// (tx.Participants, tx.Conn) back into its pool: broken ones are closed.
//
// Pending lists prepared transactions and their fate for the admin API.
package xa

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// Conn is one backend connection, as *backend.Conn implements it. Exec runs
// a statement (or several, separated by ';': backend connections negotiate
// CLIENT_MULTI_STATEMENTS) and returns the last OK; a statement the server
// refused is a *protocol.Error and stops the rest. QueryRows runs one query.
//
// A Conn that also has MarkBroken() (as *backend.Conn does) is marked broken
// when it must not be reused: it holds a prepared XA branch whose fate is
// not settled, or its state is unknown. The pool then closes it, which
// detaches the prepared branch so that Recover can resolve it.
type Conn interface {
	Exec(sql string) (protocol.OK, error)
	QueryRows(sql string) (cols []string, rows [][]string, err error)
}

type breakable interface{ MarkBroken() }

func markBroken(c Conn) {
	if b, ok := c.(breakable); ok {
		b.MarkBroken()
	}
}

// FormatID is the XA formatID of every Switchyard xid ("SYX1"); XA RECOVER
// entries with another formatID are never touched.
const FormatID = 0x53595831

// GtridPrefix starts every Switchyard gtrid (the version of the format).
const GtridPrefix = "sy1"

// MaxXIDPart is the longest gtrid or bqual XA accepts.
const MaxXIDPart = 64

// DefaultDB is the database of the decision table.
const DefaultDB = "switchyard"

// DecisionTable is the decision table's name inside its database.
const DecisionTable = "xa_decisions"

// Error codes of the XA and InnoDB errors the coordinator reacts to.
const (
	codeDupKey       = 1062 // ER_DUP_ENTRY
	codeBadNull      = 1048 // ER_BAD_NULL_ERROR: the in-transaction guard fired
	codeLockWait     = 1205 // ER_LOCK_WAIT_TIMEOUT
	codeDeadlock     = 1213 // ER_LOCK_DEADLOCK
	codeSPNotExist   = 1305 // ER_SP_DOES_NOT_EXIST (savepoint)
	codeXAERNota     = 1397 // XAER_NOTA: unknown xid, or attached to another live connection
	codeXAERRmfail   = 1399 // XAER_RMFAIL: wrong XA state
	codeXAERDupid    = 1440 // XAER_DUPID
	codeXARBRollback = 1402 // ER_XA_RBROLLBACK, SQLSTATE XA100
)

// Options configure a Coordinator.
type Options struct {
	// Namespace names the namespace the coordinator serves; it is part of
	// every gtrid, and Recover only touches its own namespace's branches.
	Namespace string
	// ProxyID identifies this proxy in gtrids (for operators). Default: a
	// random 6-character id. Uniqueness does not depend on it: the counter
	// after it is time-based and strictly increasing within the process.
	ProxyID string
	// DB is the database of the decision table (default "switchyard").
	DB string
	// Slices names every slice of the namespace. Recover deletes a finished
	// decision row only after checking that no slice still has a prepared
	// branch of it, so it needs them all: without Slices, it trusts that
	// the connections it is given cover every slice.
	Slices []string

	// Grace is how long a prepared branch must have been seen by this
	// coordinator before Recover resolves it (default 2s). A branch of a
	// live transaction is prepared only between its PREPARE and COMMIT, and
	// the claim protocol keeps even those safe; the grace only avoids
	// rolling back transactions that are about to write their decision.
	// Recover waits (at most Grace) for branches it sees for the first time.
	Grace time.Duration
	// ClaimLockWait bounds how long a recovery claim waits for the row lock
	// of an owner's open decision (innodb_lock_wait_timeout, whole seconds,
	// at least 1; default 1s). A claim that times out is retried next pass.
	ClaimLockWait time.Duration
	// MaxDecisionDelay: an owner whose prepare phase took longer than this
	// rolls back instead of writing a commit decision (default 30s). It
	// keeps commit decisions from arriving after RollbackRetention has
	// removed a recovery's rollback claim.
	MaxDecisionDelay time.Duration
	// RollbackRetention is how long Recover keeps 'rollback' decision rows
	// (default 1h); commit rows are deleted as soon as no branch of their
	// transaction is prepared any more (and they are older than Grace).
	RollbackRetention time.Duration
	// MaxCleanupBatch caps the finished decisions deleted by one commit
	// (default 64).
	MaxCleanupBatch int

	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
}

// Coordinator runs the distributed transactions of one namespace and
// recovers them. It is safe for concurrent use.
type Coordinator struct {
	opt       Options
	nsPrefix  string // "sy1:<ns>:"
	proxyEsc  string
	table     string // `db`.`xa_decisions`
	lockWaitS int

	cleanMu sync.Mutex
	cleanup map[string][]string // decision slice -> finished gtrids whose row can go

	recMu sync.Mutex           // one Recover/Pending pass at a time
	seen  map[string]time.Time // branch key -> first seen prepared

	stats struct {
		localCommits, xaCommits, aborts, inDoubt, commitPhaseFailures atomic.Int64
		recovered, recoveredRollback, claims                          atomic.Int64
	}
}

// Stats are counters since the coordinator was created.
type Stats struct {
	LocalCommits        int64 // commits of transactions that stayed on one slice
	XACommits           int64 // two-phase commits
	Aborts              int64 // transactions rolled back (by the client or after a failure)
	InDoubt             int64 // commits whose outcome was left to recovery
	CommitPhaseFailures int64 // committed transactions with a branch left prepared for recovery
	RecoveredCommit     int64 // branches committed by Recover
	RecoveredRollback   int64 // branches rolled back by Recover
	Claims              int64 // rollback decisions written by Recover
}

// New returns a coordinator.
func New(o Options) (*Coordinator, error) {
	if o.Namespace == "" {
		return nil, errors.New("xa: Options.Namespace is required")
	}
	if o.ProxyID == "" {
		const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
		b := make([]byte, 6)
		for i := range b {
			b[i] = alphabet[rand.IntN(len(alphabet))]
		}
		o.ProxyID = string(b)
	}
	if o.DB == "" {
		o.DB = DefaultDB
	}
	if len(o.DB) > 64 || strings.ContainsAny(o.DB, "\x00`") {
		return nil, fmt.Errorf("xa: bad decision database name %q", o.DB)
	}
	if o.Grace <= 0 {
		o.Grace = 2 * time.Second
	}
	if o.ClaimLockWait <= 0 {
		o.ClaimLockWait = time.Second
	}
	if o.MaxDecisionDelay <= 0 {
		o.MaxDecisionDelay = 30 * time.Second
	}
	if o.RollbackRetention <= 0 {
		o.RollbackRetention = time.Hour
	}
	if o.RollbackRetention < 2*o.MaxDecisionDelay+o.Grace {
		return nil, fmt.Errorf("xa: RollbackRetention (%v) must exceed 2×MaxDecisionDelay+Grace (%v)",
			o.RollbackRetention, 2*o.MaxDecisionDelay+o.Grace)
	}
	if o.MaxCleanupBatch <= 0 {
		o.MaxCleanupBatch = 64
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Coordinator{
		opt:      o,
		nsPrefix: GtridPrefix + ":" + escapePart(o.Namespace) + ":",
		proxyEsc: escapePart(o.ProxyID),
		table:    quoteIdent(o.DB) + "." + quoteIdent(DecisionTable),
		cleanup:  map[string][]string{},
		seen:     map[string]time.Time{},
	}
	c.lockWaitS = int((o.ClaimLockWait + time.Second - 1) / time.Second)
	// The longest gtrid: prefix, the slice, the proxy id, a 13-digit counter
	// and separators. Slice names are checked when a branch joins.
	if n := len(c.nsPrefix) + len(c.proxyEsc) + 2 + 13; n > MaxXIDPart-1 {
		return nil, fmt.Errorf("xa: namespace %q and proxy id %q are too long for a %d-byte gtrid", o.Namespace, o.ProxyID, MaxXIDPart)
	}
	return c, nil
}

// Namespace returns the coordinator's namespace.
func (c *Coordinator) Namespace() string { return c.opt.Namespace }

// ProxyID returns the proxy id used in this coordinator's gtrids.
func (c *Coordinator) ProxyID() string { return c.opt.ProxyID }

// Stats returns the coordinator's counters.
func (c *Coordinator) Stats() Stats {
	s := &c.stats
	return Stats{
		LocalCommits: s.localCommits.Load(), XACommits: s.xaCommits.Load(), Aborts: s.aborts.Load(),
		InDoubt: s.inDoubt.Load(), CommitPhaseFailures: s.commitPhaseFailures.Load(),
		RecoveredCommit: s.recovered.Load(), RecoveredRollback: s.recoveredRollback.Load(), Claims: s.claims.Load(),
	}
}

// ---------------------------------------------------------------- xids

// lastSeq is the last gtrid counter handed out in this process. Counters
// start from the clock (nanoseconds) so that a restarted proxy does not
// reuse the gtrids of its previous life, and strictly increase.
var lastSeq atomic.Uint64

func nextSeq() uint64 {
	for {
		last := lastSeq.Load()
		n := uint64(time.Now().UnixNano())
		if n <= last {
			n = last + 1
		}
		if lastSeq.CompareAndSwap(last, n) {
			return n
		}
	}
}

// newGtrid returns a fresh gtrid whose decision is kept on decisionSlice.
func (c *Coordinator) newGtrid(decisionSlice string) (string, error) {
	g := c.nsPrefix + escapePart(decisionSlice) + ":" + c.proxyEsc + ":" + strconv.FormatUint(nextSeq(), 36)
	if len(g) > MaxXIDPart {
		return "", fmt.Errorf("xa: slice name %q is too long for a %d-byte gtrid (%q)", decisionSlice, MaxXIDPart, g)
	}
	return g, nil
}

// Gtrid is a parsed Switchyard gtrid.
type Gtrid struct {
	Namespace     string
	DecisionSlice string
	ProxyID       string
	Seq           uint64
}

// ParseGtrid parses a Switchyard gtrid.
func ParseGtrid(g string) (Gtrid, error) {
	parts := strings.Split(g, ":")
	if len(parts) != 5 || parts[0] != GtridPrefix {
		return Gtrid{}, fmt.Errorf("xa: %q is not a %s gtrid", g, GtridPrefix)
	}
	var out Gtrid
	var err error
	for i, dst := range []*string{&out.Namespace, &out.DecisionSlice, &out.ProxyID} {
		if *dst, err = unescapePart(parts[i+1]); err != nil || *dst == "" {
			return Gtrid{}, fmt.Errorf("xa: bad gtrid %q", g)
		}
	}
	if out.Seq, err = strconv.ParseUint(parts[4], 36, 64); err != nil {
		return Gtrid{}, fmt.Errorf("xa: bad gtrid %q", g)
	}
	return out, nil
}

// escapePart keeps [A-Za-z0-9_.-] and writes every other byte as %XX, so
// gtrid parts never contain ':' or anything that needs quoting in SQL.
func escapePart(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if safeByte(ch) {
			b.WriteByte(ch)
		} else {
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	return b.String()
}

func safeByte(ch byte) bool {
	return ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '.' || ch == '-'
}

func unescapePart(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '%':
			if i+2 >= len(s) {
				return "", errors.New("truncated escape")
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", err
			}
			b.WriteByte(byte(v))
			i += 2
		case safeByte(ch):
			b.WriteByte(ch)
		default:
			return "", fmt.Errorf("bad byte %q", ch)
		}
	}
	return b.String(), nil
}

// xid is one XA branch id.
type xid struct {
	gtrid, bqual string
}

// sql returns the xid as XA statements take it. Both parts only hold
// characters escapePart lets through, so plain quoting is exact.
func (x xid) sql() string {
	return "'" + x.gtrid + "','" + x.bqual + "'," + strconv.Itoa(FormatID)
}

func (x xid) String() string { return x.gtrid + "," + x.bqual }

// ---------------------------------------------------------------- SQL helpers

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// quoteString quotes a string literal for any sql_mode (NO_BACKSLASH_ESCAPES
// or not): gtrids only hold escapePart's characters and ':'.
func quoteString(s string) string {
	for i := 0; i < len(s); i++ {
		if !safeByte(s[i]) && s[i] != ':' && s[i] != '%' {
			panic("xa: unexpected byte in literal " + strconv.Quote(s))
		}
	}
	return "'" + s + "'"
}

func quoteList(gs []string) string {
	var b strings.Builder
	for i, g := range gs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(quoteString(g))
	}
	return b.String()
}

func serverError(err error, code uint16) bool {
	var pe *protocol.Error
	return errors.As(err, &pe) && pe.Code == code
}

func isServerError(err error) bool {
	var pe *protocol.Error
	return errors.As(err, &pe)
}

// EnsureTable creates the decision database and table on one slice primary
// if they do not exist. Every slice needs it: any slice can decide.
func EnsureTable(conn Conn, db string) error {
	if db == "" {
		db = DefaultDB
	}
	stmts := []string{
		"CREATE DATABASE IF NOT EXISTS " + quoteIdent(db),
		"CREATE TABLE IF NOT EXISTS " + quoteIdent(db) + "." + quoteIdent(DecisionTable) + ` (
  gtrid VARBINARY(64) NOT NULL PRIMARY KEY,
  decision ENUM('commit','rollback') NOT NULL,
  created TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB`,
	}
	for _, s := range stmts {
		if _, err := conn.Exec(s); err != nil {
			return fmt.Errorf("xa: %s: %w", strings.SplitN(s, "(", 2)[0], err)
		}
	}
	return nil
}

// Ensure runs EnsureTable on every slice primary (slice name → connection).
func (c *Coordinator) Ensure(conns map[string]Conn) error {
	var errs []error
	for slice, conn := range conns {
		if err := EnsureTable(conn, c.opt.DB); err != nil {
			errs = append(errs, fmt.Errorf("slice %s: %w", slice, err))
		}
	}
	return errors.Join(errs...)
}

// queueCleanup remembers a finished transaction whose decision row can go.
func (c *Coordinator) queueCleanup(slice, gtrid string) {
	c.cleanMu.Lock()
	defer c.cleanMu.Unlock()
	q := c.cleanup[slice]
	if len(q) >= 100*c.opt.MaxCleanupBatch {
		return // nobody flushes: Recover's garbage collection will
	}
	c.cleanup[slice] = append(q, gtrid)
}

// takeCleanup takes up to MaxCleanupBatch finished gtrids of a slice.
func (c *Coordinator) takeCleanup(slice string) []string {
	c.cleanMu.Lock()
	defer c.cleanMu.Unlock()
	q := c.cleanup[slice]
	n := min(len(q), c.opt.MaxCleanupBatch)
	if n == 0 {
		return nil
	}
	out := append([]string(nil), q[len(q)-n:]...)
	c.cleanup[slice] = q[:len(q)-n]
	return out
}

func (c *Coordinator) requeueCleanup(slice string, gs []string) {
	if len(gs) == 0 {
		return
	}
	c.cleanMu.Lock()
	defer c.cleanMu.Unlock()
	c.cleanup[slice] = append(c.cleanup[slice], gs...)
}

// FlushCleanup deletes the decision rows of finished transactions decided on
// slice, which commits otherwise batch into their own decision write. conn
// is a primary connection of slice in autocommit mode. It returns how many
// rows it deleted.
func (c *Coordinator) FlushCleanup(slice string, conn Conn) (int, error) {
	total := 0
	for {
		gs := c.takeCleanup(slice)
		if len(gs) == 0 {
			return total, nil
		}
		ok, err := conn.Exec("DELETE FROM " + c.table + " WHERE gtrid IN (" + quoteList(gs) + ")")
		if err != nil {
			c.requeueCleanup(slice, gs)
			return total, err
		}
		total += int(ok.AffectedRows)
	}
}

// readDecision returns a gtrid's decision ("commit", "rollback" or "" when
// there is no row).
func (c *Coordinator) readDecision(conn Conn, gtrid string) (string, error) {
	_, rows, err := conn.QueryRows("SELECT decision FROM " + c.table + " WHERE gtrid = " + quoteString(gtrid))
	if err != nil {
		return "", err
	}
	if len(rows) == 0 || len(rows[0]) == 0 {
		return "", nil
	}
	return rows[0][0], nil
}

// parallel runs f(0..n-1) concurrently (inline when n == 1).
func parallel(n int, f func(i int)) {
	if n == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i)
		}()
	}
	wg.Wait()
}
