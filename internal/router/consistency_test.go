package router

import "testing"

func TestConsistencyStatements(t *testing.T) {
	cases := []struct {
		sql   string
		local Local
		value string
		label string
		err   uint16
	}{
		{"SET SESSION switchyard_read_consistency = 'session'", LocalSetConsistency, "session", "", 0},
		{"SET switchyard_read_consistency = 'GLOBAL'", LocalSetConsistency, "global", "", 0},
		{"SET @@session.aurora_replica_read_consistency = 'eventual'", LocalSetConsistency, "eventual", "", 0},
		{"SET switchyard_read_consistency = bogus", LocalSetConsistency, "bogus", "", 0},
		{"SET switchyard_read_consistency = DEFAULT", LocalSetConsistency, "default", "", 0},
		{"SET GLOBAL switchyard_read_consistency = 'session'", LocalNone, "", "", 1229},
		{"SET switchyard_read_consistency = 'session', autocommit = 1", LocalNone, "", "", 1235},
		{"SELECT @@switchyard_read_consistency", LocalShowConsistency, "", "@@switchyard_read_consistency", 0},
		{"select @@session.aurora_replica_read_consistency as lvl", LocalShowConsistency, "", "lvl", 0},
	}
	for _, c := range cases {
		a := Analyze(c.sql)
		if c.err != 0 {
			if a.Err == nil || a.Err.Code != c.err {
				t.Errorf("%s: err %v, want %d", c.sql, a.Err, c.err)
			}
			continue
		}
		if a.Err != nil || a.Local != c.local || a.Value != c.value || (c.label != "" && a.Label != c.label) {
			t.Errorf("%s: local=%d value=%q label=%q err=%v", c.sql, a.Local, a.Value, a.Label, a.Err)
		}
	}
}
