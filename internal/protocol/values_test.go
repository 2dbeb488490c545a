package protocol

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestLenEncIntRoundTrip(t *testing.T) {
	tests := []struct {
		v       uint64
		wantLen int
		prefix  byte // first byte of the encoding (for the multi-byte forms)
	}{
		{0, 1, 0x00},
		{1, 1, 0x01},
		{250, 1, 0xfa},
		{251, 3, 0xfc},
		{252, 3, 0xfc},
		{1<<16 - 1, 3, 0xfc},
		{1 << 16, 4, 0xfd},
		{1<<24 - 1, 4, 0xfd},
		{1 << 24, 9, 0xfe},
		{1<<32 - 1, 9, 0xfe},
		{1 << 32, 9, 0xfe},
		{math.MaxUint64 - 1, 9, 0xfe},
		{math.MaxUint64, 9, 0xfe},
	}
	for _, tt := range tests {
		b := AppendLenEncInt([]byte("x"), tt.v)
		if !bytes.HasPrefix(b, []byte("x")) {
			t.Fatalf("AppendLenEncInt(%d) clobbered the prefix: % x", tt.v, b)
		}
		enc := b[1:]
		if len(enc) != tt.wantLen {
			t.Errorf("AppendLenEncInt(%d) = % x: %d bytes, want %d", tt.v, enc, len(enc), tt.wantLen)
		}
		if enc[0] != tt.prefix {
			t.Errorf("AppendLenEncInt(%d) starts with %#x, want %#x", tt.v, enc[0], tt.prefix)
		}
		// Trailing garbage must not be consumed.
		withTail := append(append([]byte(nil), enc...), 0xaa, 0xbb)
		v, null, n := ReadLenEncInt(withTail)
		if v != tt.v || null || n != len(enc) {
			t.Errorf("ReadLenEncInt(% x) = %d, %v, %d; want %d, false, %d", withTail, v, null, n, tt.v, len(enc))
		}
		// Every truncation reports n == 0.
		for cut := 0; cut < len(enc); cut++ {
			if v, null, n := ReadLenEncInt(enc[:cut]); n != 0 {
				t.Errorf("ReadLenEncInt(% x) (truncated encoding of %d) = %d, %v, %d; want n == 0", enc[:cut], tt.v, v, null, n)
			}
		}
	}
}

func TestReadLenEncIntSpecial(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		v    uint64
		null bool
		n    int
	}{
		{name: "empty", in: nil, n: 0},
		{name: "NULL marker", in: []byte{0xfb}, null: true, n: 1},
		{name: "NULL marker with tail", in: []byte{0xfb, 1, 2}, null: true, n: 1},
		{name: "0xff is invalid", in: []byte{0xff, 1, 2, 3, 4, 5, 6, 7, 8}, n: 0},
		{name: "non-minimal 2-byte form", in: []byte{0xfc, 0x05, 0x00}, v: 5, n: 3},
		{name: "non-minimal 8-byte form", in: []byte{0xfe, 1, 0, 0, 0, 0, 0, 0, 0}, v: 1, n: 9},
		{name: "0xfe short (an EOF packet)", in: []byte{0xfe, 0, 0, 2, 0}, n: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, null, n := ReadLenEncInt(tt.in)
			if v != tt.v || null != tt.null || n != tt.n {
				t.Errorf("ReadLenEncInt(% x) = %d, %v, %d; want %d, %v, %d", tt.in, v, null, n, tt.v, tt.null, tt.n)
			}
		})
	}
}

func TestLenEncStringRoundTrip(t *testing.T) {
	lengths := []int{0, 1, 250, 251, 1<<16 - 1, 1 << 16, 1<<24 - 1, 1 << 24}
	for _, l := range lengths {
		s := strings.Repeat("a", l)
		if l >= 2 {
			s = "<" + s[2:] + ">"
		}
		b1 := AppendLenEncString(nil, s)
		b2 := AppendLenEncBytes(nil, []byte(s))
		if !bytes.Equal(b1, b2) {
			t.Fatalf("len %d: AppendLenEncString and AppendLenEncBytes disagree", l)
		}
		_, _, hdr := ReadLenEncInt(b1)
		if hdr == 0 || len(b1) != hdr+l {
			t.Fatalf("len %d: encoding is %d bytes with a %d-byte header", l, len(b1), hdr)
		}
		withTail := append(b1, 'T')
		got, null, n := ReadLenEncString(withTail)
		if null || n != len(b1) || string(got) != s {
			t.Errorf("len %d: ReadLenEncString = (%d bytes), %v, %d; want (%d bytes), false, %d", l, len(got), null, n, l, len(b1))
		}
		// Truncated: a missing header byte or a missing last data byte.
		if l > 0 {
			if _, _, n := ReadLenEncString(b1[:len(b1)-1]); n != 0 {
				t.Errorf("len %d: ReadLenEncString of data short by one byte: n = %d, want 0", l, n)
			}
		}
		for cut := 0; cut < hdr; cut++ {
			if _, _, n := ReadLenEncString(b1[:cut]); n != 0 {
				t.Errorf("len %d: ReadLenEncString of header cut at %d: n = %d, want 0", l, cut, n)
			}
		}
	}
}

func TestReadLenEncStringSpecial(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		s    string
		null bool
		n    int
	}{
		{"NULL", []byte{0xfb, 'x'}, "", true, 1},
		{"empty", []byte{0x00, 'x'}, "", false, 1},
		{"invalid 0xff", []byte{0xff, 'x'}, "", false, 0},
		{"huge length", []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 'x'}, "", false, 0},
		{"length 2^63", []byte{0xfe, 0, 0, 0, 0, 0, 0, 0, 0x80, 'x'}, "", false, 0},
		{"length claims more than present", []byte{0x05, 'a', 'b'}, "", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, null, n := ReadLenEncString(tt.in)
			if string(s) != tt.s || null != tt.null || n != tt.n {
				t.Errorf("ReadLenEncString(% x) = %q, %v, %d; want %q, %v, %d", tt.in, s, null, n, tt.s, tt.null, tt.n)
			}
		})
	}
}

func TestReadNulString(t *testing.T) {
	tests := []struct {
		in []byte
		s  string
		n  int
	}{
		{nil, "", 0},
		{[]byte("abc"), "", 0},
		{[]byte("\x00"), "", 1},
		{[]byte("abc\x00def"), "abc", 4},
	}
	for _, tt := range tests {
		s, n := ReadNulString(tt.in)
		if string(s) != tt.s || n != tt.n {
			t.Errorf("ReadNulString(%q) = %q, %d; want %q, %d", tt.in, s, n, tt.s, tt.n)
		}
	}
}

func TestAppendFixedInts(t *testing.T) {
	if got := AppendUint16(nil, 0x1234); !bytes.Equal(got, []byte{0x34, 0x12}) {
		t.Errorf("AppendUint16 = % x", got)
	}
	if got := AppendUint32(nil, 0x12345678); !bytes.Equal(got, []byte{0x78, 0x56, 0x34, 0x12}) {
		t.Errorf("AppendUint32 = % x", got)
	}
}
