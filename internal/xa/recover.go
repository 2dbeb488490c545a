package xa

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Report describes one Recover pass. Counts are of branches unless named
// otherwise.
type Report struct {
	Prepared   int // our prepared branches listed
	Young      int // left alone: seen for less than Grace
	Committed  int // XA COMMITted (decision commit)
	RolledBack int // XA ROLLBACKed (decision rollback)
	// Busy branches are retried next pass: attached to a live connection
	// (XAER_NOTA: the owner is still finishing, or its connection has not
	// been closed yet), or their claim timed out on the owner's row lock.
	Busy int
	// Unresolvable: the decision slice has no connection in this pass.
	Unresolvable int
	Claims       int // rollback decisions written (transactions)
	// DecisionsDeleted counts decision rows deleted (finished transactions).
	DecisionsDeleted int
	Foreign          int // prepared XA branches that are not this namespace's
	Errors           []error
}

// InDoubt is one prepared transaction, as Pending lists it.
type InDoubt struct {
	Gtrid         string   `json:"gtrid"`
	FormatID      int64    `json:"format_id"`
	DecisionSlice string   `json:"decision_slice,omitempty"`
	ProxyID       string   `json:"proxy_id,omitempty"`
	Branches      []string `json:"branches"` // slices where a branch is prepared
	// Decision is "commit", "rollback" or "" (no decision row yet).
	Decision string `json:"decision"`
	// Fate says in words what recovery will do.
	Fate string `json:"fate"`
	// FirstSeen is when this coordinator first saw the transaction
	// prepared (zero when this is the first time).
	FirstSeen time.Time `json:"first_seen,omitzero"`
	// Foreign: not a Switchyard xid of this namespace; never touched.
	Foreign bool `json:"foreign,omitempty"`
}

// prepared is one XA RECOVER entry.
type prepared struct {
	slice    string // where it is listed
	formatID int64
	gtrid    string
	bqual    string
}

// listPrepared runs XA RECOVER on one connection.
func listPrepared(slice string, conn Conn) ([]prepared, error) {
	cols, rows, err := conn.QueryRows("XA RECOVER")
	if err != nil {
		return nil, err
	}
	if len(cols) < 4 {
		return nil, fmt.Errorf("xa: XA RECOVER returned columns %v", cols)
	}
	var out []prepared
	for _, r := range rows {
		if len(r) < 4 {
			return nil, fmt.Errorf("xa: XA RECOVER returned row %q", r)
		}
		f, err1 := strconv.ParseInt(r[0], 10, 64)
		gl, err2 := strconv.Atoi(r[1])
		bl, err3 := strconv.Atoi(r[2])
		if err1 != nil || err2 != nil || err3 != nil || gl < 0 || bl < 0 || gl+bl > len(r[3]) {
			return nil, fmt.Errorf("xa: XA RECOVER returned row %q", r)
		}
		out = append(out, prepared{slice: slice, formatID: f, gtrid: r[3][:gl], bqual: r[3][gl : gl+bl]})
	}
	return out, nil
}

// ours reports whether a prepared entry is a branch of this namespace.
func (c *Coordinator) ours(p prepared) (Gtrid, bool) {
	if p.formatID != FormatID || !strings.HasPrefix(p.gtrid, c.nsPrefix) {
		return Gtrid{}, false
	}
	g, err := ParseGtrid(p.gtrid)
	if err != nil || g.Namespace != c.opt.Namespace {
		return Gtrid{}, false
	}
	if _, err := unescapePart(p.bqual); err != nil || p.bqual == "" {
		return Gtrid{}, false
	}
	return g, true
}

// gtxn is one of our transactions with prepared branches.
type gtxn struct {
	gtrid    string
	parsed   Gtrid
	branches []prepared // deduplicated by bqual
}

// listing is the result of XA RECOVER on every given slice.
type listing struct {
	txns     map[string]*gtxn
	foreign  []prepared
	complete bool // every slice listed
}

