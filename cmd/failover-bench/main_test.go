package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/loadgen"
)

func TestParseScenarios(t *testing.T) {
	got, err := parseScenarios("all")
	if err != nil || strings.Join(got, ",") != "killed,frozen,switchover,replica,return" {
		t.Fatalf("all = %v, %v", got, err)
	}
	got, err = parseScenarios(" return,killed,return ")
	if err != nil || strings.Join(got, ",") != "return,killed" {
		t.Fatalf("list = %v, %v", got, err)
	}
	if _, err := parseScenarios("killed,crashed"); err == nil {
		t.Fatal("unknown scenario accepted")
	}
}

func TestGTIDSeq(t *testing.T) {
	for _, tt := range []struct {
		pos  string
		want int64
	}{
		{"", 0},
		{"1-4610-123", 123},
		{"0-1-5,1-4611-77,2-3-9", 77},
		{"2-3-9", 0},
	} {
		if got := gtidSeq(tt.pos, 1); got != tt.want {
			t.Errorf("gtidSeq(%q) = %d, want %d", tt.pos, got, tt.want)
		}
	}
}

func TestMaxGapSince(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	l := &load{writes: []time.Time{at(0), at(100), at(102), at(104), at(900), at(901), at(950)}}
	if got := l.maxGapSince(at(50)); got != 796*time.Millisecond {
		t.Errorf("gap since 50 ms = %v", got)
	}
	if got := l.maxGapSince(at(901)); got != 49*time.Millisecond {
		t.Errorf("gap since 901 ms = %v", got)
	}
}

func TestTable(t *testing.T) {
	rs := []*result{
		{Scenario: "killed", Run: 1, Detection: 10 * time.Millisecond, HasDetection: true, Resume: 400 * time.Millisecond, HasResume: true,
			HasReport: true, Gap: 1400 * time.Millisecond, SyncOK: 1, SyncTotal: 1,
			Report: loadgen.Report{FailedWrites: 3, AckedWrites: 100, Errors: map[string]int{"write:2013": 3}}},
		{Scenario: "killed", Run: 2, Detection: 30 * time.Millisecond, HasDetection: true, Resume: 500 * time.Millisecond, HasResume: true,
			HasReport: true, Gap: 1500 * time.Millisecond, SyncOK: 1, SyncTotal: 1,
			Report: loadgen.Report{FailedWrites: 8, AckedWrites: 110, Errors: map[string]int{"write:2013": 8}}},
		{Scenario: "replica", Run: 1, Err: errors.New("topology.sh up: exit status 1\ndetails")},
	}
	got := renderTable(rs, []string{"killed", "replica"}, 2)
	for _, want := range []string{
		"| killed | 1 | 10 ms | 400 ms | 1400 ms | 3 (2013×3) | 0 | 0 | 100 | 0 | 1/1 |\n",
		"| **killed** | **median of 2** | 20 ms | 450 ms | 1450 ms | 5.5 | 0 | 0 | 105 | 0 | 1/1 |\n",
		"| replica | 1 | failed: topology.sh up: exit status 1 |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
}
