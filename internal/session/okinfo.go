package session

import (
	"fmt"
	"strconv"
	"strings"
)

// okInfo sums the info strings of the OK packets of the physical statements
// of one logical write, so that the client sees what MariaDB says for the
// whole statement ("Rows matched: 3  Changed: 3  Warnings: 0" for UPDATE,
// "Records: 2  Duplicates: 0  Warnings: 0" for multi-row INSERT).
type okInfo struct {
	kind string   // "update", "records" or "" (none seen, or not summable)
	n    [3]int64 // the three numbers
	raw  string   // the only info seen, for other kinds
	seen int
}

// add notes one physical statement's info string.
func (o *okInfo) add(info []byte) {
	if len(info) == 0 {
		return
	}
	o.seen++
	s := string(info)
	if o.seen == 1 {
		o.raw = s
	}
	var kind string
	var labels [3]string
	switch {
	case strings.HasPrefix(s, "Rows matched: "):
		kind, labels = "update", [3]string{"Rows matched: ", "  Changed: ", "  Warnings: "}
	case strings.HasPrefix(s, "Records: "):
		kind, labels = "records", [3]string{"Records: ", "  Duplicates: ", "  Warnings: "}
	default:
		o.kind = "mixed"
		return
	}
	if o.kind != "" && o.kind != kind {
		o.kind = "mixed"
		return
	}
	o.kind = kind
	rest := s
	for i, l := range labels {
		if !strings.HasPrefix(rest, l) {
			o.kind = "mixed"
			return
		}
		rest = rest[len(l):]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		v, err := strconv.ParseInt(rest[:j], 10, 64)
		if err != nil {
			o.kind = "mixed"
			return
		}
		o.n[i] += v
		rest = rest[j:]
	}
}

// addStep notes the OK of one physical statement sql of a logical write of
// several. A single-row INSERT/REPLACE has no info string, but the logical
// statement has several rows, so it counts as one record (a duplicate when
// ignored, replaced or updated).
func (o *okInfo) addStep(sql string, info []byte, affected uint64, warnings uint16) {
	if len(info) > 0 || len(sql) < 7 {
		o.add(info)
		return
	}
	w := strings.ToUpper(sql[:7])
	if !strings.HasPrefix(w, "INSERT") && !strings.HasPrefix(w, "REPLACE") {
		return
	}
	var dup int64
	if affected != 1 {
		dup = 1
	}
	o.add(fmt.Appendf(nil, "Records: 1  Duplicates: %d  Warnings: %d", dup, warnings))
}

// String is the info string of the logical statement.
func (o *okInfo) String() string {
	switch {
	case o.seen == 1:
		return o.raw
	case o.kind == "update":
		return fmt.Sprintf("Rows matched: %d  Changed: %d  Warnings: %d", o.n[0], o.n[1], o.n[2])
	case o.kind == "records":
		return fmt.Sprintf("Records: %d  Duplicates: %d  Warnings: %d", o.n[0], o.n[1], o.n[2])
	}
	return ""
}