func (c *Coordinator) list(conns map[string]Conn, r *Report) listing {
	l := listing{txns: map[string]*gtxn{}, complete: true}
	for _, s := range c.requiredSlices(conns) {
		if conns[s] == nil {
			l.complete = false
			if r != nil {
				r.Errors = append(r.Errors, fmt.Errorf("xa: no connection for slice %s", s))
			}
		}
	}
	for _, slice := range sortedKeys(conns) {
		ps, err := listPrepared(slice, conns[slice])
		if err != nil {
			l.complete = false
			if r != nil {
				r.Errors = append(r.Errors, fmt.Errorf("xa: XA RECOVER on slice %s: %w", slice, err))
			}
			continue
		}
	branches:
		for _, p := range ps {
			g, ok := c.ours(p)
			if !ok {
				l.foreign = append(l.foreign, p)
				continue
			}
			t := l.txns[p.gtrid]
			if t == nil {
				t = &gtxn{gtrid: p.gtrid, parsed: g}
				l.txns[p.gtrid] = t
			}
			for _, b := range t.branches {
				if b.bqual == p.bqual { // two slices on one server
					continue branches
				}
			}
			t.branches = append(t.branches, p)
		}
	}
	return l
}

func (c *Coordinator) requiredSlices(conns map[string]Conn) []string {
	if len(c.opt.Slices) > 0 {
		return c.opt.Slices
	}
	return sortedKeys(conns)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// decisions reads the decision rows of gtrids on their decision slices.
// Missing gtrids have no row; gtrids whose slice could not be read are
// absent from ok.
func (c *Coordinator) decisions(conns map[string]Conn, txns []*gtxn, r *Report) (dec map[string]string, ok map[string]bool) {
	dec, ok = map[string]string{}, map[string]bool{}
	bySlice := map[string][]string{}
	for _, t := range txns {
		bySlice[t.parsed.DecisionSlice] = append(bySlice[t.parsed.DecisionSlice], t.gtrid)
	}
	for slice, gs := range bySlice {
		conn := conns[slice]
		if conn == nil {
			continue
		}
		_, rows, err := conn.QueryRows("SELECT gtrid, decision FROM " + c.table + " WHERE gtrid IN (" + quoteList(gs) + ")")
		if err != nil {
			if r != nil {
				r.Errors = append(r.Errors, fmt.Errorf("xa: reading decisions on slice %s: %w", slice, err))
			}
			continue
		}
		for _, g := range gs {
			ok[g] = true
		}
		for _, row := range rows {
			if len(row) >= 2 {
				dec[row[0]] = row[1]
			}
		}
	}
	return dec, ok
}

// lockWaits remembers the innodb_lock_wait_timeout of connections a claim
// shortened, to put them back.
type lockWaits struct {
	c     *Coordinator
	saved map[Conn]string
}

func (lw *lockWaits) shorten(conn Conn) error {
	if _, ok := lw.saved[conn]; ok {
		return nil
	}
	_, rows, err := conn.QueryRows("SELECT @@SESSION.innodb_lock_wait_timeout")
	if err != nil {
		return err
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return errors.New("xa: cannot read innodb_lock_wait_timeout")
	}
	if _, err := strconv.ParseUint(rows[0][0], 10, 64); err != nil {
		return fmt.Errorf("xa: innodb_lock_wait_timeout = %q", rows[0][0])
	}
	if _, err := conn.Exec("SET SESSION innodb_lock_wait_timeout = " + strconv.Itoa(lw.c.lockWaitS)); err != nil {
		return err
	}
	lw.saved[conn] = rows[0][0]
	return nil
}

func (lw *lockWaits) restore(r *Report) {
	for conn, v := range lw.saved {
		if _, err := conn.Exec("SET SESSION innodb_lock_wait_timeout = " + v); err != nil {
			markBroken(conn)
			r.Errors = append(r.Errors, fmt.Errorf("xa: restoring innodb_lock_wait_timeout: %w", err))
		}
	}
}

// claim decides a transaction that has no decision row: it INSERTs a
// rollback row, which either wins, or finds the owner's commit (duplicate
// key, after waiting for the owner's open local transaction), or times out
// waiting for it (""; retry later).
func (c *Coordinator) claim(lw *lockWaits, conn Conn, gtrid string) (decision string, claimed bool, err error) {
	if err := lw.shorten(conn); err != nil {
		return "", false, err
	}
	_, err = conn.Exec("INSERT INTO " + c.table + " (gtrid, decision) VALUES (" + quoteString(gtrid) + ", 'rollback')")
	switch {
	case err == nil:
		c.stats.claims.Add(1)
		return "rollback", true, nil
	case serverError(err, codeDupKey):
		d, err := c.readDecision(conn, gtrid)
		return d, false, err
	case serverError(err, codeLockWait), serverError(err, codeDeadlock):
		return "", false, nil
	}
	return "", false, err
}

// Recover does one full recovery pass over a namespace. conns maps every
// slice name to a connection to its primary, in autocommit mode and not in
// a transaction; Recover uses them exclusively until it returns (it
// shortens innodb_lock_wait_timeout for claims and restores it).
//
// It commits or rolls back every prepared branch of this namespace that
// has been seen for at least Grace (waiting up to Grace for branches seen
// for the first time), claiming a rollback for transactions without a
// decision, and deletes decision rows no longer needed. The error joins
// the per-slice failures (also in Report.Errors); the pass goes on past
// them.
func (c *Coordinator) Recover(ctx context.Context, conns map[string]Conn) (Report, error) {
	c.recMu.Lock()
	defer c.recMu.Unlock()
	var r Report
	lw := &lockWaits{c: c, saved: map[Conn]string{}}
	defer func() { lw.restore(&r) }()

	for _, slice := range sortedKeys(conns) {
		n, err := c.FlushCleanup(slice, conns[slice])
		r.DecisionsDeleted += n
		if err != nil {
			r.Errors = append(r.Errors, fmt.Errorf("xa: deleting finished decisions on slice %s: %w", slice, err))
		}
	}

	l := c.list(conns, &r)
	c.noteSeen(l)
	if wait := c.untilEligible(l); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return r, errors.Join(append(r.Errors, ctx.Err())...)
		case <-t.C:
		}
		var r2 Report
		l = c.list(conns, &r2)
		c.noteSeen(l)
	}
	r.Foreign = len(l.foreign)

	now := c.opt.Now()
	var todo []*gtxn
	for _, g := range sortedKeys(l.txns) {
		t := l.txns[g]
		r.Prepared += len(t.branches)
		if now.Sub(c.seen[g]) < c.opt.Grace {
			r.Young += len(t.branches)
			continue
		}
		todo = append(todo, t)
	}
	dec, read := c.decisions(conns, todo, &r)
	for _, t := range todo {
		if ctx.Err() != nil {
			r.Errors = append(r.Errors, ctx.Err())
			break
		}
		dconn := conns[t.parsed.DecisionSlice]
		if dconn == nil {
			r.Unresolvable += len(t.branches)
			r.Errors = append(r.Errors, fmt.Errorf("xa: %s: no connection for its decision slice %s", t.gtrid, t.parsed.DecisionSlice))
			continue
		}
		if !read[t.gtrid] {
			continue // the error is reported
		}
		d := dec[t.gtrid]
		if d == "" {
			var claimed bool
			var err error
			d, claimed, err = c.claim(lw, dconn, t.gtrid)
			if err != nil {
				r.Errors = append(r.Errors, fmt.Errorf("xa: claiming %s on slice %s: %w", t.gtrid, t.parsed.DecisionSlice, err))
				continue
			}
			if claimed {
				r.Claims++
			}
			if d == "" {
				r.Busy += len(t.branches)
				continue
			}
		}
		c.finish(t, d, conns, &r)
	}

	c.collect(conns, &r)
	return r, errors.Join(r.Errors...)
}

