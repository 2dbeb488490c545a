package router

import (
	"strings"
	"testing"
)

// TestRestoreForMariaDB checks the physical SQL of statements whose
// printed form used to differ from what MariaDB reads: shared locks and
// hexadecimal literals (0x0a is the number 10 next to an integer column,
// X'0a' the string "\n", which compares as 0).
func TestRestoreForMariaDB(t *testing.T) {
	rules := loadRules(t)
	cases := []struct{ sql, want string }{
		{"SELECT * FROM t_user WHERE id = 1 LOCK IN SHARE MODE", "SELECT * FROM `t_user_0001` WHERE `id`=1 LOCK IN SHARE MODE"},
		{"SELECT * FROM t_user WHERE id = 1 FOR SHARE", "SELECT * FROM `t_user_0001` WHERE `id`=1 LOCK IN SHARE MODE"},
		{"SELECT * FROM t_user WHERE id = 1 FOR SHARE NOWAIT", "SELECT * FROM `t_user_0001` WHERE `id`=1 LOCK IN SHARE MODE NOWAIT"},
		{"SELECT * FROM t_user WHERE id = 1 FOR UPDATE", "SELECT * FROM `t_user_0001` WHERE `id`=1 FOR UPDATE"},
		{"SELECT id FROM t_user WHERE id = 1 AND name IN ('FOR SHARE', 'UNSUPPORTED SELECT LOCK TYPE') LOCK IN SHARE MODE",
			"SELECT `id` FROM `t_user_0001` WHERE `id`=1 AND `name` IN ('FOR SHARE','UNSUPPORTED SELECT LOCK TYPE') LOCK IN SHARE MODE"},
		{"SELECT * FROM t_user WHERE id = 1 AND name = 0x41", "SELECT * FROM `t_user_0001` WHERE `id`=1 AND `name`=0x41"},
		{"SELECT * FROM t_user WHERE id = 1 AND name = X'41'", "SELECT * FROM `t_user_0001` WHERE `id`=1 AND `name`=x'41'"},
		{"SELECT * FROM t_user WHERE id = 1 AND name IN (0x41, X'42', '0x43', 0x44)", "SELECT * FROM `t_user_0001` WHERE `id`=1 AND `name` IN (0x41,x'42','0x43',0x44)"},
		{"INSERT INTO t_user (id, name) VALUES (1, 0x0a)", "INSERT INTO `t_user_0001` (`id`,`name`) VALUES (1,0x0a)"},
	}
	for _, c := range cases {
		_, p := flat(AnalyzeSharded(c.sql, rules, "shop"))
		if p == nil || p.Err != nil || len(p.Steps) != 1 {
			t.Errorf("%s: plan %+v", c.sql, p)
			continue
		}
		got := p.Steps[0].SQL
		if !strings.EqualFold(got, c.want) {
			t.Errorf("%s:\n got %s\nwant %s", c.sql, got, c.want)
		}
	}
}

func TestScanHexLiterals(t *testing.T) {
	cases := []struct {
		sql  string
		want string // z for 0x, x for X''
	}{
		{"select 0x1, X'02', x'', 'x''03''', `0x4`, a0x5, 0x6g, /* 0x7 */ 0X8 -- 0x9\n", "zxxz"},
		{"select \"0x1\", 'a\\'0x2', # 0x3\n 0xa", "z"},
	}
	for _, c := range cases {
		var got strings.Builder
		for _, tk := range scanHexLiterals(c.sql) {
			if tk.zeroX {
				got.WriteByte('z')
			} else {
				got.WriteByte('x')
			}
		}
		if got.String() != c.want {
			t.Errorf("%q: got %q want %q", c.sql, got.String(), c.want)
		}
	}
}

// TestHexLiteralsOfSplitInsert: an INSERT split over physical tables
// prints only some rows; each keeps the form its literal was written in.
func TestHexLiteralsOfSplitInsert(t *testing.T) {
	rules := loadRules(t)
	_, p := flat(AnalyzeSharded("INSERT INTO t_user (id, name) VALUES (1, 0x10), (2, X'11'), (5, 0x12)", rules, "shop"))
	if p == nil || p.Err != nil || len(p.Steps) != 2 {
		t.Fatalf("plan %+v", p)
	}
	want := []string{
		"INSERT INTO `t_user_0001` (`id`,`name`) VALUES (1,0x10),(5,0x12)",
		"INSERT INTO `t_user_0002` (`id`,`name`) VALUES (2,x'11')",
	}
	for i, w := range want {
		if !strings.EqualFold(p.Steps[i].SQL, w) {
			t.Errorf("step %d: %s, want %s", i, p.Steps[i].SQL, w)
		}
	}
}

func TestContainsFold(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"SELECT 1 LOCK IN SHARE MODE", true},
		{"select 1 for share", true},
		{"SELECT 'Share'", true},
		{"SELECT shar", false},
		{"", false},
		{"SH\x01RE", false},
	} {
		if got := containsFold(tc.s, "share"); got != tc.want {
			t.Errorf("containsFold(%q) = %v", tc.s, got)
		}
	}
}

func TestContainsFoldNonLetters(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"SET SWITCHYARD_SHADOW = 1", true},
		{"select @@Switchyard_Shadow", true},
		{"SELECT switchyard\x7fshadow", false},
		{"SELECT switchyard shadow", false},
	} {
		if got := containsFold(tc.s, ShadowVar); got != tc.want {
			t.Errorf("containsFold(%q, %q) = %v", tc.s, ShadowVar, got)
		}
	}
}
