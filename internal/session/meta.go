package session

import (
	"bytes"
	"sort"
	"strings"

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
func (s *Session) runMeta(plan *router.Plan, sp *router.Meta, binary bool) (failed bool, clientErr error) {
	cols, rows, ok := s.metaStep(plan, sp.Steps[0])
	if !ok {
		return true, nil
	}
	if l := sp.Listing; l != nil {
		col := -1
		for i, c := range cols {
			// SHOW TABLE STATUS's Name is information_schema's TABLE_NAME.
			if col < 0 && (strings.EqualFold(c.OrgName, l.TableCol) || strings.EqualFold(c.Name, l.TableCol) || strings.EqualFold(c.OrgName, "TABLE_NAME")) {
				col = i
			}
		}
		if col >= 0 {
			seen := map[string]bool{}
			rows = logicalRows(cols, rows, col, l, seen, false)
			for _, st := range sp.Steps[1:] {
				more, moreRows, ok := s.metaStep(plan, st)
				if !ok {
					return true, nil
				}
				if len(more) == len(cols) {
					rows = append(rows, logicalRows(cols, moreRows, col, l, seen, true)...)
				}
			}
			if l.Sort {
				sort.SliceStable(rows, func(i, j int) bool { return string(rows[i][col]) < string(rows[j][col]) })
			}
		}
	}
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
	return s.writeRows(cols, rows, binary)
}

// metaStep runs one metadata statement and reads its (small) result whole;
// ok is false when an error was answered.
func (s *Session) metaStep(plan *router.Plan, step router.Step) (cols []protocol.ColumnDef, rows [][][]byte, ok bool) {
	at := *plan
	at.Slice = step.Slice
	c, node, err := s.acquire(&at)
	if err != nil {
		s.writeErr(toProtoErr(err))
		return nil, nil, false
	}
	c.Seq = 0
	s.buf = append(s.buf[:0], protocol.ComQuery)
	s.buf = append(s.buf, step.SQL...)
	if err := c.WriteFlush(s.buf); err != nil {
		s.writeErr(s.lost(c, node, &relay.BackendError{Err: err}))
		return nil, nil, false
	}
	src := &branch{c: c, node: node, sent: true}
	cols, err = src.readHeader()
	if err != nil {
		s.failOn(c, node, err)
		return nil, nil, false
	}
	for {
		p, err := src.Next()
		if err != nil {
			s.failOn(c, node, err)
			return nil, nil, false
		}
		if p == nil {
			break
		}
		if len(rows) >= metaMaxRows {
			src.drain()
			s.release(c, node)
			s.writeErr(protocol.NewError(1038, "HY001", "metadata result too large to rewrite (more than %d rows)", metaMaxRows))
			return nil, nil, false
		}
		fields, ok := splitRow(p, len(cols))
		if !ok {
			c.MarkBroken()
			s.writeErr(s.lost(c, node, &relay.BackendError{Err: protocol.ErrMalformed}))
			return nil, nil, false
		}
		rows = append(rows, fields)
	}
	node.CountStatement()
	s.release(c, node)
	return cols, rows, true
}

// listingKeys are the columns that, with the table name, identify a row of
// a metadata listing (a table, a column, an index part...).
var listingKeys = map[string]bool{"TABLE_SCHEMA": true, "TABLE_CATALOG": true, "COLUMN_NAME": true, "INDEX_NAME": true,
	"SEQ_IN_INDEX": true, "CONSTRAINT_NAME": true, "ORDINAL_POSITION": true, "PARTITION_NAME": true,
	"SUBPARTITION_NAME": true, "TRIGGER_NAME": true, "Key_name": true, "Seq_in_index": true}

// logicalRows renames the physical tables of rows (column col) to logical
// ones, keeps the first row per identity and filters by l.Like. With
// onlyRuled only rows of ruled tables are kept (extra slices).
func logicalRows(cols []protocol.ColumnDef, rows [][][]byte, col int, l *router.Listing, seen map[string]bool, onlyRuled bool) [][][]byte {
	var keyCols []int
	for i, c := range cols {
		name := c.OrgName
		if name == "" {
			name = c.Name
		}
		if listingKeys[strings.ToUpper(name)] || listingKeys[name] {
			keyCols = append(keyCols, i)
		}
	}
	out := rows[:0]
	for _, r := range rows {
		if r[col] == nil {
			out = append(out, r)
			continue
		}
		logical, ruled := l.Names[strings.ToLower(string(r[col]))]
		if ruled {
			r[col] = []byte(logical)
		} else if onlyRuled {
			continue
		}
		if l.Like != "" && !router.LikeMatch(string(r[col]), l.Like) {
			continue
		}
		var key strings.Builder
		key.Write(bytes.ToLower(r[col]))
		for _, k := range keyCols {
			key.WriteByte(0)
			key.Write(r[k])
		}
		if seen[key.String()] {
			continue
		}
		seen[key.String()] = true
		out = append(out, r)
	}
	return out
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
		out[i] = append([]byte{}, v...) // non-nil: '' is not NULL
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

// fieldListTarget sends COM_FIELD_LIST of a sharded table to its first
// physical table (same columns everywhere); the relayed definitions show
// the logical name (logicalColumn).
func (s *Session) fieldListTarget(p []byte, plan *router.Plan) []byte {
	rules := s.ns.Rules
	if rules == nil || len(p) < 2 || s.pin.active() {
		return p
	}
	end := bytes.IndexByte(p[1:], 0)
	if end < 0 {
		return p
	}
	t, ok := rules.Table(s.db, string(p[1:1+end]))
	if !ok || len(t.All()) == 0 {
		return p
	}
	x := t.All()[0]
	plan.Slice = x.Slice
	q := append([]byte{protocol.ComFieldList}, x.Table...)
	return append(q, p[1+end:]...)
}
