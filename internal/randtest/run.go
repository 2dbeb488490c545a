package randtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/switchyard-db/switchyard/internal/shard"
)

// Runner runs generated statements through the proxy and on the reference
// database and compares the answers.
type Runner struct {
	S *Schema
	F Features
	// Proxy is a connection pool to the proxy (reads on the primaries, so
	// that writes are seen at once); Ref one to the reference database.
	Proxy, Ref *sql.DB
	// Rules are the proxy's placement rules; Slices opens each slice's
	// primary (any database) to read physical tables directly.
	Rules  *shard.Rules
	Slices map[string]*sql.DB
	// Rows is the number of rows loaded per sharded table.
	Rows int
	// Prepared runs every Nth query also as a prepared statement (0: never).
	Prepared int
	Logf     func(format string, args ...any)
	Stats    Stats
}

// Stats count what a run did.
type Stats struct {
	Queries, Equal, Refused, Invalid, BothFail int
	Writes, WritesEqual, WritesRefused         int
	// RefInconsistent counts queries the reference answers differently
	// without their ORDER BY (server bugs; not failures).
	RefInconsistent int
	Failures        int
	// RefusedBy counts 1235 refusals by the construct their message names.
	RefusedBy map[string]int
}

// Failure is one difference, with the shrunk statement.
type Failure struct {
	Case   Case
	Shrunk Case
	Detail string
}

func (f Failure) String() string {
	s := fmt.Sprintf("seed %d: %s\n  %s", f.Case.Seed, f.Case.SQL, f.Detail)
	if f.Shrunk.SQL != "" && f.Shrunk.SQL != f.Case.SQL {
		s += "\n  shrunk: " + f.Shrunk.Format()
	}
	return s
}

const stmtTimeout = 60 * time.Second

// Reset drops and re-creates the schema through the proxy and on the
// reference, loads the rows of seed, and returns the generator (which
// continues with the same seed).
func (r *Runner) Reset(ctx context.Context, seed int64) (*Gen, error) {
	g := NewGen(r.S, seed, r.F)
	for _, t := range r.S.Tables {
		for _, db := range []*sql.DB{r.Proxy, r.Ref} {
			if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS "+t.Name); err != nil {
				return nil, fmt.Errorf("drop %s: %w", t.Name, err)
			}
			if _, err := db.ExecContext(ctx, t.CreateSQL()); err != nil {
				return nil, fmt.Errorf("%s: %w", t.CreateSQL(), err)
			}
		}
	}
	for _, q := range g.Load(r.Rows) {
		for _, db := range []*sql.DB{r.Proxy, r.Ref} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return nil, fmt.Errorf("load: %s: %w", q, err)
			}
		}
	}
	for _, t := range r.S.Tables {
		if d := r.CheckTable(ctx, t.Name); d != "" {
			return nil, fmt.Errorf("after load: %s", d)
		}
	}
	return g, nil
}

func (r *Runner) logf(format string, args ...any) {
	if r.Logf != nil {
		r.Logf(format, args...)
	}
}

// query runs q and reads the whole answer.
func query(ctx context.Context, db *sql.DB, q string, prepared bool, args ...any) *Result {
	ctx, cancel := context.WithTimeout(ctx, stmtTimeout)
	defer cancel()
	var rows *sql.Rows
	var err error
	if prepared {
		st, perr := db.PrepareContext(ctx, q)
		if perr != nil {
			return &Result{Err: perr}
		}
		defer st.Close()
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = db.QueryContext(ctx, q)
	}
	if err != nil {
		return &Result{Err: err}
	}
	defer rows.Close()
	res := &Result{}
	res.Cols, _ = rows.Columns()
	cts, _ := rows.ColumnTypes()
	for _, ct := range cts {
		res.Types = append(res.Types, ct.DatabaseTypeName())
	}
	vals := make([]sql.RawBytes, len(res.Cols))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return &Result{Err: err}
		}
		row := make([]*string, len(vals))
		for i, v := range vals {
			if v != nil {
				s := string(v)
				row[i] = &s
			}
		}
		res.Rows = append(res.Rows, row)
	}
	res.Err = rows.Err()
	return res
}

