// Package gtid compares replication positions: MariaDB GTID positions
// ("domain-server-seq" lists, as in @@gtid_binlog_pos and last_gtid) and
// MySQL GTID sets ("uuid:1-5:7,uuid2:1-3", as in @@gtid_executed and
// session_track_gtids).
package gtid

import (
	"strconv"
	"strings"
)

// Covers reports whether position have includes every transaction of
// position need: for each replication domain in need, have holds a
// sequence number at least as high. Unparsable input never covers.
func Covers(have, need string) bool {
	if need == "" {
		return true
	}
	if IsMySQLSet(need) {
		return coversSet(have, need)
	}
	for _, n := range strings.Split(need, ",") {
		nd, ns, ok := parse(n)
		if !ok {
			return false
		}
		covered := false
		for _, h := range strings.Split(have, ",") {
			hd, hs, ok := parse(h)
			if ok && hd == nd && hs >= ns {
				covered = true
				break
			}
		}
		if !covered {
			return false
		}
	}
	return true
}

// parse splits one "domain-server-seq" GTID.
func parse(g string) (domain uint32, seq uint64, ok bool) {
	g = strings.TrimSpace(g)
	i := strings.IndexByte(g, '-')
	j := strings.LastIndexByte(g, '-')
	if i <= 0 || j <= i {
		return 0, 0, false
	}
	d, err := strconv.ParseUint(g[:i], 10, 32)
	if err != nil {
		return 0, 0, false
	}
	if _, err := strconv.ParseUint(g[i+1:j], 10, 32); err != nil {
		return 0, 0, false
	}
	s, err := strconv.ParseUint(g[j+1:], 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return uint32(d), s, true
}

// Valid reports whether pos is a well-formed MariaDB GTID position, safe
// to embed in a quoted SQL string.
func Valid(pos string) bool {
	if pos == "" {
		return false
	}
	if IsMySQLSet(pos) {
		_, ok := parseSet(pos)
		return ok
	}
	for _, g := range strings.Split(pos, ",") {
		if _, _, ok := parse(g); !ok {
			return false
		}
	}
	return true
}

// IsMySQLSet reports whether pos is in MySQL's GTID set form (it has a
// "uuid:" part), not MariaDB's.
func IsMySQLSet(pos string) bool { return strings.Contains(pos, ":") }

type interval struct{ lo, hi uint64 }

// parseSet reads a MySQL GTID set into intervals per source uuid (lower
// case). Tagged GTIDs (MySQL 8.3 "uuid:tag:1-5") keep the tag with the
// uuid.
func parseSet(set string) (map[string][]interval, bool) {
	out := map[string][]interval{}
	for _, part := range strings.Split(set, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		fields := strings.Split(part, ":")
		if len(fields) < 2 {
			return nil, false
		}
		src := strings.ToLower(fields[0])
		if !validUUID(src) {
			return nil, false
		}
		for _, f := range fields[1:] {
			if f == "" {
				return nil, false
			}
			if f[0] < '0' || f[0] > '9' {
				// A tag: it names a separate source.
				if !validTag(f) {
					return nil, false
				}
				src = strings.ToLower(fields[0]) + ":" + strings.ToLower(f)
				continue
			}
			lo, hi, ok := strings.Cut(f, "-")
			a, err := strconv.ParseUint(lo, 10, 64)
			if err != nil || a == 0 {
				return nil, false
			}
			b := a
			if ok {
				if b, err = strconv.ParseUint(hi, 10, 64); err != nil || b < a {
					return nil, false
				}
			}
			out[src] = append(out[src], interval{a, b})
		}
	}
	return out, len(out) > 0
}

func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}

func validTag(s string) bool {
	if len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// coversSet reports whether MySQL GTID set have contains set need.
func coversSet(have, need string) bool {
	n, ok := parseSet(need)
	if !ok {
		return false
	}
	h, ok := parseSet(have)
	if !ok {
		return false
	}
	for src, ivs := range n {
		hs := merge(h[src])
		for _, iv := range ivs {
			in := false
			for _, x := range hs {
				if x.lo <= iv.lo && iv.hi <= x.hi {
					in = true
					break
				}
			}
			if !in {
				return false
			}
		}
	}
	return true
}

// merge sorts intervals and joins touching ones.
func merge(ivs []interval) []interval {
	if len(ivs) < 2 {
		return ivs
	}
	s := append([]interval(nil), ivs...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].lo < s[j-1].lo; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	out := s[:1]
	for _, x := range s[1:] {
		last := &out[len(out)-1]
		if x.lo <= last.hi+1 {
			if x.hi > last.hi {
				last.hi = x.hi
			}
			continue
		}
		out = append(out, x)
	}
	return out
}

// Merge returns a position that covers both a and b: for MariaDB
// positions the highest sequence number per domain, for MySQL sets their
// union. It returns a unchanged when a already covers b.
func Merge(a, b string) string {
	if b == "" || Covers(a, b) {
		return a
	}
	if a == "" {
		return b
	}
	if IsMySQLSet(a) || IsMySQLSet(b) {
		return a + "," + b
	}
	type entry struct {
		text string
		seq  uint64
	}
	byDomain := map[uint32]entry{}
	var order []uint32
	for _, g := range strings.Split(a+","+b, ",") {
		d, seq, ok := parse(g)
		if !ok {
			continue
		}
		cur, seen := byDomain[d]
		if !seen {
			order = append(order, d)
		}
		if !seen || seq > cur.seq {
			byDomain[d] = entry{strings.TrimSpace(g), seq}
		}
	}
	parts := make([]string, len(order))
	for i, d := range order {
		parts[i] = byDomain[d].text
	}
	return strings.Join(parts, ",")
}
