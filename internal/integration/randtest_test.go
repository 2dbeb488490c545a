package integration

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/randtest"
	"github.com/switchyard-db/switchyard/internal/shard"
)

// Settings of TestRandomDifferential (see docs/testing.md).
const (
	randSeedsEnv    = "RANDTEST_SEEDS"      // comma-separated seeds; default 1,2,3
	randStmtsEnv    = "RANDTEST_STATEMENTS" // statements per seed; default 1500
	randDurationEnv = "RANDTEST_DURATION"   // time budget of the random part; default 100s
	randFeatEnv     = "RANDTEST_FEATURES"   // "ci" (default), "all", or a list: oddkeys,intdatekeys,aggexprs,writes,hex
	randRecordEnv   = "RANDTEST_RECORD"     // append shrunk failures to this file
	randRowsEnv     = "RANDTEST_ROWS"       // rows per sharded table; default 60
	randKnownEnv    = "RANDTEST_KNOWN"      // "fail": known failures fail the test too
	randKeepEnv     = "RANDTEST_KEEP"       // keep the databases at the end (for debugging)
)

// ciFeatures are the generator features whose answers are right today.
var ciFeatures = randtest.AllFeatures

func randFeatures(t *testing.T) randtest.Features {
	v := os.Getenv(randFeatEnv)
	switch v {
	case "", "ci":
		return ciFeatures
	case "all":
		return randtest.AllFeatures
	}
	var f randtest.Features
	for _, x := range strings.Split(v, ",") {
		switch strings.TrimSpace(x) {
		case "oddkeys":
			f.OddKeyLiterals = true
		case "intdatekeys":
			f.IntDateKeys = true
		case "aggexprs":
			f.AggExprs = true
		case "writes":
			f.Writes = true
		case "hex":
			f.HexLiterals = true
		case "hexinserts":
			f.HexInserts = true
		case "":
		default:
			t.Fatalf("%s: unknown feature %q", randFeatEnv, x)
		}
	}
	return f
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}

func readCases(t *testing.T, path string) []randtest.Case {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cs, err := randtest.ParseCases(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cs
}

// TestRandomDifferential is the random differential tester: a schema with
// every placement rule type, random rows, random queries and writes through
// the proxy and on one plain database; answers, labels, types, affected rows
// and the physical placement of every row are compared. It first replays
// the recorded regression cases (and the known failures, reported but not
// failing unless RANDTEST_KNOWN=fail).
func TestRandomDifferential(t *testing.T) {
	const db = "rt_db"
	s := randtest.NewSchema(db)
	h := startProxy(t, options{slices: 3, nsExtra: s.NamespaceYAML()})
	ctx := context.Background()
	dbs := []string{db, s.DSDBs[0], s.DSDBs[1], "rt_ref"}
	for _, sl := range h.topo.Slices[:3] {
		for _, d := range dbs {
			h.topo.Exec(t, sl.Primary, "DROP DATABASE IF EXISTS "+d, "CREATE DATABASE "+d)
		}
	}
	t.Cleanup(func() {
		if os.Getenv(randKeepEnv) != "" {
			return
		}
		for _, sl := range h.topo.Slices[:3] {
			for _, d := range dbs {
				h.topo.Exec(t, sl.Primary, "DROP DATABASE IF EXISTS "+d)
			}
		}
	})
	rules, err := shard.Build(h.cfg.Namespaces[0])
	if err != nil {
		t.Fatal(err)
	}
	slices := map[string]*sql.DB{}
	for _, sl := range h.topo.Slices[:3] {
		slices[sl.Name] = h.rootDB(sl.Primary, "")
	}
	r := &randtest.Runner{
		S: s, F: randFeatures(t),
		Proxy:    h.open(plainUser, plainPass, db, ""),
		Ref:      h.rootDB(h.topo.Slices[0].Primary, "rt_ref"),
		Rules:    rules,
		Slices:   slices,
		Rows:     envInt(t, randRowsEnv, 60),
		Prepared: 5,
		Logf:     t.Logf,
	}

	// Recorded cases.
	replay := func(path string, known bool) {
		cases := readCases(t, path)
		var seed int64 = -1
		for _, c := range cases {
			if c.Seed != seed {
				seed = c.Seed
				if _, err := r.Reset(ctx, seed); err != nil {
					t.Fatal(err)
				}
			}
			d := r.Replay(ctx, c)
			switch {
			case d != "" && known && os.Getenv(randKnownEnv) != "fail":
				t.Logf("known failure %s:%d still fails: %s\n  %s", path, c.Line, c.SQL, d)
			case d != "":
				t.Errorf("%s:%d: %s\n  %s", path, c.Line, c.SQL, d)
			case known:
				t.Logf("known failure %s:%d passes now (move it to regressions.txt): %s", path, c.Line, c.SQL)
			}
		}
		t.Logf("%s: %d cases replayed", path, len(cases))
	}
	replay("../randtest/testdata/regressions.txt", false)
	replay("../randtest/testdata/known_failures.txt", true)

	// Random statements.
	var seeds []int64
	for _, x := range strings.Split(envOr(randSeedsEnv, "1,2,3"), ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", randSeedsEnv, err)
		}
		seeds = append(seeds, n)
	}
	budget, err := time.ParseDuration(envOr(randDurationEnv, "100s"))
	if err != nil {
		t.Fatalf("%s: %v", randDurationEnv, err)
	}
	deadline := time.Now().Add(budget)
	per := envInt(t, randStmtsEnv, 1500)
	var record *os.File
	if p := os.Getenv(randRecordEnv); p != "" {
		if record, err = os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err != nil {
			t.Fatal(err)
		}
		defer record.Close()
	}
	r.Stats = randtest.Stats{}
	start := time.Now()
	for _, seed := range seeds {
		if time.Now().After(deadline) {
			t.Logf("time budget %v used up before seed %d", budget, seed)
			break
		}
		fails, err := r.Run(ctx, seed, per, deadline)
		for _, f := range fails {
			t.Errorf("%s", f)
			if record != nil {
				c := f.Shrunk
				if c.SQL == "" {
					c = f.Case
				}
				fmt.Fprintf(record, "# %s\nseed %d\n%s\n", strings.ReplaceAll(f.Detail, "\n", " "), c.Seed, c.Format())
			}
		}
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
	t.Logf("random differential (features %+v, %v): %s", r.F, time.Since(start).Round(time.Second), r.Stats.Summary())
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