// errCode returns the MySQL error number of err (0: not a server error).
func errCode(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

var (
	digits  = regexp.MustCompile("'[^']*'|[0-9]+")
	idents  = regexp.MustCompile("`[^`]*`(\\.`[^`]*`)?")
	aggArgs = regexp.MustCompile(`(?i)\b(count|sum|avg|min|max|group_concat)\((distinct )?c\)`)
)

// construct names a refusal by its message, without literals.
func construct(err error) string {
	var me *mysql.MySQLError
	msg := err.Error()
	if errors.As(err, &me) {
		msg = me.Message
	}
	msg = digits.ReplaceAllString(msg, "N")
	msg = idents.ReplaceAllString(msg, "c")
	msg = aggArgs.ReplaceAllString(msg, "agg(c)")
	if len(msg) > 110 {
		msg = msg[:110]
	}
	return msg
}

// outcome classifies one comparison.
type outcome int

const (
	equal outcome = iota
	refused
	invalid  // the reference rejects the query
	bothFail // both reject it
	differ
)

func (r *Runner) compare(ctx context.Context, c Case, prepared bool) (outcome, string, error) {
	return r.compareQuery(ctx, c, c.SQL, prepared)
}

// compareQuery runs q (c's statement, or a parameterised form of it with
// args) on both sides and compares.
func (r *Runner) compareQuery(ctx context.Context, c Case, q string, prepared bool, args ...any) (outcome, string, error) {
	want := query(ctx, r.Ref, q, prepared, args...)
	got := query(ctx, r.Proxy, q, prepared, args...)
	switch {
	case want.Err != nil && got.Err != nil:
		return bothFail, "", nil
	case got.Err != nil && errCode(got.Err) == 1235:
		return refused, "", got.Err
	case got.Err != nil:
		return differ, fmt.Sprintf("proxy error: %v (MariaDB answers)", got.Err), nil
	case want.Err != nil:
		if errCode(want.Err) == 0 {
			return invalid, "", nil // a client-side error (timeout)
		}
		return differ, fmt.Sprintf("proxy answers %d rows where MariaDB fails: %v", len(got.Rows), want.Err), nil
	}
	if d := Diff(want, got, c.Total(), c.Folded()); d != "" {
		return differ, d, nil
	}
	return equal, "", nil
}

// Query checks one generated query; it returns a Failure (shrunk) when the
// answers differ.
func (r *Runner) Query(ctx context.Context, seed int64, s Select) *Failure {
	c := CaseOf(seed, s)
	r.Stats.Queries++
	prepared := r.Prepared > 0 && r.Stats.Queries%r.Prepared == 0
	o, d, err := r.compare(ctx, c, false)
	if o == equal && prepared {
		o, d, err = r.compare(ctx, c, true)
		if d != "" {
			d = "prepared: " + d
		}
	}
	if o == equal && prepared {
		// Again with its literals sent as parameters (the proxy plans
		// such statements once and binds each execution's values).
		if q, args := Parameterise(c.SQL); len(args) > 0 {
			o, d, err = r.compareQuery(ctx, c, q, true, args...)
			if d != "" {
				d = fmt.Sprintf("parameterised (%s with %q): %s", q, args, d)
			}
		}
	}
	switch o {
	case equal:
		r.Stats.Equal++
	case refused:
		r.Stats.Refused++
		if r.Stats.RefusedBy == nil {
			r.Stats.RefusedBy = map[string]int{}
		}
		r.Stats.RefusedBy[construct(err)]++
	case invalid:
		r.Stats.Invalid++
	case bothFail:
		r.Stats.BothFail++
	case differ:
		if r.refInconsistent(ctx, s) {
			r.Stats.RefInconsistent++
			r.logf("MariaDB answers differently without the ORDER BY (a server bug, not counted): %s", s.SQL())
			return nil
		}
		r.Stats.Failures++
		small := Shrink(s, func(x Select) bool {
			o, _, _ := r.compare(ctx, CaseOf(seed, x), prepared)
			return o == differ
		})
		sc := CaseOf(seed, small)
		if sd := func() string { _, d, _ := r.compare(ctx, sc, prepared); return d }(); sd != "" {
			d += "\n  shrunk answer: " + sd
		}
		return &Failure{Case: c, Shrunk: sc, Detail: d}
	}
	return nil
}

// refInconsistent reports whether the reference's answer to s (without its
// LIMIT) changes as a multiset when its ORDER BY is dropped: MariaDB 10.11 merges a NULL
// group into its neighbour for GROUP BY an expression ... ORDER BY ... DESC
// with a DISTINCT aggregate. Such a difference is the server's bug.
func (r *Runner) refInconsistent(ctx context.Context, s Select) bool {
	if len(s.OrderBy) == 0 {
		return false
	}
	o := s
	o.Limit = ""
	u := o
	u.OrderBy, u.Total = nil, false
	a := query(ctx, r.Ref, o.SQL(), false)
	b := query(ctx, r.Ref, u.SQL(), false)
	if a.Err != nil || b.Err != nil {
		return false
	}
	return Diff(a, b, false, s.Folded()) != ""
}

// Replay checks a recorded case; it returns "" when it passes (a refusal
// passes: it is not a wrong answer).
func (r *Runner) Replay(ctx context.Context, c Case) string {
	if c.Mode == "write" {
		return r.Write(ctx, Write{SQL: c.SQL, Table: tableOf(c.SQL)})
	}
	for _, prepared := range []bool{false, true} {
		o, d, _ := r.compare(ctx, c, prepared)
		if o == differ {
			if prepared {
				d = "prepared: " + d
			}
			return d
		}
	}
	return ""
}

var tableRE = regexp.MustCompile(`(?i)^(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)`)

func tableOf(q string) string {
	if m := tableRE.FindStringSubmatch(q); m != nil {
		return m[1]
	}
	return ""
}

// Write runs a write through the proxy and on the reference (in a
// transaction, rolled back when the proxy does not apply the write), then
// compares affected rows, the table's contents and the placement of its
// rows. It returns "" when all agree.
func (r *Runner) Write(ctx context.Context, w Write) string {
	r.Stats.Writes++
	ctx, cancel := context.WithTimeout(ctx, stmtTimeout)
	defer cancel()
	tx, err := r.Ref.BeginTx(ctx, nil)
	if err != nil {
		return "reference: " + err.Error()
	}
	defer tx.Rollback()
	want, werr := tx.ExecContext(ctx, w.SQL)
	got, gerr := r.Proxy.ExecContext(ctx, w.SQL)
	switch {
	case werr != nil && gerr != nil:
		r.Stats.BothFail++
		return ""
	case gerr != nil && errCode(gerr) == 1235:
		r.Stats.WritesRefused++
		if r.Stats.RefusedBy == nil {
			r.Stats.RefusedBy = map[string]int{}
		}
		r.Stats.RefusedBy[construct(gerr)]++
		return ""
	case gerr != nil:
		return fmt.Sprintf("proxy error: %v (MariaDB applies it)", gerr)
	case werr != nil:
		return fmt.Sprintf("proxy applies a write MariaDB rejects: %v", werr)
	}
	if err := tx.Commit(); err != nil {
		return "reference commit: " + err.Error()
	}
	wn, _ := want.RowsAffected()
	gn, _ := got.RowsAffected()
	if wn != gn {
		return fmt.Sprintf("affected rows %d, want %d", gn, wn)
	}
	if d := r.CheckTable(ctx, w.Table); d != "" {
		return d
	}
	r.Stats.WritesEqual++
	return ""
}

// CheckTable compares the rows of a logical table with the reference,
// reading every physical table directly on its slice, and checks that the
// placement rule sends each stored key to the physical table holding it.
// Global tables: every copy must equal the reference.
func (r *Runner) CheckTable(ctx context.Context, name string) string {
	t := r.S.Table(name)
	st, ok := r.Rules.Table(r.S.DB, name)
	if !ok {
		return "no rule for " + name
	}
	var cols []string
	keyPos := -1
	for i, c := range t.Cols {
		cols = append(cols, c.Name)
		if c.Name == t.Key {
			keyPos = i
		}
	}
	sel := "SELECT " + strings.Join(cols, ", ") + " FROM "
	ref := query(ctx, r.Ref, sel+name, false)
	if ref.Err != nil {
		return "reference: " + ref.Err.Error()
	}
	want := ref.rowStrings(false)
	sort.Strings(want)
	var all []string
	for _, tg := range st.All() {
		db := r.Slices[tg.Slice]
		phys := fmt.Sprintf("%s.%s", tg.Database, tg.Table)
		res := query(ctx, db, sel+phys, false)
		if res.Err != nil {
			return fmt.Sprintf("%s on %s: %v", phys, tg.Slice, res.Err)
		}
		got := res.rowStrings(false)
		if t.Global {
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				return fmt.Sprintf("global copy %s on %s differs from the reference:\n got: %s\nwant: %s", phys, tg.Slice, head(got), head(want))
			}
			continue
		}
		for i, row := range res.Rows {
			if keyPos < 0 || row[keyPos] == nil {
				return fmt.Sprintf("%s on %s: row with NULL key: %s", phys, tg.Slice, got[i])
			}
			at, err := locateStored(st, t.Cols[keyPos].Kind, *row[keyPos])
			if err != nil {
				return fmt.Sprintf("%s on %s holds %s: %v", phys, tg.Slice, got[i], err)
			}
			if at.Slice != tg.Slice || at.Database != tg.Database || at.Table != tg.Table {
				return fmt.Sprintf("misplaced row: %s.%s on %s holds %s, whose key %s belongs in %s.%s on %s",
					tg.Database, tg.Table, tg.Slice, got[i], *row[keyPos], at.Database, at.Table, at.Slice)
			}
		}
		all = append(all, got...)
	}
	if t.Global {
		return ""
	}
	sort.Strings(all)
	if strings.Join(all, "\n") != strings.Join(want, "\n") {
		return fmt.Sprintf("table %s differs from the reference (%d rows, want %d):\n got: %s\nwant: %s", name, len(all), len(want), head(diffRows(all, want)), head(diffRows(want, all)))
	}
	return ""
}

