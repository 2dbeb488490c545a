package router

import "testing"

func TestAutocommitValue(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		flag bool
		want AutocommitValue
	}{
		{"SET autocommit=0", true, AutocommitOff},
		{"SET autocommit = 1", true, AutocommitOn},
		{"set AUTOCOMMIT=ON", true, AutocommitOn},
		{"SET autocommit=off", true, AutocommitOff},
		{"SET @@autocommit=true", true, AutocommitOn},
		{"SET @@session.autocommit = 0", true, AutocommitOff},
		{"SET SESSION autocommit=DEFAULT", true, AutocommitOn},
		{"SET autocommit=@x", true, AutocommitUnknown},
		{"set autocommit=1, sql_mode='ANSI'", true, AutocommitOn},
		{"SET sql_mode='ANSI'", false, AutocommitUnknown},
		{"SET @autocommit=0", false, AutocommitUnknown},
	} {
		a := Analyze(tc.sql)
		if got := a.Flags&FlagAutocommit != 0; got != tc.flag || a.Autocommit != tc.want {
			t.Errorf("%s: flag %v value %d, want %v %d", tc.sql, got, a.Autocommit, tc.flag, tc.want)
		}
	}
}
