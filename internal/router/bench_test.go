package router

import "testing"

var sinkAnalysis *Analysis

func BenchmarkAnalyzePointSelect(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkAnalysis = Analyze("SELECT c FROM sbtest1 WHERE id=?")
	}
}

func BenchmarkAnalyzeInsert(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkAnalysis = Analyze("INSERT INTO sbtest1 (id, k, c, pad) VALUES (?, ?, ?, ?)")
	}
}

func BenchmarkDecide(b *testing.B) {
	a := Analyze("SELECT c FROM sbtest1 WHERE id=?")
	s := Session{RWSplit: true}
	b.ReportAllocs()
	var p Plan
	for b.Loop() {
		p = Decide(a, s)
	}
	_ = p
}

var sinkShard Node

// BenchmarkAnalyzePointSelectLiteral is the unsharded path for the query
// the sharded benchmarks route (a literal key, as sysbench sends it).
func BenchmarkAnalyzePointSelectLiteral(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkAnalysis = Analyze("SELECT name FROM t_user WHERE id = 12345")
	}
}

// BenchmarkShardedPointSelect routes a point query by key: parse, place,
// rewrite to the physical table.
func BenchmarkShardedPointSelect(b *testing.B) {
	rules := loadRules(b)
	b.ReportAllocs()
	for b.Loop() {
		sinkAnalysis, sinkShard = AnalyzeSharded("SELECT name FROM t_user WHERE id = 12345", rules, "shop")
	}
}

// BenchmarkShardedInsert routes a one-row INSERT by key.
func BenchmarkShardedInsert(b *testing.B) {
	rules := loadRules(b)
	b.ReportAllocs()
	for b.Loop() {
		sinkAnalysis, sinkShard = AnalyzeSharded("INSERT INTO t_user (id, name) VALUES (12345, 'x')", rules, "shop")
	}
}

// BenchmarkScatterPlan plans a scatter ORDER BY ... LIMIT over 4 tables.
func BenchmarkScatterPlan(b *testing.B) {
	rules := loadRules(b)
	b.ReportAllocs()
	for b.Loop() {
		sinkAnalysis, sinkShard = AnalyzeSharded("SELECT id, name FROM t_user WHERE name LIKE 'a%' ORDER BY name DESC, id LIMIT 10", rules, "shop")
	}
}

// BenchmarkShardedPointSelectTyped is BenchmarkShardedPointSelect with the
// key column's type known, as the proxy runs it.
func BenchmarkShardedPointSelectTyped(b *testing.B) {
	rules := loadRules(b)
	src := Sources{Schema: testSchema}
	b.ReportAllocs()
	for b.Loop() {
		sinkAnalysis, sinkShard = AnalyzeShardedWith("SELECT name FROM t_user WHERE id = 12345", rules, "shop", src)
	}
}

// BenchmarkScatterParamPlanned plans an execution of a prepared scatter
// query the way statements whose parameters may change their plan are
// run: the values substituted into the text, parsed and planned.
func BenchmarkScatterParamPlanned(b *testing.B) {
	rules := loadRules(b)
	b.ReportAllocs()
	for b.Loop() {
		sinkAnalysis, sinkShard = AnalyzeShardedWith("SELECT id, name FROM t_user WHERE name = 'abc' ORDER BY id LIMIT 10", rules, "shop", Sources{Schema: testSchema})
	}
}

// BenchmarkScatterParamBound is the same execution from the plan made once
// at prepare (router.Bound): the value bound into each physical statement.
func BenchmarkScatterParamBound(b *testing.B) {
	rules := loadRules(b)
	bp := PrepareBound("SELECT id, name FROM t_user WHERE name = ? ORDER BY id LIMIT 10", rules, "shop", Sources{Schema: testSchema})
	if bp == nil {
		b.Fatal("not bound")
	}
	lits := []string{"'abc'"}
	b.ReportAllocs()
	for b.Loop() {
		sinkShard = bp.Bind(lits)
	}
}
