// Package globalcheck compares the copies of global tables across slices
// and repairs them from a chosen copy (`switchyard check global-tables`,
// GET /api/global-tables).
//
// A table is walked in chunks of key ranges taken from the reference copy
// (ORDER BY key LIMIT 1 OFFSET chunk). For every chunk each copy returns
// COUNT(*) and the XOR of the first 64 bits of every row's SHA1 over all
// columns (values and lengths, so NULL differs from the empty string). Only chunks whose
// counts or checksums differ are read row by row: key and row hash from
// every copy, compared in memory; a chunk in which a copy has more than
// twice the chunk size is split first along that copy's keys, so memory
// stays bounded by the chunk size. A repair rewrites the differing rows of
// such a range on each other copy in one transaction (DELETE of extra rows,
// then REPLACE of missing and different ones from the reference), reading
// the target rows FOR UPDATE, and verifies the range's checksums afterwards.
package globalcheck

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/shard"
)

// DefaultChunk is the default number of rows per chunk.
const DefaultChunk = 10000

// DefaultMaxRows is the default number of differing rows listed per table.
const DefaultMaxRows = 100

// Batch sizes of repair statements.
const (
	batchRows  = 200
	batchBytes = 4 << 20
)

// Options select what to check and how.
type Options struct {
	// Namespace restricts the check to one namespace ("" = all).
	Namespace string
	// Table restricts the check to one logical table "db.table" ("" = all
	// global tables).
	Table string
	// Chunk is the number of rows per checksummed key range (default
	// DefaultChunk).
	Chunk int
	// MaxRows caps the differing rows listed per table (default
	// DefaultMaxRows; negative lists none).
	MaxRows int
	// RepairFrom names the copy that the others are made equal to: a slice
	// (or slice/database when a slice holds two copies). Empty: no repair.
	RepairFrom string
	// DryRun prints the repair statements to Statements instead of running
	// them.
	DryRun bool
	// Statements receives the statements of a dry run (nil: discarded).
	Statements io.Writer
	// Primary returns the address of a slice's primary (default: the
	// configured primary).
	Primary func(ns *config.Namespace, slice string) string
	// Progress, when set, is called with a line per table when it starts.
	Progress func(line string)
}

// ErrUsage marks invalid options (unknown namespace or table, ...).
var ErrUsage = errors.New("invalid options")

// Check compares (and with RepairFrom repairs) the global tables of the
// namespaces. It returns an error only for invalid options; problems with
// one table are in its TableReport.Error.
func Check(ctx context.Context, namespaces []*config.Namespace, opts Options) (*Report, error) {
	start := time.Now()
	if opts.Chunk == 0 {
		opts.Chunk = DefaultChunk
	}
	if opts.Chunk < 1 {
		return nil, fmt.Errorf("%w: chunk must be at least 1", ErrUsage)
	}
	if opts.MaxRows == 0 {
		opts.MaxRows = DefaultMaxRows
	}
	if opts.DryRun && opts.RepairFrom == "" {
		return nil, fmt.Errorf("%w: --dry-run needs --repair-from", ErrUsage)
	}
	if opts.Statements == nil {
		opts.Statements = io.Discard
	}
	if opts.Primary == nil {
		opts.Primary = configuredPrimary
	}
	var wantDB, wantTable string
	if opts.Table != "" {
		var ok bool
		wantDB, wantTable, ok = strings.Cut(opts.Table, ".")
		if !ok || wantDB == "" || wantTable == "" {
			return nil, fmt.Errorf("%w: table %q: want db.table", ErrUsage, opts.Table)
		}
	}
	type job struct {
		ns *config.Namespace
		t  *shard.Table
	}
	var jobs []job
	nsFound := false
	for _, ns := range namespaces {
		if opts.Namespace != "" && ns.Name != opts.Namespace {
			continue
		}
		nsFound = true
		rules, err := shard.Build(ns)
		if err != nil {
			return nil, fmt.Errorf("namespace %s: %w", ns.Name, err)
		}
		for _, t := range rules.Tables() {
			if t.Kind() != shard.Global {
				continue
			}
			if opts.Table != "" && (!strings.EqualFold(t.Database(), wantDB) || !strings.EqualFold(t.Name(), wantTable)) {
				continue
			}
			jobs = append(jobs, job{ns, t})
		}
	}
	if opts.Namespace != "" && !nsFound {
		return nil, fmt.Errorf("%w: unknown namespace %q", ErrUsage, opts.Namespace)
	}
	if opts.Table != "" && len(jobs) == 0 {
		return nil, fmt.Errorf("%w: %s is not a global table", ErrUsage, opts.Table)
	}
	c := &checker{opts: opts, dbs: map[string]*sql.DB{}}
	defer c.close()
	rep := &Report{Tables: []*TableReport{}}
	for _, j := range jobs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if opts.Progress != nil {
			opts.Progress(fmt.Sprintf("checking %s.%s (namespace %s)", j.t.Database(), j.t.Name(), j.ns.Name))
		}
		tr := c.checkTable(ctx, j.ns, j.t)
		rep.Tables = append(rep.Tables, tr)
		if tr.Error != "" {
			rep.Errors++
		}
		if tr.Differs {
			rep.Differences = true
		}
	}
	rep.Elapsed = elapsed(time.Since(start))
	return rep, nil
}

