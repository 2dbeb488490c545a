package session

import (
	"errors"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/merge"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/relay"
	"github.com/switchyard-db/switchyard/internal/router"
	"github.com/switchyard-db/switchyard/internal/topology"
)

// drainLimit is how many leftover rows of a physical result are read and
// dropped to keep its connection; past it the connection is closed instead.
const drainLimit = 1000

// branch is one physical statement of a scatter query in flight.
type branch struct {
	step router.Step
	c    *backend.Conn
	node *topology.Node
	// res reads the statement's result on c.
	res backend.Result
	// started: res holds the result's header (readHeader ran).
	started bool
	// buffered rows (a scatter inside a transaction runs its statements one
	// after the other on the pinned connection).
	rows [][]byte
	cols int
	// done: the end-of-result packet was read.
	done bool
	// queue holds more statements for this connection, run one after the
	// other once the current result ends (more physical tables on a slice
	// than scatter_parallel, in a merge that needs no order).
	queue []router.Step
	// sent: a statement was written and its response not read yet.
	sent bool
}

// Next implements merge.Source.
func (b *branch) Next() ([]byte, error) {
	if b.rows != nil || b.c == nil {
		if len(b.rows) == 0 {
			b.done = true
			return nil, nil
		}
		r := b.rows[0]
		b.rows = b.rows[1:]
		return r, nil
	}
	if b.done {
		return nil, nil
	}
	p, err := b.res.Next()
	if err != nil {
		b.done = true
		return nil, backendErr(err)
	}
	if p != nil {
		return p, nil
	}
	if len(b.queue) > 0 {
		b.step, b.queue = b.queue[0], b.queue[1:]
		if err := b.send(); err != nil {
			b.done = true
			return nil, err
		}
		cols, err := b.readHeader()
		if err != nil {
			b.done = true
			return nil, err
		}
		if len(cols) != b.cols {
			b.done = true
			b.c.MarkBroken()
			return nil, protocol.NewError(protocol.ErrUnknown, "HY000", "physical tables of one logical table return different columns (%d and %d): their schemas differ", len(cols), b.cols)
		}
		return b.Next()
	}
	b.done = true
	return nil, nil
}

// backendErr passes a server error on and marks anything else as the
// backend connection's failure.
func backendErr(err error) error {
	if _, ok := err.(*protocol.Error); ok {
		return err
	}
	return &relay.BackendError{Err: err}
}

// send writes the branch's statement.
func (b *branch) send() error {
	b.c.Seq = 0
	buf := make([]byte, 0, 1+len(b.step.SQL))
	buf = append(buf, protocol.ComQuery)
	buf = append(buf, b.step.SQL...)
	if err := b.c.WriteFlush(buf); err != nil {
		b.c.MarkBroken()
		return &relay.BackendError{Err: err}
	}
	b.sent = true
	b.started = false
	return nil
}

// readHeader reads the column definitions of the result of the statement
// sent on the branch's connection. A server error is returned as a
// *protocol.Error with the connection still usable; a statement that
// answered an OK instead of rows is refused.
func (b *branch) readHeader() ([]protocol.ColumnDef, error) {
	b.started = true
	if err := b.c.ReadResult(&b.res); err != nil {
		return nil, backendErr(err)
	}
	if len(b.res.Cols) == 0 {
		return nil, protocol.NewError(protocol.ErrUnknown, "HY000", "a physical statement of a scatter query returned no result set")
	}
	if len(b.res.Cols) > 4096 {
		b.c.MarkBroken()
		return nil, &relay.BackendError{Err: protocol.ErrMalformed}
	}
	return b.res.Cols, nil
}

// drain reads what is left of a branch's result so that its connection can
// be reused; a long remainder closes the connection instead.
func (b *branch) drain() {
	if b.c == nil || b.done || !b.sent || b.c.Broken() {
		return
	}
	b.done = true
	if !b.started {
		if _, err := b.readHeader(); err != nil {
			return
		}
	}
	b.res.Drain(drainLimit)
}

