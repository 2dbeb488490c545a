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
