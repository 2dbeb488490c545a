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
}

// sorter buffers output rows and emits them sorted by Plan.OrderBy. With a
// LIMIT it keeps only the best Offset+Limit rows (a bounded max-heap).
type sorter struct {
	m      *merger
	orders []Order
	specs  []colSpec
	rows   []sortRow
	topN   int // < 0: keep every row
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
	if c := cmpRows(s.orders, s.specs, a.row, a.f, b.row, b.f); c != 0 {
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
	if s.topN < 0 {
		if err := s.m.bud.take(1, rowCost(row, fs)); err != nil {
			return err
		}
		s.rows = append(s.rows, sortRow{s.arena.copy(row), s.fa.copy(fs), s.seq})
		return nil
	}
	if len(s.rows) < s.topN {
		if err := s.m.bud.take(1, rowCost(row, fs)); err != nil {
			return err
		}
		s.rows = append(s.rows, sortRow{append([]byte(nil), row...), append([]field(nil), fs...), s.seq})
		s.up(len(s.rows) - 1)
		return nil
	}
	cand := sortRow{row, fs, s.seq}
	if len(s.rows) == 0 || !s.less(&cand, &s.rows[0]) {
		return nil
	}
	// Replace the worst kept row, reusing its buffers.
	r := &s.rows[0]
	delta := int64(len(row) - len(r.row))
	r.row = append(r.row[:0], row...)
	r.f = append(r.f[:0], fs...)
	r.seq = s.seq
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

// finish sorts and emits the buffered rows through Offset/Limit.
func (s *sorter) finish() error {
	slices.SortFunc(s.rows, func(a, b sortRow) int { return s.cmp(&a, &b) })
	for i := range s.rows {
		r := &s.rows[i]
		if err := s.m.out(r.row, r.f); err != nil {
			return err
		}
	}
	return nil
}