// finish commits or rolls back every listed branch of a decided transaction.
func (c *Coordinator) finish(t *gtxn, decision string, conns map[string]Conn, r *Report) {
	verb := "XA COMMIT "
	if decision != "commit" {
		verb = "XA ROLLBACK "
	}
	for _, b := range t.branches {
		x := xid{gtrid: b.gtrid, bqual: b.bqual}
		_, err := conns[b.slice].Exec(verb + x.sql())
		switch {
		case err == nil && decision == "commit":
			r.Committed++
			c.stats.recovered.Add(1)
		case err == nil:
			r.RolledBack++
			c.stats.recoveredRollback.Add(1)
		case serverError(err, codeXAERNota):
			r.Busy++
		default:
			r.Errors = append(r.Errors, fmt.Errorf("xa: %s%s on slice %s: %w", verb, x, b.slice, err))
		}
	}
}

// collect deletes decision rows whose transactions are finished: the rows
// are read first, then every slice is listed again; a transaction decided
// before the listing started and with no prepared branch in it has no
// branch left to decide. Commit rows go once older than Grace (their owner
// normally deletes them), rollback rows after RollbackRetention (an owner
// slower than the claim may still try to insert its commit).
func (c *Coordinator) collect(conns map[string]Conn, r *Report) {
	type row struct {
		gtrid, decision string
		age             time.Duration
	}
	found := map[string][]row{}
	for _, slice := range sortedKeys(conns) {
		_, rows, err := conns[slice].QueryRows("SELECT gtrid, decision, TIMESTAMPDIFF(MICROSECOND, created, NOW(6)) FROM " +
			c.table + " WHERE LEFT(gtrid, " + strconv.Itoa(len(c.nsPrefix)) + ") = " + quoteString(c.nsPrefix))
		if err != nil {
			r.Errors = append(r.Errors, fmt.Errorf("xa: reading decisions on slice %s: %w", slice, err))
			return
		}
		for _, x := range rows {
			if len(x) < 3 {
				continue
			}
			g, err := ParseGtrid(x[0])
			if err != nil || g.DecisionSlice != slice || g.Namespace != c.opt.Namespace {
				continue
			}
			us, _ := strconv.ParseInt(x[2], 10, 64)
			found[slice] = append(found[slice], row{x[0], x[1], time.Duration(us) * time.Microsecond})
		}
	}
	if len(found) == 0 {
		return
	}
	l := c.list(conns, nil)
	if !l.complete {
		return
	}
	for _, slice := range sortedKeys(found) {
		var del []string
		for _, x := range found[slice] {
			if l.txns[x.gtrid] != nil {
				continue
			}
			if x.decision == "commit" && x.age >= c.opt.Grace || x.age >= c.opt.RollbackRetention {
				del = append(del, x.gtrid)
			}
		}
		for len(del) > 0 {
			n := min(len(del), c.opt.MaxCleanupBatch)
			ok, err := conns[slice].Exec("DELETE FROM " + c.table + " WHERE gtrid IN (" + quoteList(del[:n]) + ")")
			if err != nil {
				r.Errors = append(r.Errors, fmt.Errorf("xa: deleting decisions on slice %s: %w", slice, err))
				break
			}
			r.DecisionsDeleted += int(ok.AffectedRows)
			del = del[n:]
		}
	}
}

