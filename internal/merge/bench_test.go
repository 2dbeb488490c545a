package merge

import (
	"fmt"
	"testing"
)

// benchSource serves prepared rows without copying.
type benchSource struct {
	rows [][]byte
	i    int
}

func (s *benchSource) Next() ([]byte, error) {
	if s.i >= len(s.rows) {
		return nil, nil
	}
	s.i++
	return s.rows[s.i-1], nil
}

// benchRows makes k sources of n rows (id, name, amount, grp) ordered by id
// and by grp, interleaved across sources.
func benchRows(k, n int) [][][]byte {
	out := make([][][]byte, k)
	for j := range out {
		for i := 0; i < n; i++ {
			id := i*k + j
			out[j] = append(out[j], enc(id, fmt.Sprintf("customer-%06d", id), fmt.Sprintf("%d.%02d", id%1000, id%100), id/(k*10)))
		}
	}
	return out
}

func runBench(b *testing.B, p *Plan, data [][][]byte) {
	cs := cols(intCol("id"), strCol("name", 45), decCol("amount", 2), intCol("grp"))
	srcs := make([]Source, len(data))
	bs := make([]benchSource, len(data))
	total := 0
	for _, d := range data {
		total += len(d)
	}
	emitted := 0
	emit := func([]byte) error { emitted++; return nil }
	b.ReportAllocs()
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		for j := range bs {
			bs[j] = benchSource{rows: data[j]}
			srcs[j] = &bs[j]
		}
		if err := Run(p, cs, srcs, emit); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*total), "ns/row")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkMergeOrderBy(b *testing.B) {
	data := benchRows(3, 100000)
	b.Run("concat-no-order", func(b *testing.B) {
		runBench(b, &Plan{Aggs: make([]Agg, 4), Limit: -1}, data)
	})
	b.Run("identity", func(b *testing.B) {
		runBench(b, &Plan{Aggs: make([]Agg, 4), SourceOrder: []Order{{Col: 0}}, Limit: -1}, data)
	})
	b.Run("by-string-desc", func(b *testing.B) {
		rev := make([][][]byte, len(data))
		for j := range data {
			for i := len(data[j]) - 1; i >= 0; i-- {
				rev[j] = append(rev[j], data[j][i])
			}
		}
		runBench(b, &Plan{Aggs: make([]Agg, 4), SourceOrder: []Order{{Col: 1, Desc: true}}, Limit: -1}, rev)
	})
	b.Run("projected", func(b *testing.B) {
		runBench(b, &Plan{Aggs: make([]Agg, 4), SourceOrder: []Order{{Col: 0}}, Output: []Expr{Col{2}, Col{0}}, Visible: 1, Limit: -1}, data)
	})
	b.Run("sorted-top100", func(b *testing.B) {
		runBench(b, &Plan{Aggs: make([]Agg, 4), OrderBy: []Order{{Col: 2, Desc: true}}, NeedSort: true, Limit: 100}, data)
	})
	b.Run("sorted-all", func(b *testing.B) {
		runBench(b, &Plan{Aggs: make([]Agg, 4), OrderBy: []Order{{Col: 2, Desc: true}}, NeedSort: true, Limit: -1}, data)
	})
}

func BenchmarkGroupBy(b *testing.B) {
	data := benchRows(3, 100000)
	fold := []Agg{{Func: AggCount}, {Func: AggMax}, {Func: AggSum}, {}}
	b.Run("streaming", func(b *testing.B) {
		runBench(b, &Plan{Aggs: fold, Grouped: true, GroupBy: []int{3}, SourceOrder: []Order{{Col: 3}},
			Output: []Expr{Col{3}, Col{0}, Col{2}, Avg{Sum: 2, Count: 0}}, Limit: -1}, data)
	})
	b.Run("hash", func(b *testing.B) {
		runBench(b, &Plan{Aggs: fold, Grouped: true, GroupBy: []int{3},
			Output: []Expr{Col{3}, Col{0}, Col{2}, Avg{Sum: 2, Count: 0}}, Limit: -1}, data)
	})
	b.Run("plain-aggregate", func(b *testing.B) {
		runBench(b, &Plan{Aggs: []Agg{{Func: AggCount}, {Func: AggMin}, {Func: AggSum}, {Func: AggMax}}, Grouped: true, Limit: -1}, data)
	})
	b.Run("count-distinct-streaming", func(b *testing.B) {
		runBench(b, &Plan{Aggs: []Agg{{Func: AggCount}, {}, {}, {}}, Grouped: true, Distinct: intp(3), SourceOrder: []Order{{Col: 3}},
			Output: []Expr{DistinctAgg{Func: DistinctCount}, Col{0}}, Limit: -1}, data)
	})
}
