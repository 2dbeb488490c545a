package peersuite

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Run describes one run of the suite through the proxy, for Report.
type Run struct {
	// Suite is the suite directory (its README names the upstream commit).
	Suite string
	// Slices is the number of slices of the topology.
	Slices int
	// Date is when the run took place; Took how long it took.
	Date time.Time
	Took time.Duration
	// Rows are the tallies by scenario, type and mode, in report order.
	Rows []SummaryRow
	// Notes are extra paragraphs put after the description.
	Notes []string
	// Problems are the wrong answers and other failures, one line each.
	Problems []string
	// TopErrors is how many clean-error messages to list (0: all).
	TopErrors int
}

var commitRe = regexp.MustCompile("(?m)^\\|\\s*commit\\s*\\|\\s*`([0-9a-f]{7,40})`")

// SuiteCommit is the upstream commit the suite was copied from, as its
// README states it ("" if unknown).
func SuiteCommit(suite string) string {
	data, err := os.ReadFile(filepath.Join(suite, "README.md"))
	if err != nil {
		return ""
	}
	m := commitRe.FindSubmatch(data)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// Report renders a run as markdown for docs/sharding.md: a heading (level
// 3), what was run, the table of outcomes by scenario, type and mode with
// a total row, the most frequent clean errors with where they occur, and
// the wrong answers and failures if any.
func Report(r Run) string {
	var b strings.Builder
	b.WriteString("### ShardingSphere SQL end-to-end cases\n\n")
	src := "Apache ShardingSphere's SQL end-to-end cases"
	if c := SuiteCommit(r.Suite); c != "" {
		src += fmt.Sprintf(" (`test/e2e/sql` at %s)", shortCommit(c))
	}
	fmt.Fprintf(&b, "%s, MySQL subset: the DQL and DML cases of the scenarios `db`, `tbl` and "+
		"`dbtbl_with_readwrite_splitting`, with each scenario's rules converted by "+
		"`switchyard convert shardingsphere` onto %d slices (one replica each), "+
		"run on %s (%s). Every assertion runs in text mode and with server-side prepared "+
		"statements; DML cases also run as a prepared batch. DQL answers are compared with the "+
		"same query on a plain database holding the expected dataset; DML is checked on the "+
		"physical tables (update count, and every data node of the expected dataset on the "+
		"primaries).\n\n", src, r.Slices, r.Date.Format("2006-01-02"), r.Took.Round(time.Second))
	b.WriteString("`pass`: the same answer as the reference; `wrong`: a different answer; " +
		"`clean-error`: a MySQL error from the proxy (error 1235 for what it refuses as not " +
		"supported); `other`: a timeout, lost connection or driver error; `skipped`: not " +
		"checkable (the table's rules are not convertible, the statement fails on the " +
		"reference database too, or it holds several statements, which MySQL cannot prepare).\n\n")
	for _, n := range r.Notes {
		b.WriteString(n)
		b.WriteString("\n\n")
	}
	b.WriteString(Markdown(r.Rows))
	var total Tally
	for _, row := range r.Rows {
		for o, n := range row.Tally.Counts {
			if total.Counts == nil {
				total.Counts = map[Outcome]int{}
			}
			total.Counts[o] += n
		}
	}
	b.WriteString("| **total** | | |")
	for _, o := range Outcomes {
		fmt.Fprintf(&b, " **%d** |", total.Counts[o])
	}
	fmt.Fprintf(&b, " **%d** |\n", total.Total())

	msgs, where := errorMessages(r.Rows)
	top := TopMessages(msgs)
	if len(top) > 0 {
		shown := top
		if r.TopErrors > 0 && len(shown) > r.TopErrors {
			shown = shown[:r.TopErrors]
		}
		fmt.Fprintf(&b, "\nClean errors (%d messages", len(top))
		if len(shown) < len(top) {
			fmt.Fprintf(&b, ", the %d most frequent", len(shown))
		}
		b.WriteString("):\n\n| count | error | where |\n|---:|---|---|\n")
		for _, m := range shown {
			fmt.Fprintf(&b, "| %d | %s | %s |\n", m.Count, cell(m.Message), cell(where[m.Message]))
		}
	}
	if len(r.Problems) > 0 {
		b.WriteString("\nWrong answers and other failures:\n\n")
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "- %s\n", strings.ReplaceAll(p, "\n", " "))
		}
	}
	return b.String()
}

// errorMessages totals the clean-error messages of the rows and says
// where each occurs ("db, tbl: DML text, prepared").
func errorMessages(rows []SummaryRow) (map[string]int, map[string]string) {
	msgs := map[string]int{}
	type key struct{ typ, mode string }
	scen := map[string][]string{}
	runs := map[string][]key{}
	add := func(list []string, s string) []string {
		for _, x := range list {
			if x == s {
				return list
			}
		}
		return append(list, s)
	}
	for _, row := range rows {
		for m, n := range row.Tally.Messages {
			msgs[m] += n
			scen[m] = add(scen[m], row.Scenario)
			k := key{strings.ToUpper(row.Type), row.Mode}
			found := false
			for _, x := range runs[m] {
				found = found || x == k
			}
			if !found {
				runs[m] = append(runs[m], k)
			}
		}
	}
	where := map[string]string{}
	for m := range msgs {
		var parts []string
		byType := map[string][]string{}
		var types []string
		for _, k := range runs[m] {
			if _, ok := byType[k.typ]; !ok {
				types = append(types, k.typ)
			}
			byType[k.typ] = add(byType[k.typ], k.mode)
		}
		sort.Strings(types)
		for _, t := range types {
			parts = append(parts, t+" "+strings.Join(byType[t], ", "))
		}
		where[m] = strings.Join(scen[m], ", ") + ": " + strings.Join(parts, "; ")
	}
	return msgs, where
}

func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ")
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
