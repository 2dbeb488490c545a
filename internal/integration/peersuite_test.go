package integration

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/convert"
	"github.com/switchyard-db/switchyard/internal/peersuite"
	"github.com/switchyard-db/switchyard/internal/shard"
	"github.com/switchyard-db/switchyard/internal/testtopo"
)

// peerCaseTimeout bounds one case in one mode (proxy and reference).
const peerCaseTimeout = 10 * time.Second

// peerReportEnv names a file the markdown summary is written to.
const peerReportEnv = "SWITCHYARD_PEERSUITE_REPORT"

// TestShardingSpherePeerSuite runs Apache ShardingSphere's SQL end-to-end
// DQL cases (shared/peer-suites/shardingsphere-e2e, MySQL subset) through
// Switchyard for the scenarios db, tbl and dbtbl_with_readwrite_splitting,
// with the rules converted by `switchyard convert shardingsphere`, in text
// (interpolateParams=true) and prepared (server-side) mode. Each answer is
// compared with the same query on a plain reference database built from
// the expected dataset, as the upstream harness does. Clean MySQL errors
// (features not built yet) are allowed and counted; a wrong answer, a
// timeout or a lost connection fails the test.
func TestShardingSpherePeerSuite(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	suite, tried, ok := peersuite.Locate(filepath.Join(wd, "..", ".."))
	if !ok {
		t.Skipf("ShardingSphere peer suite not found (tried %s; set $%s)", strings.Join(tried, ", "), peersuite.EnvVar)
	}
	topo := testtopo.Require(t)
	cases, err := peersuite.LoadCases(suite, peersuite.DQL)
	if err != nil {
		t.Fatal(err)
	}
	dml, err := peersuite.LoadCases(suite, peersuite.DML)
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, dml...)
	start := time.Now()
	var summary []peersuite.SummaryRow
	var problems []string
	for _, name := range peersuite.Scenarios {
		t.Run(name, func(t *testing.T) {
			rows, probs := runPeerScenario(t, topo, suite, name, cases)
			summary = append(summary, rows...)
			problems = append(problems, probs...)
		})
	}
	report := peersuite.Report(peersuite.Run{
		Suite:  suite,
		Slices: len(topo.Slices),
		Date:   start,
		Took:   time.Since(start),
		Rows:   summary,
		Notes: []string{"Generated keys: ShardingSphere's test key generator (`E2E.AUTO_INCREMENT.FIXTURE`) " +
			"counts from 1 again for every statement; the converter turns it into a Switchyard sequence " +
			"(`type: table, start: 1, block: 1`), which keeps counting. For the INSERTs that leave `item_id` " +
			"out, the expected keys 1, 2, ... therefore stand for LAST_INSERT_ID(), LAST_INSERT_ID()+1, ... " +
			"of the statement (what a MySQL client takes its generated keys to be), and the rows are checked " +
			"with those values."},
		Problems:  problems,
		TopErrors: 15,
	})
	t.Logf("\n%s", report)
	if path := os.Getenv(peerReportEnv); path != "" {
		if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
			t.Errorf("writing %s: %v", path, err)
		}
	}
}

// peerEnv is one scenario's databases on the topology.
type peerEnv struct {
	t        *testing.T
	topo     *testtopo.Topology
	sc       *peersuite.Scenario
	conv     *convert.ShardingSphereResult
	place    map[string]peersuite.Place // suite database (lower) -> place
	refs     []string                   // reference databases, as in expected/databases.xml
	refName  map[string]string          // reference database -> its name on the topology
	refNode  testtopo.Node
	sliceIdx map[string]int
	suite    string
	inserts  map[string]peersuite.NodeInsert // actual rows by data node (lower), renamed
	actual   *peersuite.Dataset              // the actual dataset (seed rows)
	seqCols  map[string]string               // table with a sequence (lower) -> its column
	seqTable string                          // the namespace's sequence table
	defSlice string                          // the namespace's default slice
	mu       sync.Mutex
	pools    map[string]*sql.DB
	pks      map[string][]string
}

