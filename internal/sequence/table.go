package sequence

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultTable is the table holding the sequences when TableConfig.Table is
// empty.
const DefaultTable = "switchyard.sequences"

// DefaultBlock is the block size when TableConfig.Block is 0.
const DefaultBlock = 1000

// TableConfig configures a Table generator.
type TableConfig struct {
	// Name is the sequence: the key of its row, at most 128 characters,
	// compared exactly (case-sensitive). Every proxy of a namespace must use
	// the same name for one logical table, e.g. "shop.t_user".
	Name string
	// Table is "database.table" of the backing table (DefaultTable if
	// empty). Its definition is in EnsureSQL.
	Table string
	// Block is how many IDs one round trip reserves (DefaultBlock if 0).
	// Larger blocks mean fewer round trips and more IDs lost when a proxy
	// stops (the rest of its block is never handed out: IDs are not reused).
	Block uint64
	// Start is the first ID of a sequence whose row does not exist yet (1 if
	// 0). It has no effect on an existing row; see Advance.
	Start uint64
	// Refill, in (0, 1], starts fetching the next block in the background
	// once this fraction of a block has been handed out (0.8: when fewer than
	// 20% of a block's IDs are left), so that callers rarely wait for a round
	// trip. 0 fetches only when the IDs run out.
	Refill float64
	// Timeout bounds one allocation round trip (10s if 0). Allocations run
	// on their own, so one caller giving up does not fail the others waiting
	// for the same block.
	Timeout time.Duration
}

// Table is a Generator backed by a row (name, next_id) of a table on one
// slice. Its zero value is not usable; create it with NewTable. It is safe
// for concurrent use.
//
// Allocation: UPDATE t SET next_id = LAST_INSERT_ID(next_id + k) WHERE name =
// 'name' reserves [new-k, new) in one round trip without a transaction (the
// row lock serializes proxies; the OK packet carries the new next_id). The
// statement sets LAST_INSERT_ID() of the session it runs on, so it must not
// run on a connection a client session relies on (ForConn and ForPool record
// the value in backend.Conn.LastInsertID, which sessions resynchronize from).
// A missing row or table is created (Ensure) and the update retried once.
type Table struct {
	cfg      TableConfig
	exec     Execer
	table    string // `db`.`table`
	db       string // `db`
	name     string // quoted name literal
	allocSQL string // for one block
	lowWater uint64 // prefetch when at most this many IDs are left (if refill)

	mu       sync.Mutex
	spans    []span    // available IDs, ascending, disjoint
	avail    uint64    // IDs in spans
	maxHi    uint64    // end of the highest block received
	floor    uint64    // IDs below are never handed out (0; Advance)
	waiters  []*waiter // FIFO of callers waiting for IDs
	inflight bool      // an allocation is running
	bgRetry  time.Time // no background prefetch before this (after a failure)
}

type span struct{ lo, hi uint64 } // [lo, hi)

type waiter struct {
	ids  []uint64
	done chan struct{} // closed when served or failed
	err  error
}