func configuredPrimary(ns *config.Namespace, slice string) string {
	for _, s := range ns.Slices {
		if s.Name == slice {
			return s.Primary
		}
	}
	return ""
}

// checker holds the connections of one Check.
type checker struct {
	opts Options
	mu   sync.Mutex
	dbs  map[string]*sql.DB // by namespace + address
}

func (c *checker) close() {
	for _, db := range c.dbs {
		db.Close()
	}
}

// db returns the connection pool to a slice's primary.
func (c *checker) db(ns *config.Namespace, addr string) (*sql.DB, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := ns.Name + "\x00" + addr
	if db := c.dbs[k]; db != nil {
		return db, nil
	}
	cfg := mysql.NewConfig()
	cfg.User = ns.Backend.User
	cfg.Passwd = ns.Backend.Password
	cfg.Net = "tcp"
	cfg.Addr = addr
	cfg.Timeout = 10 * time.Second
	cfg.Params = map[string]string{
		// TIMESTAMP values read and written the same way on every copy.
		"time_zone": "'+00:00'",
		// Known modes: zero dates and 0 in AUTO_INCREMENT columns copy as they are.
		"sql_mode": "'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'",
	}
	if c.opts.RepairFrom != "" && !c.opts.DryRun {
		// REPLACE deletes before it inserts: no ON DELETE CASCADE into
		// other tables. Waiting long for locks helps no one.
		cfg.Params["foreign_key_checks"] = "0"
		cfg.Params["innodb_lock_wait_timeout"] = "10"
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	c.dbs[k] = db
	return db, nil
}

// tcopy is one copy of the table being checked.
type tcopy struct {
	rep *CopyReport
	db  *sql.DB
	q   *stmtCache // db with prepared statements kept for the table
	t   *table
}

// tableCheck is the state of checking one table.
type tableCheck struct {
	c      *checker
	rep    *TableReport
	copies []*tcopy
	ref    int
	chunk  int
	// sums are the running XORs of the copies' chunk checksums.
	sums []uint64
	keys []string
}

func (c *checker) checkTable(ctx context.Context, ns *config.Namespace, st *shard.Table) *TableReport {
	start := time.Now()
	rep := &TableReport{Namespace: ns.Name, Table: st.Database() + "." + st.Name(), ChunkRows: c.opts.Chunk, Copies: []CopyReport{}}
	defer func() { rep.Elapsed = elapsed(time.Since(start)) }()
	tc := &tableCheck{c: c, rep: rep, chunk: c.opts.Chunk}
	err := tc.run(ctx, ns, st)
	for _, cp := range tc.copies {
		cp.q.close()
	}
	if rep.DifferingRows > 0 || rep.SchemaDiffers {
		rep.Differs = true
	}
	if err != nil {
		rep.Error = err.Error()
	}
	rep.Equal = !rep.Differs && err == nil
	return rep
}

func (tc *tableCheck) run(ctx context.Context, ns *config.Namespace, st *shard.Table) error {
	rep := tc.rep
	targets := st.All()
	labels := copyLabels(targets)
	rep.Copies = make([]CopyReport, len(targets))
	tc.ref = 0
	if from := tc.c.opts.RepairFrom; from != "" {
		tc.ref = -1
		for i := range targets {
			if labels[i] == from {
				tc.ref = i
			}
		}
		if tc.ref < 0 {
			return fmt.Errorf("--repair-from %s: the table has no copy there (copies: %s)", from, strings.Join(labels, ", "))
		}
		rep.Repair = &RepairReport{From: labels[tc.ref], DryRun: tc.c.opts.DryRun}
	}
	for i, tg := range targets {
		addr := tc.c.opts.Primary(ns, tg.Slice)
		rep.Copies[i] = CopyReport{Name: labels[i], Slice: tg.Slice, Database: tg.Database, Table: tg.Table, Addr: addr}
		if addr == "" {
			return fmt.Errorf("copy %s: slice %s has no primary", labels[i], tg.Slice)
		}
		db, err := tc.c.db(ns, addr)
		if err != nil {
			return fmt.Errorf("copy %s: %w", labels[i], err)
		}
		tc.copies = append(tc.copies, &tcopy{rep: &rep.Copies[i], db: db, q: newStmtCache(db), t: &table{DB: tg.Database, Name: tg.Table}})
	}
	rep.Reference = labels[tc.ref]
	tc.sums = make([]uint64, len(tc.copies))

	// Schemas: every copy must have the reference's columns and key.
	schemas := make([]*schema, len(tc.copies))
	if err := tc.each(ctx, func(i int, cp *tcopy) error {
		s, err := loadSchema(ctx, cp.db, cp.t.DB, cp.t.Name)
		if err != nil {
			return fmt.Errorf("copy %s: %w", cp.rep.Name, err)
		}
		schemas[i] = s
		return nil
	}); err != nil {
		return err
	}
	ref := schemas[tc.ref]
	for i, s := range schemas {
		if i == tc.ref {
			continue
		}
		if d := ref.diff(s); d != "" {
			rep.SchemaDiffers = true
			rep.Notes = append(rep.Notes, fmt.Sprintf("copy %s: %s; rows not compared", tc.copies[i].rep.Name, d))
		}
	}
	for _, cp := range tc.copies {
		cp.t.Cols, cp.t.Key = ref.cols, ref.key
	}
	for _, k := range ref.key {
		tc.keys = append(tc.keys, ref.cols[k].Name)
	}
	rep.Key, rep.KeyName = tc.keys, ref.keyName
	if rep.SchemaDiffers {
		if rep.Repair != nil {
			return errors.New("not repaired: the copies' schemas differ")
		}
		return nil
	}
	if ref.key == nil {
		return tc.runKeyless(ctx, ref.noKey)
	}

	var lo bound
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi, err := tc.boundary(ctx, tc.ref, keyRange{Lo: lo})
		if err != nil {
			return err
		}
		r := keyRange{Lo: lo, Hi: hi}
		sums, err := tc.checksums(ctx, r)
		if err != nil {
			return err
		}
		rep.Chunks++
		for i, s := range sums {
			tc.copies[i].rep.Rows += s.count
			tc.sums[i] ^= s.hash
		}
		if !sumsEqual(sums) {
			n, err := tc.diffRange(ctx, r, sums, 0)
			if err != nil {
				return err
			}
			if n > 0 {
				rep.DifferingChunks++
			}
		}
		if hi == nil {
			break
		}
		lo = hi
	}
	tc.finishSums()
	for _, cp := range tc.copies {
		if cp.rep.Collateral > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("copy %s: REPLACE also removed %d row(s) that conflicted on another unique key, possibly in ranges checked before: run the check again", cp.rep.Name, cp.rep.Collateral))
		}
	}
	if rp := rep.Repair; rp != nil && rp.StillDiffering > 0 {
		return fmt.Errorf("%d repaired range(s) still differ (rows written during the repair?); run the check again", rp.StillDiffering)
	}
	return nil
}