// runScatter executes a SELECT over several physical tables and merges the
// results. Outside a transaction every physical statement gets its own
// connection (a replica's where the session may read from one) and all run
// in parallel; inside one, they run one after the other on the pinned
// connection and their rows are held (bounded by merge_max_rows/bytes).
func (s *Session) runScatter(plan *router.Plan, sp *router.Merge, binary bool) (failed bool, clientErr error) {
	s.noteScatter(sp.Steps)
	if plan.Target == router.TargetPinned || s.pin.active() || s.txn.held() {
		return s.scatterPinned(sp, binary)
	}
	// At most scatter_parallel statements run at once on a slice; the
	// other physical tables of the slice queue behind them on the same
	// connections (merges without order), or are read first and held
	// (ordered merges need every stream at once).
	limit := s.ns.Config.ScatterParallel
	if limit <= 0 {
		limit = 8
	}
	ordered := len(sp.Scatter.Plan.SourceOrder) > 0
	perSlice := map[string][]int{}
	var live []int
	var overflow [][2]int // step index, index of the live step whose connection runs it
	for i, st := range sp.Steps {
		idx := perSlice[st.Slice]
		if len(idx) < limit {
			perSlice[st.Slice] = append(idx, i)
			live = append(live, i)
			continue
		}
		overflow = append(overflow, [2]int{i, idx[len(overflow)%len(idx)]})
	}
	branches := make([]*branch, len(sp.Steps))
	defer func() {
		for _, b := range branches {
			if b != nil && b.c != nil {
				b.drain()
				if b.c.Broken() {
					s.lost(b.c, b.node, errors.New("scatter branch dropped"))
				} else {
					b.node.CountStatement()
					s.release(b.c, b.node)
				}
			}
		}
	}()
	for _, i := range live {
		step := sp.Steps[i]
		slice := s.ns.Slices[step.Slice]
		var c *backend.Conn
		var node *topology.Node
		if plan.Target == router.TargetReplica {
			c, node, _ = s.replicaRead(slice, plan.Consistency, false)
			if c == nil {
				if err := s.primaryReadsAllowed(); err != nil {
					s.writeErr(toProtoErr(err))
					return true, nil
				}
			}
		}
		if c == nil {
			var err error
			if c, node, err = s.getPrimary(slice); err != nil {
				s.writeErr(toProtoErr(err))
				return true, nil
			}
		}
		branches[i] = &branch{step: step, c: c, node: node}
	}
	running := make([]*backend.Conn, 0, len(live))
	for _, i := range live {
		running = append(running, branches[i].c)
	}
	s.activeMany.Store(&running)
	defer s.activeMany.Store(nil)
	var held []merge.Source
	var heldCols []protocol.ColumnDef
	budget := s.holdBudget("an ordered query over more physical tables on one slice than scatter_parallel holds the extra tables' rows; raise scatter_parallel or narrow the query")
	defer budget.release()
	for _, o := range overflow {
		host := branches[o[1]]
		if !ordered {
			host.queue = append(host.queue, sp.Steps[o[0]])
			continue
		}
		cols, rows, err := s.holdResult(host.c, sp.Steps[o[0]], budget)
		if err != nil {
			s.writeErr(toProtoErr(err))
			return true, nil
		}
		heldCols = cols
		held = append(held, rows)
	}
	for _, i := range live {
		b := branches[i]
		b.c.Seq = 0
		s.buf = append(s.buf[:0], protocol.ComQuery)
		s.buf = append(s.buf, b.step.SQL...)
		if err := b.c.WriteFlush(s.buf); err != nil {
			b.c.MarkBroken()
			s.writeErr(protocol.NewError(protocol.ErrLostBackend, "HY000", "lost connection to %s while sending a scatter query: %v", b.node.Addr, err))
			return true, nil
		}
		b.sent = true
	}
	cols := heldCols
	var first *protocol.Error
	for _, i := range live {
		b := branches[i]
		bc, err := b.readHeader()
		if err != nil {
			b.done = true
			if first == nil {
				first = toProtoErr(err)
			}
			continue
		}
		b.cols = len(bc)
		if cols == nil {
			cols = bc
		} else if len(bc) != len(cols) && first == nil {
			first = protocol.NewError(protocol.ErrUnknown, "HY000", "physical tables of one logical table return different columns (%d on %s, %d on another): their schemas differ", len(bc), b.step.Slice, len(cols))
		}
	}
	if first != nil {
		s.writeErr(first)
		return true, nil
	}
	srcs := make([]merge.Source, 0, len(sp.Steps))
	for _, i := range live {
		srcs = append(srcs, branches[i])
	}
	srcs = append(srcs, held...)
	return s.mergeOut(sp.Scatter, cols, srcs, binary)
}

// failOn answers a statement that failed on c with its error: the
// server's (or the proxy's own, such as a merge limit), or, for a lost
// connection, the proxy's account of it. A broken c is dropped; otherwise
// it goes back to its pool (unless the session keeps it).
func (s *Session) failOn(c *backend.Conn, node *topology.Node, err error) {
	pe, isProto := err.(*protocol.Error)
	if c.Broken() {
		if lostErr := s.lost(c, node, err); !isProto {
			pe = lostErr
		}
	} else {
		if !isProto {
			pe = toProtoErr(err)
		}
		s.release(c, node)
	}
	s.writeErr(pe)
}

// holdBudget is what a query may still hold in memory (merge_max_rows,
// merge_max_bytes), shared by the results it reads whole.
type holdBudget struct {
	rows, bytes int64
	// tooBig explains the query's case when the budget runs out.
	tooBig string
	// shared is the proxy-wide merge_memory; taken what this query holds
	// of it (given back by release).
	shared *merge.Shared
	taken  int64
}

func (s *Session) holdBudget(tooBig string) *holdBudget {
	return &holdBudget{rows: int64(s.ns.Config.MergeMaxRows), bytes: int64(s.ns.Config.MergeMaxBytes), tooBig: tooBig,
		shared: s.env.MergeMemory}
}

// release gives back the proxy-wide memory the held rows took.
func (b *holdBudget) release() {
	b.shared.Give(b.taken)
	b.taken = 0
}

