package shard

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // timezone: works on hosts without a zoneinfo database

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/shard/inline"
)

// MaxTables is the largest number of physical tables one logical table may
// have.
const MaxTables = 65536

// DefaultTimezone is the zone in which date rules read unix timestamps when
// a table sets none, like kingshard and Gaea, which use the proxy host's
// local time.
const DefaultTimezone = "Local"

// Range is the half-open key interval [Lo, Hi) of one physical table of a
// range table. Lo == math.MinInt64 means no lower bound ("min") and
// Hi == math.MaxInt64 no upper bound ("max").
type Range struct {
	Lo, Hi int64
}

// node is one resolved physical table.
type node struct {
	Target
	ds string // data source (inline tables, global tables on data sources)
}

// spec is one table's rule and what resolving it found.
type spec struct {
	ct   *config.Table
	path string // YAML path, e.g. namespaces[0].databases[1].tables[2]
	db   string

	nodes  []node         // every physical table in placement order
	ranges []Range        // range tables with explicit ranges
	limit  int64          // range tables with table_row_limit
	loc    *time.Location // date tables
	keys   []string       // inline tables: the sharding columns
	dbTpl  *inline.Template
	tblTpl *inline.Template
	parent *spec // linked tables

	ok   bool // resolved
	skip bool // name missing or already used: no collision checks
}

// placer resolves the rules of one namespace into physical tables and
// reports, by YAML path, everything that keeps a rule from placing rows.
type placer struct {
	slices []string // the namespace's slices, in file order
	dss    map[string]*config.DataSource
	report func(path, msg string)
	failed bool
	// rejected reports whether package config found a problem at a path
	// or under it (nil: none); what depends on such a rule is left alone.
	rejected func(path string) bool
}

