package merge

import (
	"math"
	"strconv"
)

// accum is the running combination of one physical column in a group.
type accum struct {
	// has: a non-NULL value was combined (AggNone: the first value is set).
	has bool
	cnt int64
	d   dec
	f   float64
	b   []byte
}

// distinctState is what DISTINCT aggregates know of a group: the number of
// distinct non-NULL values, their sum and the values themselves.
type distinctState struct {
	n    int64
	sum  dec
	fsum float64
	// vals holds the distinct values as length-encoded strings, for
	// GROUP_CONCAT(DISTINCT).
	vals []byte
	// last is the previous value when values arrive sorted; set holds the
	// keys seen otherwise.
	last    []byte
	hasLast bool
	set     map[string]struct{}
}

// group is one group being folded.
type group struct {
	acc   []accum
	dist  distinctState
	bytes int64 // accounted in the budget
}

// folder folds physical rows into groups: streaming when groups arrive
// contiguously, in a hash map otherwise.
type folder struct {
	m        *merger
	p        *Plan
	specs    []colSpec
	sumFloat []bool
	// distinct is the DISTINCT argument column or -1; dedupeSorted: its
	// values arrive sorted within a group.
	distinct     int
	dedupeSorted bool
	needVals     bool // some output is GROUP_CONCAT(DISTINCT)
	needSum      bool // some output is SUM/AVG(DISTINCT)
	streaming    bool

	// streaming: the current group and its key.
	cur       group
	has       bool
	keyRow    []byte
	keyFields []field

	// hash: groups in first-seen order.
	index  map[string]int32
	groups []group
	slab   []accum

	scratch []byte
	out     []byte
	outF    []field
}

// groupOverhead approximates the bookkeeping bytes of one group.
const groupOverhead = 96

func newFolder(m *merger, streaming bool) *folder {
	p := m.p
	fo := &folder{m: m, p: p, specs: m.specs, streaming: streaming, distinct: -1}
	fo.sumFloat = make([]bool, len(p.Aggs))
	for i := range p.Aggs {
		fo.sumFloat[i] = sumIsFloat(&fo.specs[i])
	}
	if p.Distinct != nil {
		fo.distinct = *p.Distinct
		n := len(p.GroupBy)
		fo.dedupeSorted = streaming && len(p.SourceOrder) > n && p.SourceOrder[n].Col == fo.distinct
	}
	if !streaming {
		fo.index = make(map[string]int32)
	}
	fo.outF = make([]field, len(p.Aggs))
	fo.keyFields = make([]field, len(p.GroupBy))
	return fo
}

// add folds one physical row.
func (fo *folder) add(row []byte, fs []field) error {
	if fo.streaming {
		if fo.has && fo.sameGroup(row, fs) {
			return fo.combine(&fo.cur, row, fs, false)
		}
		if fo.has {
			if err := fo.emit(&fo.cur); err != nil {
				return err
			}
		}
		fo.resetCur()
		fo.keyRow = fo.keyRow[:0]
		for k, gi := range fo.p.GroupBy {
			f := fs[gi]
			fo.keyRow, fo.keyFields[k] = appendCol(fo.keyRow, row[f.start:f.end], f.null)
		}
		fo.has = true
		if err := fo.m.bud.take(1, groupOverhead+int64(len(fo.keyRow))); err != nil {
			return err
		}
		fo.cur.bytes = groupOverhead + int64(len(fo.keyRow))
		return fo.combine(&fo.cur, row, fs, true)
	}
	key := fo.scratch[:0]
	for _, gi := range fo.p.GroupBy {
		f := fs[gi]
		key = fo.specs[gi].appendKeyCol(key, row[f.start:f.end], f.null)
	}
	fo.scratch = key
	if i, ok := fo.index[string(key)]; ok {
		return fo.combine(&fo.groups[i], row, fs, false)
	}
	if len(fo.groups) >= math.MaxInt32 {
		return tooBig(fo.p)
	}
	sz := groupOverhead + 2*int64(len(key)) + int64(len(fo.p.Aggs))*64
	if err := fo.m.bud.take(1, sz); err != nil {
		return err
	}
	fo.index[string(key)] = int32(len(fo.groups))
	fo.groups = append(fo.groups, group{acc: fo.newAccs(), bytes: sz})
	return fo.combine(&fo.groups[len(fo.groups)-1], row, fs, true)
}

func (fo *folder) newAccs() []accum {
	n := len(fo.p.Aggs)
	if cap(fo.slab)-len(fo.slab) < n {
		fo.slab = make([]accum, 0, max(256, n))
	}
	s := len(fo.slab)
	fo.slab = fo.slab[:s+n]
	return fo.slab[s : s+n : s+n]
}

func (fo *folder) resetCur() {
	if fo.cur.acc == nil {
		fo.cur.acc = make([]accum, len(fo.p.Aggs))
	}
	for i := range fo.cur.acc {
		a := &fo.cur.acc[i]
		*a = accum{b: a.b[:0]}
	}
	d := &fo.cur.dist
	clear(d.set)
	*d = distinctState{vals: d.vals[:0], last: d.last[:0], set: d.set}
	fo.cur.bytes = 0
}

// sameGroup reports whether row belongs to the current streaming group.
func (fo *folder) sameGroup(row []byte, fs []field) bool {
	for k, gi := range fo.p.GroupBy {
		f, kf := fs[gi], fo.keyFields[k]
		if f.null || kf.null {
			if f.null != kf.null {
				return false
			}
			continue
		}
		if fo.specs[gi].compare(row[f.start:f.end], fo.keyRow[kf.start:kf.end]) != 0 {
			return false
		}
	}
	return true
}