// NewTable returns a Table generator. It does not contact the server: the
// first Next does (and creates what is missing), or call Ensure first.
func NewTable(cfg TableConfig, exec Execer) (*Table, error) {
	if exec == nil {
		return nil, errors.New("sequence: nil Execer")
	}
	if err := checkName(cfg.Name); err != nil {
		return nil, err
	}
	if cfg.Table == "" {
		cfg.Table = DefaultTable
	}
	qt, qdb, err := parseTable(cfg.Table)
	if err != nil {
		return nil, err
	}
	if cfg.Block == 0 {
		cfg.Block = DefaultBlock
	}
	if cfg.Block > 1<<62 {
		return nil, fmt.Errorf("sequence: block %d is too large", cfg.Block)
	}
	if cfg.Start == 0 {
		cfg.Start = 1
	}
	if !(cfg.Refill >= 0 && cfg.Refill <= 1) {
		return nil, fmt.Errorf("sequence: refill %v is not in [0, 1]", cfg.Refill)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	t := &Table{cfg: cfg, exec: exec, table: qt, db: qdb, name: quoteString(cfg.Name), floor: 1}
	t.allocSQL = t.updateSQL(cfg.Block)
	if cfg.Refill > 0 {
		t.lowWater = uint64(float64(cfg.Block) * (1 - cfg.Refill))
	}
	return t, nil
}

// Config returns the configuration with defaults applied.
func (t *Table) Config() TableConfig { return t.cfg }

func (t *Table) updateSQL(k uint64) string {
	return "UPDATE " + t.table + " SET next_id = LAST_INSERT_ID(next_id + " +
		strconv.FormatUint(k, 10) + ") WHERE name = " + t.name
}

// EnsureSQL returns the statements that create the database, the table and
// the sequence's row (at Start) when missing. Each is idempotent and safe
// when several proxies run them at once; an existing row is left alone.
func (t *Table) EnsureSQL() []string {
	return []string{
		"CREATE DATABASE IF NOT EXISTS " + t.db,
		"CREATE TABLE IF NOT EXISTS " + t.table + " (" +
			"name VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY, " +
			"next_id BIGINT UNSIGNED NOT NULL) ENGINE=InnoDB",
		t.seedSQL(t.cfg.Start),
	}
}

// seedSQL creates the row at v, or raises an existing one to at least v.
func (t *Table) seedSQL(v uint64) string {
	s := strconv.FormatUint(v, 10)
	return "INSERT INTO " + t.table + " (name, next_id) VALUES (" + t.name + ", " + s +
		") ON DUPLICATE KEY UPDATE next_id = GREATEST(next_id, " + s + ")"
}

// Ensure runs EnsureSQL.
func (t *Table) Ensure(ctx context.Context) error {
	for _, q := range t.EnsureSQL() {
		if _, err := t.exec(ctx, q); err != nil {
			return fmt.Errorf("sequence %q: %s: %w", t.cfg.Name, q, err)
		}
	}
	return nil
}

// Advance makes every ID handed out from now on, by this generator and by
// every other one sharing the row, at least next: for a table that already
// has rows (migrations), or after IDs were inserted by hand. It creates the
// row if missing and never lowers it. IDs this generator holds below next
// are dropped.
func (t *Table) Advance(ctx context.Context, next uint64) error {
	if next < t.cfg.Start {
		next = t.cfg.Start
	}
	q := t.seedSQL(next)
	_, err := t.exec(ctx, q)
	if isCode(err, errBadDB, errNoSuchTable) {
		if err = t.Ensure(ctx); err == nil {
			_, err = t.exec(ctx, q)
		}
	}
	if err != nil {
		return fmt.Errorf("sequence %q: advance to %d: %w", t.cfg.Name, next, err)
	}
	t.mu.Lock()
	if next > t.floor {
		t.floor = next // also for an allocation in flight
	}
	for len(t.spans) > 0 && t.spans[0].lo < next {
		s := &t.spans[0]
		if s.hi <= next {
			t.avail -= s.hi - s.lo
			t.spans = t.spans[1:]
			continue
		}
		t.avail -= next - s.lo
		s.lo = next
	}
	t.mu.Unlock()
	return nil
}

// MaxIDSQL returns a query for the largest value of column in table
// ("database.table"), to pass to AdvancePast for each physical table.
func MaxIDSQL(table, column string) (string, error) {
	qt, _, err := parseTable(table)
	if err != nil {
		return "", err
	}
	if err := checkIdent("column", column); err != nil {
		return "", err
	}
	return "SELECT MAX(" + quoteIdent(column) + ") FROM " + qt, nil
}

// AdvancePast runs each query (e.g. MaxIDSQL of every physical table, each
// on its own slice: q may route by statement), takes the largest result and
// advances the sequence past it (Advance(max+1)). NULL and negative results
// count as 0. It returns the largest value found.
func (t *Table) AdvancePast(ctx context.Context, q Querier, queries ...string) (uint64, error) {
	var top uint64
	for _, s := range queries {
		v, err := q(ctx, s)
		if err != nil {
			return 0, fmt.Errorf("sequence %q: %s: %w", t.cfg.Name, s, err)
		}
		v = strings.TrimSpace(v)
		if v == "" || strings.HasPrefix(v, "-") {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("sequence %q: %s returned %q, not an unsigned integer", t.cfg.Name, s, v)
		}
		if n > top {
			top = n
		}
	}
	if top == ^uint64(0) {
		return top, fmt.Errorf("sequence %q: the largest ID is already %d", t.cfg.Name, top)
	}
	return top, t.Advance(ctx, top+1)
}

// Next implements Generator. It returns at once when the generator holds
// enough IDs; otherwise it waits for the allocation in flight and, if that
// is not enough, for one more sized for it. Callers are served in arrival
// order.
func (t *Table) Next(ctx context.Context, ids []uint64) error {
	if len(ids) == 0 {
		return nil
	}
	t.mu.Lock()
	if len(t.waiters) == 0 && t.avail >= uint64(len(ids)) {
		t.take(ids)
		t.prefetchLocked()
		t.mu.Unlock()
		return nil
	}
	w := &waiter{ids: ids, done: make(chan struct{})}
	t.waiters = append(t.waiters, w)
	if !t.inflight {
		t.startLocked(ctx)
	}
	t.mu.Unlock()

	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	select {
	case <-w.done: // served (or failed) meanwhile
		return w.err
	default:
	}
	for i, x := range t.waiters {
		if x == w {
			t.waiters = append(t.waiters[:i], t.waiters[i+1:]...)
			break
		}
	}
	t.serveLocked() // those queued behind w may fit now
	return ctx.Err()
}

// TryNext implements NonBlocking: it fills ids from the IDs the generator
// holds, without waiting, or reports false and takes nothing (a refill may
// start in the background).
func (t *Table) TryNext(ids []uint64) bool {
	if len(ids) == 0 {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.waiters) == 0 && t.avail >= uint64(len(ids)) {
		t.take(ids)
		t.prefetchLocked()
		return true
	}
	t.prefetchLocked()
	return false
}

// take moves the first len(ids) available IDs into ids. t.mu is held and
// t.avail >= len(ids).
func (t *Table) take(ids []uint64) {
	i := 0
	for i < len(ids) {
		s := &t.spans[0]
		for ; i < len(ids) && s.lo < s.hi; i++ {
			ids[i] = s.lo
			s.lo++
		}
		if s.lo == s.hi {
			t.spans = t.spans[1:]
		}
	}
	t.avail -= uint64(len(ids))
	if len(t.spans) == 0 {
		t.spans = t.spans[:0:0] // let the old backing array go
	}
}

// serveLocked hands IDs to waiters in order while there are enough.
func (t *Table) serveLocked() {
	for len(t.waiters) > 0 {
		w := t.waiters[0]
		if t.avail < uint64(len(w.ids)) {
			return
		}
		t.take(w.ids)
		t.waiters[0] = nil
		t.waiters = t.waiters[1:]
		close(w.done)
	}
}

// demandLocked is the size of the next allocation: enough for every waiter,
// in whole blocks.
func (t *Table) demandLocked() uint64 {
	var need uint64
	for _, w := range t.waiters {
		need += uint64(len(w.ids))
	}
	if need <= t.avail {
		return t.cfg.Block
	}
	short := need - t.avail
	k := (short + t.cfg.Block - 1) / t.cfg.Block * t.cfg.Block
	if k < short { // overflow
		k = short
	}
	return k
}

// prefetchLocked starts a background allocation when the IDs run low.
func (t *Table) prefetchLocked() {
	if t.cfg.Refill == 0 || t.inflight || t.avail > t.lowWater {
		return
	}
	if !t.bgRetry.IsZero() && time.Now().Before(t.bgRetry) {
		return
	}
	t.startLocked(context.Background())
}

// startLocked starts an allocation for the current demand.
func (t *Table) startLocked(ctx context.Context) {
	t.inflight = true
	k := t.demandLocked()
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.cfg.Timeout)
		lo, hi, err := t.allocate(ctx, k)
		cancel()
		t.finish(lo, hi, err)
	}()
}