func runPeerScenario(t *testing.T, topo *testtopo.Topology, suite, name string, all []peersuite.TestCase) ([]peersuite.SummaryRow, []string) {
	sc, err := peersuite.OpenScenario(suite, name)
	if err != nil {
		t.Fatal(err)
	}
	env := &peerEnv{t: t, topo: topo, sc: sc, sliceIdx: map[string]int{}, suite: suite}
	t.Cleanup(env.closePools)
	env.convertRules()
	if env.conv.ReadWriteSplitting {
		for _, s := range topo.Slices {
			if len(s.Replicas) == 0 {
				t.Skipf("%s needs a replica on every slice (the read data sources live there); slice %s has none", name, s.Name)
			}
		}
	}
	setupStart := time.Now()
	env.createDatabases()
	env.loadData()
	t.Logf("%s: databases created and loaded in %s", name, time.Since(setupStart).Round(10*time.Millisecond))

	env.resetSequences()
	t.Cleanup(env.resetSequences)
	h := startProxy(t, options{slices: len(topo.Slices), nsExtra: env.conv.Rules})
	user, pass := plainUser, plainPass
	if env.conv.ReadWriteSplitting {
		user, pass = splitUser, splitPass
	}
	const dsnExtra = "&timeout=5s&readTimeout=15s&writeTimeout=15s"
	dqlStart := time.Now()
	proxyDB := map[peersuite.Mode]*sql.DB{}
	refDB := map[peersuite.Mode]map[string]*sql.DB{}
	for _, m := range peersuite.Modes {
		proxyDB[m] = h.open(user, pass, env.conv.Database, m.DSNParams()+dsnExtra)
		refDB[m] = map[string]*sql.DB{}
		for _, r := range env.refs {
			d, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/%s?%s", topo.RootUser, topo.RootPassword, env.refNode.Addr, env.refName[r], m.DSNParams()+dsnExtra))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			refDB[m][r] = d
		}
	}

	var dql []peersuite.TestCase
	var dmlCases []peersuite.TestCase
	for _, c := range peersuite.Select(all, name) {
		switch c.Type {
		case peersuite.DQL:
			dql = append(dql, c)
		case peersuite.DML:
			dmlCases = append(dmlCases, c)
		}
	}
	tallies := map[string]*peersuite.Tally{}
	tally := func(typ, mode string) *peersuite.Tally {
		k := typ + "/" + mode
		if tallies[k] == nil {
			tallies[k] = &peersuite.Tally{}
		}
		return tallies[k]
	}
	var problems []string
	report := func(typ string, mode string, c peersuite.TestCase, ai int, params []peersuite.Param, ref string, r peersuite.CaseResult) {
		tally(typ, mode).Add(r)
		lit, _ := peersuite.LiteralSQL(c.SQL, params)
		if r.Outcome == peersuite.Wrong || r.Outcome == peersuite.Other {
			p := fmt.Sprintf("%s %s %s %s: %s [%s #%d%s]: %s", name, strings.ToUpper(typ), mode, r.Outcome, lit, c.File, ai+1, ref, r.Detail)
			problems = append(problems, p)
			t.Errorf("%s", p)
		}
		if testing.Verbose() && os.Getenv("SWITCHYARD_PEERSUITE_VERBOSE") != "" {
			t.Logf("%s %s %s (%d rows): %s: %s", strings.ToUpper(typ), mode, r.Outcome, r.Rows, lit, r.Detail)
		}
	}
	skipReason := func(c peersuite.TestCase) string {
		for table, why := range env.conv.Skipped {
			if peersuite.MentionsTable(c.SQL, table) {
				return fmt.Sprintf("table %s: %s", table, why)
			}
		}
		return ""
	}
	for _, c := range dql {
		skip := skipReason(c)
		for ai, a := range c.Assertions {
			params, err := peersuite.ParseParameters(a.Parameters)
			if err != nil {
				t.Errorf("%s: %q: %v", c.File, c.SQL, err)
				continue
			}
			ref, err := peersuite.ReferenceDatabase(env.refs, a.ExpectedDataSourceName)
			if err != nil {
				t.Errorf("%s: %q: %v", c.File, c.SQL, err)
				continue
			}
			refQuery := c.SQL
			if a.AssertionSQL != "" {
				refQuery = a.AssertionSQL
			}
			for _, m := range peersuite.Modes {
				var r peersuite.CaseResult
				if skip != "" {
					r = peersuite.CaseResult{Outcome: peersuite.Skipped, Detail: skip}
				} else {
					ctx, cancel := context.WithTimeout(context.Background(), peerCaseTimeout)
					r = peersuite.RunDQL(ctx, proxyDB[m], refDB[m][ref], m, c.SQL, refQuery, params)
					cancel()
				}
				report(peersuite.DQL, string(m), c, ai, params, ", reference "+ref, r)
			}
		}
	}
	t.Logf("%s: %d DQL cases in %s", name, len(dql), time.Since(dqlStart).Round(10*time.Millisecond))
	if refDB[peersuite.Text]["read_dataset"] != nil && refDB[peersuite.Text]["write_dataset"] != nil {
		// Control: a replica read must match the read side and differ from
		// the write side, or the comparison would prove nothing.
		q := "SELECT order_id, status FROM t_order WHERE user_id = ? AND order_id = ?"
		params, _ := peersuite.ParseParameters("10:int, 1000:int")
		for _, m := range peersuite.Modes {
			ctx, cancel := context.WithTimeout(context.Background(), peerCaseTimeout)
			read := peersuite.RunDQL(ctx, proxyDB[m], refDB[m]["read_dataset"], m, q, q, params)
			write := peersuite.RunDQL(ctx, proxyDB[m], refDB[m]["write_dataset"], m, q, q, params)
			cancel()
			t.Logf("control %s: against read_dataset %s, against write_dataset %s (%s)", m, read.Outcome, write.Outcome, write.Detail)
			if read.Outcome == peersuite.Pass && write.Outcome != peersuite.Wrong {
				t.Errorf("control %s: a replica read also matches the write side: the comparison proves nothing", m)
			}
		}
	}

	// DML: the tables start empty; each assertion seeds what it touches.
	dmlStart := time.Now()
	env.truncateActual()
	dmlDB := map[peersuite.Mode]*sql.DB{}
	for _, m := range peersuite.Modes {
		dmlDB[m] = h.open(user, pass, env.conv.Database, m.DSNParams()+dsnExtra+"&clientFoundRows=true&multiStatements=true")
	}
	for _, c := range dmlCases {
		skip := skipReason(c)
		// Several statements cannot be prepared: MySQL answers 1064, and
		// Connector/J (upstream's client) sends them as text instead, even
		// with useServerPrepStmts, so the text mode covers them.
		prepSkip := skip
		if prepSkip == "" && len(peersuite.SplitStatements(c.SQL)) > 1 {
			prepSkip = "several statements in one prepared statement: MySQL cannot prepare them (error 1064), JDBC sends them as text"
		}
		for _, m := range peersuite.Modes {
			for ai, a := range c.Assertions {
				params, err := peersuite.ParseParameters(a.Parameters)
				if err != nil {
					t.Errorf("%s: %q: %v", c.File, c.SQL, err)
					continue
				}
				why := skip
				if m == peersuite.Prepared {
					why = prepSkip
				}
				r := peersuite.CaseResult{Outcome: peersuite.Skipped, Detail: why}
				if why == "" {
					r = env.runDML(dmlDB[m], dmlDB[peersuite.Text], m, c, []peersuite.Assertion{a}, false)
				}
				report(peersuite.DML, string(m), c, ai, params, "", r)
			}
		}
		if !c.SkipBatch {
			r := peersuite.CaseResult{Outcome: peersuite.Skipped, Detail: prepSkip}
			if prepSkip == "" {
				r = env.runDML(dmlDB[peersuite.Prepared], dmlDB[peersuite.Text], peersuite.Prepared, c, c.Assertions, true)
			}
			report(peersuite.DML, "prepared-batch", c, 0, nil, fmt.Sprintf(", batch of %d", len(c.Assertions)), r)
		}
	}
	t.Logf("%s: %d DML cases in %s", name, len(dmlCases), time.Since(dmlStart).Round(10*time.Millisecond))

	var rows []peersuite.SummaryRow
	for _, typ := range []string{peersuite.DQL, peersuite.DML} {
		for _, m := range []string{string(peersuite.Text), string(peersuite.Prepared), "prepared-batch"} {
			tl := tallies[typ+"/"+m]
			if tl == nil {
				continue
			}
			rows = append(rows, peersuite.SummaryRow{Scenario: name, Type: typ, Mode: m, Tally: *tl})
		}
	}
	t.Logf("%s:\n%s", name, peersuite.Markdown(rows))
	h.poolsIdle(t)
	return rows, problems
}

