package session

import (
	"bytes"
	"sort"
	"strings"

	"github.com/switchyard-db/switchyard/internal/merge"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/relay"
	"github.com/switchyard-db/switchyard/internal/router"
	"github.com/switchyard-db/switchyard/internal/shard"
)

// metaMaxRows bounds a metadata result the proxy rewrites.
const metaMaxRows = 100000

// runMeta runs a metadata statement whose result must show logical table
// names (SHOW TABLES, SHOW CREATE TABLE, DESCRIBE, information_schema
// lookups): the small result is read whole, rewritten and sent.
func (s *Session) runMeta(a *router.Analysis, sp *router.ShardPlan, binary bool) (failed bool, clientErr error) {
	step := sp.Steps[0]
	plan := router.Decide(a, s.routerState())
	plan.Slice = step.Slice
	plan.NamesTables = true
	if plan.Target == router.TargetProxy || plan.Target == router.TargetError {
		plan.Target = router.TargetPrimary
	}
	c, node, err := s.acquire(&plan)
	if err != nil {
		s.writeErr(toProtoErr(err))
		return true, nil
	}
	c.Seq = 0
	s.buf = append(s.buf[:0], protocol.ComQuery)
	s.buf = append(s.buf, step.SQL...)
	if err := c.WriteFlush(s.buf); err != nil {
		s.writeErr(s.lost(c, node, &relay.BackendError{Err: err}))
		return true, nil
	}
	cols, err := readHeader(c)
	if err != nil {
		s.failOn(c, node, err)
		return true, nil
	}
	src := &branch{c: c, node: node, sent: true}
	var rows [][][]byte
	for {
		p, err := src.Next()
		if err != nil {
			s.failOn(c, node, err)
			return true, nil
		}
		if p == nil {
			break
		}
		if len(rows) >= metaMaxRows {
			src.drain()
			s.release(c, node)
			s.writeErr(protocol.NewError(1038, "HY001", "metadata result too large to rewrite (more than %d rows)", metaMaxRows))
			return true, nil
		}
		fields, ok := splitRow(p, len(cols))
		if !ok {
			c.MarkBroken()
			s.writeErr(s.lost(c, node, &relay.BackendError{Err: protocol.ErrMalformed}))
			return true, nil
		}
		rows = append(rows, fields)
	}
	node.CountStatement()
	s.release(c, node)
	if rn := sp.Rename; rn != nil {
		for i := range cols {
			if strings.EqualFold(cols[i].Table, rn.Physical) {
				cols[i].Table = rn.Logical
			}
			if strings.EqualFold(cols[i].OrgTable, rn.Physical) {
				cols[i].OrgTable = rn.Logical
			}
		}
		phys, logi := []byte(rn.Physical), []byte(rn.Logical)
		quoted, quotedLogical := []byte("`"+rn.Physical+"`"), []byte("`"+rn.Logical+"`")
		for _, r := range rows {
			for j, v := range r {
				switch {
				case v == nil:
				case bytes.EqualFold(v, phys):
					r[j] = logi
				case bytes.Contains(v, quoted):
					r[j] = bytes.ReplaceAll(v, quoted, quotedLogical)
				}
			}
		}
	}
	if st := sp.ShowTables; st != nil {
		if st.Label != "" && len(cols) > 0 {
			cols[0].Name = st.Label
		}
		seen := map[string]bool{}
		var kept [][][]byte
		for _, r := range rows {
			name := strings.ToLower(string(r[0]))
			if st.Hide[name] && !seen[name] {
				continue
			}
			seen[name] = true
			kept = append(kept, r)
		}
		for _, name := range st.Add {
			if seen[strings.ToLower(name)] {
				continue
			}
			seen[strings.ToLower(name)] = true
			r := make([][]byte, len(cols))
			r[0] = []byte(name)
			if len(cols) > 1 {
				r[1] = []byte("BASE TABLE")
			}
			kept = append(kept, r)
		}
		rows = rows[:0]
		for _, r := range kept {
			if st.Like == "" || router.LikeMatch(string(r[0]), st.Like) {
				rows = append(rows, r)
			}
		}
		sort.SliceStable(rows, func(i, j int) bool { return string(rows[i][0]) < string(rows[j][0]) })
	}
	held := &branch{rows: make([][]byte, 0, len(rows))}
	for _, r := range rows {
		var p []byte
		for _, v := range r {
			if v == nil {
				p = append(p, 0xfb)
			} else {
				p = protocol.AppendLenEncBytes(p, v)
			}
		}
		held.rows = append(held.rows, p)
	}
	return s.mergeOut(&passthrough, cols, []merge.Source{held}, binary)
}

// splitRow splits a text-protocol row into its values (nil for NULL).
func splitRow(p []byte, n int) ([][]byte, bool) {
	out := make([][]byte, n)
	pos := 0
	for i := 0; i < n; i++ {
		if pos >= len(p) {
			return nil, false
		}
		if p[pos] == 0xfb {
			pos++
			continue
		}
		v, _, k := protocol.ReadLenEncString(p[pos:])
		if k == 0 {
			return nil, false
		}
		out[i] = append([]byte(nil), v...)
		pos += k
	}
	return out, pos == len(p)
}

// physNames maps the physical tables of a namespace's sharding rules
// (lower-case "db.table") to their logical database and table.
type physNames struct {
	rules *shard.Rules
	names map[string][2]string
}

// logicalColumn shows a column of a physical table of a sharded table
// under the logical names, as MariaDB would for the logical table. It
// reports whether it changed c.
func (s *Session) logicalColumn(c *protocol.ColumnDef) bool {
	rules := s.ns.Rules
	if rules == nil || c.OrgTable == "" {
		return false
	}
	if s.phys == nil || s.phys.rules != rules {
		m := map[string][2]string{}
		for _, t := range rules.Tables() {
			for _, x := range t.All() {
				m[strings.ToLower(x.Database+"."+x.Table)] = [2]string{t.Database(), t.Name()}
			}
		}
		s.phys = &physNames{rules: rules, names: m}
	}
	l, ok := s.phys.names[strings.ToLower(c.Schema+"."+c.OrgTable)]
	if !ok {
		return false
	}
	if c.Table == c.OrgTable {
		c.Table = l[1]
	}
	c.Schema, c.OrgTable = l[0], l[1]
	return true
}
