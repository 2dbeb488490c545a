package gtid

import (
	"strings"
	"testing"
)

func TestCovers(t *testing.T) {
	cases := []struct {
		have, need string
		want       bool
	}{
		{"1-10-5", "1-10-5", true},
		{"1-10-6", "1-10-5", true},
		{"1-10-4", "1-10-5", false},
		{"1-20-9", "1-10-5", true}, // server id does not matter within a domain
		{"1-10-9,2-10-3", "2-10-3", true},
		{"1-10-9", "2-10-1", false},
		{"1-10-9,2-10-3", "1-10-9,2-10-4", false},
		{"", "1-10-1", false},
		{"anything", "", true},
		{"1-10-5", "garbage", false},
		{" 1-10-5 , 2-1-1", "2-1-1", true},
	}
	for _, c := range cases {
		if got := Covers(c.have, c.need); got != c.want {
			t.Errorf("Covers(%q, %q) = %v, want %v", c.have, c.need, got, c.want)
		}
	}
	for pos, want := range map[string]bool{"1-2-3": true, "1-2-3,4-5-6": true, "": false, "1-2": false, "1-2-3'": false, "a-b-c": false} {
		if Valid(pos) != want {
			t.Errorf("Valid(%q) != %v", pos, want)
		}
	}
}

func TestMySQLSets(t *testing.T) {
	const a = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
	const b = "4f22fa47-71ca-11e1-9e33-c80aa9429562"
	for _, c := range []struct {
		have, need string
		want       bool
	}{
		{a + ":1-10", a + ":5", true},
		{a + ":1-10", a + ":11", false},
		{a + ":1-4:6-10", a + ":5", false},
		{a + ":1-4:5-10", a + ":3-7", true},
		{a + ":1-10,\n" + b + ":1-3", b + ":3", true},
		{a + ":1-10", b + ":1", false},
		{strings.ToUpper(a) + ":1-10", a + ":2", true},
		{a + ":1-10", a + ":1-10," + b + ":1", false},
		{a + ":tag_x:1-5", a + ":tag_x:3", true},
		{a + ":1-5", a + ":tag_x:3", false},
		{"", a + ":1", false},
		{a + ":1-10", "garbage:1", false},
		{a + ":1-10", a + ":0", false},
		{a + ":1-10", a + ":5-3", false},
	} {
		if got := Covers(c.have, c.need); got != c.want {
			t.Errorf("Covers(%q, %q) = %v, want %v", c.have, c.need, got, c.want)
		}
	}
	for _, v := range []struct {
		pos  string
		want bool
	}{
		{a + ":1-10", true},
		{a + ":1-10,\n" + b + ":4", true},
		{a + ":1-10'; DROP TABLE x; --", false},
		{"x:1", false},
		{a, false},
	} {
		if got := Valid(v.pos); got != v.want {
			t.Errorf("Valid(%q) = %v, want %v", v.pos, got, v.want)
		}
	}
}

func TestMerge(t *testing.T) {
	const a = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
	for _, c := range []struct{ x, y, want string }{
		{"0-1-5", "0-1-7", "0-1-7"},
		{"0-1-9", "0-1-7", "0-1-9"},
		{"0-1-5,1-2-3", "1-2-8", "0-1-5,1-2-8"},
		{"", "0-1-3", "0-1-3"},
		{"0-1-3", "", "0-1-3"},
		{a + ":1-5", a + ":6-9", a + ":1-5," + a + ":6-9"},
	} {
		got := Merge(c.x, c.y)
		if got != c.want {
			t.Errorf("Merge(%q, %q) = %q, want %q", c.x, c.y, got, c.want)
		}
		if !Covers(got, c.x) || !Covers(got, c.y) {
			t.Errorf("Merge(%q, %q) = %q does not cover both", c.x, c.y, got)
		}
	}
}