// convertRules converts the scenario's proxy rules onto the topology's
// slices, placing single tables where the actual init SQL creates them.
func (e *peerEnv) convertRules() {
	t := e.t
	file, err := e.sc.ProxyRuleFile()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var slices []string
	for i, s := range e.topo.Slices {
		slices = append(slices, s.Name)
		e.sliceIdx[s.Name] = i
	}
	opts := convert.ShardingSphereOptions{Slices: slices, SkipUnconvertible: true}
	// Unique names on the shared servers: the physical databases and the
	// logical one get a prefix (the suite's files keep the original names,
	// which the place map translates).
	data = prefixDatabases(data, peerDBPrefix)
	first, err := convert.ShardingSphere(data, opts)
	if err != nil {
		t.Fatalf("convert %s: %v", file, err)
	}
	// Physical tables the rules place, and data source of each database.
	cfg, err := shard.ParseConfig(first.YAML, "converted.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := shard.Build(cfg.Namespaces[0])
	if err != nil {
		t.Fatal(err)
	}
	ruled := map[string]bool{}
	for _, tb := range rules.Tables() {
		for _, n := range tb.All() {
			ruled[unprefixed(n.Database)+"."+strings.ToLower(n.Table)] = true
		}
	}
	dsOf := map[string]string{}
	dbOfDS := map[string]string{}
	e.place = map[string]peersuite.Place{}
	for _, d := range first.DataSources {
		dsOf[unprefixed(d.Database)] = d.Name
		dbOfDS[d.Name] = unprefixed(d.Database)
		e.place[unprefixed(d.Database)] = peersuite.Place{Slice: d.Slice, Database: d.Database}
		for _, r := range d.Reads {
			dsOf[unprefixed(r.Database)] = d.Name
			e.place[unprefixed(r.Database)] = peersuite.Place{Slice: d.Slice, Database: d.Database, Replica: true}
		}
	}
	// Reads of a group stand for the write side's tables too.
	for _, d := range first.DataSources {
		for _, r := range d.Reads {
			for k := range ruled {
				if db, tb, _ := strings.Cut(k, "."); db == unprefixed(d.Database) {
					ruled[unprefixed(r.Database)+"."+tb] = true
				}
			}
		}
	}
	for _, nodes := range first.SkippedNodes {
		for _, n := range nodes {
			ds, tb, _ := strings.Cut(n, ".")
			ruled[dbOfDS[ds]+"."+strings.ToLower(tb)] = true
		}
	}
	stmts, err := peersuite.LoadScript(e.sc.ActualInitSQL())
	if err != nil {
		t.Fatal(err)
	}
	singles, err := peersuite.SingleTables(stmts, ruled, dsOf)
	if err != nil {
		t.Fatal(err)
	}
	opts.SingleTables = singles
	e.conv, err = convert.ShardingSphere(data, opts)
	if err != nil {
		t.Fatalf("convert %s: %v", file, err)
	}
	for table, why := range e.conv.Skipped {
		t.Logf("%s: table %s not converted: %s", e.sc.Name, table, why)
	}
	final, err := shard.ParseConfig(e.conv.YAML, "converted.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ns := final.Namespaces[0]
	e.seqTable, e.defSlice = ns.SequenceTable, ns.DefaultSlice
	e.seqCols = map[string]string{}
	for _, db := range ns.Databases {
		for _, tb := range db.Tables {
			if tb.Sequence != nil {
				e.seqCols[strings.ToLower(tb.Name)] = tb.Sequence.Column
				t.Logf("%s: table %s: sequence %+v", e.sc.Name, tb.Name, *tb.Sequence)
			}
		}
	}
	t.Logf("%s: single tables %v", e.sc.Name, singles)

	// Every physical database of the suite must have a place.
	dbs, err := peersuite.LoadDatabases(e.sc.ActualDatabasesFile())
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range dbs {
		if _, ok := e.place[strings.ToLower(db)]; !ok {
			t.Fatalf("physical database %s is not a data source of the converted rules", db)
		}
	}
	e.refs, err = peersuite.LoadDatabases(e.sc.ExpectedDatabasesFile())
	if err != nil {
		t.Fatal(err)
	}
	tag := strings.NewReplacer("dbtbl_with_readwrite_splitting", "dbtbl_rw").Replace(e.sc.Name)
	e.refName = map[string]string{}
	for _, r := range e.refs {
		e.refName[r] = "syref_" + tag + "_" + r
	}
	e.refNode = e.topo.Slices[0].Primary
}

// createDatabases runs the actual init SQL on the slices' primaries (each
// database on its data source's slice), creates the logical database
// (empty) everywhere, and the reference databases on slice 0.
func (e *peerEnv) createDatabases() {
	t := e.t
	stmts, err := peersuite.LoadScript(e.sc.ActualInitSQL())
	if err != nil {
		t.Fatal(err)
	}
	var sliceNames []string
	for _, s := range e.topo.Slices {
		sliceNames = append(sliceNames, s.Name)
	}
	plan, err := peersuite.PlanInit(stmts, e.place, sliceNames)
	if err != nil {
		t.Fatal(err)
	}
	per := map[int][]string{}
	for s, l := range plan.Slices {
		per[e.sliceIdx[s]] = append(per[e.sliceIdx[s]], l...)
	}
	// The logical database must exist for USE; it holds no table.
	logical := e.conv.Database
	if !e.isPhysical(logical) {
		for i := range e.topo.Slices {
			per[i] = append([]string{"DROP DATABASE IF EXISTS " + logical, "CREATE DATABASE " + logical}, per[i]...)
		}
	}
	// Reference databases, renamed.
	refStmts, err := peersuite.LoadScript(e.sc.ExpectedInitSQL())
	if err != nil {
		t.Fatal(err)
	}
	rename := map[string]string{}
	for r, n := range e.refName {
		rename[strings.ToLower(r)] = n
	}
	for _, st := range refStmts {
		per[0] = append(per[0], peersuite.RenameDatabases(st, rename))
	}

	// Drop everything at the end (replicated to the replicas).
	t.Cleanup(func() {
		if os.Getenv("SWITCHYARD_PEERSUITE_KEEP") != "" {
			return
		}
		for _, p := range e.place {
			if p.Replica {
				continue
			}
			e.exec(e.topo.Slices[e.sliceIdx[p.Slice]].Primary, false, "DROP DATABASE IF EXISTS "+p.Database)
		}
		for _, n := range e.refName {
			e.exec(e.refNode, false, "DROP DATABASE IF EXISTS "+n)
		}
		if !e.isPhysical(logical) {
			for _, s := range e.topo.Slices {
				e.exec(s.Primary, false, "DROP DATABASE IF EXISTS "+logical)
			}
		}
	})
	e.parallel(per, false)
	e.waitReplicas()
}

// loadData inserts the actual rows into the physical tables and the
// expected rows into the reference databases. For read/write-splitting
// the two sides differ on purpose (README 7): the write rows go to the
// primary and the read rows to the replicas, both without binary logging
// so that neither reaches the other side.
func (e *peerEnv) loadData() {
	t := e.t
	actual, err := peersuite.LoadDataset(e.sc.ActualDatasetFile())
	if err != nil {
		t.Fatal(err)
	}
	inserts, err := actual.InsertStatements(func(db string) string {
		if p, ok := e.place[strings.ToLower(db)]; ok {
			return p.Database
		}
		return db
	})
	if err != nil {
		t.Fatal(err)
	}
	e.inserts = map[string]peersuite.NodeInsert{}
	e.actual = actual
	for _, in := range inserts {
		e.inserts[strings.ToLower(in.Node)] = in
	}
	noBinlog := e.conv.ReadWriteSplitting
	primary := map[int][]string{}
	replica := map[int][]string{}
	for _, in := range inserts {
		db, _ := peersuite.SplitNode(in.Node)
		p, ok := e.place[strings.ToLower(db)]
		if !ok {
			t.Fatalf("row of %s: database %s has no place", in.Node, db)
		}
		i := e.sliceIdx[p.Slice]
		if p.Replica {
			replica[i] = append(replica[i], in.SQL)
		} else {
			primary[i] = append(primary[i], in.SQL)
		}
	}
	expected, err := peersuite.LoadDataset(e.sc.ExpectedDatasetFile())
	if err != nil {
		t.Fatal(err)
	}
	refInserts, err := expected.InsertStatements(func(db string) string {
		if n, ok := e.refName[db]; ok {
			return n
		}
		t.Fatalf("expected row in unknown database %s", db)
		return db
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range refInserts {
		primary[0] = append(primary[0], in.SQL)
	}
	e.parallel(primary, noBinlog)
	if len(replica) > 0 {
		rep := map[int][]string{}
		for i, l := range replica {
			if len(e.topo.Slices[i].Replicas) == 0 {
				t.Fatalf("slice %s has no replica for the read data sources", e.topo.Slices[i].Name)
			}
			rep[i] = l
		}
		e.parallelOn(rep, func(i int) []testtopo.Node { return e.topo.Slices[i].Replicas }, true)
	}
	e.waitReplicas()
	if len(replica) > 0 {
		e.checkSidesDiffer(inserts)
	}
}

// checkSidesDiffer makes sure the read side really differs from the write
// side on one table (README 7: read rows have status init_read), so that a
// DQL pass shows the proxy read from a replica.
func (e *peerEnv) checkSidesDiffer(inserts []peersuite.NodeInsert) {
	for _, in := range inserts {
		db, _ := peersuite.SplitNode(in.Node)
		p := e.place[strings.ToLower(db)]
		if !p.Replica || !strings.HasPrefix(in.Table, "t_order_") {
			continue
		}
		s := e.topo.Slices[e.sliceIdx[p.Slice]]
		q := fmt.Sprintf("SELECT COALESCE(GROUP_CONCAT(status ORDER BY order_id), '') FROM `%s`.`%s`", p.Database, in.Table)
		var read, write string
		rd, err := e.pool(s.Replicas[0])
		if err == nil {
			err = rd.QueryRow(q).Scan(&read)
		}
		wd, err2 := e.pool(s.Primary)
		if err == nil && err2 == nil {
			err = wd.QueryRow(q).Scan(&write)
		}
		if err != nil || err2 != nil {
			e.t.Fatalf("checking the read side: %v %v", err, err2)
		}
		if read == write || !strings.Contains(read, "init_read") {
			e.t.Fatalf("%s.%s: the replica (%q) should hold the read side's rows, the primary (%q) the write side's", p.Database, in.Table, read, write)
		}
		e.t.Logf("%s.%s: replica has %q, primary %q", p.Database, in.Table, read, write)
		return
	}
	e.t.Fatal("no read-side t_order table found to check")
}

// parallel runs each slice's statements on its primary, slices in parallel.
func (e *peerEnv) parallel(per map[int][]string, noBinlog bool) {
	e.parallelOn(per, func(i int) []testtopo.Node { return []testtopo.Node{e.topo.Slices[i].Primary} }, noBinlog)
}

func (e *peerEnv) parallelOn(per map[int][]string, nodes func(int) []testtopo.Node, noBinlog bool) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	for i, stmts := range per {
		for _, n := range nodes(i) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := e.execErr(n, noBinlog, stmts...); err != nil {
					mu.Lock()
					errs = append(errs, err.Error())
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		sort.Strings(errs)
		e.t.Fatal(strings.Join(errs, "\n"))
	}
}

func (e *peerEnv) exec(n testtopo.Node, noBinlog bool, stmts ...string) {
	if err := e.execErr(n, noBinlog, stmts...); err != nil {
		e.t.Error(err)
	}
}

// execErr runs statements in order on one root connection.
func (e *peerEnv) execErr(n testtopo.Node, noBinlog bool, stmts ...string) error {
	var d *sql.DB
	var err error
	if noBinlog {
		// A session without binary logging must not go back to the pool.
		d, err = sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/?timeout=5s", e.topo.RootUser, e.topo.RootPassword, n.Addr))
		if err == nil {
			defer d.Close()
		}
	} else {
		d, err = e.pool(n)
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := d.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%s %s: %w", n.Role, n.Addr, err)
	}
	defer c.Close()
	if noBinlog {
		stmts = append([]string{"SET SESSION sql_log_bin = 0"}, stmts...)
	}
	for _, s := range stmts {
		if _, err := c.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s %s: %.200s: %w", n.Role, n.Addr, s, err)
		}
	}
	return nil
}

// waitReplicas waits until every replica has applied its primary's binary
// log (the schema of the read side arrives this way).
func (e *peerEnv) waitReplicas() {
	for _, s := range e.topo.Slices {
		if len(s.Replicas) == 0 {
			continue
		}
		var pos string
		p, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/", e.topo.RootUser, e.topo.RootPassword, s.Primary.Addr))
		if err != nil {
			e.t.Fatal(err)
		}
		err = p.QueryRow("SELECT @@gtid_binlog_pos").Scan(&pos)
		p.Close()
		if err != nil {
			e.t.Fatal(err)
		}
		for _, r := range s.Replicas {
			d, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/", e.topo.RootUser, e.topo.RootPassword, r.Addr))
			if err != nil {
				e.t.Fatal(err)
			}
			var res sql.NullInt64
			err = d.QueryRow("SELECT MASTER_GTID_WAIT(?, 60)", pos).Scan(&res)
			d.Close()
			if err != nil || !res.Valid || res.Int64 != 0 {
				e.t.Fatalf("replica %s did not reach %q: %v", r.Addr, pos, err)
			}
		}
	}
}

// pool returns a root connection pool to a node, kept for the scenario.
func (e *peerEnv) pool(n testtopo.Node) (*sql.DB, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if d := e.pools[n.Addr]; d != nil {
		return d, nil
	}
	d, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/?timeout=5s", e.topo.RootUser, e.topo.RootPassword, n.Addr))
	if err != nil {
		return nil, err
	}
	if e.pools == nil {
		e.pools = map[string]*sql.DB{}
	}
	e.pools[n.Addr] = d
	return d, nil
}

// closePools closes the root pools; registered first, so it runs last.
func (e *peerEnv) closePools() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, d := range e.pools {
		d.Close()
	}
	e.pools = nil
}

// primarySide returns the place of a data node's database when it is on a
// primary (not a read data source).
func (e *peerEnv) primarySide(node string) (peersuite.Place, string, bool) {
	db, table := peersuite.SplitNode(node)
	p, ok := e.place[strings.ToLower(db)]
	if !ok || p.Replica {
		return p, table, false
	}
	return p, table, true
}

// truncateActual empties every physical table the actual dataset filled,
// through the binary log so that the replicas (which may hold the read
// side's rows) are emptied too.
func (e *peerEnv) truncateActual() {
	actual, err := peersuite.LoadDataset(e.sc.ActualDatasetFile())
	if err != nil {
		e.t.Fatal(err)
	}
	seen := map[string]bool{}
	per := map[int][]string{}
	for _, r := range actual.Rows {
		p, table, ok := e.primarySide(r.DataNode)
		key := strings.ToLower(p.Database + "." + table)
		if !ok || seen[key] {
			continue
		}
		seen[key] = true
		i := e.sliceIdx[p.Slice]
		per[i] = append(per[i], fmt.Sprintf("TRUNCATE TABLE `%s`.`%s`", p.Database, table))
	}
	e.parallel(per, false)
	e.waitReplicas()
}

// runDML runs a DML case (README 8.2): seed the tables its expected files
// name, run it through the proxy (one assertion, or with batch every
// assertion in turn on one prepared statement), check the update counts and
// every data node on the primaries, then empty the tables again.
func (e *peerEnv) runDML(db, textDB *sql.DB, mode peersuite.Mode, c peersuite.TestCase, as []peersuite.Assertion, batch bool) peersuite.CaseResult {
	t := e.t
	var files []*peersuite.Dataset
	var argSets [][]any
	for _, a := range as {
		path, err := peersuite.ExpectedFile(e.suite, peersuite.DML, e.sc.Name, "standalone", "mysql", a.ExpectedDataFile)
		if err != nil {
			t.Fatal(err)
		}
		ds, err := peersuite.LoadDataset(path)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, ds)
		params, err := peersuite.ParseParameters(a.Parameters)
		if err != nil {
			t.Fatal(err)
		}
		argSets = append(argSets, peersuite.Args(params))
	}
	// The physical tables involved: every node of every file, primary side.
	var nodes []string
	mdOf := map[string]*peersuite.Metadata{}
	seen := map[string]bool{}
	for _, f := range files {
		ns, mds, err := f.Nodes()
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			k := strings.ToLower(n)
			if _, _, ok := e.primarySide(n); !ok || seen[k] {
				continue
			}
			seen[k] = true
			nodes = append(nodes, n)
			if f == files[0] {
				mdOf[k] = mds[k]
			}
		}
	}
	seed := map[int][]string{}
	for _, n := range nodes {
		if in, ok := e.inserts[strings.ToLower(n)]; ok {
			p, _, _ := e.primarySide(n)
			seed[e.sliceIdx[p.Slice]] = append(seed[e.sliceIdx[p.Slice]], in.SQL)
		}
	}
	e.parallel(seed, false)
	defer func() {
		for _, a := range as {
			for _, st := range peersuite.SplitStatements(a.DestroySQL) {
				if _, err := textDB.Exec(st); err != nil {
					t.Logf("destroy-sql %q: %v", st, err)
				}
			}
		}
		del := map[int][]string{}
		for _, n := range nodes {
			p, table, _ := e.primarySide(n)
			del[e.sliceIdx[p.Slice]] = append(del[e.sliceIdx[p.Slice]], fmt.Sprintf("DELETE FROM `%s`.`%s`", p.Database, table))
		}
		e.parallel(del, false)
	}()
	for _, a := range as {
		for _, st := range peersuite.SplitStatements(a.InitialSQL) {
			if _, err := textDB.Exec(st); err != nil {
				o, msg := peersuite.ClassifyError(err)
				return peersuite.CaseResult{Outcome: o, Detail: "initial-sql: " + msg}
			}
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), peerCaseTimeout)
	defer cancel()
	var results []peersuite.ExecResult
	if batch {
		var err error
		if results, err = peersuite.ExecBatch(ctx, db, c.SQL, argSets); err != nil {
			o, msg := peersuite.ClassifyError(err)
			return peersuite.CaseResult{Outcome: o, Detail: msg}
		}
	} else {
		r, err := peersuite.Exec(ctx, db, mode, c.SQL, argSets[0])
		if err != nil {
			o, msg := peersuite.ClassifyError(err)
			return peersuite.CaseResult{Outcome: o, Detail: msg}
		}
		results = []peersuite.ExecResult{r}
	}
	for i, r := range results {
		if want := files[i].UpdateCount; want >= 0 && r.RowsAffected != int64(want) {
			return peersuite.CaseResult{Outcome: peersuite.Wrong, Detail: fmt.Sprintf("update count of execution %d: got %d, want %d", i+1, r.RowsAffected, want)}
		}
	}
	// Generated keys: the suite's fixture counts from 1 for every
	// statement, the converted sequence keeps counting; the expected keys
	// become LAST_INSERT_ID, LAST_INSERT_ID+1, ... of each execution.
	for i, a := range as {
		if a.ExpectedGeneratedKeyDataFile == "" {
			continue
		}
		table := peersuite.InsertTarget(c.SQL)
		col, ok := e.seqCols[strings.ToLower(table)]
		if !ok {
			continue // no sequence: the rows cannot have the fixture's keys
		}
		path, err := peersuite.ExpectedFile(e.suite, peersuite.DML, e.sc.Name, "standalone", "mysql", a.ExpectedGeneratedKeyDataFile)
		if err != nil {
			t.Fatal(err)
		}
		gk, err := peersuite.LoadDataset(path)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := gk.GeneratedKeys()
		if err != nil {
			t.Fatal(err)
		}
		if results[i].LastInsertID == 0 {
			return peersuite.CaseResult{Outcome: peersuite.Wrong, Detail: fmt.Sprintf("execution %d generated keys %v but reported no last-insert-id", i+1, keys)}
		}
		sortByKey := false
		if n := firstNode(files[i]); n != "" {
			if p, tb, ok := e.primarySide(n); ok {
				d, err := e.pool(e.topo.Slices[e.sliceIdx[p.Slice]].Primary)
				if err != nil {
					t.Fatal(err)
				}
				pk, err := e.primaryKey(d, p.Slice, p.Database, tb)
				if err != nil {
					t.Fatal(err)
				}
				sortByKey = len(pk) == 1 && strings.EqualFold(pk[0], col)
			}
		}
		if files[i], err = peersuite.MapGeneratedKeys(files[i], col, keys, results[i].LastInsertID, e.seeded(col), sortByKey); err != nil {
			t.Fatalf("%s: %v", a.ExpectedDataFile, err)
		}
	}
	expected := files[0]
	if batch {
		var err error
		if expected, err = peersuite.MergeBatch(peersuite.StatementKind(c.SQL), files); err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.readNodes(nodes)
	if err != nil {
		t.Fatal(err)
	}
	want := expected.RowsByNode()
	rows := 0
	for _, n := range nodes {
		k := strings.ToLower(n)
		md := mdOf[k]
		if md == nil {
			md, err = expected.MetadataFor(n)
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := peersuite.CheckNode(n, md, want[k], got[k]); err != nil {
			return peersuite.CaseResult{Outcome: peersuite.Wrong, Detail: err.Error()}
		}
		rows += len(want[k])
	}
	return peersuite.CaseResult{Outcome: peersuite.Pass, Rows: rows}
}

// firstNode is the first data node of a dataset's rows ("" if none).
func firstNode(d *peersuite.Dataset) string {
	for _, r := range d.Rows {
		if r.DataNode != "" {
			return r.DataNode
		}
	}
	return ""
}

// readNodes reads physical tables (primary side) ordered by primary key,
// slices in parallel.
func (e *peerEnv) readNodes(nodes []string) (map[string]*peersuite.Result, error) {
	per := map[string][]string{}
	for _, n := range nodes {
		p, _, _ := e.primarySide(n)
		per[p.Slice] = append(per[p.Slice], n)
	}
	out := map[string]*peersuite.Result{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var first error
	for slice, ns := range per {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := e.pool(e.topo.Slices[e.sliceIdx[slice]].Primary)
			for _, n := range ns {
				if err != nil {
					break
				}
				p, table, _ := e.primarySide(n)
				var pk []string
				pk, err = e.primaryKey(d, p.Slice, p.Database, table)
				if err != nil {
					break
				}
				q := fmt.Sprintf("SELECT * FROM `%s`.`%s`", p.Database, table)
				if len(pk) > 0 {
					q += " ORDER BY `" + strings.Join(pk, "`, `") + "`"
				}
				var r *peersuite.Result
				r, err = peersuite.Query(context.Background(), d, peersuite.Text, q, nil)
				mu.Lock()
				out[strings.ToLower(n)] = r
				mu.Unlock()
			}
			if err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out, first
}

func (e *peerEnv) primaryKey(d *sql.DB, slice, db, table string) ([]string, error) {
	k := slice + "|" + strings.ToLower(db+"."+table)
	e.mu.Lock()
	pk, ok := e.pks[k]
	e.mu.Unlock()
	if ok {
		return pk, nil
	}
	rows, err := d.Query("SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX", db, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		pk = append(pk, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	if e.pks == nil {
		e.pks = map[string][]string{}
	}
	e.pks[k] = pk
	e.mu.Unlock()
	return pk, nil
}

// resetSequences deletes the sequence rows of the logical database from
// the sequence table (on the default slice), so that a proxy started next
// counts from the converted start again (the suite's fixture generates 1,
// 2, ...) and the servers are left clean. Call it with no proxy running.
func (e *peerEnv) resetSequences() {
	if len(e.seqCols) == 0 {
		return
	}
	i, ok := e.sliceIdx[e.defSlice]
	if !ok {
		e.t.Errorf("default slice %q is not a slice of the topology", e.defSlice)
		return
	}
	db, table, _ := strings.Cut(e.seqTable, ".")
	q := fmt.Sprintf("DELETE FROM `%s`.`%s` WHERE name LIKE '%s.%%'", db, table, strings.ReplaceAll(e.conv.Database, "_", "\\_"))
	if err := e.execErr(e.topo.Slices[i].Primary, false, q); err != nil && !strings.Contains(err.Error(), "Error 1146") && !strings.Contains(err.Error(), "Error 1049") {
		e.t.Errorf("resetting the sequences: %v", err)
	}
}

// seeded reports whether the actual dataset (the seed) has a row on node
// whose column holds value.
func (e *peerEnv) seeded(column string) func(node, value string) bool {
	return func(node, value string) bool {
		md, err := e.actual.MetadataFor(node)
		if err != nil {
			return false
		}
		col := -1
		for j, c := range md.Columns {
			if strings.EqualFold(c.Name, column) {
				col = j
			}
		}
		if col < 0 {
			return false
		}
		for _, r := range e.actual.Rows {
			if strings.EqualFold(r.DataNode, node) && col < len(r.Values) && r.Values[col] == value {
				return true
			}
		}
		return false
	}
}

// peerDBPrefix is put before the suite's database names on the servers.
const peerDBPrefix = "sypeer_"

func unprefixed(db string) string {
	return strings.TrimPrefix(strings.ToLower(db), peerDBPrefix)
}

var (
	peerJDBCRe   = regexp.MustCompile(`(jdbc:(?:mysql|mariadb)://[^/\s]+/)([A-Za-z0-9_$]+)`)
	peerDBNameRe = regexp.MustCompile(`(?m)^(databaseName:\s*)(\S+)\s*$`)
)

// prefixDatabases renames the logical database and the databases of the
// JDBC URLs of a ShardingSphere rule file.
func prefixDatabases(yaml []byte, prefix string) []byte {
	yaml = peerJDBCRe.ReplaceAll(yaml, []byte("${1}"+prefix+"${2}"))
	return peerDBNameRe.ReplaceAll(yaml, []byte("${1}"+prefix+"${2}"))
}

// isPhysical reports whether a database is one of the data sources'.
func (e *peerEnv) isPhysical(db string) bool {
	for _, p := range e.place {
		if strings.EqualFold(p.Database, db) {
			return true
		}
	}
	return false
}
