package merge

import (
	"fmt"
	"math/big"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// refRow is a random row: an int (or NULL), an ASCII ci string, a decimal.
type refRow struct {
	i *int
	s string
	d string
}

func randRow(rng *rand.Rand) refRow {
	var r refRow
	if rng.Intn(8) != 0 {
		v := rng.Intn(21) - 10
		r.i = &v
	}
	letters := []string{"a", "A", "b", "B ", "ab", "Ab", "_", "", " "}
	r.s = letters[rng.Intn(len(letters))]
	r.d = fmt.Sprintf("%d.%02d", rng.Intn(7)-3, rng.Intn(100))
	return r
}

func (r refRow) values() []any {
	var i any
	if r.i != nil {
		i = *r.i
	}
	return []any{i, r.s, r.d}
}

// refCmp compares by the given orders with an independent implementation.
func refCmp(a, b refRow, orders []Order) int {
	for _, o := range orders {
		var c int
		switch o.Col {
		case 0:
			switch {
			case a.i == nil && b.i == nil:
			case a.i == nil:
				c = -1
			case b.i == nil:
				c = 1
			default:
				c = *a.i - *b.i
			}
		case 1:
			c = strings.Compare(strings.ToUpper(strings.TrimRight(a.s, " ")), strings.ToUpper(strings.TrimRight(b.s, " ")))
		case 2:
			x, _ := new(big.Rat).SetString(a.d)
			y, _ := new(big.Rat).SetString(b.d)
			c = x.Cmp(y)
		}
		if o.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func TestPropertyMergeOrderLimit(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	cs := cols(intCol("i"), strCol("s", 45), decCol("d", 2))
	for iter := 0; iter < 500; iter++ {
		n := rng.Intn(40)
		rows := make([]refRow, n)
		for i := range rows {
			rows[i] = randRow(rng)
		}
		var orders []Order
		for _, c := range rng.Perm(3)[:1+rng.Intn(3)] {
			orders = append(orders, Order{Col: c, Desc: rng.Intn(2) == 0})
		}
		k := 1 + rng.Intn(5)
		parts := make([][]refRow, k)
		for _, r := range rows {
			j := rng.Intn(k)
			parts[j] = append(parts[j], r)
		}
		limit := int64(-1)
		if rng.Intn(2) == 0 {
			limit = int64(rng.Intn(n + 2))
		}
		offset := uint64(0)
		if rng.Intn(3) == 0 {
			offset = uint64(rng.Intn(n + 2))
		}
		needSort := rng.Intn(2) == 0
		srcs := make([]*fakeSource, k)
		for j, part := range parts {
			if !needSort {
				slices.SortStableFunc(part, func(a, b refRow) int { return refCmp(a, b, orders) })
			}
			srcs[j] = &fakeSource{}
			for _, r := range part {
				srcs[j].rows = append(srcs[j].rows, enc(r.values()...))
			}
		}
		p := &Plan{Aggs: make([]Agg, 3), Offset: offset, Limit: limit}
		if needSort {
			p.OrderBy, p.NeedSort = orders, true
		} else {
			p.SourceOrder = orders
		}
		got := mustRun(t, p, cs, srcs...)

		want := slices.Clone(rows)
		slices.SortStableFunc(want, func(a, b refRow) int { return refCmp(a, b, orders) })
		lo := min(int(offset), len(want))
		want = want[lo:]
		if limit >= 0 && int(limit) < len(want) {
			want = want[:limit]
		}
		if len(got) != len(want) {
			t.Fatalf("iter %d: %d rows, want %d", iter, len(got), len(want))
		}
		for i := range got {
			g := refRow{s: got[i][1], d: got[i][2]}
			if got[i][0] != nul {
				var v int
				fmt.Sscan(got[i][0], &v)
				g.i = &v
			}
			if refCmp(g, want[i], orders) != 0 {
				t.Fatalf("iter %d row %d: got %q, want key of %v", iter, i, got[i], want[i].values())
			}
		}
	}
}

func TestPropertyGroupBy(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	// Physical rows: group key s (ci), x (int, the DISTINCT argument), a
	// partial count and a partial decimal sum.
	cs := cols(strCol("s", 45), intCol("x"), intCol("cnt"), decCol("sum", 2))
	for iter := 0; iter < 300; iter++ {
		type prow struct {
			s   string
			x   any
			cnt int
			sum string
		}
		n := rng.Intn(30)
		rows := make([]prow, n)
		letters := []string{"a", "A", "b", "B ", "c", " "}
		for i := range rows {
			rows[i] = prow{letters[rng.Intn(len(letters))], any(rng.Intn(4)), rng.Intn(5), fmt.Sprintf("%d.%02d", rng.Intn(5)-2, rng.Intn(100))}
			if rng.Intn(5) == 0 {
				rows[i].x = nil
			}
		}
		key := func(s string) string { return strings.ToUpper(strings.TrimRight(s, " ")) }
		// Reference.
		type agg struct {
			cnt      int
			sum      *big.Rat
			distinct map[int]bool
		}
		ref := map[string]*agg{}
		for _, r := range rows {
			a := ref[key(r.s)]
			if a == nil {
				a = &agg{sum: new(big.Rat), distinct: map[int]bool{}}
				ref[key(r.s)] = a
			}
			a.cnt += r.cnt
			v, _ := new(big.Rat).SetString(r.sum)
			a.sum.Add(a.sum, v)
			if r.x != nil {
				a.distinct[r.x.(int)] = true
			}
		}
		streaming := rng.Intn(2) == 0
		k := 1 + rng.Intn(5)
		parts := make([][]prow, k)
		for _, r := range rows {
			j := rng.Intn(k)
			parts[j] = append(parts[j], r)
		}
		srcs := make([]*fakeSource, k)
		for j, part := range parts {
			if streaming {
				slices.SortStableFunc(part, func(a, b prow) int {
					if c := strings.Compare(key(a.s), key(b.s)); c != 0 {
						return c
					}
					xa, xb := -1, -1
					if a.x != nil {
						xa = a.x.(int)
					}
					if b.x != nil {
						xb = b.x.(int)
					}
					return xa - xb
				})
			}
			srcs[j] = &fakeSource{}
			for _, r := range part {
				srcs[j].rows = append(srcs[j].rows, enc(r.s, r.x, r.cnt, r.sum))
			}
		}
		p := &Plan{Aggs: aggs(AggNone, AggNone, AggCount, AggSum), Grouped: true, GroupBy: []int{0}, Distinct: intp(1),
			Output:   []Expr{Col{0}, Col{2}, Col{3}, DistinctAgg{Func: DistinctCount}},
			OrderBy:  []Order{{Col: 0}},
			NeedSort: !streaming, Limit: -1}
		if streaming {
			p.SourceOrder = []Order{{Col: 0}, {Col: 1}}
		}
		got := mustRun(t, p, cs, srcs...)
		if len(got) != len(ref) {
			t.Fatalf("iter %d: %d groups, want %d", iter, len(got), len(ref))
		}
		for i, g := range got {
			if i > 0 && key(got[i-1][0]) >= key(g[0]) {
				t.Fatalf("iter %d: groups out of order: %q", iter, got)
			}
			a := ref[key(g[0])]
			if a == nil {
				t.Fatalf("iter %d: unexpected group %q", iter, g)
			}
			want := []string{g[0], fmt.Sprint(a.cnt), a.sum.FloatString(2), fmt.Sprint(len(a.distinct))}
			if strings.Join(g, "|") != strings.Join(want, "|") {
				t.Fatalf("iter %d: got %q, want %q", iter, g, want)
			}
		}
	}
}
