// Package shard places rows of logical tables on physical tables: given a
// logical table and a sharding key value it returns the slice, the physical
// database and the physical table that hold the row. It is pure (no I/O),
// safe for concurrent use, and built once per configuration snapshot from
// the rules that internal/config decoded: this package resolves them into
// physical tables and checks that they can place rows (Build; LoadConfig
// and ParseConfig load and validate a whole configuration).
//
// Placement is compatible with kingshard and Gaea (hash, mod, range,
// date_year, date_month, date_day, linked and global tables) and with
// ShardingSphere's standard strategy with inline expressions, so that data
// placed by those systems is found where it lies. docs/sharding.md
// describes the rules and the exact formulas.
//
// Returned []Target slices are shared with the Rules and must not be
// modified.
package shard

import (
	"errors"
	"fmt"
	"hash/crc32"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/shard/inline"
)

// Errors returned by the Locate methods, wrapped in an *Error; test with
// errors.Is.
var (
	// ErrNoTarget: the value belongs to no physical table (outside the
	// ranges or dates configured, or an inline expression named a node that
	// is not in data_nodes).
	ErrNoTarget = errors.New("no physical table for this value")
	// ErrBadValue: the value cannot be a key of this table (wrong type,
	// unparsable date or integer).
	ErrBadValue = errors.New("value cannot be used as this table's sharding key")
	// ErrNotKeyed: the table has no key (global tables: use All).
	ErrNotKeyed = errors.New("table is not sharded by a key")
	// ErrKeyCount: the number of values does not match Keys().
	ErrKeyCount = errors.New("wrong number of sharding key values")
)

// Error is a placement error about one table.
type Error struct {
	Table string // "db.table"
	Err   error  // one of the Err* sentinels
	Msg   string
}