// combine folds row into g.
func (fo *folder) combine(g *group, row []byte, fs []field, first bool) error {
	var grow int64
	for i := range fo.p.Aggs {
		f := fs[i]
		v := row[f.start:f.end]
		a := &g.acc[i]
		switch fo.p.Aggs[i].Func {
		case AggNone:
			if first {
				a.has = !f.null
				a.b = append(a.b[:0], v...)
				grow += int64(len(v))
			}
		case AggCount:
			if f.null {
				continue
			}
			c, err := strconv.ParseInt(bstr(v), 10, 64)
			if err != nil {
				return malformed()
			}
			s := a.cnt + c
			if (s > a.cnt) != (c > 0) {
				return outOfRange(false)
			}
			a.cnt = s
		case AggSum:
			if f.null {
				continue
			}
			if fo.sumFloat[i] {
				a.f += atof(v)
			} else {
				d, ok := parseDec(v)
				if !ok {
					return malformed()
				}
				a.d = a.d.add(d)
			}
			a.has = true
		case AggMin, AggMax:
			if f.null {
				continue
			}
			if a.has {
				c := fo.specs[i].compare(v, a.b)
				if (fo.p.Aggs[i].Func == AggMin) != (c < 0) || c == 0 {
					continue
				}
			}
			grow += int64(len(v) - len(a.b))
			a.b = append(a.b[:0], v...)
			a.has = true
		case AggGroupConcat:
			if f.null {
				continue
			}
			if a.has {
				a.b = append(a.b, fo.p.Aggs[i].Sep...)
				grow += int64(len(fo.p.Aggs[i].Sep))
			}
			a.b = append(a.b, v...)
			grow += int64(len(v))
			a.has = true
		}
	}
	if fo.distinct >= 0 {
		if f := fs[fo.distinct]; !f.null {
			n, err := fo.addDistinct(g, row[f.start:f.end])
			if err != nil {
				return err
			}
			grow += n
		}
	}
	if grow != 0 {
		g.bytes += grow
		return fo.m.bud.take(0, grow)
	}
	return nil
}

// addDistinct counts v once per group; it returns the bytes it retained.
func (fo *folder) addDistinct(g *group, v []byte) (int64, error) {
	ds := &g.dist
	spec := &fo.specs[fo.distinct]
	var grow int64
	if fo.dedupeSorted {
		if ds.hasLast && spec.compare(v, ds.last) == 0 {
			return 0, nil
		}
		grow += int64(len(v) - len(ds.last))
		ds.last = append(ds.last[:0], v...)
		ds.hasLast = true
	} else {
		key := spec.appendKey(fo.scratch[:0], v)
		fo.scratch = key
		if _, ok := ds.set[string(key)]; ok {
			return 0, nil
		}
		if ds.set == nil {
			ds.set = make(map[string]struct{})
		}
		ds.set[string(key)] = struct{}{}
		grow += int64(len(key)) + rowOverhead
	}
	ds.n++
	if fo.needSum {
		if fo.sumFloat[fo.distinct] {
			ds.fsum += atof(v)
		} else if d, ok := parseDec(v); ok {
			ds.sum = ds.sum.add(d)
		} else {
			return 0, malformed()
		}
	}
	if fo.needVals {
		n := len(ds.vals)
		ds.vals = appendLenEncHeader(ds.vals, len(v))
		ds.vals = append(ds.vals, v...)
		grow += int64(len(ds.vals) - n)
	}
	return grow, nil
}

// finish emits what is left: the last streaming group, every hash group,
// or the one row of an aggregate over no rows at all.
func (fo *folder) finish() error {
	if fo.streaming {
		if fo.has {
			fo.has = false
			return fo.emit(&fo.cur)
		}
		if len(fo.p.GroupBy) == 0 {
			fo.resetCur()
			return fo.emit(&fo.cur)
		}
		return nil
	}
	for i := range fo.groups {
		g := &fo.groups[i]
		if err := fo.emit(g); err != nil {
			return err
		}
		*g = group{}
	}
	return nil
}

// emit renders g as a physical row and passes it on.
func (fo *folder) emit(g *group) error {
	b := fo.out[:0]
	for i := range fo.p.Aggs {
		a := &g.acc[i]
		fn := fo.p.Aggs[i].Func
		switch {
		case fn == AggCount:
			b, fo.outF[i] = appendNumCol(b, func(d []byte) []byte { return strconv.AppendInt(d, a.cnt, 10) })
		case !a.has:
			b, fo.outF[i] = appendCol(b, nil, true)
		case fn == AggSum:
			s := &fo.specs[i]
			switch {
			case fo.sumFloat[i]:
				b, fo.outF[i] = appendNumCol(b, func(d []byte) []byte { return appendDouble(d, a.f) })
			default:
				sum := a.d
				if s.isDecimal() && s.decimals <= maxScale+8 {
					sum = sum.round(s.decimals)
				} else if !s.isDecimal() {
					sum = sum.round(0)
				}
				b, fo.outF[i] = appendNumCol(b, sum.appendText)
			}
		default:
			b, fo.outF[i] = appendCol(b, a.b, false)
		}
	}
	fo.out = b
	err := fo.m.onFolded(b, fo.outF, g)
	fo.m.bud.give(1, g.bytes)
	g.bytes = 0
	return err
}

// appendNumCol appends a column whose text fn appends (short, as numbers
// are) and returns its field.
func appendNumCol(dst []byte, fn func([]byte) []byte) ([]byte, field) {
	dst = append(dst, 0)
	at := len(dst)
	dst = fn(dst)
	n := len(dst) - at
	if n < 251 {
		dst[at-1] = byte(n)
		return dst, field{at, len(dst), false}
	}
	tmp := append([]byte(nil), dst[at:]...)
	return appendCol(dst[:at-1], tmp, false)
}
