package merge

import (
	"github.com/switchyard-db/switchyard/internal/protocol"
)

// Source yields the rows of one physical result set: text-protocol row
// payloads (each column a length-encoded string, 0xfb for NULL). Next
// returns nil, nil at the end. The returned slice is only valid until the
// next call to Next on that source.
type Source interface {
	Next() ([]byte, error)
}

// Run merges srcs according to p, cols being the column definitions of the
// physical rows (the same for every source; len(cols) == len(p.Aggs)), and
// calls emit once per output row with a text-protocol row payload of the
// first p.Visible output columns. The row slice may be reused after emit
// returns. Errors from Next or emit are returned as they are; a malformed
// row fails with a *protocol.Error 2027, exceeding MaxRows/MaxBytes with a
// *protocol.Error ErrTooBig, an inconsistent plan with a *protocol.Error
// 1105.
//
// A nil p.Output means the physical columns as they are; p.Visible <= 0
// means every output column. Without NeedSort, Run stops reading as soon as
// Limit rows went out and returns nil: the caller drains or discards the
// rest of each source itself.
func Run(p *Plan, cols []protocol.ColumnDef, srcs []Source, emit func(row []byte) error) error {
	m, err := newMerger(p, cols, emit)
	if err != nil {
		return err
	}
	defer m.bud.release()
	if p.Limit == 0 {
		return nil
	}
	if len(p.SourceOrder) > 0 && (m.fold == nil || m.fold.streaming) {
		err = m.runMerged(srcs)
	} else {
		err = m.runSequential(srcs)
	}
	if err == nil {
		err = m.finish()
	}
	if err == errStop {
		return nil
	}
	return err
}

// merger is the state of one Run.
type merger struct {
	p        *Plan
	specs    []colSpec // physical columns
	outSpecs []colSpec // output columns
	outputs  []*node
	identity bool // outputs are the physical columns as they are
	visible  int
	having   *node
	bud      budget
	emit     func([]byte) error
	fold     *folder
	sort     *sorter
	env      env

	obuf    []byte
	ofields []field
	seen    map[string]struct{}
	keyBuf  []byte
	skip    uint64
	emitted int64
}

func newMerger(p *Plan, cols []protocol.ColumnDef, emit func([]byte) error) (*merger, error) {
	if p == nil {
		return nil, badPlan("no plan")
	}
	if emit == nil {
		return nil, badPlan("no emit function")
	}
	n := len(cols)
	if len(p.Aggs) != n {
		return nil, badPlan("%d combiners for %d columns", len(p.Aggs), n)
	}
	for i, a := range p.Aggs {
		if a.Func > AggGroupConcat {
			return nil, badPlan("unknown combiner %d for column %d", a.Func, i)
		}
	}
	for _, o := range p.SourceOrder {
		if o.Col < 0 || o.Col >= n {
			return nil, badPlan("source order column %d out of range", o.Col)
		}
	}
	for _, g := range p.GroupBy {
		if g < 0 || g >= n {
			return nil, badPlan("group column %d out of range", g)
		}
	}
	if p.Distinct != nil && (*p.Distinct < 0 || *p.Distinct >= n) {
		return nil, badPlan("distinct column %d out of range", *p.Distinct)
	}
	m := &merger{p: p, emit: emit, skip: p.Offset}
	m.bud.p = p
	m.specs = make([]colSpec, n)
	for i := range cols {
		m.specs[i] = specFor(&cols[i])
	}
	var err error
	m.outputs, err = compileOutputs(p, m.specs)
	if err != nil {
		return nil, err
	}
	defs := outputDefs(m.outputs, cols)
	m.outSpecs = make([]colSpec, len(defs))
	for i := range defs {
		m.outSpecs[i] = specFor(&defs[i])
	}
	m.visible = visibleOf(p, len(m.outputs))
	m.identity = len(m.outputs) == n
	for i, o := range m.outputs {
		if o.op != nCol || o.i != i {
			m.identity = false
		}
	}
	m.env.pspecs = m.specs
	if p.Distinct != nil {
		m.env.dspec = &m.specs[*p.Distinct]
	}
	if p.Having != nil {
		m.having, err = compile(p.Having, m.ctx(m.outSpecs))
		if err != nil {
			return nil, err
		}
	}
	for _, o := range p.OrderBy {
		if o.Col < 0 || o.Col >= len(m.outputs) {
			return nil, badPlan("order column %d out of range", o.Col)
		}
	}
	if p.DistinctRows {
		m.seen = make(map[string]struct{})
	}
	if p.NeedSort && len(p.OrderBy) > 0 {
		m.sort = newSorter(m)
	}
	if p.Grouped {
		m.fold = newFolder(m, groupsContiguous(p))
		var walk func(*node)
		walk = func(x *node) {
			if x == nil {
				return
			}
			if x.op == nDistinct {
				switch x.dfunc {
				case DistinctSum, DistinctAvg:
					m.fold.needSum = true
				case DistinctGroupConcat:
					m.fold.needVals = true
				}
			}
			walk(x.l)
			walk(x.r)
		}
		for _, o := range m.outputs {
			walk(o)
		}
		walk(m.having)
	}
	return m, nil
}