// holdResult runs one physical statement on c and reads its whole result
// into memory within the budget. Errors are the server's or the
// connection's (c is then broken), or error 1038 past the budget.
func (s *Session) holdResult(c *backend.Conn, step router.Step, budget *holdBudget) ([]protocol.ColumnDef, *branch, error) {
	b := &branch{step: step, c: c}
	if err := b.send(); err != nil {
		return nil, nil, err
	}
	cols, err := b.readHeader()
	if err != nil {
		return nil, nil, err
	}
	held := &branch{step: step, rows: [][]byte{}}
	for {
		p, err := b.Next()
		if err != nil {
			return nil, nil, err
		}
		if p == nil {
			return cols, held, nil
		}
		budget.rows--
		budget.bytes -= int64(len(p))
		if !budget.shared.Take(int64(len(p))) {
			b.drain()
			return nil, nil, budget.shared.TooBig()
		}
		budget.taken += int64(len(p))
		if budget.rows < 0 || budget.bytes < 0 {
			b.drain()
			return nil, nil, protocol.NewError(1038, "HY001", "%s: more than merge_max_rows=%d rows or merge_max_bytes=%d bytes",
				budget.tooBig, s.ns.Config.MergeMaxRows, s.ns.Config.MergeMaxBytes)
		}
		held.rows = append(held.rows, append([]byte(nil), p...))
	}
}

// scatterPinned runs a scatter query inside a transaction (or another
// pinned state): every physical statement must be on the pinned slice.
func (s *Session) scatterPinned(sp *router.Merge, binary bool) (failed bool, clientErr error) {
	if !s.pin.active() {
		slice := s.ns.Slices[sp.Steps[0].Slice]
		var err error
		if s.txn.held() {
			_, _, err = s.beginPending(slice)
		} else {
			var c *backend.Conn
			var node *topology.Node
			if c, node, err = s.getPrimary(slice); err == nil {
				s.pin.pin(c, node)
			}
		}
		if err != nil {
			s.writeErr(toProtoErr(err))
			return true, nil
		}
	}
	conns := make([]*backend.Conn, len(sp.Steps))
	nodes := make([]*topology.Node, len(sp.Steps))
	for i, st := range sp.Steps {
		slice := s.ns.Slices[st.Slice]
		switch {
		case s.pin.pinnedTo(slice):
			conns[i], nodes[i] = s.pin.conn(), s.pin.pinnedNode()
			s.route.note(s.pin.pinnedNode())
		case s.canSpan():
			c, node, err := s.joinSlice(slice)
			if err != nil {
				s.writeErr(toProtoErr(err))
				return true, nil
			}
			conns[i], nodes[i] = c, node
		default:
			s.writeErr(protocol.NewError(protocol.ErrNotSupportedYet, "42000",
				"Switchyard does not support a query over several slices inside this pinned session (transactions: %s); run it outside the transaction or add a condition on the shard key", s.ns.Config.Transactions))
			return true, nil
		}
	}
	budget := s.holdBudget("a query over several physical tables inside a transaction holds their rows to merge them; narrow it by the shard key or run it outside the transaction")
	defer budget.release()
	var cols []protocol.ColumnDef
	srcs := make([]merge.Source, 0, len(sp.Steps))
	for i, st := range sp.Steps {
		c, node := conns[i], nodes[i]
		bc, held, err := s.holdResult(c, st, budget)
		if err != nil {
			s.failOn(c, node, err)
			return true, nil
		}
		if cols == nil {
			cols = bc
		}
		srcs = append(srcs, held)
		node.CountStatement()
	}
	return s.mergeOut(sp.Scatter, cols, srcs, binary)
}

// mergeOut sends the merged result to the client.
func (s *Session) mergeOut(sc *router.Scatter, cols []protocol.ColumnDef, srcs []merge.Source, binary bool) (failed bool, clientErr error) {
	mp, err := sc.Bind(len(cols))
	if err != nil {
		s.writeErr(protocol.NewError(protocol.ErrUnknown, "HY000", "%v", err))
		return true, nil
	}
	mp.MaxRows, mp.MaxBytes = int64(s.ns.Config.MergeMaxRows), int64(s.ns.Config.MergeMaxBytes)
	mp.Shared = s.env.MergeMemory
	out := merge.OutputColumns(mp, cols)
	for i := range out {
		s.logicalColumn(&out[i])
	}
	w := s.result(binary)
	if err := w.Begin(out, s.status()); err != nil {
		return true, err
	}
	var werr error
	err = merge.Run(mp, cols, srcs, func(row []byte) error {
		if e := w.Row(row); e != nil {
			var pe *protocol.Error
			if !errors.As(e, &pe) {
				werr = e
			}
			return e
		}
		return nil
	})
	if werr != nil {
		return true, werr
	}
	if err != nil {
		var pe *protocol.Error
		if !errors.As(err, &pe) {
			pe = protocol.NewError(protocol.ErrLostBackend, "HY000", "a physical statement of a scatter query failed: %v", err)
		}
		s.writeErr(pe)
		return true, nil
	}
	s.rowCount = -1
	s.foundRows = w.Rows()
	return false, w.End(s.status(), 0)
}
