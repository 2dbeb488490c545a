package session

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/router"
	"github.com/switchyard-db/switchyard/internal/sequence"
	"github.com/switchyard-db/switchyard/internal/sessvars"
	"github.com/switchyard-db/switchyard/internal/shard"
	"github.com/switchyard-db/switchyard/internal/topology"
	"github.com/switchyard-db/switchyard/internal/xa"
)

// generator returns the ID generator of a table with a sequence, creating
// it on first use: blocks from the namespace's sequence table on the
// default slice's current primary, or a snowflake generator.
func (e *Env) generator(ns *topology.Namespace, t *shard.Table) (sequence.Generator, error) {
	e.seqMu.Lock()
	defer e.seqMu.Unlock()
	if g, ok := e.seqs[t]; ok {
		return g, nil
	}
	if e.seqs == nil {
		e.seqs = map[*shard.Table]sequence.Generator{}
	}
	q := t.Sequence()
	var g sequence.Generator
	switch q.Type {
	case config.SequenceSnowflake:
		s, err := sequence.NewSnowflake(uint16(ns.Config.WorkerID), nil)
		if err != nil {
			return nil, err
		}
		g = s
	default:
		tg, err := sequence.NewTable(sequence.TableConfig{
			Name:   t.Database() + "." + t.Name(),
			Table:  ns.Config.SequenceTable,
			Block:  uint64(q.Block),
			Start:  uint64(q.Start),
			Refill: 0.5,
		}, e.primaryExec(ns.Default))
		if err != nil {
			return nil, err
		}
		g = tg
	}
	e.seqs[t] = g
	return g, nil
}

// primaryExec runs a statement on a slice's current primary (waiting for
// one during a failover) with a pooled connection.
func (e *Env) primaryExec(slice *topology.Slice) sequence.Execer {
	return func(ctx context.Context, sql string) (protocol.OK, error) {
		node, err := slice.WaitPrimary(ctx, e.FailoverHold)
		if err != nil {
			return protocol.OK{}, err
		}
		pool := node.Pool(false)
		c, err := plainConn(ctx, pool)
		if err != nil {
			return protocol.OK{}, err
		}
		// plainConn reset a client's autocommit=0: the statement commits
		// on its own.
		ok, err := c.Exec(sql)
		pool.Put(c)
		return ok, err
	}
}

// nextIDs is the router's IDSource for this session.
func (s *Session) nextIDs(t *shard.Table, ids []uint64) error {
	g, err := s.env.generator(s.ns, t)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.env.FailoverHold+10*time.Second)
	defer cancel()
	if err := g.Next(ctx, ids); err != nil {
		if strings.Contains(err.Error(), "denied") {
			return fmt.Errorf("%w (the backend user needs CREATE, INSERT and UPDATE on %s)", err, s.ns.Config.SequenceTable)
		}
		return err
	}
	return nil
}

// coordinator returns the namespace's two-phase-commit coordinator,
// creating it (and its decision tables) on first use.
func (e *Env) coordinator(ns *topology.Namespace) (*xa.Coordinator, error) {
	e.xaMu.Lock()
	defer e.xaMu.Unlock()
	if co, ok := e.xas[xaKey(ns)]; ok {
		return co, nil
	}
	names := make([]string, 0, len(ns.Slices))
	for _, sc := range ns.Config.Slices {
		names = append(names, sc.Name)
	}
	co, err := xa.New(xa.Options{Namespace: ns.Name, ProxyID: e.ProxyID, DB: ns.Config.XADatabase, Slices: names})
	if err != nil {
		return nil, err
	}
	if e.xas == nil {
		e.xas = map[string]*xa.Coordinator{}
	}
	e.xas[xaKey(ns)] = co
	// The decision table must exist before the first commit decides; the
	// recovery loop keeps creating it where a slice was down now.
	e.withPrimaries(ns, func(conns map[string]xa.Conn) {
		if err := co.Ensure(conns); err != nil {
			e.Log.Warn("creating the XA decision table", "namespace", ns.Name, "err", err)
		}
	})
	return co, nil
}

