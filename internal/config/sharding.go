package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // timezone: works on hosts without a zoneinfo database

	"go.yaml.in/yaml/v3"

	"github.com/switchyard-db/switchyard/internal/shard/inline"
)

// TableType is databases[].tables[].type.
type TableType string

// Table types (Table.Type).
const (
	TableSharded TableType = "sharded" // split over physical tables by a key
	TableLinked  TableType = "linked"  // placed like its parent sharded table
	TableGlobal  TableType = "global"  // a full copy on every slice
)

// Algorithm is the sharding algorithm of a sharded table
// (databases[].tables[].algorithm).
type Algorithm string

// Sharding algorithms (Table.Algorithm).
const (
	AlgHash      Algorithm = "hash"
	AlgMod       Algorithm = "mod"
	AlgRange     Algorithm = "range"
	AlgDateYear  Algorithm = "date_year"
	AlgDateMonth Algorithm = "date_month"
	AlgDateDay   Algorithm = "date_day"
	AlgInline    Algorithm = "inline"
)

// IsDate reports whether a is one of the date algorithms.
func (a Algorithm) IsDate() bool {
	return a == AlgDateYear || a == AlgDateMonth || a == AlgDateDay
}

// StringHashMode is how the hash algorithm hashes strings (Table.StringHash).
type StringHashMode string

// String hashing modes of the hash algorithm (Table.StringHash).
const (
	// StringHashNumericFirst hashes a string that is a decimal unsigned
	// integer as that integer and any other string by CRC-32 (Gaea).
	StringHashNumericFirst StringHashMode = "numeric_first"
	// StringHashCRC32 hashes every string by CRC-32 (kingshard).
	StringHashCRC32 StringHashMode = "crc32"
)

// SequenceType is the kind of ID generator of a sequence (Sequence.Type).
type SequenceType string

// Sequence types.
const (
	// SequenceTable reserves blocks of IDs from a backing table on the
	// default slice: unique across the proxies of a namespace.
	SequenceTable SequenceType = "table"
	// SequenceSnowflake makes time-based IDs: unique across proxies with
	// distinct worker ids.
	SequenceSnowflake SequenceType = "snowflake"
)

// DefaultTimezone is the zone in which date rules read unix timestamps,
// like kingshard and Gaea, which use the proxy host's local time.
const DefaultTimezone = "Local"

// MaxShardTables is the largest number of physical tables one logical table
// may have.
const MaxShardTables = 65536

// DataSource maps a ShardingSphere-style data source name (as used in
// data_nodes and strategy expressions) to a slice and the physical database
// on it.
type DataSource struct {
	// Name is the data source name, e.g. "ds_0".
	Name string
	// Slice is the slice holding the data source.
	Slice string
	// Database is the physical database on the slice; defaults to Name.
	Database string
}

// Database is a logical database and the placement rules of its tables.
// Tables not listed live on the namespace's default slice.
type Database struct {
	// Name is the logical database name clients use.
	Name string
	// Tables are the placement rules, in file order.
	Tables []*Table
}

// Strategy is a ShardingSphere-style standard sharding strategy: one column
// and an inline expression that names a data source or a table.
type Strategy struct {
	// Column is the sharding column the expression reads.
	Column string
	// Expression is the inline expression, e.g. "ds_${user_id % 2}".
	Expression string
}

// Range is the half-open key interval [Lo, Hi) of one physical table of a
// range table. Lo == math.MinInt64 means no lower bound ("min") and
// Hi == math.MaxInt64 no upper bound ("max").
type Range struct {
	Lo, Hi int64
}

// Node is one physical table of a logical table, resolved by Parse.
type Node struct {
	// Slice is the slice the physical table lives on.
	Slice string
	// Database is the physical database on that slice.
	Database string
	// Table is the physical table name.
	Table string
	// Index is the sub-table index: the number in the name for hash, mod and
	// range tables (0..N-1), the period for date tables (2016, 201603,
	// 20160304), the position in data_nodes for inline tables, the position
	// in the slice list for global tables.
	Index int
	// DataSource is the data source name for inline and data-source-placed
	// global tables; empty otherwise.
	DataSource string
}

// Table is the placement rule of one logical table.
type Table struct {
	// Name is the logical table name.
	Name string
	// Type is TableSharded, TableLinked or TableGlobal.
	Type TableType
	// Key is the sharding column (sharded, linked); for inline tables the
	// default column of the strategies.
	Key string
	// Algorithm is the sharding algorithm of a sharded table.
	Algorithm Algorithm
	// Slices are the slices holding the table, in numbering order (sharded
	// tables other than inline, global tables placed on slices); all slices
	// of the namespace when not set.
	Slices []string
	// TablesPerSlice is the number of physical tables on each slice (hash,
	// mod, range), one entry per slice after Parse.
	TablesPerSlice []int
	// TableRowLimit is the key span of each physical table of a range table
	// (kingshard's table_row_limit): table i holds [i*limit, (i+1)*limit).
	TableRowLimit int64
	// Ranges are explicit key intervals, one per physical table (range).
	Ranges []Range
	// DateRanges are the periods on each slice, one entry per slice, in
	// kingshard's date_range form ("2015-2016", "201512-201602",
	// "20151222-20151224", or a single period).
	DateRanges []string
	// Timezone is the zone unix timestamps are read in (date algorithms).
	Timezone string
	// StringHash is StringHashNumericFirst or StringHashCRC32 (hash).
	StringHash StringHashMode
	// Parent is the sharded table a linked table follows.
	Parent string
	// DatabaseStrategy picks the data source (inline).
	DatabaseStrategy *Strategy
	// TableStrategy picks the physical table (inline).
	TableStrategy *Strategy
	// DataNodes lists the physical tables as "datasource.table" inline
	// expressions (inline; optionally linked tables of an inline parent).
	DataNodes string
	// DataSources places a global table on these data sources instead of
	// on slices.
	DataSources []string
	// Sequence makes the proxy fill an auto-increment column that an
	// INSERT omits (or gives as NULL or 0) from a global generator.
	Sequence *Sequence

	// Location is the resolved Timezone (date algorithms); set by Parse.
	Location *time.Location
	// Nodes are every physical table in placement order; set by Parse.
	Nodes []Node
}

