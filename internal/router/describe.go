package router

import (
	"fmt"
	"strings"

	"github.com/switchyard-db/switchyard/internal/merge"
)

// String describes the merge plan compactly (golden files, EXPLAIN).
func (sc *Scatter) String() string {
	p := &sc.Plan
	var parts []string
	if sc.Wildcard {
		parts = append(parts, "wildcard")
	}
	if sc.Hidden > 0 {
		parts = append(parts, fmt.Sprintf("hidden=%d", sc.Hidden))
	}
	if len(p.Aggs) > 0 {
		var cols []string
		for i, a := range p.Aggs {
			c := fmt.Sprintf("%d:%s", i, aggName(a))
			if i < len(p.Output) {
				if col, ok := p.Output[i].(merge.Col); !ok || col.I != i {
					c += "->" + exprString(p.Output[i])
				}
			}
			cols = append(cols, c)
		}
		parts = append(parts, "cols["+strings.Join(cols, " ")+"]")
	}
	if p.Grouped {
		parts = append(parts, fmt.Sprintf("group%v", p.GroupBy))
	}
	if p.Distinct != nil {
		parts = append(parts, fmt.Sprintf("distinct-arg=%d", *p.Distinct))
	}
	if p.DistinctRows {
		parts = append(parts, "distinct-rows")
	}
	if len(p.SourceOrder) > 0 {
		parts = append(parts, "merge-by"+orders(p.SourceOrder))
	}
	if p.Having != nil {
		parts = append(parts, "having "+exprString(p.Having))
	}
	if p.NeedSort {
		parts = append(parts, "sort"+orders(p.OrderBy))
	}
	if p.Limit >= 0 || p.Offset > 0 {
		parts = append(parts, fmt.Sprintf("offset=%d limit=%d", p.Offset, p.Limit))
	}
	if len(parts) == 0 {
		return "concatenate"
	}
	return strings.Join(parts, " ")
}

func orders(os []merge.Order) string {
	var s []string
	for _, o := range os {
		d := ""
		if o.Desc {
			d = " desc"
		}
		s = append(s, fmt.Sprintf("%d%s", o.Col, d))
	}
	return "(" + strings.Join(s, ",") + ")"
}

func aggName(a merge.Agg) string {
	return [...]string{"first", "count", "sum", "min", "max", "group_concat"}[a.Func]
}

func exprString(e merge.Expr) string {
	switch x := e.(type) {
	case merge.Col:
		return fmt.Sprintf("$%d", x.I)
	case merge.Lit:
		return fmt.Sprint(x.V)
	case merge.Bin:
		return fmt.Sprintf("(%s %s %s)", exprString(x.L), [...]string{"=", "!=", "<", "<=", ">", ">=", "<=>", "and", "or", "xor", "+", "-", "*", "/", "div", "%"}[x.Op], exprString(x.R))
	case merge.Not:
		return "not " + exprString(x.E)
	case merge.Neg:
		return "-" + exprString(x.E)
	case merge.IsNull:
		if x.Not {
			return exprString(x.E) + " is not null"
		}
		return exprString(x.E) + " is null"
	case merge.Avg:
		return fmt.Sprintf("avg($%d/$%d)", x.Sum, x.Count)
	case merge.DistinctAgg:
		return [...]string{"count", "sum", "avg", "group_concat"}[x.Func] + "(distinct)"
	case merge.AsColumn:
		return exprString(x.E)
	case merge.Func:
		var args []string
		for _, a := range x.Args {
			args = append(args, exprString(a))
		}
		return strings.ToLower(x.Name) + "(" + strings.Join(args, ", ") + ")"
	case merge.Case:
		var b strings.Builder
		b.WriteString("case")
		if x.Value != nil {
			b.WriteString(" " + exprString(x.Value))
		}
		for i := range x.When {
			fmt.Fprintf(&b, " when %s then %s", exprString(x.When[i]), exprString(x.Then[i]))
		}
		if x.Else != nil {
			b.WriteString(" else " + exprString(x.Else))
		}
		return b.String() + " end"
	}
	return fmt.Sprintf("%T", e)
}
