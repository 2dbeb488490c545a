package session

import (
	"time"

	"github.com/switchyard-db/switchyard/internal/digest"
	"github.com/switchyard-db/switchyard/internal/router"
)

// noteScatter records the slices a statement scatters over.
func (s *Session) noteScatter(steps []router.Step) {
	seen := map[string]bool{}
	s.scatterSlices = s.scatterSlices[:0]
	for _, st := range steps {
		if !seen[st.Slice] {
			seen[st.Slice] = true
			s.scatterSlices = append(s.scatterSlices, st.Slice)
		}
	}
}

// noteDigest adds a finished statement to the digest statistics and, when
// slower than the namespace's threshold, to the slow log.
func (s *Session) noteDigest(sql, route string, d time.Duration, failed bool) {
	slices := s.scatterSlices
	s.scatterSlices = nil
	if s.env.Digests == nil && s.env.SlowLog == nil {
		return
	}
	if len(slices) > 1 {
		route = "scatter"
	}
	var rows int64
	if s.rowCount < 0 {
		rows = int64(s.foundRows)
	} else {
		rows = s.rowCount
	}
	if failed {
		rows = 0
	}
	fp, dg := digest.Fingerprint(sql)
	s.env.Digests.Record(s.ns.Name, fp, dg, route, d, rows, failed)
	th := s.ns.Config.SlowThreshold(s.env.Current().Config)
	if th <= 0 || d < th || s.env.SlowLog == nil {
		return
	}
	text := sql
	if len(text) > 4096 {
		text = text[:4096] + "..."
	}
	e := &digest.SlowEntry{Time: time.Now().UTC(), Namespace: s.ns.Name, User: s.user.Name, Digest: dg, Fingerprint: fp,
		SQL: text, Route: route, Slices: slices, DurationMS: float64(d.Microseconds()) / 1000, Rows: rows}
	if failed {
		e.Error = "failed"
	}
	if err := s.env.SlowLog.Write(e); err != nil {
		s.log.Warn("slow log write failed", "err", err)
	}
}