// Sequence configures the IDs the proxy generates for a sharded table.
type Sequence struct {
	// Column is the auto-increment column (default: the table's key).
	Column string
	// Type is SequenceTable or SequenceSnowflake.
	Type SequenceType
	// Block is how many IDs a proxy reserves per round trip (table).
	Block int
	// Start is the first ID of a new sequence (table).
	Start int64
}

// rawRange is one item of a table's ranges before the algorithm is known.
type rawRange struct {
	path   string
	text   string // scalar item (date range)
	pair   bool   // [lo, hi] item
	lo, hi int64
}

// ---- parsing ----

func (p *parser) dataSources(n *yaml.Node, path string, ns *Namespace) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.fail(n, path, "%s: expected a mapping of data source names to slices, got %s", path, describe(n))
		return
	}
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.fail(k, path, "%s: keys must be plain strings, got %s", path, describe(k))
			continue
		}
		child := joinPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			p.fail(k, child, "duplicate data source %q in %s (first set on line %d)", k.Value, path, first)
			continue
		}
		seen[k.Value] = k.Line
		p.lines[child] = k.Line
		ds := DataSource{Name: k.Value}
		switch {
		case isNull(v):
		case v.Kind == yaml.ScalarNode:
			ds.Slice = v.Value
		case v.Kind == yaml.MappingNode:
			p.mapping(v, child, "in data source ("+child+")", fields{
				"slice":    p.str(&ds.Slice),
				"database": p.str(&ds.Database),
			})
		default:
			p.fail(v, child, "%s: expected a slice name or {slice, database}, got %s", child, describe(v))
		}
		if ds.Database == "" {
			ds.Database = ds.Name
		}
		ns.DataSources = append(ns.DataSources, ds)
	}
}

func (p *parser) database(n *yaml.Node, path string) *Database {
	db := &Database{}
	p.mapping(n, path, "in database ("+path+")", fields{
		"name": p.str(&db.Name),
		"tables": func(n *yaml.Node, path string) {
			p.sequence(n, path, func(item *yaml.Node, path string) {
				db.Tables = append(db.Tables, p.table(item, path))
			})
		},
	})
	return db
}

func (p *parser) table(n *yaml.Node, path string) *Table {
	t := &Table{}
	strategy := func(dst **Strategy) func(*yaml.Node, string) {
		return func(n *yaml.Node, path string) {
			s := &Strategy{}
			if p.mapping(n, path, "in strategy ("+path+")", fields{
				"column":     p.str(&s.Column),
				"expression": p.str(&s.Expression),
			}) {
				*dst = s
			}
		}
	}
	p.mapping(n, path, "in table ("+path+")", fields{
		"name":      p.str(&t.Name),
		"type":      p.str((*string)(&t.Type)),
		"key":       p.str(&t.Key),
		"algorithm": p.str((*string)(&t.Algorithm)),
		"slices":    p.strList(&t.Slices),
		"tables_per_slice": func(n *yaml.Node, path string) {
			n = resolve(n)
			if n.Kind == yaml.ScalarNode && !isNull(n) {
				var v int
				p.integer(&v)(n, path)
				t.TablesPerSlice = []int{v}
				p.scalarTPS[t] = true
				return
			}
			p.sequence(n, path, func(item *yaml.Node, path string) {
				var v int
				p.integer(&v)(item, path)
				t.TablesPerSlice = append(t.TablesPerSlice, v)
			})
		},
		"table_row_limit": p.int64(&t.TableRowLimit),
		"ranges": func(n *yaml.Node, path string) {
			p.sequence(n, path, func(item *yaml.Node, path string) {
				p.ranges[t] = append(p.ranges[t], p.rangeItem(item, path))
			})
		},
		"timezone":          p.str(&t.Timezone),
		"string_hash":       p.str((*string)(&t.StringHash)),
		"parent":            p.str(&t.Parent),
		"database_strategy": strategy(&t.DatabaseStrategy),
		"table_strategy":    strategy(&t.TableStrategy),
		"data_nodes":        p.str(&t.DataNodes),
		"datasources":       p.strList(&t.DataSources),
		"sequence": func(n *yaml.Node, path string) {
			q := &Sequence{Type: SequenceTable, Block: 1000, Start: 1}
			if p.mapping(n, path, "in sequence ("+path+")", fields{
				"column": p.str(&q.Column),
				"type":   p.str((*string)(&q.Type)),
				"block":  p.integer(&q.Block),
				"start":  p.int64(&q.Start),
			}) {
				t.Sequence = q
				if q.Type != SequenceTable && q.Type != SequenceSnowflake {
					p.errorf(path+".type", "%s.type %q is invalid (want table or snowflake)", path, q.Type)
				}
				if q.Block <= 0 || q.Start < 1 {
					p.errorf(path, "%s: block must be positive and start at least 1", path)
				}
			}
		},
	})
	return t
}

