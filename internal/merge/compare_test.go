package merge

import (
	"bytes"
	"testing"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}

func TestCollations(t *testing.T) {
	ci := collationFor(45)
	tests := []struct {
		coll strColl
		a, b string
		want int
	}{
		{ci, "a", "A", 0},
		{ci, "a", "A  ", 0},
		{ci, "a", "a\t", 1}, // PAD SPACE: "a" is "a " and ' ' > '\t'
		{ci, "a", "_", -1},  // general_ci compares upper case: 'A' < '_'
		{ci, "é", "E", 0},
		{ci, "ß", "s", 0},
		{ci, "straße", "STRASSE", -1},
		{ci, "Ä", "b", -1},
		{ci, "ab", "abc", -1},
		{ci, "", " ", 0},
		{ci, "😀", "😁", 0}, // general_ci: every supplementary character weighs the same
		{ci, "\xff", "\xfe", 1},
		{collationFor(46), "a", "A", 1}, // utf8mb4_bin
		{collationFor(46), "a", "a  ", 0},
		{collationFor(63), "a", "a ", -1}, // binary: no padding
		{collationFor(83), "B", "a", -1},
		{collationFor(255), "a", "A", 0}, // MySQL 0900_ai_ci: NO PAD
		{collationFor(255), "a", "a ", -1},
		{collationFor(309), "a", "A", 1},
		{collationFor(1024 + 45), "a", "A ", -1}, // MariaDB nopad_ci
		{collationFor(1024 + 46), "a", "a ", -1}, // MariaDB nopad_bin
		{collationFor(8), "\xe9", "E", 0},        // latin1 é
		{collationFor(28), "a", "A", 0},          // other charsets fold ASCII
		{collationFor(28), "\xb0\xa1", "\xb0\xa2", -1},
	}
	for i, tc := range tests {
		if got := sign(tc.coll.compare([]byte(tc.a), []byte(tc.b))); got != tc.want {
			t.Errorf("%d: compare(%q, %q) = %d, want %d", i, tc.a, tc.b, got, tc.want)
		}
		if got := sign(tc.coll.compare([]byte(tc.b), []byte(tc.a))); got != -tc.want {
			t.Errorf("%d: compare(%q, %q) = %d, want %d", i, tc.b, tc.a, got, -tc.want)
		}
		ka := tc.coll.appendKey(nil, []byte(tc.a))
		kb := tc.coll.appendKey(nil, []byte(tc.b))
		if (tc.want == 0) != bytes.Equal(ka, kb) {
			t.Errorf("%d: keys of %q and %q: %x, %x", i, tc.a, tc.b, ka, kb)
		}
	}
}

func TestColumnCompare(t *testing.T) {
	tests := []struct {
		col  protocol.ColumnDef
		a, b string
		want int
	}{
		{intCol("i"), "9", "10", -1},
		{intCol("i"), "-9", "-10", 1},
		{intCol("i"), "-0", "0", 0},
		{intCol("i"), "007", "7", 0},
		{uintCol("u"), "18446744073709551615", "9223372036854775808", 1},
		{decCol("d", 2), "-0.00", "0.00", 0},
		{decCol("d", 2), "1.10", "1.1", 0},
		{decCol("d", 2), "1.09", "1.1", -1},
		{decCol("d", 2), "-1.09", "-1.1", 1},
		{decCol("d", 2), "123456789012345678901234.50", "123456789012345678901234.05", 1},
		{decCol("d", 2), "0.5", ".5", 0},
		{dblCol("f"), "1e20", "9e19", 1},
		{dblCol("f"), "-0", "0", 0},
		{dblCol("f"), "0.30000000000000004", "0.3", 1},
		{typed("t", protocol.TypeTime), "-01:00:00", "00:00:00", -1},
		{typed("t", protocol.TypeTime), "-02:00:00", "-01:00:00", -1},
		{typed("t", protocol.TypeTime), "100:00:00", "99:59:59", 1},
		{typed("t", protocol.TypeTime), "00:00:00.5", "00:00:00.25", 1},
		{typed("t", protocol.TypeTime), "1 02:00:00", "25:00:00", 1},
		{typed("dt", protocol.TypeDateTime), "2020-01-02 00:00:00", "2020-01-01 23:59:59", 1},
		{typed("y", protocol.TypeYear), "2020", "1999", 1},
		{typed("bit", protocol.TypeBit), "\x00\x01", "\x00\x02", -1},
		{strCol("s", 45), "b", "A", 1},
		{intCol("garbage"), "abc", "1", -1},
	}
	for i, tc := range tests {
		sp := specFor(&tc.col)
		if got := sign(sp.compare([]byte(tc.a), []byte(tc.b))); got != tc.want {
			t.Errorf("%d: compare(%q, %q) = %d, want %d", i, tc.a, tc.b, got, tc.want)
		}
		if got := sign(sp.compare([]byte(tc.b), []byte(tc.a))); got != -tc.want {
			t.Errorf("%d: reversed compare(%q, %q) = %d", i, tc.b, tc.a, got)
		}
		ka := sp.appendKeyCol(nil, []byte(tc.a), false)
		kb := sp.appendKeyCol(nil, []byte(tc.b), false)
		if (tc.want == 0) != bytes.Equal(ka, kb) {
			t.Errorf("%d: keys of %q and %q: %x, %x", i, tc.a, tc.b, ka, kb)
		}
	}
	// NULL keys differ from empty strings and are equal to each other.
	sp := specFor(&protocol.ColumnDef{Type: protocol.TypeVarString, Charset: 45})
	if bytes.Equal(sp.appendKeyCol(nil, nil, true), sp.appendKeyCol(nil, nil, false)) {
		t.Error("NULL key equals empty string key")
	}
	// Keys of several columns do not run into each other.
	k1 := sp.appendKeyCol(sp.appendKeyCol(nil, []byte("ab"), false), []byte("c"), false)
	k2 := sp.appendKeyCol(sp.appendKeyCol(nil, []byte("a"), false), []byte("bc"), false)
	if bytes.Equal(k1, k2) {
		t.Error("keys are ambiguous")
	}
}

func TestCiWeights(t *testing.T) {
	// Spot checks against MariaDB's WEIGHT_STRING(... COLLATE utf8mb4_general_ci).
	tests := map[rune]rune{'a': 'A', 'é': 'E', 'ÿ': 'Y', 'ß': 'S', 'ſ': 'S', 'ǆ': 0x1c4, 'ω': 0x3a9, 'я': 0x42f, 'ﬀ': 0xfb00, 0x1f600: 0xfffd}
	for r, want := range tests {
		if got := ciWeight(r); got != want {
			t.Errorf("ciWeight(%q) = %#x, want %#x", r, got, want)
		}
	}
	for i := 1; i < len(ciExceptions); i++ {
		if ciExceptions[i].lo <= ciExceptions[i-1].hi {
			t.Fatalf("ciExceptions not sorted at %d", i)
		}
	}
}

func TestParseTimeMicros(t *testing.T) {
	tests := map[string]int64{"00:00:00": 0, "-01:00:00": -3600e6, "838:59:59": 3020399e6, "00:00:01.5": 1500000, "1 01:00:00": 90000e6, "-00:00:00.000001": -1}
	for in, want := range tests {
		got, ok := parseTimeMicros([]byte(in))
		if !ok || got != want {
			t.Errorf("%q: %d %v, want %d", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "1", "1:2", "aa:bb:cc", "01:00:00x", "-", "01:00:00.1x"} {
		if _, ok := parseTimeMicros([]byte(bad)); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}