// noteSeen records when each listed transaction was first seen prepared and
// forgets those no longer listed.
func (c *Coordinator) noteSeen(l listing) {
	now := c.opt.Now()
	for g := range l.txns {
		if _, ok := c.seen[g]; !ok {
			c.seen[g] = now
		}
	}
	if l.complete {
		for g := range c.seen {
			if l.txns[g] == nil {
				delete(c.seen, g)
			}
		}
	}
}

// untilEligible returns how long until every listed transaction has been
// seen for Grace (0 if all have).
func (c *Coordinator) untilEligible(l listing) time.Duration {
	now := c.opt.Now()
	var wait time.Duration
	for g := range l.txns {
		if w := c.opt.Grace - now.Sub(c.seen[g]); w > wait {
			wait = w
		}
	}
	return wait
}

// Pending lists the prepared transactions on the given slice primaries
// (slice name → connection, autocommit) and their fate, without changing
// anything: for the admin API.
func (c *Coordinator) Pending(ctx context.Context, conns map[string]Conn) ([]InDoubt, error) {
	c.recMu.Lock()
	defer c.recMu.Unlock()
	var r Report
	l := c.list(conns, &r)
	txns := make([]*gtxn, 0, len(l.txns))
	for _, g := range sortedKeys(l.txns) {
		txns = append(txns, l.txns[g])
	}
	dec, read := c.decisions(conns, txns, &r)
	var out []InDoubt
	for _, t := range txns {
		d := InDoubt{Gtrid: t.gtrid, FormatID: FormatID, DecisionSlice: t.parsed.DecisionSlice,
			ProxyID: t.parsed.ProxyID, Decision: dec[t.gtrid], FirstSeen: c.seen[t.gtrid]}
		for _, b := range t.branches {
			s, _ := unescapePart(b.bqual)
			d.Branches = append(d.Branches, s)
		}
		switch {
		case !read[t.gtrid]:
			d.Fate = "unknown: the decision slice " + t.parsed.DecisionSlice + " cannot be read"
		case d.Decision == "commit":
			d.Fate = "committed: recovery will XA COMMIT the prepared branches"
		case d.Decision == "rollback":
			d.Fate = "rolled back: recovery will XA ROLLBACK the prepared branches"
		default:
			d.Fate = "undecided: unless proxy " + t.parsed.ProxyID + " is committing it right now, recovery will roll it back"
		}
		out = append(out, d)
	}
	for _, p := range l.foreign {
		out = append(out, InDoubt{Gtrid: p.gtrid, FormatID: p.formatID, Branches: []string{p.slice}, Foreign: true,
			Fate: "not a Switchyard transaction of namespace " + c.opt.Namespace + ": left alone"})
	}
	return out, errors.Join(r.Errors...)
}
