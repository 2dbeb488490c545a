// Package gtid compares replication positions: MariaDB GTID positions
// ("domain-server-seq" lists, as in @@gtid_binlog_pos and last_gtid).
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
	for _, g := range strings.Split(pos, ",") {
		if _, _, ok := parse(g); !ok {
			return false
		}
	}
	return true
}
