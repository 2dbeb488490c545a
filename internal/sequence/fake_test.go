package sequence

import (
	"context"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// fakeDB interprets the statements Table sends, like a server would: one
// sequence table, rows keyed by decoded name, errors 1049/1146 while the
// database/table are missing.
type fakeDB struct {
	mu      sync.Mutex
	dbOK    bool
	tableOK bool
	rows    map[string]uint64
	log     []string
	delay   time.Duration
	// hook, when set, runs before each statement; a non-nil error is
	// returned instead of executing it. It runs without fakeDB.mu.
	hook func(ctx context.Context, sql string) error
	// okHook may rewrite the OK packet of an executed statement.
	okHook func(sql string, ok protocol.OK) protocol.OK
}

func newFakeDB() *fakeDB { return &fakeDB{rows: map[string]uint64{}} }

var (
	reCreateDB = regexp.MustCompile("^CREATE DATABASE IF NOT EXISTS `[^`]+`$")
	reCreateT  = regexp.MustCompile("^CREATE TABLE IF NOT EXISTS `[^`]+`\\.`[^`]+` \\(name VARCHAR\\(128\\)")
	reSeed     = regexp.MustCompile(`^INSERT INTO \S+ \(name, next_id\) VALUES \((.+), (\d+)\) ON DUPLICATE KEY UPDATE next_id = GREATEST\(next_id, (\d+)\)$`)
	reUpdate   = regexp.MustCompile(`^UPDATE \S+ SET next_id = LAST_INSERT_ID\(next_id \+ (\d+)\) WHERE name = (.+)$`)
)

// decodeLit reverses quoteString.
func decodeLit(t testing.TB, lit string) string {
	if s, ok := strings.CutPrefix(lit, "_utf8mb4 X'"); ok {
		b, err := hex.DecodeString(strings.TrimSuffix(s, "'"))
		if err != nil {
			t.Errorf("bad hex literal %s", lit)
		}
		return string(b)
	}
	if len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
		t.Errorf("bad literal %s", lit)
		return lit
	}
	in := lit[1 : len(lit)-1]
	if strings.Contains(strings.ReplaceAll(in, "''", ""), "'") || strings.Contains(in, "\\") {
		t.Errorf("badly escaped literal %s", lit)
	}
	return strings.ReplaceAll(in, "''", "'")
}

func (f *fakeDB) execer(t testing.TB) Execer {
	return func(ctx context.Context, sql string) (protocol.OK, error) {
		if f.hook != nil {
			if err := f.hook(ctx, sql); err != nil {
				return protocol.OK{}, err
			}
		}
		if f.delay > 0 {
			time.Sleep(f.delay)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.log = append(f.log, sql)
		ok, err := f.run(t, sql)
		if err == nil && f.okHook != nil {
			ok = f.okHook(sql, ok)
		}
		return ok, err
	}
}

func (f *fakeDB) run(t testing.TB, sql string) (protocol.OK, error) {
	noTable := func() error {
		if !f.dbOK {
			return protocol.NewError(1049, "42000", "Unknown database")
		}
		return protocol.NewError(1146, "42S02", "Table doesn't exist")
	}
	switch {
	case reCreateDB.MatchString(sql):
		f.dbOK = true
		return protocol.OK{}, nil
	case reCreateT.MatchString(sql):
		if !f.dbOK {
			return protocol.OK{}, noTable()
		}
		f.tableOK = true
		return protocol.OK{}, nil
	}
	if m := reSeed.FindStringSubmatch(sql); m != nil {
		if !f.tableOK {
			return protocol.OK{}, noTable()
		}
		if m[2] != m[3] {
			t.Errorf("seed with different values: %s", sql)
		}
		v, _ := strconv.ParseUint(m[2], 10, 64)
		name := decodeLit(t, m[1])
		cur, ok := f.rows[name]
		switch {
		case !ok:
			f.rows[name] = v
			return protocol.OK{AffectedRows: 1}, nil
		case v > cur:
			f.rows[name] = v
			return protocol.OK{AffectedRows: 2}, nil
		}
		return protocol.OK{}, nil
	}
	if m := reUpdate.FindStringSubmatch(sql); m != nil {
		if !f.tableOK {
			return protocol.OK{}, noTable()
		}
		k, _ := strconv.ParseUint(m[1], 10, 64)
		name := decodeLit(t, m[2])
		cur, ok := f.rows[name]
		if !ok {
			return protocol.OK{}, nil // 0 rows matched; no LAST_INSERT_ID
		}
		if cur+k < cur {
			return protocol.OK{}, protocol.NewError(1690, "22003", "BIGINT UNSIGNED value is out of range")
		}
		f.rows[name] = cur + k
		return protocol.OK{AffectedRows: 1, LastInsertID: cur + k}, nil
	}
	t.Errorf("fakeDB: unexpected statement %q", sql)
	return protocol.OK{}, protocol.NewError(1064, "42000", "syntax error")
}

func (f *fakeDB) statements() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

func (f *fakeDB) updates() int {
	n := 0
	for _, s := range f.statements() {
		if strings.HasPrefix(s, "UPDATE") {
			n++
		}
	}
	return n
}

// ---------------------------------------------------------------- checks

// call is one Next call: IDs and its start/end tickets from a shared
// counter, to check that calls ordered in time got ordered IDs.
type call struct {
	start, end int64
	ids        []uint64
}

// recorder collects calls from many goroutines.
type recorder struct {
	mu    sync.Mutex
	clock int64
	calls []call
}

func (r *recorder) tick() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clock++
	return r.clock
}