func (p *placer) errorf(path, format string, args ...any) {
	p.failed = true
	p.report(path, fmt.Sprintf(format, args...))
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func indexPath(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

// build resolves and compiles the rules of namespace ns, whose YAML path is
// path ("" for none). It reports every problem and returns nil if there
// was one. rejected (may be nil) says where package config found problems.
func build(ns *config.Namespace, path string, report func(path, msg string), rejected func(path string) bool) *Rules {
	p := &placer{dss: make(map[string]*config.DataSource), report: report, rejected: rejected}
	for _, s := range ns.Slices {
		if s.Name != "" {
			p.slices = append(p.slices, s.Name)
		}
	}
	for i := range ns.DataSources {
		ds := &ns.DataSources[i]
		p.dss[ds.Name] = ds
	}
	var specs []*spec
	for i, db := range ns.Databases {
		dp := indexPath(joinPath(path, "databases"), i)
		byName := make(map[string]*spec)
		var linked []*spec
		for j, ct := range db.Tables {
			sp := &spec{ct: ct, path: indexPath(dp+".tables", j), db: db.Name}
			specs = append(specs, sp)
			if prev, dup := byName[strings.ToLower(ct.Name)]; dup {
				p.errorf(sp.path+".name", "%s.name %q is already used by %s", sp.path, ct.Name, prev.path)
				sp.skip = true
			} else {
				byName[strings.ToLower(ct.Name)] = sp
			}
			switch ct.Type {
			case config.TableSharded:
				if ct.Algorithm == config.AlgInline {
					sp.ok = p.resolveInline(sp)
				} else {
					sp.ok = p.resolveSharded(sp)
				}
			case config.TableLinked:
				linked = append(linked, sp)
			case config.TableGlobal:
				sp.ok = p.resolveGlobal(sp)
			default:
				p.errorf(sp.path+".type", "%s.type %q is invalid (want sharded, linked or global)", sp.path, ct.Type)
			}
			if sp.ok && p.rejected != nil && p.rejected(sp.path) {
				sp.ok = false
			}
		}
		for _, sp := range linked {
			sp.ok = p.resolveLinked(sp, byName)
		}
	}
	p.checkCollisions(specs)
	// A namespace with problems found by package config is only checked.
	if p.failed || p.rejected != nil {
		return nil
	}
	return compile(ns, specs)
}

// tableSlices returns the slices a table is numbered over: its own, or all
// slices of the namespace.
func (p *placer) tableSlices(t *config.Table) []string {
	if t.Slices != nil {
		return t.Slices
	}
	return p.slices
}

// checkCollisions reports physical tables that belong to two logical tables
// of the namespace.
func (p *placer) checkCollisions(specs []*spec) {
	type phys struct{ slice, db, table string }
	owner := make(map[phys]*spec)
	for _, sp := range specs {
		if !sp.ok || sp.skip {
			continue
		}
		for _, nd := range sp.nodes {
			k := phys{nd.Slice, strings.ToLower(nd.Database), strings.ToLower(nd.Table)}
			if prev, dup := owner[k]; dup && prev != sp {
				p.errorf(sp.path, "%s: physical table %s.%s on slice %s is also a physical table of %s.%s (%s)",
					sp.path, nd.Database, nd.Table, nd.Slice, prev.db, prev.ct.Name, prev.path)
				break
			}
			owner[k] = sp
		}
	}
}

// resolveSharded places a hash, mod, range or date table.
func (p *placer) resolveSharded(sp *spec) bool {
	t, tp := sp.ct, sp.path
	switch t.Algorithm {
	case config.AlgHash, config.AlgMod, config.AlgRange, config.AlgDateYear, config.AlgDateMonth, config.AlgDateDay:
	default:
		p.errorf(tp+".algorithm", "%s.algorithm %q is invalid (want hash, mod, range, date_year, date_month, date_day or inline)", tp, t.Algorithm)
		return false
	}
	slices := p.tableSlices(t)
	if len(slices) == 0 {
		return false // the namespace has no slices: reported by config
	}
	if t.Algorithm.IsDate() {
		return p.resolveDate(sp, slices)
	}

	// hash, mod, range: consecutive numbering over the slices.
	perSlice := make([]int, len(slices))
	switch {
	case t.TablesPerSlice == nil:
		for i := range perSlice {
			perSlice[i] = 1
		}
	case t.SameTablesPerSlice && len(t.TablesPerSlice) == 1:
		n := t.TablesPerSlice[0]
		if n < 1 {
			p.errorf(tp+".tables_per_slice", "%s.tables_per_slice must be at least 1, got %d", tp, n)
			return false
		}
		for i := range perSlice {
			perSlice[i] = n
		}
	default:
		if len(t.TablesPerSlice) != len(slices) {
			p.errorf(tp+".tables_per_slice", "%s.tables_per_slice has %d entries but slices has %d (one count per slice)", tp, len(t.TablesPerSlice), len(slices))
			return false
		}
		ok := true
		for i, n := range t.TablesPerSlice {
			if n < 1 {
				p.errorf(indexPath(tp+".tables_per_slice", i), "%s must be at least 1, got %d", indexPath(tp+".tables_per_slice", i), n)
				ok = false
			}
		}
		if !ok {
			return false
		}
		copy(perSlice, t.TablesPerSlice)
	}
	total := 0
	for _, n := range perSlice {
		total += n
		if total > MaxTables {
			p.errorf(tp+".tables_per_slice", "%s.tables_per_slice: more than %d tables", tp, MaxTables)
			return false
		}
	}
	if t.Algorithm == config.AlgRange && !p.resolveRanges(sp, total) {
		return false
	}
	sp.nodes = make([]node, 0, total)
	for i, s := range slices {
		for j := 0; j < perSlice[i]; j++ {
			k := len(sp.nodes)
			sp.nodes = append(sp.nodes, node{Target: Target{Slice: s, Database: sp.db, Table: fmt.Sprintf("%s_%04d", t.Name, k), Index: k}})
		}
	}
	return true
}

// resolveRanges checks the range algorithm's table_row_limit or ranges.
func (p *placer) resolveRanges(sp *spec, total int) bool {
	t, tp := sp.ct, sp.path
	hasLimit, hasRanges := t.TableRowLimit != nil, t.Ranges != nil
	switch {
	case hasLimit && hasRanges:
		p.errorf(tp+".ranges", "%s: table_row_limit and ranges are mutually exclusive", tp)
		return false
	case !hasLimit && !hasRanges:
		p.errorf(tp, "%s: a range table needs table_row_limit or ranges", tp)
		return false
	case hasLimit:
		limit := *t.TableRowLimit
		if limit < 1 {
			p.errorf(tp+".table_row_limit", "%s.table_row_limit must be at least 1, got %d", tp, limit)
			return false
		}
		if limit > math.MaxInt64/int64(total) {
			p.errorf(tp+".table_row_limit", "%s.table_row_limit %d × %d tables overflows a 64-bit key", tp, limit, total)
			return false
		}
		sp.limit = limit
		return true
	}
	ok := true
	for i, r := range t.Ranges {
		if !r.Pair {
			p.errorf(indexPath(tp+".ranges", i), "%s %q: a range table takes [lo, hi] pairs, one per physical table", indexPath(tp+".ranges", i), r.Text)
			ok = false
		}
	}
	if !ok {
		return false
	}
	if len(t.Ranges) == 0 {
		p.errorf(tp+".ranges", "%s.ranges: at least one range is required", tp)
		return false
	}
	if len(t.Ranges) != total {
		p.errorf(tp+".ranges", "%s.ranges has %d entries but the table has %d physical tables (tables_per_slice)", tp, len(t.Ranges), total)
		return false
	}
	ranges := make([]Range, len(t.Ranges))
	for i, r := range t.Ranges {
		rp := indexPath(tp+".ranges", i)
		ranges[i] = Range{Lo: r.Lo, Hi: r.Hi}
		switch {
		case r.Lo == math.MinInt64 && i > 0:
			p.errorf(rp, "%s: only the first range may start at min", rp)
			ok = false
		case r.Hi == math.MaxInt64 && i < len(t.Ranges)-1:
			p.errorf(rp, "%s: only the last range may end at max", rp)
			ok = false
		case r.Lo >= r.Hi:
			p.errorf(rp, "%s [%s, %s]: lo must be less than hi", rp, bound(r.Lo), bound(r.Hi))
			ok = false
		case i > 0 && r.Lo != t.Ranges[i-1].Hi:
			p.errorf(rp, "%s starts at %s but ranges[%d] ends at %s (ranges must be contiguous and ascending)", rp, bound(r.Lo), i-1, bound(t.Ranges[i-1].Hi))
			ok = false
		}
	}
	sp.ranges = ranges
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

// resolveDate places a date table: one physical table per period of the
// date ranges of its slices.
func (p *placer) resolveDate(sp *spec, slices []string) bool {
	t, tp := sp.ct, sp.path
	ok := true
	tz := t.Timezone
	if tz == "" {
		tz = DefaultTimezone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		p.errorf(tp+".timezone", "%s.timezone %q is invalid: unknown time zone", tp, tz)
		ok = false
	}
	sp.loc = loc
	if t.Ranges == nil {
		p.errorf(tp, "%s: a %s table needs ranges, one date range per slice", tp, t.Algorithm)
		return false
	}
	for i, r := range t.Ranges {
		if r.Pair {
			p.errorf(indexPath(tp+".ranges", i), "%s: a %s table takes date ranges such as %s, not [lo, hi] pairs", indexPath(tp+".ranges", i), t.Algorithm, dateExample(t.Algorithm))
			ok = false
		}
	}
	if !ok {
		return false
	}
	if len(t.Ranges) != len(slices) {
		p.errorf(tp+".ranges", "%s.ranges has %d entries but slices has %d (one date range per slice)", tp, len(t.Ranges), len(slices))
		return false
	}
	var nodes []node
	last, lastPath := 0, ""
	for i, r := range t.Ranges {
		rp := indexPath(tp+".ranges", i)
		periods, err := parseDateRange(t.Algorithm, r.Text)
		if err != nil {
			p.errorf(rp, "%s %q: %v", rp, r.Text, err)
			ok = false
			continue
		}
		if lastPath != "" && periods[0] <= last {
			p.errorf(rp, "%s %q starts at or before the end of %s (%d): date ranges must ascend without overlap", rp, r.Text, lastPath, last)
			ok = false
		}
		last, lastPath = periods[len(periods)-1], fmt.Sprintf("ranges[%d]", i)
		if len(nodes)+len(periods) > MaxTables {
			p.errorf(tp+".ranges", "%s.ranges: more than %d tables", tp, MaxTables)
			return false
		}
		for _, per := range periods {
			nodes = append(nodes, node{Target: Target{Slice: slices[i], Database: sp.db, Table: fmt.Sprintf("%s_%04d", t.Name, per), Index: per}})
		}
	}
	if !ok {
		return false
	}
	sp.nodes = nodes
	return true
}

func dateExample(alg config.Algorithm) string {
	switch alg {
	case config.AlgDateYear:
		return `"2015" or "2015-2017"`
	case config.AlgDateMonth:
		return `"201512" or "201512-201602"`
	}
	return `"20151222" or "20151222-20151224"`
}

// parseDateRange expands one kingshard-style date range of a date
// algorithm into its period numbers, ascending: "2015-2017" (date_year) →
// 2015, 2016, 2017; "201511-201602" (date_month) → 201511, 201512, 201601,
// 201602; "20151230-20160101" (date_day) → 20151230, 20151231, 20160101. A
// single period ("2015", "201512", "20151222") is a range of one.
func parseDateRange(alg config.Algorithm, text string) ([]int, error) {
	width := map[config.Algorithm]int{config.AlgDateYear: 4, config.AlgDateMonth: 6, config.AlgDateDay: 8}[alg]
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
		if len(out) >= MaxTables {
			return nil, fmt.Errorf("more than %d periods", MaxTables)
		}
		switch alg {
		case config.AlgDateYear:
			out = append(out, d.Year())
			d = d.AddDate(1, 0, 0)
		case config.AlgDateMonth:
			out = append(out, d.Year()*100+int(d.Month()))
			d = d.AddDate(0, 1, 0)
		default:
			out = append(out, d.Year()*10000+int(d.Month())*100+d.Day())
			d = d.AddDate(0, 0, 1)
		}
	}
	return out, nil
}

// resolveGlobal places a global table on its data sources or slices.
func (p *placer) resolveGlobal(sp *spec) bool {
	t, tp := sp.ct, sp.path
	if t.DataSources != nil {
		for i, name := range t.DataSources {
			ds := p.dss[name]
			if ds == nil {
				dp := indexPath(tp+".datasources", i)
				p.errorf(dp, "%s %q is not defined in the namespace's datasources", dp, name)
				return false
			}
			sp.nodes = append(sp.nodes, node{Target: Target{Slice: ds.Slice, Database: ds.Database, Table: t.Name, Index: i}, ds: ds.Name})
		}
		return len(sp.nodes) > 0
	}
	for i, s := range p.tableSlices(t) {
		sp.nodes = append(sp.nodes, node{Target: Target{Slice: s, Database: sp.db, Table: t.Name, Index: i}})
	}
	return len(sp.nodes) > 0
}

// dataNode is one expanded "datasource.table" entry.
type dataNode struct{ ds, table string }

// expandDataNodes expands and checks a data_nodes value.
func (p *placer) expandDataNodes(t *config.Table, tp string) ([]dataNode, bool) {
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
		if _, ok := p.dss[ds]; !ok {
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

// column returns the column a strategy reads: its own, or the table's key.
func column(t *config.Table, s *config.Strategy) string {
	if s.Column != "" {
		return s.Column
	}
	return t.Key
}

// inlineColumns returns the sharding columns of an inline table: one when
// both strategies read the same column (or only one strategy is set), else
// the database column and then the table column.
func inlineColumns(t *config.Table) []string {
	var cols []string
	for _, s := range []*config.Strategy{t.DatabaseStrategy, t.TableStrategy} {
		if s == nil {
			continue
		}
		c := column(t, s)
		if c == "" {
			continue
		}
		if len(cols) == 0 || !strings.EqualFold(cols[0], c) {
			cols = append(cols, c)
		}
	}
	return cols
}

// resolveInline places an inline table on its data_nodes and checks that
// its strategies can only name those.
func (p *placer) resolveInline(sp *spec) bool {
	t, tp := sp.ct, sp.path
	if t.DataNodes == "" {
		p.errorf(tp, "%s: an inline table needs data_nodes, e.g. \"ds_${0..1}.%s_${0..3}\"", tp, t.Name)
		return false
	}
	nodes, ok := p.expandDataNodes(t, tp)
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
	check := func(s *config.Strategy, sp, what string, dst **inline.Template, exists func(string) bool) bool {
		if s == nil {
			return true
		}
		col := column(t, s)
		good := true
		if col == "" {
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
			if col != "" && !strings.EqualFold(c, col) {
				p.errorf(ep, "%s %q uses %q, but the strategy's column is %q", ep, s.Expression, c, col)
				good = false
			}
		}
		if !good {
			return false
		}
		*dst = tpl
		outs, err := tpl.Outputs(MaxTables)
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
	okDB := check(t.DatabaseStrategy, tp+".database_strategy", "data source", &sp.dbTpl, func(s string) bool { _, ok := dsTables[s]; return ok })
	okTbl := check(t.TableStrategy, tp+".table_strategy", "table", &sp.tblTpl, func(s string) bool { _, ok := tableDSs[s]; return ok })
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
	sp.keys = inlineColumns(t)
	sp.nodes = make([]node, len(nodes))
	for i, n := range nodes {
		ds := p.dss[n.ds]
		sp.nodes[i] = node{Target: Target{Slice: ds.Slice, Database: ds.Database, Table: n.table, Index: i}, ds: ds.Name}
	}
	return true
}

// resolveLinked places a linked table like its parent: on the parent's
// nodes, with names from its own data_nodes or derived from the parent's.
func (p *placer) resolveLinked(sp *spec, byName map[string]*spec) bool {
	t, tp := sp.ct, sp.path
	pr := byName[strings.ToLower(t.Parent)]
	if pr == nil || pr == sp || pr.ct.Type != config.TableSharded {
		// config.Parse reports why; this is a namespace built by hand.
		p.errorf(tp+".parent", "%s.parent %q does not name a sharded table of database %q", tp, t.Parent, sp.db)
		return false
	}
	if !pr.ok {
		return false // the parent's own errors are reported
	}
	sp.parent = pr
	parent := pr.ct
	inlineParent := parent.Algorithm == config.AlgInline
	twoCols := inlineParent && len(pr.keys) == 2
	switch {
	case twoCols && t.Key != "":
		p.errorf(tp+".key", "%s.key does not apply: parent %q is sharded by two columns (%s), which the linked table shares", tp, parent.Name, strings.Join(pr.keys, ", "))
		return false
	case !twoCols && t.Key == "":
		key := parent.Key
		if inlineParent {
			key = strings.Join(pr.keys, ", ")
		}
		p.errorf(tp+".key", "%s.key is required for a linked table (its column holding the parent's %s)", tp, key)
		return false
	}
	if t.DataNodes != "" {
		if !inlineParent {
			p.errorf(tp+".data_nodes", "%s.data_nodes only applies when the parent is an inline table", tp)
			return false
		}
		nodes, ok := p.expandDataNodes(t, tp)
		if !ok {
			return false
		}
		if len(nodes) != len(pr.nodes) {
			p.errorf(tp+".data_nodes", "%s.data_nodes %q has %d nodes but parent %q has %d", tp, t.DataNodes, len(nodes), parent.Name, len(pr.nodes))
			return false
		}
		sp.nodes = make([]node, len(nodes))
		for i, n := range nodes {
			pn := pr.nodes[i]
			if n.ds != pn.ds {
				p.errorf(tp+".data_nodes", "%s.data_nodes %q: node %d is %s.%s but the parent's is %s.%s (same data source order required)", tp, t.DataNodes, i, n.ds, n.table, pn.ds, pn.Table)
				sp.nodes = nil
				return false
			}
			pn.Table = n.table
			sp.nodes[i] = pn
		}
		return true
	}
	sp.nodes = make([]node, len(pr.nodes))
	for i, pn := range pr.nodes {
		if len(pn.Table) < len(parent.Name) || !strings.EqualFold(pn.Table[:len(parent.Name)], parent.Name) {
			p.errorf(tp, "%s: data_nodes is required: the parent's physical table %q does not start with %q, so %q cannot be derived from it", tp, pn.Table, parent.Name, t.Name)
			sp.nodes = nil
			return false
		}
		pn.Table = t.Name + pn.Table[len(parent.Name):]
		sp.nodes[i] = pn
	}
	return true
}