// diffRows returns the rows of a not in b (both sorted).
func diffRows(a, b []string) []string {
	in := map[string]int{}
	for _, x := range b {
		in[x]++
	}
	var out []string
	for _, x := range a {
		if in[x] > 0 {
			in[x]--
			continue
		}
		out = append(out, x)
	}
	return out
}

// locateStored places a key by the value the server stored.
func locateStored(t *shard.Table, k ColKind, raw string) (shard.Target, error) {
	switch k {
	case KInt:
		v, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return shard.Target{}, err
		}
		return t.Locate(shard.Int(v))
	case KTime:
		tm, err := time.Parse("2006-01-02 15:04:05", raw)
		if err != nil {
			return shard.Target{}, err
		}
		return t.Locate(shard.Time(tm))
	}
	return t.Locate(shard.String(raw))
}

// Run loads the data of seed and checks up to n generated statements,
// stopping at the deadline. It returns the failures.
func (r *Runner) Run(ctx context.Context, seed int64, n int, deadline time.Time) ([]Failure, error) {
	g, err := r.Reset(ctx, seed)
	if err != nil {
		return nil, err
	}
	var out []Failure
	cur := seed
	for i := 0; i < n && time.Now().Before(deadline); i++ {
		if r.F.Writes && g.chance(0.12) {
			w := g.Write()
			if d := r.Write(ctx, w); d != "" {
				r.Stats.Failures++
				out = append(out, Failure{Case: Case{Seed: cur, Mode: "write", SQL: w.SQL}, Detail: d})
				// The databases may differ now: start again.
				cur = seed + int64(i+1)*7919
				if g, err = r.Reset(ctx, cur); err != nil {
					return out, err
				}
			}
			continue
		}
		if f := r.Query(ctx, cur, g.Query()); f != nil {
			out = append(out, *f)
		}
	}
	return out, nil
}

// Summary formats the statistics.
func (s *Stats) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "queries %d: equal %d, refused %d, invalid %d, both failed %d, reference inconsistent %d; writes %d: equal %d, refused %d; failures %d",
		s.Queries, s.Equal, s.Refused, s.Invalid, s.BothFail, s.RefInconsistent, s.Writes, s.WritesEqual, s.WritesRefused, s.Failures)
	type kv struct {
		k string
		n int
	}
	var l []kv
	for k, n := range s.RefusedBy {
		l = append(l, kv{k, n})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].n > l[j].n || l[i].n == l[j].n && l[i].k < l[j].k })
	for _, x := range l {
		fmt.Fprintf(&b, "\n  refused %5d: %s", x.n, x.k)
	}
	return b.String()
}
