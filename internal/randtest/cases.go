package randtest

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Case is one recorded statement: a query compared in order or as a
// multiset, or a write, run on the data of a seed.
type Case struct {
	Seed int64
	Mode string // "ordered", "multiset" or "write"
	SQL  string
	Line int
}

// Format renders c as a line of a cases file (without its seed line).
func (c Case) Format() string { return c.Mode + " " + c.SQL }

// CaseOf returns the case of a query.
func CaseOf(seed int64, s Select) Case {
	m := "multiset"
	if s.Total {
		m = "ordered"
	}
	if s.Folded() {
		m += "-folded"
	}
	return Case{Seed: seed, Mode: m, SQL: s.SQL()}
}

// Total and Folded decode the mode.
func (c Case) Total() bool  { return strings.HasPrefix(c.Mode, "ordered") }
func (c Case) Folded() bool { return strings.HasSuffix(c.Mode, "-folded") }

// ParseCases reads a cases file: "seed N" lines set the data seed of the
// cases that follow; "# ..." and blank lines are comments; other lines are
// "MODE SQL" with MODE one of ordered, multiset (either optionally with
// -folded) or write.
func ParseCases(r io.Reader) ([]Case, error) {
	var out []Case
	var seed int64 = 1
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		mode, rest, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("line %d: want MODE SQL", n)
		}
		switch mode {
		case "seed":
			v, err := strconv.ParseInt(rest, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", n, err)
			}
			seed = v
			continue
		case "ordered", "multiset", "ordered-folded", "multiset-folded", "write":
		default:
			return nil, fmt.Errorf("line %d: unknown mode %q", n, mode)
		}
		out = append(out, Case{Seed: seed, Mode: mode, SQL: strings.TrimSpace(rest), Line: n})
	}
	return out, sc.Err()
}
