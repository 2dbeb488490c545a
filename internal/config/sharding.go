package config

import (
	"math"
	"strings"

	"go.yaml.in/yaml/v3"
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
	// Column is the sharding column the expression reads; empty: the
	// table's key.
	Column string
	// Expression is the inline expression, e.g. "ds_${user_id % 2}".
	Expression string
}

// RangeItem is one item of a table's ranges: a [lo, hi] pair of a range
// table (Pair; Lo == math.MinInt64 is "min", Hi == math.MaxInt64 "max") or
// a date range of a date table in kingshard's form (Text: "2015-2016",
// "201512-201602", "20151222-20151224" or a single period).
type RangeItem struct {
	Text   string
	Pair   bool
	Lo, Hi int64
}

// Table is the placement rule of one logical table, as written: package
// shard resolves it into physical tables.
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
	// tables other than inline, global tables placed on slices); nil when
	// not set (all slices of the namespace).
	Slices []string
	// TablesPerSlice is tables_per_slice: the number of physical tables on
	// each slice (hash, mod, range), one entry per slice, or one entry for
	// every slice when SameTablesPerSlice is set. Nil when not set (one
	// table per slice).
	TablesPerSlice []int
	// SameTablesPerSlice: tables_per_slice was given as one number.
	SameTablesPerSlice bool
	// TableRowLimit is the key span of each physical table of a range table
	// (kingshard's table_row_limit): table i holds [i*limit, (i+1)*limit).
	// Nil when not set.
	TableRowLimit *int64
	// Ranges are the items of ranges: one [lo, hi] pair per physical table
	// (range) or one date range per slice (date algorithms). Nil when not
	// set.
	Ranges []RangeItem
	// Timezone is the zone unix timestamps are read in (date algorithms);
	// empty: the proxy host's local zone.
	Timezone string
	// StringHash is StringHashNumericFirst or StringHashCRC32 (hash);
	// empty: StringHashNumericFirst.
	StringHash StringHashMode
	// Parent is the sharded table a linked table follows.
	Parent string
	// DatabaseStrategy picks the data source (inline).
	DatabaseStrategy *Strategy
	// TableStrategy picks the physical table (inline).
	TableStrategy *Strategy
	// DataNodes lists the physical tables as "datasource.table" inline
	// expressions (inline; optionally linked tables of an inline parent);
	// empty when not set.
	DataNodes string
	// DataSources places a global table on these data sources instead of
	// on slices; nil when not set.
	DataSources []string
	// Sequence makes the proxy fill an auto-increment column that an
	// INSERT omits (or gives as NULL or 0) from a global generator.
	Sequence *Sequence
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
		"slices":    p.optStrList(&t.Slices),
		"tables_per_slice": func(n *yaml.Node, path string) {
			n = resolve(n)
			if isNull(n) {
				return
			}
			if n.Kind == yaml.ScalarNode {
				var v int
				p.integer(&v)(n, path)
				t.TablesPerSlice = []int{v}
				t.SameTablesPerSlice = true
				return
			}
			t.TablesPerSlice = []int{}
			p.sequence(n, path, func(item *yaml.Node, path string) {
				var v int
				p.integer(&v)(item, path)
				t.TablesPerSlice = append(t.TablesPerSlice, v)
			})
		},
		"table_row_limit": func(n *yaml.Node, path string) {
			if isNull(resolve(n)) {
				return
			}
			var v int64
			p.int64(&v)(n, path)
			t.TableRowLimit = &v
		},
		"ranges": func(n *yaml.Node, path string) {
			if isNull(resolve(n)) {
				return
			}
			t.Ranges = []RangeItem{}
			p.sequence(n, path, func(item *yaml.Node, path string) {
				t.Ranges = append(t.Ranges, p.rangeItem(item, path))
			})
		},
		"timezone":          p.str(&t.Timezone),
		"string_hash":       p.str((*string)(&t.StringHash)),
		"parent":            p.str(&t.Parent),
		"database_strategy": strategy(&t.DatabaseStrategy),
		"table_strategy":    strategy(&t.TableStrategy),
		"data_nodes":        p.str(&t.DataNodes),
		"datasources":       p.optStrList(&t.DataSources),
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
func (p *parser) rangeItem(n *yaml.Node, path string) RangeItem {
	n = resolve(n)
	var r RangeItem
	switch {
	case isNull(n):
		p.fail(n, path, "%s: expected a date range or [lo, hi], got nothing", path)
	case n.Kind == yaml.ScalarNode:
		r.Text = n.Value
	case n.Kind == yaml.SequenceNode && len(n.Content) == 2:
		r.Pair = true
		for i, b := range []*int64{&r.Lo, &r.Hi} {
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

// optStrList decodes a list of strings, leaving dst nil when the key has
// no value.
func (p *parser) optStrList(dst *[]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if !isNull(resolve(n)) {
			p.strList(dst)(n, path)
		}
	}
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

// ---- validation ----

// tableRef is a table and its path, for name and parent lookups.
type tableRef struct {
	t    *Table
	path string
}

// validateSharding checks the sharding rules as written: names, types,
// algorithms, the keys that apply, and references to slices, data sources
// and parent tables. Package shard resolves the physical tables and checks
// the placement itself.
func (p *parser) validateSharding(ns *Namespace, path string, sliceNames map[string]string) {
	dss := make(map[string]bool)
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
		dss[ds.Name] = true
	}

	dbNames := make(map[string]string)
	for i, db := range ns.Databases {
		dp := indexPath(path+".databases", i)
		if db.Name == "" {
			p.errorf(dp+".name", "%s.name is required", dp)
		} else if prev, dup := dbNames[strings.ToLower(db.Name)]; dup {
			p.errorf(dp+".name", "%s.name %q is already used by %s", dp, db.Name, prev)
		} else {
			dbNames[strings.ToLower(db.Name)] = dp
		}
		byName := make(map[string]tableRef)
		var linked []tableRef
		for j, t := range db.Tables {
			tp := indexPath(dp+".tables", j)
			if t.Name == "" {
				p.errorf(tp+".name", "%s.name is required", tp)
			} else if prev, dup := byName[strings.ToLower(t.Name)]; dup {
				p.errorf(tp+".name", "%s.name %q is already used by %s", tp, t.Name, prev.path)
			} else {
				byName[strings.ToLower(t.Name)] = tableRef{t, tp}
			}
			switch t.Type {
			case TableSharded:
				p.checkApplies(t, tp, "algorithm "+string(t.Algorithm), shardedKeys(t.Algorithm))
				if t.Algorithm != AlgInline {
					p.checkSharded(t, tp, sliceNames)
				}
			case TableLinked:
				p.checkApplies(t, tp, "a linked table", []string{"key", "parent", "data_nodes"})
				linked = append(linked, tableRef{t, tp})
			case TableGlobal:
				if t.Sequence != nil {
					p.errorf(tp+".sequence", "%s.sequence applies to sharded tables only", tp)
				}
				p.checkApplies(t, tp, "a global table", []string{"slices", "datasources"})
				p.checkGlobal(t, tp, sliceNames, dss)
			case "":
				p.errorf(tp+".type", "%s.type is required (sharded, linked or global)", tp)
			default:
				p.errorf(tp+".type", "%s.type %q is invalid (want sharded, linked or global)", tp, t.Type)
			}
		}
		for _, ref := range linked {
			p.checkLinked(ref, byName, db.Name)
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

// checkSlices checks that a table's slices (when set) name distinct slices
// of the namespace.
func (p *parser) checkSlices(t *Table, tp string, sliceNames map[string]string) bool {
	if t.Slices == nil {
		return true
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

// checkSharded checks a sharded table other than inline: its key, its
// algorithm, its slices and its string hashing.
func (p *parser) checkSharded(t *Table, tp string, sliceNames map[string]string) {
	if t.Key == "" {
		p.errorf(tp+".key", "%s.key is required for a sharded table", tp)
	}
	switch t.Algorithm {
	case AlgHash, AlgMod, AlgRange, AlgDateYear, AlgDateMonth, AlgDateDay:
	case "":
		p.errorf(tp+".algorithm", "%s.algorithm is required for a sharded table (hash, mod, range, date_year, date_month, date_day or inline)", tp)
		return
	default:
		p.errorf(tp+".algorithm", "%s.algorithm %q is invalid (want hash, mod, range, date_year, date_month, date_day or inline)", tp, t.Algorithm)
		return
	}
	if !p.checkSlices(t, tp, sliceNames) {
		return
	}
	if t.Algorithm == AlgHash {
		switch t.StringHash {
		case "", StringHashNumericFirst, StringHashCRC32:
		default:
			p.errorf(tp+".string_hash", "%s.string_hash %q is invalid (want numeric_first or crc32)", tp, t.StringHash)
		}
	}
}

// checkGlobal checks where a global table is placed: on slices or on data
// sources of the namespace.
func (p *parser) checkGlobal(t *Table, tp string, sliceNames map[string]string, dss map[string]bool) {
	if t.Slices != nil && t.DataSources != nil {
		p.errorf(tp+".datasources", "%s: slices and datasources are mutually exclusive", tp)
		return
	}
	if t.DataSources == nil {
		p.checkSlices(t, tp, sliceNames)
		return
	}
	if len(t.DataSources) == 0 {
		p.errorf(tp+".datasources", "%s.datasources: at least one data source is required", tp)
		return
	}
	seen := make(map[string]int)
	for i, name := range t.DataSources {
		dp := indexPath(tp+".datasources", i)
		switch {
		case !dss[name]:
			p.errorf(dp, "%s %q is not defined in the namespace's datasources", dp, name)
		case seen[name] > 0:
			p.errorf(dp, "%s %q is already listed as datasources[%d]", dp, name, seen[name]-1)
		}
		seen[name] = i + 1
	}
}

// checkLinked checks that a linked table names a sharded parent in its
// database.
func (p *parser) checkLinked(ref tableRef, byName map[string]tableRef, db string) {
	t, tp := ref.t, ref.path
	if t.Parent == "" {
		p.errorf(tp+".parent", "%s.parent is required for a linked table", tp)
		return
	}
	pr, exists := byName[strings.ToLower(t.Parent)]
	switch {
	case !exists:
		p.errorf(tp+".parent", "%s.parent %q does not name a table of database %q", tp, t.Parent, db)
	case pr.t == t:
		p.errorf(tp+".parent", "%s.parent %q is the table itself", tp, t.Parent)
	case pr.t.Type == TableLinked:
		p.errorf(tp+".parent", "%s.parent %q is a linked table; link to the sharded table it follows (%q)", tp, t.Parent, pr.t.Parent)
	case pr.t.Type != TableSharded:
		p.errorf(tp+".parent", "%s.parent %q is a %s table; only sharded tables can be parents", tp, t.Parent, pr.t.Type)
	}
}
