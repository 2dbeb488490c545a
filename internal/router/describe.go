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

// Words describes the merge plan in sentences, one per line, for golden
// files and reviewers: what each shard returns, what the proxy does with
// the rows, and which columns the client gets. Physical columns are
// numbered from 1 as in SQL.
func (sc *Scatter) Words() []string {
	p := &sc.Plan
	var w []string
	col := func(i int) string {
		if i < 0 {
			return fmt.Sprintf("the %s column from the end", ordinal(-i))
		}
		return fmt.Sprintf("column %d", i+1)
	}
	ordered := func(os []merge.Order) string {
		var s []string
		for _, o := range os {
			d := "ascending"
			if o.Desc {
				d = "descending"
			}
			s = append(s, col(o.Col)+" "+d)
		}
		return strings.Join(s, ", then ")
	}
	if len(p.SourceOrder) > 0 {
		w = append(w, "each shard returns its rows ordered by "+ordered(p.SourceOrder)+"; the proxy interleaves the streams in that order")
	} else {
		w = append(w, "the proxy reads the shards' rows one shard after the other")
	}
	if p.Grouped {
		if len(p.GroupBy) == 0 {
			w = append(w, "the proxy folds every row into one group (aggregates without GROUP BY)")
		} else {
			var g []string
			for _, i := range p.GroupBy {
				g = append(g, col(i))
			}
			w = append(w, "the proxy folds rows with equal "+strings.Join(g, " and ")+" into one group")
		}
	}
	if p.Grouped {
		for i, a := range p.Aggs {
			if a.Func == merge.AggNone {
				continue
			}
			w = append(w, fmt.Sprintf("%s of a group = %s", col(i), aggWords(a)))
		}
	}
	if p.Distinct != nil {
		w = append(w, "the shards group by the DISTINCT aggregate's argument too ("+col(*p.Distinct)+"); the proxy counts each value once")
	}
	if p.DistinctRows {
		w = append(w, "the proxy drops rows equal to one already sent (DISTINCT)")
	}
	if p.Having != nil {
		w = append(w, "the proxy keeps the groups where "+exprWords(p.Having))
	}
	if p.NeedSort {
		w = append(w, "the proxy sorts the result by "+ordered(p.OrderBy))
	}
	for i, e := range p.Output {
		if c, ok := e.(merge.Col); ok && c.I == i {
			continue
		}
		w = append(w, fmt.Sprintf("the client's column %d = %s", i+1, exprWords(e)))
	}
	if p.Offset > 0 {
		w = append(w, fmt.Sprintf("the proxy skips the first %d rows", p.Offset))
	}
	if p.Limit >= 0 {
		w = append(w, fmt.Sprintf("the proxy stops after %d rows", p.Limit))
	}
	if sc.Hidden > 0 {
		w = append(w, fmt.Sprintf("the last %d physical columns were added for the merge and are not sent", sc.Hidden))
	}
	if sc.Wildcard {
		w = append(w, "the select list has a *: the number of columns is known when the rows arrive")
	}
	return w
}

func ordinal(n int) string {
	switch n {
	case 1:
		return "last"
	case 2:
		return "second"
	case 3:
		return "third"
	}
	return fmt.Sprintf("%dth", n)
}

func aggWords(a merge.Agg) string {
	switch a.Func {
	case merge.AggCount:
		return "the sum of the shards' counts"
	case merge.AggSum:
		return "the sum of the shards' sums"
	case merge.AggMin:
		return "the smallest of the shards' values"
	case merge.AggMax:
		return "the largest of the shards' values"
	case merge.AggGroupConcat:
		return fmt.Sprintf("the shards' lists joined with %q", a.Sep)
	}
	return "the first value"
}

// exprWords is exprString with columns numbered from 1.
func exprWords(e merge.Expr) string {
	s := exprString(e)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		j := i + 1
		n := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			n = n*10 + int(s[j]-'0')
			j++
		}
		if j == i+1 {
			b.WriteByte('$')
			continue
		}
		fmt.Fprintf(&b, "column %d", n+1)
		i = j - 1
	}
	return b.String()
}
