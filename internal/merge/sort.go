package merge

import (
	"math"
	"slices"
)

// cmpRows compares two rows by orders; NULL is smallest (first ascending,
// last descending).
func cmpRows(orders []Order, specs []colSpec, ar []byte, af []field, br []byte, bf []field) int {
	for _, o := range orders {
		fa, fb := af[o.Col], bf[o.Col]
		var c int
		switch {
		case fa.null || fb.null:
			switch {
			case fa.null && fb.null:
				continue
			case fa.null:
				c = -1
			default:
				c = 1
			}
		default:
			c = specs[o.Col].compare(ar[fa.start:fa.end], br[fb.start:fb.end])
		}
		if c != 0 {
			if o.Desc {
				return -c
			}
			return c
		}
	}
	return 0
}

// sortRow is one buffered output row; seq keeps the sort stable.
type sortRow struct {
	row []byte
	f   []field
	seq int64
	k   rowKey
}

// sorter buffers output rows and emits them sorted by Plan.OrderBy. With a
// LIMIT it keeps only the best Offset+Limit rows (a bounded max-heap).
type sorter struct {
	m      *merger
	orders []Order
	specs  []colSpec
	rows   []sortRow // the top-N heap
	topN   int       // < 0: keep every row, in chunks
	chunks [][]sortRow
	n      int
	seq    int64
	arena  arena
	fa     fieldArena
}

func newSorter(m *merger) *sorter {
	s := &sorter{m: m, orders: m.p.OrderBy, specs: m.outSpecs, topN: -1}
	if l := m.p.Limit; l >= 0 {
		if n := m.p.Offset + uint64(l); n >= m.p.Offset && n <= math.MaxInt32 {
			s.topN = int(n)
		}
	}
	return s
}

func (s *sorter) cmp(a, b *sortRow) int {
	if c := cmpKeyed(s.orders, s.specs, a.k, a.row, a.f, b.k, b.row, b.f); c != 0 {
		return c
	}
	return cmpInt64(a.seq, b.seq)
}

func (s *sorter) less(a, b *sortRow) bool { return s.cmp(a, b) < 0 }

func rowCost(row []byte, fs []field) int64 {
	return int64(len(row)) + int64(len(fs))*24 + rowOverhead
}

func (s *sorter) add(row []byte, fs []field) error {
	s.seq++
	k := firstKey(s.orders, s.specs, row, fs)
	if s.topN < 0 {
		if err := s.m.bud.take(1, rowCost(row, fs)); err != nil {
			return err
		}
		if s.n >= math.MaxInt32 {
			return tooBig(s.m.p)
		}
		if s.n%sortChunk == 0 {
			s.chunks = append(s.chunks, make([]sortRow, 0, sortChunk))
		}
		c := &s.chunks[len(s.chunks)-1]
		*c = append(*c, sortRow{s.arena.copy(row), s.fa.copy(fs), s.seq, k})
		s.n++
		return nil
	}
	if len(s.rows) < s.topN {
		if err := s.m.bud.take(1, rowCost(row, fs)); err != nil {
			return err
		}
		s.rows = append(s.rows, sortRow{append([]byte(nil), row...), append([]field(nil), fs...), s.seq, k})
		s.up(len(s.rows) - 1)
		return nil
	}
	cand := sortRow{row, fs, s.seq, k}
	if len(s.rows) == 0 || !s.less(&cand, &s.rows[0]) {
		return nil
	}
	// Replace the worst kept row, reusing its buffers.
	r := &s.rows[0]
	delta := int64(len(row) - len(r.row))
	r.row = append(r.row[:0], row...)
	r.f = append(r.f[:0], fs...)
	r.seq = s.seq
	r.k = k
	s.down(0)
	if delta > 0 {
		return s.m.bud.take(0, delta)
	}
	s.m.bud.give(0, -delta)
	return nil
}

// up and down keep rows a max-heap (the worst row at the root).
func (s *sorter) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(&s.rows[p], &s.rows[i]) {
			break
		}
		s.rows[p], s.rows[i] = s.rows[i], s.rows[p]
		i = p
	}
}

func (s *sorter) down(i int) {
	n := len(s.rows)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && s.less(&s.rows[l], &s.rows[r]) {
			c = r
		}
		if !s.less(&s.rows[i], &s.rows[c]) {
			return
		}
		s.rows[i], s.rows[c] = s.rows[c], s.rows[i]
		i = c
	}
}

// sortChunk is the number of rows in one chunk of a full sort buffer (a
// power of two); chunks spare the copies of one growing slice.
const sortChunk = 4096

func (s *sorter) at(i int32) *sortRow { return &s.chunks[i/sortChunk][i%sortChunk] }

// sortRef is a pointer-free handle of a buffered row, cheap to move while
// sorting: the first order column's key and the row's index (its arrival
// order, which keeps the sort stable).
type sortRef struct {
	k   int64
	ok  bool
	idx int32
}

// finish sorts and emits the buffered rows through Offset/Limit.
func (s *sorter) finish() error {
	if s.topN >= 0 {
		slices.SortFunc(s.rows, func(a, b sortRow) int { return s.cmp(&a, &b) })
		for i := range s.rows {
			r := &s.rows[i]
			if err := s.m.out(r.row, r.f); err != nil {
				return err
			}
		}
		return nil
	}
	refs := make([]sortRef, s.n)
	for i := range refs {
		r := s.at(int32(i))
		refs[i] = sortRef{r.k.v, r.k.ok, int32(i)}
	}
	desc := len(s.orders) > 0 && s.orders[0].Desc
	slices.SortFunc(refs, func(a, b sortRef) int {
		if a.ok && b.ok {
			if a.k != b.k {
				if (a.k < b.k) != desc {
					return -1
				}
				return 1
			}
			x, y := s.at(a.idx), s.at(b.idx)
			if c := cmpRows(s.orders[1:], s.specs, x.row, x.f, y.row, y.f); c != 0 {
				return c
			}
		} else {
			x, y := s.at(a.idx), s.at(b.idx)
			if c := cmpRows(s.orders, s.specs, x.row, x.f, y.row, y.f); c != 0 {
				return c
			}
		}
		return int(a.idx - b.idx)
	})
	for _, ref := range refs {
		r := s.at(ref.idx)
		if err := s.m.out(r.row, r.f); err != nil {
			return err
		}
	}
	return nil
}