func (e *Error) Error() string {
	if e.Table == "" {
		return "shard: " + e.Msg
	}
	return "shard: " + e.Table + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Kind is the kind of a logical table.
type Kind uint8

// Table kinds.
const (
	Default Kind = iota // no rule: the whole table on the default slice
	Sharded             // split over physical tables by key
	Linked              // placed like its parent, with its own physical names
	Global              // a full copy on every slice it lists
)

func (k Kind) String() string {
	switch k {
	case Sharded:
		return "sharded"
	case Linked:
		return "linked"
	case Global:
		return "global"
	}
	return "default"
}

// Target is one physical table.
type Target struct {
	// Slice is the slice (replication group) holding the table.
	Slice string
	// Database is the physical database on the slice: the logical database
	// for kingshard/Gaea-style rules, the data source's database for inline
	// rules.
	Database string
	// Table is the physical table name.
	Table string
	// Index is the sub-table index: the number in the name for hash, mod
	// and range (0..N-1), the period for date rules (2016, 201603,
	// 20160304), the position in data_nodes for inline rules, the position
	// in the slice list for global tables, 0 for default tables.
	Index int
}

// locator maps key values to positions in a table's targets.
type locator interface {
	// locate returns the position of v's target.
	locate(v Value) (int, error)
	// prune returns the positions [from, to) that may hold keys between lo
	// and hi; all is true when the algorithm cannot prune.
	prune(lo, hi Bound) (from, to int, all bool, err error)
}

// Table is the placement of one logical table.
type Table struct {
	db, name string
	kind     Kind
	alg      config.Algorithm
	keys     []string
	targets  []Target
	slices   []string
	parent   *Table
	loc      locator    // sharded and linked (nil for inline)
	in       *inlineLoc // inline, and linked children of inline tables
	byDS     map[string][]Target
	byTable  map[string][]Target
	seq      *config.Sequence
}

// Sequence returns the table's ID generator settings (nil: none). Its
// Column defaults to the table's key.
func (t *Table) Sequence() *config.Sequence { return t.seq }

// Database returns the logical database name.
func (t *Table) Database() string { return t.db }

// Name returns the logical table name.
func (t *Table) Name() string { return t.name }

// Kind returns the table's kind.
func (t *Table) Kind() Kind { return t.kind }

// Algorithm returns the sharding algorithm (config.AlgHash, ...); for linked
// tables the parent's; "" for global and default tables.
func (t *Table) Algorithm() config.Algorithm { return t.alg }

// Keys returns the sharding columns: one, or for inline tables whose
// database and table strategies read different columns, the database
// column and then the table column. Nil for global and default tables.
func (t *Table) Keys() []string { return t.keys }

// Key returns the first sharding column, or "".
func (t *Table) Key() string {
	if len(t.keys) == 0 {
		return ""
	}
	return t.keys[0]
}

// IsKey reports whether col (case-insensitive) is a sharding column.
func (t *Table) IsKey(col string) bool {
	for _, k := range t.keys {
		if strings.EqualFold(k, col) {
			return true
		}
	}
	return false
}

// Parent returns the parent of a linked table, or nil.
func (t *Table) Parent() *Table { return t.parent }

// All returns every physical table in a stable order (slice order, then
// table number; data_nodes order for inline rules): the targets of a
// scatter query or of DDL fan-out.
func (t *Table) All() []Target { return t.targets }

// Slices returns the distinct slices of All, in order of first appearance.
func (t *Table) Slices() []string { return t.slices }

func (t *Table) qualified() string { return t.db + "." + t.name }

func (t *Table) wrap(err error) error {
	var e *Error
	if errors.As(err, &e) && e.Table == "" {
		c := *e
		c.Table = t.qualified()
		return &c
	}
	return err
}

func (t *Table) errorf(sentinel error, format string, args ...any) error {
	return &Error{Table: t.qualified(), Err: sentinel, Msg: fmt.Sprintf(format, args...)}
}

// Locate returns the target holding key value v. Default tables return
// their single target whatever v is; global tables return ErrNotKeyed.
// Tables with two keys (see Keys) need LocateKeys.
func (t *Table) Locate(v Value) (Target, error) {
	switch t.kind {
	case Default:
		return t.targets[0], nil
	case Global:
		return Target{}, t.errorf(ErrNotKeyed, "a global table has a copy on every slice; use All")
	}
	pos, err := t.locatePos(v)
	if err != nil {
		return Target{}, err
	}
	return t.targets[pos], nil
}

// locatePos is Locate for a sharded single-key table: the position of the
// target in All.
func (t *Table) locatePos(v Value) (int, error) {
	if len(t.keys) != 1 {
		return 0, t.errorf(ErrKeyCount, "sharded by %s: use LocateKeys with one value per column", strings.Join(t.keys, " and "))
	}
	var pos int
	var err error
	if t.in != nil {
		pos, err = t.in.locate2(v, v)
	} else {
		pos, err = t.loc.locate(v)
	}
	if err != nil {
		return 0, t.wrap(err)
	}
	return pos, nil
}

// LocateKeys returns the target for one value per column of Keys, in that
// order. For single-key tables it is Locate.
func (t *Table) LocateKeys(vals ...Value) (Target, error) {
	if len(t.keys) == 2 {
		if len(vals) != 2 {
			return Target{}, t.errorf(ErrKeyCount, "got %d values for keys %s", len(vals), strings.Join(t.keys, ", "))
		}
		pos, err := t.in.locate2(vals[0], vals[1])
		if err != nil {
			return Target{}, t.wrap(err)
		}
		return t.targets[pos], nil
	}
	if t.kind == Default {
		return t.targets[0], nil
	}
	if len(vals) != 1 {
		return Target{}, t.errorf(ErrKeyCount, "got %d values for one key", len(vals))
	}
	return t.Locate(vals[0])
}

// LocateIn returns the targets of an IN list on the key: deduplicated, in
// All order. Any value that cannot be placed fails the whole call.
func (t *Table) LocateIn(vals []Value) ([]Target, error) {
	switch t.kind {
	case Default:
		return t.targets, nil
	case Global:
		return nil, t.errorf(ErrNotKeyed, "a global table has a copy on every slice; use All")
	}
	if len(vals) == 1 {
		tg, err := t.Locate(vals[0])
		if err != nil {
			return nil, err
		}
		return []Target{tg}, nil
	}
	seen := make([]uint64, (len(t.targets)+63)/64)
	count := 0
	for _, v := range vals {
		var pos int
		var err error
		switch {
		case len(t.keys) != 1:
			return nil, t.errorf(ErrKeyCount, "sharded by %s: an IN list on one column cannot place rows", strings.Join(t.keys, " and "))
		case t.in != nil:
			pos, err = t.in.locate2(v, v)
		default:
			pos, err = t.loc.locate(v)
		}
		if err != nil {
			return nil, t.wrap(err)
		}
		if seen[pos/64]&(1<<(pos%64)) == 0 {
			seen[pos/64] |= 1 << (pos % 64)
			count++
		}
	}
	out := make([]Target, 0, count)
	for pos := range t.targets {
		if seen[pos/64]&(1<<(pos%64)) != 0 {
			out = append(out, t.targets[pos])
		}
	}
	return out, nil
}

// LocateColumn returns the targets that can hold rows whose column col
// equals v. For a single-key table and its key that is the one target of
// Locate; for an inline table with two keys, the targets of the data
// source (database column) or of the table name (table column) v selects;
// for any other column, All.
func (t *Table) LocateColumn(col string, v Value) ([]Target, error) {
	if t.kind == Default || t.kind == Global || !t.IsKey(col) {
		return t.targets, nil
	}
	if len(t.keys) == 1 {
		pos, err := t.locatePos(v)
		if err != nil {
			return nil, err
		}
		// A view of All (read-only, like every returned list); its capacity
		// ends at the target, so an append copies.
		return t.targets[pos : pos+1 : pos+1], nil
	}
	if strings.EqualFold(col, t.keys[0]) {
		ds, err := t.in.evalDS(v)
		if err != nil {
			return nil, t.wrap(err)
		}
		if l, ok := t.byDS[ds]; ok {
			return l, nil
		}
		return nil, t.errorf(ErrNoTarget, "%s = %s: data source %q is not in data_nodes", col, v, ds)
	}
	tbl, err := t.in.evalTable(v)
	if err != nil {
		return nil, t.wrap(err)
	}
	if l, ok := t.byTable[tbl]; ok {
		return l, nil
	}
	return nil, t.errorf(ErrNoTarget, "%s = %s: table %q is not in data_nodes", col, v, tbl)
}

// LocateRange returns the targets that can hold keys between lo and hi
// (zero Bounds are open). Range and date rules prune to the tables whose
// interval or period overlaps; hash, mod and inline rules return All, as
// do global and default tables. An empty result means no table can match.
func (t *Table) LocateRange(lo, hi Bound) ([]Target, error) {
	if t.kind == Default || t.kind == Global || t.in != nil {
		return t.targets, nil
	}
	from, to, all, err := t.loc.prune(lo, hi)
	if err != nil {
		return nil, t.wrap(err)
	}
	if all {
		return t.targets, nil
	}
	return t.targets[from:to], nil
}

// ---- Rules ----

type tableKey struct{ db, table string }

// Rules are the placement rules of one namespace.
type Rules struct {
	defaultSlice string
	tables       map[tableKey]*Table
	list         []*Table
}

// DefaultSlice returns the slice of tables without a rule.
func (r *Rules) DefaultSlice() string { return r.defaultSlice }

// Tables returns every table with a rule, in configuration order.
func (r *Rules) Tables() []*Table { return r.list }

// HasRules reports whether any table has a rule; a namespace without rules
// sends everything to its default slice.
func (r *Rules) HasRules() bool { return len(r.list) > 0 }

// Table returns the placement of db.name (case-insensitive). ok is false
// when no rule names the table: the result is then a Default table on the
// default slice, in database db under its own name (allocated per call).
func (r *Rules) Table(db, name string) (*Table, bool) {
	if t, ok := r.tables[tableKey{strings.ToLower(db), strings.ToLower(name)}]; ok {
		return t, true
	}
	return &Table{
		db: db, name: name, kind: Default,
		targets: []Target{{Slice: r.defaultSlice, Database: db, Table: name}},
		slices:  []string{r.defaultSlice},
	}, false
}

// Build resolves the sharding rules of a namespace into physical tables and
// compiles them. It fails when a rule cannot place rows; the error joins
// every problem found, each naming the rule's YAML path below the
// namespace (databases[0].tables[1]...). ParseConfig and LoadConfig
// report the same problems with the file, line and full YAML path.
func Build(ns *config.Namespace) (*Rules, error) {
	var errs []error
	r := build(ns, "", func(_, msg string) { errs = append(errs, errors.New(msg)) }, nil)
	if r == nil {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// compile builds the Rules of resolved specs (linked tables after the
// tables they follow), in configuration order.
func compile(ns *config.Namespace, specs []*spec) *Rules {
	r := &Rules{defaultSlice: ns.DefaultSlice, tables: make(map[tableKey]*Table)}
	built := make(map[*spec]*Table, len(specs))
	for _, sp := range specs {
		if sp.ct.Type != config.TableLinked {
			built[sp] = buildTable(sp)
		}
	}
	for _, sp := range specs {
		if sp.ct.Type != config.TableLinked {
			continue
		}
		parent := built[sp.parent]
		t := newTable(sp, Linked)
		t.parent, t.alg, t.loc, t.in = parent, parent.alg, parent.loc, parent.in
		if sp.ct.Key != "" {
			t.keys = []string{sp.ct.Key}
		} else {
			t.keys = parent.keys
		}
		if t.in != nil {
			t.indexInline()
		}
		built[sp] = t
	}
	for _, sp := range specs {
		t := built[sp]
		r.tables[tableKey{strings.ToLower(t.db), strings.ToLower(t.name)}] = t
		r.list = append(r.list, t)
	}
	return r
}

func newTable(sp *spec, kind Kind) *Table {
	ct := sp.ct
	t := &Table{db: sp.db, name: ct.Name, kind: kind}
	if ct.Sequence != nil {
		q := *ct.Sequence
		if q.Column == "" {
			q.Column = ct.Key
		}
		t.seq = &q
	}
	t.targets = make([]Target, len(sp.nodes))
	seen := make(map[string]bool)
	for i, n := range sp.nodes {
		t.targets[i] = n.Target
		if !seen[n.Slice] {
			seen[n.Slice] = true
			t.slices = append(t.slices, n.Slice)
		}
	}
	return t
}

// buildTable compiles a resolved sharded or global table.
func buildTable(sp *spec) *Table {
	ct := sp.ct
	if ct.Type == config.TableGlobal {
		return newTable(sp, Global)
	}
	t := newTable(sp, Sharded)
	t.alg = ct.Algorithm
	t.keys = []string{ct.Key}
	n := len(t.targets)
	switch ct.Algorithm {
	case config.AlgHash:
		t.loc = &hashLoc{n: uint64(n), numericFirst: ct.StringHash != config.StringHashCRC32}
	case config.AlgMod:
		t.loc = &modLoc{n: int64(n)}
	case config.AlgRange:
		if sp.ranges != nil {
			t.loc = &explicitRangeLoc{ranges: sp.ranges}
		} else {
			t.loc = &limitRangeLoc{limit: sp.limit, n: int64(n)}
		}
	case config.AlgDateYear, config.AlgDateMonth, config.AlgDateDay:
		d := &dateLoc{alg: ct.Algorithm, loc: sp.loc, periods: make([]int, n)}
		for i, tg := range t.targets {
			d.periods[i] = tg.Index
		}
		t.loc = d
	case config.AlgInline:
		t.in = newInlineLoc(sp)
		t.keys = sp.keys
		t.indexInline()
	}
	return t
}

// indexInline builds the per-data-source and per-table target lists.
func (t *Table) indexInline() {
	t.byDS = make(map[string][]Target)
	t.byTable = make(map[string][]Target)
	for i, ds := range t.in.dsOf {
		t.byDS[ds] = append(t.byDS[ds], t.targets[i])
		tbl := t.in.tableOf[i]
		t.byTable[tbl] = append(t.byTable[tbl], t.targets[i])
	}
}

// ---- algorithms ----

// crc32String is crc32.ChecksumIEEE of s without copying it.
func crc32String(s string) uint32 {
	return crc32.ChecksumIEEE(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// hashLoc: index = HashValue(v) % n (kingshard/Gaea "hash").
type hashLoc struct {
	n            uint64
	numericFirst bool
}

func (h *hashLoc) locate(v Value) (int, error) {
	k, err := hashKey(v, h.numericFirst)
	if err != nil {
		return 0, err
	}
	return int(k % h.n), nil
}

func (h *hashLoc) prune(lo, hi Bound) (int, int, bool, error) { return 0, 0, true, nil }

// modLoc: index = |NumValue(v)| % n (Gaea "mod").
type modLoc struct{ n int64 }

func (m *modLoc) locate(v Value) (int, error) {
	k, err := numKey(v, config.AlgMod)
	if err != nil {
		return 0, err
	}
	if k < 0 {
		k = -k
		if k < 0 { // MinInt64 has no absolute value
			return 0, &Error{Err: ErrNoTarget, Msg: fmt.Sprintf("%s has no absolute value", v)}
		}
	}
	return int(k % m.n), nil
}

func (m *modLoc) prune(lo, hi Bound) (int, int, bool, error) { return 0, 0, true, nil }

// intBounds turns range bounds into an inclusive int64 interval; empty is
// true when no integer lies between them.
func intBounds(lo, hi Bound, alg config.Algorithm) (l, h int64, empty bool, err error) {
	l, h = minInt64, maxInt64
	if lo.set() {
		if l, err = numKey(lo.Value, alg); err != nil {
			return 0, 0, false, err
		}
		if lo.Exclusive {
			if l == maxInt64 {
				return 0, 0, true, nil
			}
			l++
		}
	}
	if hi.set() {
		if h, err = numKey(hi.Value, alg); err != nil {
			return 0, 0, false, err
		}
		if hi.Exclusive {
			if h == minInt64 {
				return 0, 0, true, nil
			}
			h--
		}
	}
	return l, h, l > h, nil
}

const (
	minInt64 = -1 << 63
	maxInt64 = 1<<63 - 1
)

// limitRangeLoc: table i holds [i*limit, (i+1)*limit) (kingshard/Gaea
// "range" with table_row_limit).
type limitRangeLoc struct{ limit, n int64 }

func (r *limitRangeLoc) locate(v Value) (int, error) {
	k, err := numKey(v, config.AlgRange)
	if err != nil {
		return 0, err
	}
	if k < 0 || k/r.limit >= r.n {
		return 0, &Error{Err: ErrNoTarget, Msg: fmt.Sprintf("%s is outside [0, %d)", v, r.limit*r.n)}
	}
	return int(k / r.limit), nil
}

func (r *limitRangeLoc) prune(lo, hi Bound) (int, int, bool, error) {
	l, h, empty, err := intBounds(lo, hi, config.AlgRange)
	if err != nil || empty || h < 0 {
		return 0, 0, false, err
	}
	if l < 0 {
		l = 0
	}
	from, to := l/r.limit, h/r.limit+1
	if to > r.n {
		to = r.n
	}
	if from >= to {
		return 0, 0, false, nil
	}
	return int(from), int(to), false, nil
}

// explicitRangeLoc: table i holds ranges[i] = [Lo, Hi), contiguous and
// ascending; Hi == MaxInt64 is open.
type explicitRangeLoc struct{ ranges []Range }

func (r *explicitRangeLoc) find(k int64) int {
	// the last range with Lo <= k
	return sort.Search(len(r.ranges), func(i int) bool { return r.ranges[i].Lo > k }) - 1
}

func (r *explicitRangeLoc) contains(i int, k int64) bool {
	return i >= 0 && k >= r.ranges[i].Lo && (k < r.ranges[i].Hi || r.ranges[i].Hi == maxInt64)
}

func (r *explicitRangeLoc) locate(v Value) (int, error) {
	k, err := numKey(v, config.AlgRange)
	if err != nil {
		return 0, err
	}
	i := r.find(k)
	if !r.contains(i, k) {
		return 0, &Error{Err: ErrNoTarget, Msg: fmt.Sprintf("%s is outside the configured ranges", v)}
	}
	return i, nil
}

func (r *explicitRangeLoc) prune(lo, hi Bound) (int, int, bool, error) {
	l, h, empty, err := intBounds(lo, hi, config.AlgRange)
	if err != nil || empty {
		return 0, 0, false, err
	}
	from := r.find(l)
	if !r.contains(from, l) {
		from++ // l lies before the first range
	}
	to := r.find(h) + 1
	if from >= to {
		return 0, 0, false, nil
	}
	return from, to, false, nil
}

// dateLoc: the table named after the key's year, month or day (kingshard/
// Gaea date_year, date_month, date_day).
type dateLoc struct {
	alg     config.Algorithm
	loc     *time.Location
	periods []int // ascending
}

func (d *dateLoc) period(t time.Time) int {
	y, m, day := t.Date()
	switch d.alg {
	case config.AlgDateYear:
		return y
	case config.AlgDateMonth:
		return y*100 + int(m)
	}
	return y*10000 + int(m)*100 + day
}

func (d *dateLoc) locate(v Value) (int, error) {
	t, err := civil(v, d.loc)
	if err != nil {
		return 0, err
	}
	p := d.period(t)
	i := sort.SearchInts(d.periods, p)
	if i == len(d.periods) || d.periods[i] != p {
		return 0, &Error{Err: ErrNoTarget, Msg: fmt.Sprintf("%s falls in %d, which no date range covers", v, p)}
	}
	return i, nil
}

func (d *dateLoc) prune(lo, hi Bound) (int, int, bool, error) {
	from, to := 0, len(d.periods)
	if lo.set() {
		t, err := civil(lo.Value, d.loc)
		if err != nil {
			return 0, 0, false, err
		}
		from = sort.SearchInts(d.periods, d.period(t))
	}
	if hi.set() {
		t, err := civil(hi.Value, d.loc)
		if err != nil {
			return 0, 0, false, err
		}
		if hi.Exclusive {
			t = t.Add(-time.Nanosecond) // < period start excludes that period
		}
		to = sort.SearchInts(d.periods, d.period(t)+1)
	}
	if from >= to {
		return 0, 0, false, nil
	}
	return from, to, false, nil
}

// inlineLoc evaluates ShardingSphere standard strategies.
type inlineLoc struct {
	db, tbl *inline.Template // nil when the strategy is absent
	pos     map[string]map[string]int
	dsOnly  map[string]int // tbl == nil: data source -> its single node
	tblOnly map[string]int // db == nil: table -> its single node
	dsOf    []string       // per position
	tableOf []string       // per position
}

func newInlineLoc(sp *spec) *inlineLoc {
	in := &inlineLoc{db: sp.dbTpl, tbl: sp.tblTpl, pos: make(map[string]map[string]int), dsOnly: make(map[string]int), tblOnly: make(map[string]int)}
	for i, n := range sp.nodes {
		m := in.pos[n.ds]
		if m == nil {
			m = make(map[string]int)
			in.pos[n.ds] = m
		}
		m[n.Table] = i
		in.dsOnly[n.ds] = i
		in.tblOnly[n.Table] = i
		in.dsOf = append(in.dsOf, n.ds)
		in.tableOf = append(in.tableOf, n.Table)
	}
	return in
}

func arg(v Value) (inline.Arg, error) {
	switch v.kind {
	case IntValue:
		return inline.IntArg(int64(v.n)), nil
	case UintValue:
		if v.n > maxInt64 {
			return inline.Arg{}, badValue(v, "too large for a Java long")
		}
		return inline.IntArg(int64(v.n)), nil
	case StringValue:
		return inline.StrArg(v.s), nil
	}
	return inline.Arg{}, badValue(v, "inline expressions take integers and strings")
}

func evalTemplate(tpl *inline.Template, buf []byte, v Value) ([]byte, error) {
	a, err := arg(v)
	if err != nil {
		return nil, err
	}
	b, err := tpl.Eval(buf, a)
	if err != nil {
		return nil, &Error{Err: ErrBadValue, Msg: fmt.Sprintf("%s with %s: %v", tpl, v, err)}
	}
	return b, nil
}

func (in *inlineLoc) evalDS(v Value) (string, error) {
	b, err := evalTemplate(in.db, nil, v)
	return string(b), err
}

func (in *inlineLoc) evalTable(v Value) (string, error) {
	b, err := evalTemplate(in.tbl, nil, v)
	return string(b), err
}

// locate2 places a row from its database-column and table-column values
// (the same value when both strategies read one column).
func (in *inlineLoc) locate2(dbv, tblv Value) (int, error) {
	var dsBuf, tblBuf [64]byte
	var ds, tbl []byte
	var err error
	if in.db != nil {
		if ds, err = evalTemplate(in.db, dsBuf[:0], dbv); err != nil {
			return 0, err
		}
	}
	if in.tbl != nil {
		if tbl, err = evalTemplate(in.tbl, tblBuf[:0], tblv); err != nil {
			return 0, err
		}
	}
	switch {
	case in.db == nil:
		if i, ok := in.tblOnly[string(tbl)]; ok {
			return i, nil
		}
	case in.tbl == nil:
		if i, ok := in.dsOnly[string(ds)]; ok {
			return i, nil
		}
	default:
		if i, ok := in.pos[string(ds)][string(tbl)]; ok {
			return i, nil
		}
	}
	node := string(ds) + "." + string(tbl)
	if in.db == nil {
		node = "table " + string(tbl)
	} else if in.tbl == nil {
		node = "data source " + string(ds)
	}
	return 0, &Error{Err: ErrNoTarget, Msg: fmt.Sprintf("%s is not in data_nodes", node)}
}
