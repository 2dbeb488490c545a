package randtest

// Shrink returns a smallest Select (greedily: removing one part at a time)
// for which fails still reports true. fails must be true for s.
func Shrink(s Select, fails func(Select) bool) Select {
	for changed := true; changed; {
		changed = false
		for _, c := range candidates(s) {
			if fails(c) {
				s, changed = c, true
				break
			}
		}
	}
	return s
}

func without(xs []string, i int) []string {
	out := append([]string(nil), xs[:i]...)
	return append(out, xs[i+1:]...)
}

// candidates are the queries one step smaller than s. Removing an ORDER BY
// part or making the order partial is only tried without a LIMIT (a LIMIT
// over a partial order has no defined answer).
func candidates(s Select) []Select {
	var out []Select
	if s.Limit != "" {
		c := s
		c.Limit = ""
		out = append(out, c)
	}
	if s.Limit == "" && len(s.OrderBy) > 0 {
		c := s
		c.OrderBy, c.Total = nil, false
		out = append(out, c)
		for i := range s.OrderBy {
			c := s
			c.OrderBy, c.Total = without(s.OrderBy, i), false
			out = append(out, c)
		}
	}
	if len(s.Having) > 0 {
		for i := range s.Having {
			c := s
			c.Having = without(s.Having, i)
			out = append(out, c)
		}
	}
	for i := range s.Where {
		c := s
		c.Where = without(s.Where, i)
		out = append(out, c)
	}
	if len(s.Items) > 1 {
		for i := range s.Items {
			c := s
			c.Items = without(s.Items, i)
			out = append(out, c)
		}
	}
	if s.Distinct {
		c := s
		c.Distinct = false
		out = append(out, c)
	}
	for i := range s.GroupBy {
		c := s
		c.GroupBy = without(s.GroupBy, i)
		out = append(out, c)
	}
	return out
}
