package merge

import (
	"testing"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// fuzzPlans exercise every path: streaming and sorted, grouped streaming
// and hashed, expressions, HAVING, DISTINCT.
func fuzzPlans() []*Plan {
	all := []Expr{Col{0}, Col{1}, Col{2}, Col{3}, Col{4},
		Avg{Sum: 2, Count: 1},
		Bin{Op: OpDiv, L: Col{0}, R: Col{2}},
		Bin{Op: OpAdd, L: Col{3}, R: Col{1}},
		Bin{Op: OpMul, L: Col{4}, R: Col{2}},
		Bin{Op: OpMod, L: Col{1}, R: Col{0}},
		Bin{Op: OpIntDiv, L: Col{3}, R: Col{0}},
		Neg{E: Col{4}},
		DistinctAgg{Func: DistinctCount}, DistinctAgg{Func: DistinctSum}, DistinctAgg{Func: DistinctAvg}, DistinctAgg{Func: DistinctGroupConcat, Sep: ","},
	}
	having := Bin{Op: OpOr, L: Bin{Op: OpGT, L: Col{3}, R: Col{4}}, R: IsNull{E: Col{0}}}
	return []*Plan{
		{Aggs: make([]Agg, 5), Limit: -1},
		{Aggs: make([]Agg, 5), SourceOrder: []Order{{Col: 0}, {Col: 1, Desc: true}}, Limit: 7},
		{Aggs: make([]Agg, 5), OrderBy: []Order{{Col: 3}, {Col: 4, Desc: true}}, NeedSort: true, DistinctRows: true, Offset: 1, Limit: -1, MaxRows: 50},
		{Aggs: []Agg{{}, {Func: AggCount}, {Func: AggSum}, {Func: AggMin}, {Func: AggGroupConcat, Sep: "-"}}, Grouped: true, GroupBy: []int{0},
			SourceOrder: []Order{{Col: 0}, {Col: 3}}, Distinct: intp(3), Output: all, Having: having, Limit: -1},
		{Aggs: []Agg{{}, {Func: AggCount}, {Func: AggSum}, {Func: AggMax}, {Func: AggSum}}, Grouped: true, GroupBy: []int{0, 4},
			Distinct: intp(3), Output: all, OrderBy: []Order{{Col: 5}}, NeedSort: true, Limit: 3, MaxBytes: 4096},
		{Aggs: []Agg{{Func: AggCount}, {Func: AggCount}, {Func: AggSum}, {Func: AggMin}, {Func: AggMax}}, Grouped: true, Limit: -1},
	}
}

func fuzzCols() []protocol.ColumnDef {
	return cols(strCol("s", 45), intCol("c"), decCol("d", 2), dblCol("f"), typed("t", protocol.TypeTime))
}

func FuzzRun(f *testing.F) {
	f.Add(byte(0), enc("a", 1, "1.50", "0.5", "01:00:00"), enc("b", nil, "2.00", "1e20", "-838:59:59"))
	f.Add(byte(3), enc("a", 1, "1.50", "0.5", "01:00:00"), enc("A", 2, "-1.5", "x", "1 01:00:00.5"))
	f.Add(byte(4), enc(nil, nil, nil, nil, nil), []byte{0xfc, 0xff})
	f.Add(byte(5), enc("9223372036854775807", "9223372036854775807", "99999999999999999999999.99", "-0", ""), enc("z", "1", "1", "1", "1"))
	f.Fuzz(func(t *testing.T, which byte, a, b []byte) {
		plans := fuzzPlans()
		p := plans[int(which)%len(plans)]
		cs := fuzzCols()
		// Cut each input into rows at 0x00 bytes so one input makes several.
		split := func(in []byte) *fakeSource {
			s := &fakeSource{}
			start := 0
			for i, c := range in {
				if c == 0x00 && i > start {
					s.rows = append(s.rows, in[start:i])
					start = i + 1
				}
			}
			s.rows = append(s.rows, in[start:])
			return s
		}
		// Read b as column values instead: 0x00 separates values, a lone
		// 0x01 is NULL, every 5 values make a row.
		values := &fakeSource{}
		var vals []any
		start := 0
		for i := 0; i <= len(b); i++ {
			if i < len(b) && b[i] != 0x00 {
				continue
			}
			v := any(string(b[start:i]))
			if i == start+1 && b[start] == 0x01 {
				v = nil
			}
			vals = append(vals, v)
			if len(vals) == 5 {
				values.rows = append(values.rows, enc(vals...))
				vals = vals[:0]
			}
			start = i + 1
		}
		defs := OutputColumns(p, cs)
		// Raw rows are mostly malformed and end the merge early, so only
		// half of the inputs use them.
		srcs := []Source{values, src(r("a", 1, "1.00", "1", "00:00:01"))}
		if which&0x80 != 0 {
			srcs = append(srcs, split(a), split(b))
		}
		err := Run(p, cs, srcs, func(row []byte) error {
			_, _ = protocol.AppendBinaryRow(nil, row, defs)
			return nil
		})
		_ = err
		_, _ = protocol.AppendBinaryRow(nil, a, cs)
	})
}
