package session

import (
	"fmt"
	"strings"
	"sync"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/relay"
	"github.com/switchyard-db/switchyard/internal/router"
	"github.com/switchyard-db/switchyard/internal/topology"
)

// lazyTxn handles BEGIN/COMMIT/ROLLBACK in a sharded namespace while no
// connection is pinned: the transaction starts on the slice of its first
// statement, so BEGIN is remembered, not sent. done reports that the
// statement was answered here.
func (s *Session) lazyTxn(a *router.Analysis) (done, failed bool) {
	if s.pin.active() {
		return false, false
	}
	switch a.Kind {
	case router.KindBegin:
		// A BEGIN inside an unstarted transaction has nothing to commit.
		s.txn.hold(a.Flags&router.FlagReadOnlyTxn != 0)
		s.writeOK(0, 0)
		return true, false
	case router.KindCommit, router.KindRollback:
		if !s.txn.held() {
			return false, false
		}
		s.txn.dropHeld()
		s.writeOK(0, 0)
		return true, false
	}
	return false, false
}

// beginPending starts the remembered transaction on slice and pins it.
func (s *Session) beginPending(slice *topology.Slice) (*backend.Conn, *topology.Node, error) {
	var c *backend.Conn
	var node *topology.Node
	if s.txn.pendingReadOnly && s.user.RWSplit {
		// The transaction was begun with the session's level.
		c, node, _ = s.replicaRead(slice, router.Consistency(s.level), false)
	}
	if c == nil {
		var err error
		if c, node, err = s.getPrimary(slice); err != nil {
			return nil, nil, err
		}
	}
	if _, err := c.Exec(s.txn.pending); err != nil {
		if c.Broken() {
			return nil, nil, s.lost(c, node, &relay.BackendError{Err: err})
		}
		s.release(c, node)
		return nil, nil, toProtoErr(err)
	}
	s.txn.started()
	s.pin.pin(c, node)
	s.pin.noteTxnFlag(c.Status&protocol.StatusInTrans != 0)
	return c, node, nil
}

// runSharded executes the plan of a statement on tables with rules by
// its root's type (send writes the execution of a Prepared root); the text and the binary protocol (executions of
// statements the proxy prepared) take this one path, and differ only in
// how rows are encoded. The plan says where the physical statements run
// (plan.Target); nothing here changes it.
func (s *Session) runSharded(plan *router.Plan, binary bool, send func(*backend.Conn) error) (failed bool, clientErr error) {
	switch n := plan.Root.(type) {
	case *router.Refuse:
		s.writeErr(n.Err)
		return true, nil
	case *router.Fanout:
		return s.fanout(n), nil
	case *router.Meta:
		return s.runMeta(plan, n, binary)
	case *router.Explain:
		return s.explain(plan, binary), nil
	case *router.Merge:
		return s.runScatter(plan, n, binary)
	case *router.Write:
		if n.Returning != "" {
			return s.runReturning(plan.Analysis, n, binary), nil
		}
		return s.runWrite(plan.Analysis, n), nil
	case *router.Prepared:
		// send executes the statement prepared on the backend.
		return s.run(plan, false, send)
	case *router.Route:
		if binary && plan.Kind == router.KindSelect {
			// One physical SELECT: its text rows are re-encoded as binary.
			return s.runScatter(plan, &router.Merge{Steps: []router.Step{n.Step}, Scatter: &passthrough}, true)
		}
		return s.run(plan, !binary, func(c *backend.Conn) error {
			c.Seq = 0
			s.buf = append(s.buf[:0], protocol.ComQuery)
			s.buf = append(s.buf, n.Step.SQL...)
			return c.WriteFlush(s.buf)
		})
	}
	s.writeErr(protocol.NewError(protocol.ErrUnknown, "HY000", "switchyard: no executor for plan %T", plan.Root))
	return true, nil
}

// fanoutParallel bounds the physical DDL statements run at once.
const fanoutParallel = 8

// fanout applies DDL to every physical table, in parallel, and answers one
// OK, or an error naming every physical statement that failed.
func (s *Session) fanout(sp *router.Fanout) (failed bool) {
	defer s.env.forgetColumns()
	if s.pin.active() || s.txn.held() {
		s.writeErr(protocol.ErrUnsupported("DDL on sharded or global tables inside a transaction or a pinned session"))
		return true
	}
	// Connections are taken one after the other (the session's state is
	// applied to each), then the statements run in parallel, at most
	// fanoutParallel at a time.
	type job struct {
		c    *backend.Conn
		node *topology.Node
		err  error
	}
	jobs := make([]job, len(sp.Steps))
	for i, step := range sp.Steps {
		jobs[i].c, jobs[i].node, jobs[i].err = s.getPrimary(s.ns.Slices[step.Slice])
	}
	sem := make(chan struct{}, fanoutParallel)
	var wg sync.WaitGroup
	for i := range jobs {
		if jobs[i].err != nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(j *job, sql string) {
			defer wg.Done()
			_, j.err = j.c.Exec(sql)
			<-sem
		}(&jobs[i], sp.Steps[i].SQL)
	}
	wg.Wait()
	var fails []string
	var first *protocol.Error
	for i, j := range jobs {
		step := sp.Steps[i]
		if j.err != nil {
			pe := toProtoErr(j.err)
			if j.c == nil {
				fails = append(fails, fmt.Sprintf("%s: %s", step.Slice, pe.Message))
			} else {
				fails = append(fails, fmt.Sprintf("%s (%s): %s", step.Slice, step.SQL, pe.Message))
			}
			if first == nil {
				first = pe
			}
		}
		if j.c == nil {
			continue
		}
		if j.c.Broken() {
			s.lost(j.c, j.node, &relay.BackendError{Err: j.err})
			continue
		}
		j.node.CountStatement()
		s.release(j.c, j.node)
	}
	if first != nil {
		s.writeErr(protocol.NewError(first.Code, first.State, "%d of %d physical statements failed: %s",
			len(fails), len(sp.Steps), strings.Join(fails, "; ")))
		return true
	}
	s.writeOK(0, 0)
	return false
}

// explain answers EXPLAIN for a statement on sharded tables: one row per
// physical statement with its slice, the role of the node that would run
// it (as the plan decided for this session), the physical database and
// SQL; the first row also describes the merge the proxy would do.
func (s *Session) explain(plan *router.Plan, binary bool) (failed bool) {
	inner := plan.Inner
	if e := router.RefusedErr(inner.Root); e != nil {
		s.writeErr(e)
		return true
	}
	role := "primary"
	if inner.Target == router.TargetReplica {
		role = "replica"
	}
	mergeDesc := ""
	switch n := inner.Root.(type) {
	case *router.Merge:
		mergeDesc = n.Scatter.String()
	case *router.Fanout:
		mergeDesc = "fan-out, one OK"
	}
	steps := inner.Root.Physical()
	rows := make([][]string, 0, len(steps))
	for i, st := range steps {
		m := ""
		if i == 0 {
			m = mergeDesc
		}
		rows = append(rows, []string{s.explainSlice(st.Slice), role, st.Database, st.SQL, m})
	}
	s.writeTextTable([]string{"slice", "role", "database", "sql", "merge"}, rows, binary)
	return false
}