func (tc *tableCheck) finishSums() {
	for i, cp := range tc.copies {
		cp.rep.Checksum = fmt.Sprintf("%016x", tc.sums[i])
	}
}

// runKeyless compares whole-table counts and checksums.
func (tc *tableCheck) runKeyless(ctx context.Context, why string) error {
	sums, err := tc.checksums(ctx, keyRange{})
	if err != nil {
		return err
	}
	for i, s := range sums {
		tc.copies[i].rep.Rows = s.count
		tc.sums[i] = s.hash
	}
	tc.finishSums()
	tc.rep.Differs = !sumsEqual(sums)
	tc.rep.Notes = append(tc.rep.Notes, "compared whole-table checksums only: "+why+"; listing or repairing differing rows needs a primary key (or a unique key of NOT NULL columns)")
	if tc.rep.Differs && tc.rep.Repair != nil {
		return errors.New("not repaired: the table has no usable key")
	}
	return nil
}

// each runs f for every copy concurrently and returns the first error.
func (tc *tableCheck) each(ctx context.Context, f func(i int, cp *tcopy) error) error {
	errs := make([]error, len(tc.copies))
	var wg sync.WaitGroup
	for i, cp := range tc.copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(i, cp)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// boundary returns the key of the row `chunk` rows into r on copy i (the
// start of the next chunk), or nil when r holds no more rows than that.
func (tc *tableCheck) boundary(ctx context.Context, i int, r keyRange) (bound, error) {
	cp := tc.copies[i]
	q, args, err := cp.t.boundarySQL(r, tc.chunk)
	if err != nil {
		return nil, err
	}
	var b bound
	err = queryRows(ctx, cp.q, q, args, func(vals [][]byte) error {
		b = copyRow(vals)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("copy %s: %w", cp.rep.Name, err)
	}
	return b, nil
}

type sum struct {
	count int64
	hash  uint64
}

func sumsEqual(s []sum) bool {
	for _, x := range s[1:] {
		if x != s[0] {
			return false
		}
	}
	return true
}

// checksums counts and hashes r on every copy.
func (tc *tableCheck) checksums(ctx context.Context, r keyRange) ([]sum, error) {
	out := make([]sum, len(tc.copies))
	err := tc.each(ctx, func(i int, cp *tcopy) error {
		q, args, err := cp.t.checksumSQL(r)
		if err != nil {
			return err
		}
		n := 0
		err = queryRows(ctx, cp.q, q, args, func(vals [][]byte) error {
			n++
			var err1, err2 error
			out[i].count, err1 = strconv.ParseInt(string(vals[0]), 10, 64)
			out[i].hash, err2 = strconv.ParseUint(string(vals[1]), 10, 64)
			return errors.Join(err1, err2)
		})
		if err == nil && n != 1 {
			err = fmt.Errorf("%d result rows", n)
		}
		if err != nil {
			return fmt.Errorf("copy %s: checksum of %s: %w", cp.rep.Name, r, err)
		}
		return nil
	})
	return out, err
}

// diffRange compares the rows of r, whose checksums differ, and returns the
// number of differing rows found (over all copies).
func (tc *tableCheck) diffRange(ctx context.Context, r keyRange, sums []sum, depth int) (int, error) {
	big := 0
	for i, s := range sums {
		if s.count > sums[big].count {
			big = i
		}
	}
	if sums[big].count > int64(2*tc.chunk) && depth <= 2*len(tc.copies) {
		// Too many rows to hold: split r along the largest copy's keys.
		total := 0
		lo := r.Lo
		for {
			b, err := tc.boundary(ctx, big, keyRange{Lo: lo, Hi: r.Hi})
			if err != nil {
				return 0, err
			}
			sub := keyRange{Lo: lo, Hi: r.Hi}
			if b != nil {
				sub.Hi = b
			}
			s, err := tc.checksums(ctx, sub)
			if err != nil {
				return 0, err
			}
			if !sumsEqual(s) {
				n, err := tc.diffRange(ctx, sub, s, depth+1)
				if err != nil {
					return 0, err
				}
				total += n
			}
			if b == nil {
				return total, nil
			}
			lo = b
		}
	}
	return tc.leafDiff(ctx, r)
}

// hashed are the keys and row hashes of one copy's rows in a range.
type hashed struct {
	keys   []bound           // in key order
	hashes map[string]string // keyString → SHA1 of the row
}

func (tc *tableCheck) readHashes(ctx context.Context, q querier, cp *tcopy, r keyRange, forUpdate bool) (*hashed, error) {
	s, args, err := cp.t.rowHashSQL(r, forUpdate)
	if err != nil {
		return nil, err
	}
	h := &hashed{hashes: map[string]string{}}
	nk := len(cp.t.Key)
	err = queryRows(ctx, q, s, args, func(vals [][]byte) error {
		k := copyRow(vals[:nk])
		h.keys = append(h.keys, k)
		h.hashes[keyString(k)] = string(vals[nk])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("copy %s: rows of %s: %w", cp.rep.Name, r, err)
	}
	return h, nil
}

// rowDiff is the difference of one copy from the reference in a range.
type rowDiff struct {
	missing, different, extra []bound
}

func (d *rowDiff) count() int { return len(d.missing) + len(d.different) + len(d.extra) }

// diffHashed compares a copy's rows with the reference's. Missing and
// different keys come in the reference's key order, extra keys in the
// copy's.
func diffHashed(ref, other *hashed) *rowDiff {
	d := &rowDiff{}
	for _, k := range ref.keys {
		ks := keyString(k)
		h, ok := other.hashes[ks]
		switch {
		case !ok:
			d.missing = append(d.missing, k)
		case h != ref.hashes[ks]:
			d.different = append(d.different, k)
		}
	}
	for _, k := range other.keys {
		if _, ok := ref.hashes[keyString(k)]; !ok {
			d.extra = append(d.extra, k)
		}
	}
	return d
}

// leafDiff compares r row by row on every copy, records the differences
// and repairs them when asked to.
func (tc *tableCheck) leafDiff(ctx context.Context, r keyRange) (int, error) {
	tc.rep.ScannedRanges++
	hs := make([]*hashed, len(tc.copies))
	if err := tc.each(ctx, func(i int, cp *tcopy) error {
		h, err := tc.readHashes(ctx, cp.q, cp, r, false)
		hs[i] = h
		return err
	}); err != nil {
		return 0, err
	}
	diffs := make([]*rowDiff, len(tc.copies))
	total := 0
	for i, cp := range tc.copies {
		if i == tc.ref {
			continue
		}
		d := diffHashed(hs[tc.ref], hs[i])
		diffs[i] = d
		total += d.count()
		cp.rep.Missing += len(d.missing)
		cp.rep.Extra += len(d.extra)
		cp.rep.Different += len(d.different)
		if err := tc.list(ctx, i, d); err != nil {
			return 0, err
		}
	}
	tc.rep.DifferingRows += total
	if total == 0 {
		tc.rep.TransientRanges++
		return 0, nil
	}
	if tc.rep.Repair != nil {
		if err := tc.repair(ctx, r, diffs); err != nil {
			return total, err
		}
	}
	return total, nil
}

// list adds a copy's differing rows to the report, up to the row cap.
func (tc *tableCheck) list(ctx context.Context, i int, d *rowDiff) error {
	rep := tc.rep
	room := tc.c.opts.MaxRows - len(rep.Rows)
	if room <= 0 {
		if d.count() > 0 {
			rep.RowsTruncated = true
		}
		return nil
	}
	name := tc.copies[i].rep.Name
	add := func(kind string, keys []bound) []bound {
		var listed []bound
		for _, k := range keys {
			if len(rep.Rows) >= tc.c.opts.MaxRows {
				rep.RowsTruncated = true
				break
			}
			rep.Rows = append(rep.Rows, RowDiff{Copy: name, Kind: kind, Key: values(k)})
			listed = append(listed, k)
		}
		return listed
	}
	add(Missing, d.missing)
	diffStart := len(rep.Rows)
	listed := add(Different, d.different)
	add(Extra, d.extra)
	if len(listed) == 0 {
		return nil
	}
	// Show which columns differ.
	refRows, err := tc.fetchRows(ctx, tc.copies[tc.ref].db, tc.copies[tc.ref], listed)
	if err != nil {
		return err
	}
	cpRows, err := tc.fetchRows(ctx, tc.copies[i].db, tc.copies[i], listed)
	if err != nil {
		return err
	}
	cols := tc.copies[i].t.Cols
	for j, k := range listed {
		rd := &rep.Rows[diffStart+j]
		a, b := refRows[keyString(k)], cpRows[keyString(k)]
		if a == nil || b == nil {
			continue // changed since
		}
		for ci, col := range cols {
			if !sameValue(a[ci], b[ci]) {
				rd.Columns = append(rd.Columns, ColumnDiff{Column: col.Name, Reference: Value{B: a[ci]}, Copy: Value{B: b[ci]}})
			}
		}
	}
	return nil
}

func sameValue(a, b []byte) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	return string(a) == string(b)
}

func values(k bound) []Value {
	out := make([]Value, len(k))
	for i, v := range k {
		out[i] = Value{B: v}
	}
	return out
}

// fetchRows reads whole rows by key, in batches, keyed by keyString.
func (tc *tableCheck) fetchRows(ctx context.Context, q querier, cp *tcopy, keys []bound) (map[string][][]byte, error) {
	out := map[string][][]byte{}
	for len(keys) > 0 {
		n := min(len(keys), batchRows)
		s, args, err := cp.t.selectRowsSQL(keys[:n])
		if err != nil {
			return nil, err
		}
		err = queryRows(ctx, q, s, args, func(vals [][]byte) error {
			row := copyRow(vals)
			k := make([][]byte, len(cp.t.Key))
			for j, ci := range cp.t.Key {
				k[j] = row[ci]
			}
			out[keyString(k)] = row
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("copy %s: reading rows: %w", cp.rep.Name, err)
		}
		keys = keys[n:]
	}
	return out, nil
}

// querier is a *sql.DB, *sql.Conn or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// queryRows runs q and calls f for every row; the values are only valid
// during the call (nil is NULL).
func queryRows(ctx context.Context, db querier, q string, args []any, f func(vals [][]byte) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	raw := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	vals := make([][]byte, len(cols))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, r := range raw {
			vals[i] = r
		}
		if err := f(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// copyRow copies values that are only valid during a queryRows callback,
// keeping NULL (nil) apart from empty.
func copyRow(vals [][]byte) [][]byte {
	out := make([][]byte, len(vals))
	for i, v := range vals {
		if v != nil {
			out[i] = append([]byte{}, v...)
		}
	}
	return out
}

// copyLabels names the copies: the slice, or slice/database when one slice
// holds several copies.
func copyLabels(targets []shard.Target) []string {
	n := map[string]int{}
	for _, t := range targets {
		n[t.Slice]++
	}
	out := make([]string, len(targets))
	for i, t := range targets {
		out[i] = t.Slice
		if n[t.Slice] > 1 {
			out[i] = t.Slice + "/" + t.Database
		}
	}
	return out
}

// ---- schema ----

type schema struct {
	cols    []column
	key     []int
	keyName string
	noKey   string // why there is no usable key
}

type index struct {
	name   string
	unique bool
	cols   []string
	prefix bool
}

func loadSchema(ctx context.Context, db *sql.DB, dbName, tbl string) (*schema, error) {
	s := &schema{}
	err := queryRows(ctx, db, "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, EXTRA, COALESCE(NUMERIC_PRECISION, 0), COALESCE(NUMERIC_SCALE, 0) "+
		"FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
		[]any{dbName, tbl}, func(v [][]byte) error {
			var c column
			c.Name = string(v[0])
			c.DataType = strings.ToLower(string(v[1]))
			c.ColumnType = string(v[2])
			c.Nullable = string(v[3]) == "YES"
			extra := strings.ToUpper(string(v[4]))
			c.Generated = strings.Contains(extra, "VIRTUAL GENERATED") || strings.Contains(extra, "STORED GENERATED") ||
				strings.Contains(extra, "PERSISTENT GENERATED")
			fmt.Sscan(string(v[5]), &c.Precision)
			fmt.Sscan(string(v[6]), &c.Scale)
			s.cols = append(s.cols, c)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", qualified(dbName, tbl), err)
	}
	if len(s.cols) == 0 {
		return nil, fmt.Errorf("table %s does not exist", qualified(dbName, tbl))
	}
	var idx []*index
	byName := map[string]*index{}
	err = queryRows(ctx, db, "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS "+
		"WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX",
		[]any{dbName, tbl}, func(v [][]byte) error {
			name := string(v[0])
			x := byName[name]
			if x == nil {
				x = &index{name: name, unique: string(v[1]) == "0"}
				byName[name] = x
				idx = append(idx, x)
			}
			x.cols = append(x.cols, string(v[2]))
			if v[3] != nil {
				x.prefix = true
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("indexes of %s: %w", qualified(dbName, tbl), err)
	}
	s.chooseKey(idx)
	return s, nil
}

// chooseKey picks the primary key, else the narrowest unique key of NOT
// NULL columns, whose columns all have a usable type.
func (s *schema) chooseKey(idx []*index) {
	pos := map[string]int{}
	for i, c := range s.cols {
		pos[strings.ToLower(c.Name)] = i
	}
	usable := func(x *index) ([]int, string) {
		if !x.unique {
			return nil, "not unique"
		}
		if x.prefix {
			return nil, "key " + x.name + " indexes column prefixes"
		}
		var key []int
		for _, name := range x.cols {
			i, ok := pos[strings.ToLower(name)]
			if !ok {
				return nil, "key " + x.name + " uses an expression"
			}
			c := s.cols[i]
			if c.Nullable {
				return nil, "key " + x.name + " has NULL-able column " + c.Name
			}
			if !c.keyable() {
				return nil, "key " + x.name + " has a column of type " + c.DataType
			}
			key = append(key, i)
		}
		return key, ""
	}
	sort.SliceStable(idx, func(a, b int) bool {
		pa, pb := idx[a].name == "PRIMARY", idx[b].name == "PRIMARY"
		if pa != pb {
			return pa
		}
		if len(idx[a].cols) != len(idx[b].cols) {
			return len(idx[a].cols) < len(idx[b].cols)
		}
		return idx[a].name < idx[b].name
	})
	var why []string
	for _, x := range idx {
		if !x.unique {
			continue
		}
		key, reason := usable(x)
		if key != nil {
			s.key, s.keyName = key, x.name
			if x.name != "PRIMARY" {
				s.keyName = "unique key " + x.name
			} else {
				s.keyName = "primary key"
			}
			return
		}
		why = append(why, reason)
	}
	if len(why) == 0 {
		s.noKey = "the table has no primary key"
	} else {
		s.noKey = "no usable key (" + strings.Join(why, "; ") + ")"
	}
}

// diff describes how o differs from s ("" when it does not).
func (s *schema) diff(o *schema) string {
	sig := func(x *schema) []string {
		var out []string
		for _, c := range x.cols {
			g := ""
			if c.Generated {
				g = " generated"
			}
			out = append(out, c.Name+" "+c.ColumnType+g)
		}
		return out
	}
	a, b := sig(s), sig(o)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		return fmt.Sprintf("columns (%s) differ from the reference's (%s)", strings.Join(b, ", "), strings.Join(a, ", "))
	}
	kn := func(x *schema) string {
		var n []string
		for _, k := range x.key {
			n = append(n, x.cols[k].Name)
		}
		return strings.Join(n, ",")
	}
	if kn(s) != kn(o) {
		return fmt.Sprintf("key (%s) differs from the reference's (%s)", kn(o), kn(s))
	}
	return ""
}