// rangeItem decodes one ranges entry: a scalar date range or a [lo, hi] pair
// whose bounds are integers, "min" (lo) or "max" (hi).
func (p *parser) rangeItem(n *yaml.Node, path string) rawRange {
	n = resolve(n)
	r := rawRange{path: path}
	switch {
	case isNull(n):
		p.fail(n, path, "%s: expected a date range or [lo, hi], got nothing", path)
	case n.Kind == yaml.ScalarNode:
		r.text = n.Value
	case n.Kind == yaml.SequenceNode && len(n.Content) == 2:
		r.pair = true
		for i, b := range []*int64{&r.lo, &r.hi} {
			v := resolve(n.Content[i])
			word := "min"
			*b = math.MinInt64
			if i == 1 {
				word = "max"
				*b = math.MaxInt64
			}
			if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" && v.Value == word {
				continue
			}
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || v.Decode(b) != nil {
				p.fail(v, path, "%s: bound %s must be an integer or %q", path, describe(v), word)
			}
		}
	default:
		p.fail(n, path, "%s: expected a date range such as \"2015-2016\" or a pair [lo, hi], got %s", path, describe(n))
	}
	return r
}

// strList decodes a list of strings.
func (p *parser) strList(dst *[]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		*dst = []string{}
		p.sequence(n, path, func(item *yaml.Node, path string) {
			var s string
			p.str(&s)(item, path)
			*dst = append(*dst, s)
		})
	}
}

func (p *parser) int64(dst *int64) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if n = p.scalar(n, path, "an integer"); n == nil {
			return
		}
		var v int64
		if n.ShortTag() != "!!int" || n.Decode(&v) != nil {
			p.fail(n, path, "%s: expected an integer, got %s", path, describe(n))
			return
		}
		*dst = v
	}
}

// has reports whether the key at path was present in the file with a
// value (a key without a value keeps its default).
func (p *parser) has(path string) bool {
	_, ok := p.lines[path]
	return ok && !p.nulls[path]
}

// ---- validation and resolution ----

// tableRef is a validated table and its path, for linked-parent lookups and
// error messages.
type tableRef struct {
	t    *Table
	path string
	db   string
	ok   bool // Nodes resolved
	skip bool // name missing or already used: no collision checks
}

func (p *parser) validateSharding(ns *Namespace, path string, sliceNames map[string]string) {
	allSlices := make([]string, 0, len(ns.Slices))
	for _, s := range ns.Slices {
		if s.Name != "" {
			allSlices = append(allSlices, s.Name)
		}
	}
	dss := make(map[string]*DataSource)
	for i := range ns.DataSources {
		ds := &ns.DataSources[i]
		dp := path + ".datasources." + ds.Name
		switch {
		case ds.Name == "":
			p.errorf(dp, "%s.datasources: a data source name must not be empty", path)
		case ds.Slice == "":
			p.errorf(dp, "%s: slice is required", dp)
		default:
			if _, ok := sliceNames[ds.Slice]; !ok && len(sliceNames) > 0 {
				p.errorf(dp, "%s: slice %q does not name a slice of this namespace", dp, ds.Slice)
			}
		}
		dss[ds.Name] = ds
	}

	dbNames := make(map[string]string)
	var refs []*tableRef
	for i, db := range ns.Databases {
		dp := indexPath(path+".databases", i)
		if db.Name == "" {
			p.errorf(dp+".name", "%s.name is required", dp)
		} else if prev, dup := dbNames[strings.ToLower(db.Name)]; dup {
			p.errorf(dp+".name", "%s.name %q is already used by %s", dp, db.Name, prev)
		} else {
			dbNames[strings.ToLower(db.Name)] = dp
		}
		byName := make(map[string]*tableRef)
		var linked []*tableRef
		for j, t := range db.Tables {
			tp := indexPath(dp+".tables", j)
			ref := &tableRef{t: t, path: tp, db: db.Name}
			refs = append(refs, ref)
			if t.Name == "" {
				p.errorf(tp+".name", "%s.name is required", tp)
				ref.skip = true
			} else if prev, dup := byName[strings.ToLower(t.Name)]; dup {
				p.errorf(tp+".name", "%s.name %q is already used by %s", tp, t.Name, prev.path)
				ref.skip = true
			} else {
				byName[strings.ToLower(t.Name)] = ref
			}
			switch t.Type {
			case TableSharded:
				p.checkApplies(t, tp, "algorithm "+string(t.Algorithm), shardedKeys(t.Algorithm))
				if t.Algorithm == AlgInline {
					ref.ok = p.resolveInline(t, tp, dss)
				} else {
					ref.ok = p.resolveSharded(t, tp, db.Name, allSlices, sliceNames)
				}
			case TableLinked:
				p.checkApplies(t, tp, "a linked table", []string{"key", "parent", "data_nodes"})
				linked = append(linked, ref)
			case TableGlobal:
				if t.Sequence != nil {
					p.errorf(tp+".sequence", "%s.sequence applies to sharded tables only", tp)
				}
				p.checkApplies(t, tp, "a global table", []string{"slices", "datasources"})
				ref.ok = p.resolveGlobal(t, tp, db.Name, allSlices, sliceNames, dss)
			case "":
				p.errorf(tp+".type", "%s.type is required (sharded, linked or global)", tp)
			default:
				p.errorf(tp+".type", "%s.type %q is invalid (want sharded, linked or global)", tp, t.Type)
			}
		}
		for _, ref := range linked {
			ref.ok = p.resolveLinked(ref, byName, dss)
		}
	}

	// Physical tables must not collide within a namespace.
	type phys struct{ slice, db, table string }
	owner := make(map[phys]*tableRef)
	for _, ref := range refs {
		if !ref.ok || ref.skip {
			continue
		}
		for _, nd := range ref.t.Nodes {
			k := phys{nd.Slice, strings.ToLower(nd.Database), strings.ToLower(nd.Table)}
			if prev, dup := owner[k]; dup && prev != ref {
				p.errorf(ref.path, "%s: physical table %s.%s on slice %s is also a physical table of %s.%s (%s)",
					ref.path, nd.Database, nd.Table, nd.Slice, prev.db, prev.t.Name, prev.path)
				break
			}
			owner[k] = ref
		}
	}
}