func (m *merger) ctx(specs []colSpec) *compileCtx {
	cx := &compileCtx{specs: specs, pspecs: m.specs, grouped: m.p.Grouped}
	if m.p.Distinct != nil {
		cx.distinct = &m.specs[*m.p.Distinct]
	}
	return cx
}

// compileOutputs compiles p.Output over the physical columns (all of them,
// as they are, when p.Output is nil).
func compileOutputs(p *Plan, specs []colSpec) ([]*node, error) {
	if p.Output == nil {
		out := make([]*node, len(specs))
		for i := range specs {
			out[i] = &node{op: nCol, i: i, t: typeOfSpec(&specs[i], i)}
		}
		return out, nil
	}
	cx := &compileCtx{specs: specs, pspecs: specs, grouped: p.Grouped}
	if p.Distinct != nil && *p.Distinct >= 0 && *p.Distinct < len(specs) {
		cx.distinct = &specs[*p.Distinct]
	}
	out := make([]*node, len(p.Output))
	for i, e := range p.Output {
		n, err := compile(e, cx)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// visibleOf is the number of output columns the client sees.
func visibleOf(p *Plan, outputs int) int {
	if p.Visible <= 0 || p.Visible > outputs {
		return outputs
	}
	return p.Visible
}

// groupsContiguous reports whether SourceOrder begins with the GroupBy
// columns (in any order), so that equal groups arrive one after another.
func groupsContiguous(p *Plan) bool {
	n := len(p.GroupBy)
	if len(p.SourceOrder) < n {
		return false
	}
	for _, g := range p.GroupBy {
		found := false
		for _, o := range p.SourceOrder[:n] {
			if o.Col == g {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, o := range p.SourceOrder[:n] {
		found := false
		for _, g := range p.GroupBy {
			if o.Col == g {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (m *merger) onRow(row []byte, fs []field) error {
	if m.fold != nil {
		return m.fold.add(row, fs)
	}
	return m.onFolded(row, fs, nil)
}

func (m *merger) finish() error {
	if m.fold != nil {
		if err := m.fold.finish(); err != nil {
			return err
		}
	}
	if m.sort != nil {
		return m.sort.finish()
	}
	return nil
}

// runSequential reads the sources one after the other.
func (m *merger) runSequential(srcs []Source) error {
	fs := make([]field, len(m.specs))
	for _, s := range srcs {
		for s != nil {
			row, err := s.Next()
			if err != nil {
				return err
			}
			if row == nil {
				break
			}
			if err := parseRow(row, fs); err != nil {
				return err
			}
			if err := m.onRow(row, fs); err != nil {
				return err
			}
		}
	}
	return nil
}

// input is one source in the k-way merge with its current row.
type input struct {
	src Source
	row []byte
	f   []field
	k   rowKey
}

// runMerged merges the sources by SourceOrder with a binary heap of their
// current rows; equal rows come in source order.
func (m *merger) runMerged(srcs []Source) error {
	ins := make([]input, len(srcs))
	slab := make([]field, len(srcs)*len(m.specs))
	h := make([]int, 0, len(srcs))
	for i, s := range srcs {
		ins[i] = input{src: s, f: slab[i*len(m.specs) : (i+1)*len(m.specs)]}
		ok, err := ins[i].next(m.p.SourceOrder, m.specs)
		if err != nil {
			return err
		}
		if ok {
			h = append(h, i)
		}
	}
	order, specs := m.p.SourceOrder, m.specs
	less := func(a, b int) bool {
		x, y := &ins[a], &ins[b]
		if c := cmpKeyed(order, specs, x.k, x.row, x.f, y.k, y.row, y.f); c != 0 {
			return c < 0
		}
		return a < b
	}
	down := func(i int) {
		n := len(h)
		for {
			l := 2*i + 1
			if l >= n {
				return
			}
			c := l
			if r := l + 1; r < n && less(h[r], h[l]) {
				c = r
			}
			if !less(h[c], h[i]) {
				return
			}
			h[i], h[c] = h[c], h[i]
			i = c
		}
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for len(h) > 0 {
		in := &ins[h[0]]
		if err := m.onRow(in.row, in.f); err != nil {
			return err
		}
		ok, err := in.next(m.p.SourceOrder, m.specs)
		if err != nil {
			return err
		}
		if !ok {
			h[0] = h[len(h)-1]
			h = h[:len(h)-1]
		}
		down(0)
	}
	return nil
}

// next reads and parses the next row; false at the end.
func (in *input) next(order []Order, specs []colSpec) (bool, error) {
	if in.src == nil {
		return false, nil
	}
	row, err := in.src.Next()
	if err != nil || row == nil {
		in.row = nil
		return false, err
	}
	if err := parseRow(row, in.f); err != nil {
		return false, err
	}
	in.row = row
	in.k = firstKey(order, specs, row, in.f)
	return true, nil
}