// withPrimaries lends fn a pooled connection to the primary of every
// reachable slice of ns, and takes them back.
func (e *Env) withPrimaries(ns *topology.Namespace, fn func(conns map[string]xa.Conn)) {
	conns := map[string]xa.Conn{}
	type lent struct {
		c    *backend.Conn
		node *topology.Node
	}
	var back []lent
	for name, sl := range ns.Slices {
		node := sl.Primary()
		if node == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := plainConn(ctx, node.Pool(false))
		cancel()
		if err != nil {
			continue
		}
		conns[name] = c
		back = append(back, lent{c, node})
	}
	defer func() {
		for _, l := range back {
			l.node.Pool(false).Put(l.c)
		}
	}()
	fn(conns)
}

// RecoverXA runs one recovery pass of every namespace that uses
// two-phase commit: decision tables are created where missing, and
// prepared branches left by a proxy that died are committed or rolled
// back by their decision.
func (e *Env) RecoverXA(ctx context.Context) {
	for _, prod := range e.Current().Topology.Namespaces {
		for _, ns := range sides(prod) {
			e.recoverXA(ctx, ns)
		}
	}
}

// recoverXA runs one recovery pass of a namespace side.
func (e *Env) recoverXA(ctx context.Context, ns *topology.Namespace) {
	if ns.Rules == nil || ns.Config.Transactions != config.TxnXA {
		return
	}
	co, err := e.coordinator(ns)
	if err != nil {
		e.Log.Warn("two-phase commit coordinator", "namespace", ns.Name, "err", err)
		return
	}
	e.withPrimaries(ns, func(conns map[string]xa.Conn) {
		if err := co.Ensure(conns); err != nil {
			e.Log.Warn("creating the XA decision table", "namespace", ns.Name, "err", err)
		}
		rep, err := co.Recover(ctx, conns)
		if err != nil {
			e.Log.Warn("XA recovery", "namespace", ns.Name, "err", err)
		}
		if rep.Committed+rep.RolledBack > 0 {
			e.Log.Info("XA recovery resolved prepared branches", "namespace", ns.Name, "committed", rep.Committed, "rolled_back", rep.RolledBack, "busy", rep.Busy)
		}
	})
}

// PendingXA lists the in-doubt distributed transactions of every namespace
// (admin API).
func (e *Env) PendingXA(ctx context.Context) map[string][]xa.InDoubt {
	out := map[string][]xa.InDoubt{}
	for _, ns := range e.Current().Topology.Namespaces {
		if ns.Rules == nil || ns.Config.Transactions != config.TxnXA {
			continue
		}
		co, err := e.coordinator(ns)
		if err != nil {
			continue
		}
		e.withPrimaries(ns, func(conns map[string]xa.Conn) {
			list, err := co.Pending(ctx, conns)
			if err == nil {
				out[ns.Name] = list
			}
		})
	}
	return out
}

// cachedColumns returns a table's cached column names, without I/O.
func (e *Env) cachedColumns(t *shard.Table) ([]string, bool) {
	cols, ok := e.cachedSchema(t)
	return columnNames(cols), ok
}

func columnNames(cols []shard.Column) []string {
	if cols == nil {
		return nil
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return names
}

// forgetColumns drops the cached column lists (after DDL).
func (e *Env) forgetColumns() { e.forgetSchema() }

// sources are the router's sources for this session (made once: the
// method values would otherwise be allocated on every statement). They
// never do I/O: they answer from caches, and note what is missing for
// planSharded to fetch.
func (s *Session) sources() router.Sources {
	if s.src.IDs == nil {
		s.src = router.Sources{
			IDs:     s.cachedIDs,
			Columns: s.cachedColumns,
			Schema:  s.cachedSchema,
		}
	}
	return s.src
}

// plainConn takes a pooled connection for the proxy's own statements
// (sequence blocks, XA decisions and recovery, metadata). A client's
// session variables left on it are reset to the server's first: with a
// client's autocommit=0 the proxy's write would open a transaction that
// the pool rolls back when the connection comes back.
func plainConn(ctx context.Context, pool *backend.Pool) (*backend.Conn, error) {
	c, err := pool.Get(ctx)
	if err != nil {
		return nil, err
	}
	if c.Vars != nil {
		if q := sessvars.Diff(c.Vars, nil); q != "" {
			if _, err := c.Exec(q); err != nil {
				c.MarkBroken()
				pool.Put(c)
				return nil, err
			}
		}
		c.Vars = nil
	}
	return c, nil
}
