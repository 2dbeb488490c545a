package gtid

import "testing"

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
