package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/switchyard-db/switchyard/internal/loadgen"
)

// result is what one scenario run measured.
type result struct {
	Scenario string
	Run      int
	Err      error
	Took     time.Duration
	LoadAvg  string // of the machine when the run started

	t0 time.Time // the event

	// Detection: event -> the proxy drops the primary (killed, frozen), marks
	// the replica down (replica), or marks the returning node up, counted
	// from when it first answered (return).
	Detection    time.Duration
	HasDetection bool
	// Resume: the new primary writable (promotion returned; switchover:
	// the proxy takes the target; return: the proxy takes the primary back
	// after the split brain) -> the first successful write after it.
	Resume    time.Duration
	HasResume bool

	Report    loadgen.Report
	HasReport bool
	// Gap is the longest time without a successful write, from 0.5 s after
	// the load started.
	Gap time.Duration

	SyncOK, SyncTotal int
	Notes             []string
	Timeline          string
	Prep              *result // return: the killed failover before
}

func (r *result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
}

func (r *result) errorsByCode(prefix string) string {
	var keys []string
	for k := range r.Report.Errors {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", strings.TrimPrefix(k, prefix), r.Report.Errors[k]))
	}
	return strings.Join(parts, " ")
}

func withCodes(n int, codes string) string {
	if n == 0 || codes == "" {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%d (%s)", n, codes)
}

func (r *result) summary() string {
	var b strings.Builder
	if r.HasDetection {
		fmt.Fprintf(&b, "detection %v, ", ms(r.Detection))
	}
	if r.HasResume {
		fmt.Fprintf(&b, "first write %v after writable, ", ms(r.Resume))
	}
	if r.HasReport {
		fmt.Fprintf(&b, "longest write gap after start-up %v; loadgen: %v", ms(r.Gap), r.Report)
	}
	fmt.Fprintf(&b, "; replicas in sync %d/%d; run took %v", r.SyncOK, r.SyncTotal, r.Took.Round(100*time.Millisecond))
	if r.LoadAvg != "" {
		fmt.Fprintf(&b, "; load average before %s", r.LoadAvg)
	}
	return b.String()
}

// raw is the full record of one run.
func (r *result) raw() string {
	var b strings.Builder
	fmt.Fprintf(&b, "- %s #%d: ", r.Scenario, r.Run)
	if r.Err != nil {
		fmt.Fprintf(&b, "FAILED: %v\n", r.Err)
	} else {
		fmt.Fprintf(&b, "%s\n", r.summary())
	}
	if r.HasReport && r.Report.FirstErrorText != "" {
		fmt.Fprintf(&b, "  - first error: %s\n", r.Report.FirstErrorText)
	}
	if r.HasReport {
		fmt.Fprintf(&b, "  - loadgen's longest write gap (start-up included) began %v after the load started; %.0f acked writes/s\n", ms(r.Report.MaxGapStarted), r.Report.WritesPerSec)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  - %s\n", n)
	}
	if r.Prep != nil {
		fmt.Fprintf(&b, "  - before it, %s: %s\n", r.Prep.Scenario, r.Prep.summary())
		for _, n := range r.Prep.Notes {
			fmt.Fprintf(&b, "    - %s\n", n)
		}
	}
	if r.Timeline != "" {
		b.WriteString("  - timeline (ms from the event):\n\n")
		b.WriteString(r.Timeline)
		b.WriteString("\n")
	}
	return b.String()
}

const tableHead = "| scenario | run | detection | writable → first write | longest write gap | failed writes | failed reads | idle conns dropped | acked writes | acked writes missing | replicas in sync |\n" +
	"|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"

func durCell(d time.Duration, ok bool) string {
	if !ok {
		return "—"
	}
	return ms(d)
}

func (r *result) row() string {
	if r.Err != nil {
		return fmt.Sprintf("| %s | %d | failed: %s | | | | | | | | |\n", r.Scenario, r.Run, strings.ReplaceAll(firstLine(r.Err.Error()), "|", "/"))
	}
	rep := r.Report
	gap := "—"
	fw, fr, dropped, acked, missing := "—", "—", "—", "—", "—"
	if r.HasReport {
		gap = ms(r.Gap)
		fw = withCodes(rep.FailedWrites, r.errorsByCode("write:"))
		fr = withCodes(rep.FailedReads, r.errorsByCode("read:"))
		dropped = fmt.Sprint(rep.IdleDropped)
		acked = fmt.Sprint(rep.AckedWrites)
		missing = fmt.Sprint(rep.MissingWrites)
	}
	return fmt.Sprintf("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %d/%d |\n",
		r.Scenario, r.Run, durCell(r.Detection, r.HasDetection), durCell(r.Resume, r.HasResume), gap,
		fw, fr, dropped, acked, missing, r.SyncOK, r.SyncTotal)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func medianDur(ds []time.Duration) (time.Duration, bool) {
	if len(ds) == 0 {
		return 0, false
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

func medianInt(xs []int) string {
	if len(xs) == 0 {
		return "—"
	}
	s := append([]int(nil), xs...)
	sort.Ints(s)
	if len(s)%2 == 1 {
		return fmt.Sprint(s[len(s)/2])
	}
	a, b := s[len(s)/2-1], s[len(s)/2]
	if (a+b)%2 == 0 {
		return fmt.Sprint((a + b) / 2)
	}
	return fmt.Sprintf("%.1f", float64(a+b)/2)
}

// medianRow summarizes the successful runs of one scenario.
func medianRow(scenario string, rs []*result) string {
	var det, res, gap []time.Duration
	var fw, fr, dr, ac, mi, so []int
	n := 0
	for _, r := range rs {
		if r.Scenario != scenario || r.Err != nil {
			continue
		}
		n++
		if r.HasDetection {
			det = append(det, r.Detection)
		}
		if r.HasResume {
			res = append(res, r.Resume)
		}
		if r.HasReport {
			gap = append(gap, r.Gap)
			fw = append(fw, r.Report.FailedWrites)
			fr = append(fr, r.Report.FailedReads)
			dr = append(dr, r.Report.IdleDropped)
			ac = append(ac, r.Report.AckedWrites)
			mi = append(mi, r.Report.MissingWrites)
		}
		so = append(so, r.SyncOK)
	}
	if n == 0 {
		return ""
	}
	md, okd := medianDur(det)
	mr, okr := medianDur(res)
	mg, okg := medianDur(gap)
	total := 0
	for _, r := range rs {
		if r.Scenario == scenario && r.Err == nil {
			total = r.SyncTotal
		}
	}
	return fmt.Sprintf("| **%s** | **median of %d** | %s | %s | %s | %s | %s | %s | %s | %s | %s/%d |\n",
		scenario, n, durCell(md, okd), durCell(mr, okr), durCell(mg, okg),
		medianInt(fw), medianInt(fr), medianInt(dr), medianInt(ac), medianInt(mi), medianInt(so), total)
}

// renderTable prints one row per run, grouped by scenario, with a median
// row per scenario when there are several runs.
func renderTable(rs []*result, scenarios []string, repeat int) string {
	var b strings.Builder
	b.WriteString(tableHead)
	for _, s := range scenarios {
		for _, r := range rs {
			if r.Scenario == s {
				b.WriteString(r.row())
			}
		}
		if repeat > 1 {
			b.WriteString(medianRow(s, rs))
		}
	}
	return b.String()
}