// shardedKeys lists the keys a sharded table with the given algorithm takes
// (besides name and type).
func shardedKeys(alg Algorithm) []string {
	switch alg {
	case AlgHash:
		return []string{"key", "algorithm", "slices", "tables_per_slice", "string_hash"}
	case AlgMod:
		return []string{"key", "algorithm", "slices", "tables_per_slice"}
	case AlgRange:
		return []string{"key", "algorithm", "slices", "tables_per_slice", "table_row_limit", "ranges"}
	case AlgDateYear, AlgDateMonth, AlgDateDay:
		return []string{"key", "algorithm", "slices", "ranges", "timezone"}
	case AlgInline:
		return []string{"key", "algorithm", "database_strategy", "table_strategy", "data_nodes"}
	}
	return nil // unknown algorithm: reported elsewhere
}

var tableKeys = []string{"key", "algorithm", "slices", "tables_per_slice", "table_row_limit", "ranges",
	"timezone", "string_hash", "parent", "database_strategy", "table_strategy", "data_nodes", "datasources"}

// checkApplies reports keys present on the table that its type/algorithm
// does not use. allowed == nil means "don't know yet" (invalid algorithm).
func (p *parser) checkApplies(t *Table, tp, what string, allowed []string) {
	if allowed == nil {
		return
	}
	for _, k := range tableKeys {
		if !p.has(tp+"."+k) || contains(allowed, k) {
			continue
		}
		p.errorf(tp+"."+k, "%s.%s does not apply to %s", tp, k, what)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkSlices validates a table's slices list (defaulting to all slices).
func (p *parser) checkSlices(t *Table, tp string, allSlices []string, sliceNames map[string]string) bool {
	if !p.has(tp + ".slices") {
		t.Slices = append([]string(nil), allSlices...)
		return len(t.Slices) > 0
	}
	if len(t.Slices) == 0 {
		p.errorf(tp+".slices", "%s.slices: at least one slice is required", tp)
		return false
	}
	ok := true
	seen := make(map[string]int)
	for i, s := range t.Slices {
		sp := indexPath(tp+".slices", i)
		if _, exists := sliceNames[s]; !exists {
			p.errorf(sp, "%s %q does not name a slice of this namespace", sp, s)
			ok = false
		} else if prev, dup := seen[s]; dup {
			p.errorf(sp, "%s %q is already listed as slices[%d]", sp, s, prev)
			ok = false
		}
		seen[s] = i
	}
	return ok
}

func (p *parser) resolveSharded(t *Table, tp, db string, allSlices []string, sliceNames map[string]string) bool {
	ok := true
	if t.Key == "" {
		p.errorf(tp+".key", "%s.key is required for a sharded table", tp)
		ok = false
	}
	switch t.Algorithm {
	case AlgHash, AlgMod, AlgRange, AlgDateYear, AlgDateMonth, AlgDateDay:
	case "":
		p.errorf(tp+".algorithm", "%s.algorithm is required for a sharded table (hash, mod, range, date_year, date_month, date_day or inline)", tp)
		return false
	default:
		p.errorf(tp+".algorithm", "%s.algorithm %q is invalid (want hash, mod, range, date_year, date_month, date_day or inline)", tp, t.Algorithm)
		return false
	}
	if !p.checkSlices(t, tp, allSlices, sliceNames) {
		return false
	}
	if t.Algorithm == AlgHash {
		switch t.StringHash {
		case "":
			t.StringHash = StringHashNumericFirst
		case StringHashNumericFirst, StringHashCRC32:
		default:
			p.errorf(tp+".string_hash", "%s.string_hash %q is invalid (want numeric_first or crc32)", tp, t.StringHash)
			ok = false
		}
	}
	raw := p.ranges[t]
	if isDateAlg(t.Algorithm) {
		return p.resolveDate(t, tp, db, raw) && ok
	}

	// hash, mod, range: consecutive numbering over the slices.
	tpsOK := true
	switch {
	case !p.has(tp + ".tables_per_slice"):
		t.TablesPerSlice = make([]int, len(t.Slices))
		for i := range t.TablesPerSlice {
			t.TablesPerSlice[i] = 1
		}
	case p.scalarTPS[t]:
		n := t.TablesPerSlice[0]
		if n < 1 {
			p.errorf(tp+".tables_per_slice", "%s.tables_per_slice must be at least 1, got %d", tp, n)
			return false
		}
		t.TablesPerSlice = make([]int, len(t.Slices))
		for i := range t.TablesPerSlice {
			t.TablesPerSlice[i] = n
		}
	default:
		if len(t.TablesPerSlice) != len(t.Slices) {
			p.errorf(tp+".tables_per_slice", "%s.tables_per_slice has %d entries but slices has %d (one count per slice)", tp, len(t.TablesPerSlice), len(t.Slices))
			return false
		}
		for i, n := range t.TablesPerSlice {
			if n < 1 {
				p.errorf(indexPath(tp+".tables_per_slice", i), "%s must be at least 1, got %d", indexPath(tp+".tables_per_slice", i), n)
				tpsOK = false
			}
		}
	}
	if !tpsOK {
		return false
	}
	total := 0
	for _, n := range t.TablesPerSlice {
		total += n
		if total > MaxShardTables {
			p.errorf(tp+".tables_per_slice", "%s.tables_per_slice: more than %d tables", tp, MaxShardTables)
			return false
		}
	}
	if t.Algorithm == AlgRange && !p.resolveRanges(t, tp, raw, total) {
		return false
	}
	if !ok {
		return false
	}
	t.Nodes = make([]Node, 0, total)
	for i, s := range t.Slices {
		for j := 0; j < t.TablesPerSlice[i]; j++ {
			k := len(t.Nodes)
			t.Nodes = append(t.Nodes, Node{Slice: s, Database: db, Table: fmt.Sprintf("%s_%04d", t.Name, k), Index: k})
		}
	}
	return true
}

func isDateAlg(alg Algorithm) bool {
	return alg == AlgDateYear || alg == AlgDateMonth || alg == AlgDateDay
}

// resolveRanges checks the range algorithm's table_row_limit or ranges.
func (p *parser) resolveRanges(t *Table, tp string, raw []rawRange, total int) bool {
	hasLimit, hasRanges := p.has(tp+".table_row_limit"), p.has(tp+".ranges")
	switch {
	case hasLimit && hasRanges:
		p.errorf(tp+".ranges", "%s: table_row_limit and ranges are mutually exclusive", tp)
		return false
	case !hasLimit && !hasRanges:
		p.errorf(tp, "%s: a range table needs table_row_limit or ranges", tp)
		return false
	case hasLimit:
		if t.TableRowLimit < 1 {
			p.errorf(tp+".table_row_limit", "%s.table_row_limit must be at least 1, got %d", tp, t.TableRowLimit)
			return false
		}
		if t.TableRowLimit > math.MaxInt64/int64(total) {
			p.errorf(tp+".table_row_limit", "%s.table_row_limit %d × %d tables overflows a 64-bit key", tp, t.TableRowLimit, total)
			return false
		}
		return true
	}
	ok := true
	for _, r := range raw {
		if !r.pair {
			p.errorf(r.path, "%s %q: a range table takes [lo, hi] pairs, one per physical table", r.path, r.text)
			ok = false
		}
	}
	if !ok || len(raw) == 0 {
		if len(raw) == 0 && ok {
			p.errorf(tp+".ranges", "%s.ranges: at least one range is required", tp)
		}
		return false
	}
	if len(raw) != total {
		p.errorf(tp+".ranges", "%s.ranges has %d entries but the table has %d physical tables (tables_per_slice)", tp, len(raw), total)
		return false
	}
	t.Ranges = make([]Range, len(raw))
	for i, r := range raw {
		t.Ranges[i] = Range{Lo: r.lo, Hi: r.hi}
		switch {
		case r.lo == math.MinInt64 && i > 0:
			p.errorf(r.path, "%s: only the first range may start at min", r.path)
			ok = false
		case r.hi == math.MaxInt64 && i < len(raw)-1:
			p.errorf(r.path, "%s: only the last range may end at max", r.path)
			ok = false
		case r.lo >= r.hi:
			p.errorf(r.path, "%s [%s, %s]: lo must be less than hi", r.path, bound(r.lo), bound(r.hi))
			ok = false
		case i > 0 && r.lo != raw[i-1].hi:
			p.errorf(r.path, "%s starts at %s but ranges[%d] ends at %s (ranges must be contiguous and ascending)", r.path, bound(r.lo), i-1, bound(raw[i-1].hi))
			ok = false
		}
	}
	return ok
}

func bound(v int64) string {
	switch v {
	case math.MinInt64:
		return "min"
	case math.MaxInt64:
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

func (p *parser) resolveDate(t *Table, tp, db string, raw []rawRange) bool {
	ok := true
	if t.Timezone == "" {
		t.Timezone = DefaultTimezone
	}
	loc, err := time.LoadLocation(t.Timezone)
	if err != nil {
		p.errorf(tp+".timezone", "%s.timezone %q is invalid: unknown time zone", tp, t.Timezone)
		ok = false
	}
	t.Location = loc
	if !p.has(tp + ".ranges") {
		p.errorf(tp, "%s: a %s table needs ranges, one date range per slice", tp, t.Algorithm)
		return false
	}
	for _, r := range raw {
		if r.pair {
			p.errorf(r.path, "%s: a %s table takes date ranges such as %s, not [lo, hi] pairs", r.path, t.Algorithm, dateExample(t.Algorithm))
			ok = false
		}
	}
	if !ok {
		return false
	}
	if len(raw) != len(t.Slices) {
		p.errorf(tp+".ranges", "%s.ranges has %d entries but slices has %d (one date range per slice)", tp, len(raw), len(t.Slices))
		return false
	}
	t.DateRanges = make([]string, len(raw))
	var nodes []Node
	last, lastPath := 0, ""
	for i, r := range raw {
		t.DateRanges[i] = r.text
		periods, err := ParseDateRange(t.Algorithm, r.text)
		if err != nil {
			p.errorf(r.path, "%s %q: %v", r.path, r.text, err)
			ok = false
			continue
		}
		if lastPath != "" && periods[0] <= last {
			p.errorf(r.path, "%s %q starts at or before the end of %s (%d): date ranges must ascend without overlap", r.path, r.text, lastPath, last)
			ok = false
		}
		last, lastPath = periods[len(periods)-1], fmt.Sprintf("ranges[%d]", i)
		if len(nodes)+len(periods) > MaxShardTables {
			p.errorf(tp+".ranges", "%s.ranges: more than %d tables", tp, MaxShardTables)
			return false
		}
		for _, per := range periods {
			nodes = append(nodes, Node{Slice: t.Slices[i], Database: db, Table: fmt.Sprintf("%s_%04d", t.Name, per), Index: per})
		}
	}
	if !ok {
		return false
	}
	t.Nodes = nodes
	return true
}

func dateExample(alg Algorithm) string {
	switch alg {
	case AlgDateYear:
		return `"2015" or "2015-2017"`
	case AlgDateMonth:
		return `"201512" or "201512-201602"`
	}
	return `"20151222" or "20151222-20151224"`
}

// ParseDateRange expands one kingshard-style date range of a date
// algorithm into its period numbers, ascending: "2015-2017" (date_year) →
// 2015, 2016, 2017; "201511-201602" (date_month) → 201511, 201512, 201601,
// 201602; "20151230-20160101" (date_day) → 20151230, 20151231, 20160101. A
// single period ("2015", "201512", "20151222") is a range of one.
func ParseDateRange(alg Algorithm, text string) ([]int, error) {
	width := map[Algorithm]int{AlgDateYear: 4, AlgDateMonth: 6, AlgDateDay: 8}[alg]
	if width == 0 {
		return nil, fmt.Errorf("%q is not a date algorithm", alg)
	}
	bad := fmt.Errorf("not a %s range such as %s", strings.TrimPrefix(string(alg), "date_"), dateExample(alg))
	first, last, found := strings.Cut(text, "-")
	if !found {
		last = first
	}
	parse := func(s string) (time.Time, error) {
		if len(s) != width {
			return time.Time{}, bad
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return time.Time{}, bad
			}
		}
		y, _ := strconv.Atoi(s[:4])
		m, d := 1, 1
		if width >= 6 {
			m, _ = strconv.Atoi(s[4:6])
			if m < 1 || m > 12 {
				return time.Time{}, fmt.Errorf("month %s in %s is invalid", s[4:6], s)
			}
		}
		if width == 8 {
			d, _ = strconv.Atoi(s[6:8])
			if d < 1 || d > daysIn(y, m) {
				return time.Time{}, fmt.Errorf("day %s in %s is invalid", s[6:8], s)
			}
		}
		return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), nil
	}
	from, err := parse(first)
	if err != nil {
		return nil, err
	}
	to, err := parse(last)
	if err != nil {
		return nil, err
	}
	if to.Before(from) {
		return nil, fmt.Errorf("the range ends before it begins (write %s-%s)", last, first)
	}
	var out []int
	for d := from; !d.After(to); {
		if len(out) >= MaxShardTables {
			return nil, fmt.Errorf("more than %d periods", MaxShardTables)
		}
		switch alg {
		case AlgDateYear:
			out = append(out, d.Year())
			d = d.AddDate(1, 0, 0)
		case AlgDateMonth:
			out = append(out, d.Year()*100+int(d.Month()))
			d = d.AddDate(0, 1, 0)
		default:
			out = append(out, d.Year()*10000+int(d.Month())*100+d.Day())
			d = d.AddDate(0, 0, 1)
		}
	}
	return out, nil
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (p *parser) resolveGlobal(t *Table, tp, db string, allSlices []string, sliceNames map[string]string, dss map[string]*DataSource) bool {
	if p.has(tp+".slices") && p.has(tp+".datasources") {
		p.errorf(tp+".datasources", "%s: slices and datasources are mutually exclusive", tp)
		return false
	}
	if p.has(tp + ".datasources") {
		if len(t.DataSources) == 0 {
			p.errorf(tp+".datasources", "%s.datasources: at least one data source is required", tp)
			return false
		}
		ok := true
		seen := make(map[string]int)
		for i, name := range t.DataSources {
			dp := indexPath(tp+".datasources", i)
			ds, exists := dss[name]
			switch {
			case !exists:
				p.errorf(dp, "%s %q is not defined in the namespace's datasources", dp, name)
				ok = false
			case seen[name] > 0:
				p.errorf(dp, "%s %q is already listed as datasources[%d]", dp, name, seen[name]-1)
				ok = false
			default:
				t.Nodes = append(t.Nodes, Node{Slice: ds.Slice, Database: ds.Database, Table: t.Name, Index: i, DataSource: ds.Name})
			}
			seen[name] = i + 1
		}
		return ok
	}
	if !p.checkSlices(t, tp, allSlices, sliceNames) {
		return false
	}
	for i, s := range t.Slices {
		t.Nodes = append(t.Nodes, Node{Slice: s, Database: db, Table: t.Name, Index: i})
	}
	return true
}

// dataNode is one expanded "datasource.table" entry.
type dataNode struct{ ds, table string }

// expandDataNodes expands and checks a data_nodes value.
func (p *parser) expandDataNodes(t *Table, tp string, dss map[string]*DataSource) ([]dataNode, bool) {
	dp := tp + ".data_nodes"
	names, err := inline.ExpandList(t.DataNodes)
	if err != nil {
		p.errorf(dp, "%s %q: %v", dp, t.DataNodes, err)
		return nil, false
	}
	nodes := make([]dataNode, 0, len(names))
	seen := make(map[dataNode]bool)
	for _, name := range names {
		ds, table, found := strings.Cut(name, ".")
		if !found || ds == "" || table == "" || strings.Contains(table, ".") {
			p.errorf(dp, "%s %q: %q is not datasource.table", dp, t.DataNodes, name)
			return nil, false
		}
		if _, ok := dss[ds]; !ok {
			p.errorf(dp, "%s %q: data source %q is not defined in the namespace's datasources", dp, t.DataNodes, ds)
			return nil, false
		}
		n := dataNode{ds, table}
		if seen[n] {
			p.errorf(dp, "%s %q: %s is listed twice", dp, t.DataNodes, name)
			return nil, false
		}
		seen[n] = true
		nodes = append(nodes, n)
	}
	return nodes, true
}

func (p *parser) resolveInline(t *Table, tp string, dss map[string]*DataSource) bool {
	if !p.has(tp + ".data_nodes") {
		p.errorf(tp, "%s: an inline table needs data_nodes, e.g. \"ds_${0..1}.%s_${0..3}\"", tp, t.Name)
		return false
	}
	nodes, ok := p.expandDataNodes(t, tp, dss)
	if !ok {
		return false
	}
	if t.DatabaseStrategy == nil && t.TableStrategy == nil {
		p.errorf(tp, "%s: an inline table needs database_strategy, table_strategy or both", tp)
		return false
	}
	dsTables := make(map[string][]string) // data source -> its tables
	tableDSs := make(map[string][]string) // table -> its data sources
	var dsOrder []string
	for _, n := range nodes {
		if _, seen := dsTables[n.ds]; !seen {
			dsOrder = append(dsOrder, n.ds)
		}
		dsTables[n.ds] = append(dsTables[n.ds], n.table)
		tableDSs[n.table] = append(tableDSs[n.table], n.ds)
	}
	check := func(s *Strategy, sp, what string, exists func(string) bool) bool {
		if s == nil {
			return true
		}
		if s.Column == "" {
			s.Column = t.Key
		}
		good := true
		if s.Column == "" {
			p.errorf(sp+".column", "%s.column is required (or set the table's key)", sp)
			good = false
		}
		if s.Expression == "" {
			p.errorf(sp+".expression", "%s.expression is required", sp)
			return false
		}
		ep := sp + ".expression"
		tpl, err := inline.Parse(s.Expression)
		if err != nil {
			p.errorf(ep, "%s %q: %v", ep, s.Expression, err)
			return false
		}
		if tpl.Multi() {
			p.errorf(ep, "%s %q must name one %s, not a range or list", ep, s.Expression, what)
			return false
		}
		for _, c := range tpl.Columns() {
			if s.Column != "" && !strings.EqualFold(c, s.Column) {
				p.errorf(ep, "%s %q uses %q, but the strategy's column is %q", ep, s.Expression, c, s.Column)
				good = false
			}
		}
		if !good {
			return false
		}
		outs, err := tpl.Outputs(MaxShardTables)
		if err != nil {
			return true // cannot be enumerated (e.g. t_${id}); checked per value at run time
		}
		for _, o := range outs {
			if !exists(o) {
				hint := ""
				if strings.Contains(o, "-") {
					hint = " (negative remainders: wrap the value in Math.abs(...))"
				}
				p.errorf(ep, "%s %q can produce %q, which is not a %s in data_nodes%s", ep, s.Expression, o, what, hint)
				return false
			}
		}
		return true
	}
	okDB := check(t.DatabaseStrategy, tp+".database_strategy", "data source", func(s string) bool { _, ok := dsTables[s]; return ok })
	okTbl := check(t.TableStrategy, tp+".table_strategy", "table", func(s string) bool { _, ok := tableDSs[s]; return ok })
	if !okDB || !okTbl {
		return false
	}
	if t.DatabaseStrategy == nil {
		for _, n := range nodes {
			if dsl := tableDSs[n.table]; len(dsl) > 1 {
				p.errorf(tp, "%s: database_strategy is required: table %q is in data sources %q and %q", tp, n.table, dsl[0], dsl[1])
				return false
			}
		}
	}
	if t.TableStrategy == nil {
		for _, ds := range dsOrder {
			if tl := dsTables[ds]; len(tl) > 1 {
				p.errorf(tp, "%s: table_strategy is required: data source %q holds tables %q and %q", tp, ds, tl[0], tl[1])
				return false
			}
		}
	}
	t.Nodes = make([]Node, len(nodes))
	for i, n := range nodes {
		ds := dss[n.ds]
		t.Nodes[i] = Node{Slice: ds.Slice, Database: ds.Database, Table: n.table, Index: i, DataSource: ds.Name}
	}
	return true
}

// InlineColumns returns the sharding columns of an inline table: one when
// both strategies read the same column (or only one strategy is set), else
// the database column and then the table column.
func (t *Table) InlineColumns() []string {
	var cols []string
	for _, s := range []*Strategy{t.DatabaseStrategy, t.TableStrategy} {
		if s == nil || s.Column == "" {
			continue
		}
		if len(cols) == 0 || !strings.EqualFold(cols[0], s.Column) {
			cols = append(cols, s.Column)
		}
	}
	return cols
}

func (p *parser) resolveLinked(ref *tableRef, byName map[string]*tableRef, dss map[string]*DataSource) bool {
	t, tp := ref.t, ref.path
	if t.Parent == "" {
		p.errorf(tp+".parent", "%s.parent is required for a linked table", tp)
		return false
	}
	pr, exists := byName[strings.ToLower(t.Parent)]
	switch {
	case !exists:
		p.errorf(tp+".parent", "%s.parent %q does not name a table of database %q", tp, t.Parent, ref.db)
		return false
	case pr == ref:
		p.errorf(tp+".parent", "%s.parent %q is the table itself", tp, t.Parent)
		return false
	case pr.t.Type == TableLinked:
		p.errorf(tp+".parent", "%s.parent %q is a linked table; link to the sharded table it follows (%q)", tp, t.Parent, pr.t.Parent)
		return false
	case pr.t.Type != TableSharded:
		p.errorf(tp+".parent", "%s.parent %q is a %s table; only sharded tables can be parents", tp, t.Parent, pr.t.Type)
		return false
	case !pr.ok:
		return false // the parent's own errors are reported
	}
	parent := pr.t
	twoCols := parent.Algorithm == AlgInline && len(parent.InlineColumns()) == 2
	switch {
	case twoCols && t.Key != "":
		p.errorf(tp+".key", "%s.key does not apply: parent %q is sharded by two columns (%s), which the linked table shares", tp, parent.Name, strings.Join(parent.InlineColumns(), ", "))
		return false
	case !twoCols && t.Key == "":
		p.errorf(tp+".key", "%s.key is required for a linked table (its column holding the parent's %s)", tp, parentKey(parent))
		return false
	}
	if p.has(tp + ".data_nodes") {
		if parent.Algorithm != AlgInline {
			p.errorf(tp+".data_nodes", "%s.data_nodes only applies when the parent is an inline table", tp)
			return false
		}
		nodes, ok := p.expandDataNodes(t, tp, dss)
		if !ok {
			return false
		}
		if len(nodes) != len(parent.Nodes) {
			p.errorf(tp+".data_nodes", "%s.data_nodes %q has %d nodes but parent %q has %d", tp, t.DataNodes, len(nodes), parent.Name, len(parent.Nodes))
			return false
		}
		t.Nodes = make([]Node, len(nodes))
		for i, n := range nodes {
			pn := parent.Nodes[i]
			if n.ds != pn.DataSource {
				p.errorf(tp+".data_nodes", "%s.data_nodes %q: node %d is %s.%s but the parent's is %s.%s (same data source order required)", tp, t.DataNodes, i, n.ds, n.table, pn.DataSource, pn.Table)
				return false
			}
			pn.Table = n.table
			t.Nodes[i] = pn
		}
		return true
	}
	t.Nodes = make([]Node, len(parent.Nodes))
	for i, pn := range parent.Nodes {
		if len(pn.Table) < len(parent.Name) || !strings.EqualFold(pn.Table[:len(parent.Name)], parent.Name) {
			p.errorf(tp, "%s: data_nodes is required: the parent's physical table %q does not start with %q, so %q cannot be derived from it", tp, pn.Table, parent.Name, t.Name)
			t.Nodes = nil
			return false
		}
		pn.Table = t.Name + pn.Table[len(parent.Name):]
		t.Nodes[i] = pn
	}
	return true
}

func parentKey(t *Table) string {
	if t.Algorithm == AlgInline {
		return strings.Join(t.InlineColumns(), ", ")
	}
	return t.Key
}