// finish records the result of an allocation and serves the waiters.
func (t *Table) finish(lo, hi uint64, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.inflight = false
	if err == nil && lo < t.maxHi {
		err = fmt.Errorf("sequence %q: the server returned block [%d, %d) below IDs already handed out (up to %d): was the row lowered?",
			t.cfg.Name, lo, hi, t.maxHi-1)
	}
	if err != nil {
		// Everyone waiting waited for this allocation: fail them rather
		// than make them wait for another.
		for i, w := range t.waiters {
			w.err = err
			close(w.done)
			t.waiters[i] = nil
		}
		t.waiters = t.waiters[:0]
		t.bgRetry = time.Now().Add(time.Second)
		return
	}
	t.bgRetry = time.Time{}
	t.maxHi = hi
	if lo < t.floor {
		lo = min(t.floor, hi)
	}
	if n := len(t.spans); n > 0 && t.spans[n-1].hi == lo {
		t.spans[n-1].hi = hi
	} else if lo < hi {
		t.spans = append(t.spans, span{lo, hi})
	}
	t.avail += hi - lo
	t.serveLocked()
	if len(t.waiters) > 0 {
		t.startLocked(context.Background())
		return
	}
	t.prefetchLocked()
}

// allocate reserves k IDs from the row: [lo, hi).
func (t *Table) allocate(ctx context.Context, k uint64) (lo, hi uint64, err error) {
	q := t.allocSQL
	if k != t.cfg.Block {
		q = t.updateSQL(k)
	}
	ok, err := t.exec(ctx, q)
	retry := false
	switch {
	case err == nil && ok.AffectedRows == 0:
		// No row yet: create it (only the row, which needs no CREATE
		// privilege), retry once.
		if _, err = t.exec(ctx, t.seedSQL(t.cfg.Start)); err != nil {
			return 0, 0, fmt.Errorf("sequence %q: creating its row: %w", t.cfg.Name, err)
		}
		retry = true
	case isCode(err, errBadDB, errNoSuchTable):
		if err = t.Ensure(ctx); err != nil {
			return 0, 0, err
		}
		retry = true
	}
	if retry {
		ok, err = t.exec(ctx, q)
		if err == nil && ok.AffectedRows == 0 {
			return 0, 0, fmt.Errorf("sequence %q: no row in %s after creating it", t.cfg.Name, t.cfg.Table)
		}
	}
	if err != nil {
		return 0, 0, fmt.Errorf("sequence %q: allocating %d IDs: %w", t.cfg.Name, k, err)
	}
	hi = ok.LastInsertID
	if hi < k {
		return 0, 0, fmt.Errorf("sequence %q: allocating %d IDs: the server reported next_id %d (is LAST_INSERT_ID in the OK packet?)",
			t.cfg.Name, k, hi)
	}
	return hi - k, hi, nil
}
