package monitor

import (
	"net"
	"testing"
)

func TestResolve(t *testing.T) {
	if got := resolve("127.0.0.1:3310"); got != "127.0.0.1:3310" {
		t.Fatalf("IP literal changed: %s", got)
	}
	got := resolve("localhost:3310")
	host, port, err := net.SplitHostPort(got)
	if err != nil || port != "3310" || net.ParseIP(host) == nil || !net.ParseIP(host).IsLoopback() {
		t.Fatalf("localhost resolved to %q", got)
	}
}

func TestAuroraState(t *testing.T) {
	rows := [][]string{
		{"db-writer", "MASTER_SESSION_ID", "0"},
		{"db-r1", "a1b2-c3", "12.5"},
		{"db-r2", "d4e5-f6", "2400"},
	}
	for _, c := range []struct {
		id       string
		readOnly bool
		wantRO   bool
		wantLag  int64
	}{
		{"db-writer", false, false, 0},
		{"db-r1", true, true, 1},
		{"db-r2", true, true, 3},
		// Writable in its own variables but not the writer in its own
		// view of the cluster (a failover in progress): not a primary.
		{"db-r1", false, true, 1},
		{"db-unknown", true, true, -1},
	} {
		st := NodeState{ReadOnly: c.readOnly}
		auroraState(&st, c.id, rows)
		if !st.Aurora || st.AuroraWriter != "db-writer" || st.ReadOnly != c.wantRO || st.LagSeconds != c.wantLag {
			t.Errorf("%s (read_only %v): %+v", c.id, c.readOnly, st)
		}
	}
}