// do runs one Next and records it.
func (r *recorder) do(ctx context.Context, g Generator, n int) error {
	ids := make([]uint64, n)
	start := r.tick()
	if err := g.Next(ctx, ids); err != nil {
		return err
	}
	end := r.tick()
	r.mu.Lock()
	r.calls = append(r.calls, call{start, end, ids})
	r.mu.Unlock()
	return nil
}

// checkMonotonic fails unless the IDs of each call ascend strictly and
// every call that started after another one ended got only larger IDs.
func checkMonotonic(t testing.TB, calls []call) {
	t.Helper()
	byStart := append([]call(nil), calls...)
	sort.Slice(byStart, func(i, j int) bool { return byStart[i].start < byStart[j].start })
	byEnd := append([]call(nil), calls...)
	sort.Slice(byEnd, func(i, j int) bool { return byEnd[i].end < byEnd[j].end })
	var maxDone uint64 // largest ID of calls ended before the current start
	j := 0
	bad := 0
	for _, c := range byStart {
		for j < len(byEnd) && byEnd[j].end < c.start {
			if m := byEnd[j].ids[len(byEnd[j].ids)-1]; m > maxDone {
				maxDone = m
			}
			j++
		}
		for i := 1; i < len(c.ids); i++ {
			if c.ids[i] <= c.ids[i-1] {
				t.Errorf("IDs of one call do not ascend: %v", c.ids)
				break
			}
		}
		if len(c.ids) > 0 && c.ids[0] <= maxDone {
			if bad++; bad <= 5 {
				t.Errorf("call started at %d got %d, not above %d handed out by a call that had already returned", c.start, c.ids[0], maxDone)
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d such calls", bad)
	}
}

// checkUnique fails if an ID appears twice; it returns the number of IDs.
func checkUnique(t testing.TB, sets ...[]call) int {
	t.Helper()
	seen := map[uint64]bool{}
	dups := 0
	for _, calls := range sets {
		for _, c := range calls {
			for _, id := range c.ids {
				if seen[id] {
					if dups++; dups <= 5 {
						t.Errorf("duplicate ID %d", id)
					}
				}
				seen[id] = true
			}
		}
	}
	if dups > 0 {
		t.Errorf("%d duplicate IDs", dups)
	}
	return len(seen)
}

func fmtIDs(ids []uint64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, id)
	}
	return b.String()
}
