package protocol

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// Capability sets of the golden results (those of
// internal/integration.rawCapSets).
const (
	goldenDeprecateEOF = ClientLongFlag | ClientProtocol41 | ClientTransactions | ClientSecureConnection |
		ClientMultiStatements | ClientMultiResults | ClientPSMultiResults | ClientPluginAuth |
		ClientPluginAuthLenencClientData | ClientSessionTrack | ClientDeprecateEOF | ClientConnectWithDB
	goldenClassicEOF = ClientLongPassword | ClientLongFlag | ClientProtocol41 | ClientTransactions |
		ClientSecureConnection | ClientMultiResults | ClientPSMultiResults | ClientPluginAuth | ClientConnectWithDB
)

// writtenPackets runs fn on a ResultWriter over an in-memory connection
// and returns the payloads of the packets it wrote.
func writtenPackets(t *testing.T, caps, ext uint32, binary bool, fn func(w *ResultWriter) error) [][]byte {
	t.Helper()
	mc := newMemConn(nil)
	c := NewConn(mc)
	c.ExtCaps = ext
	var w ResultWriter
	if err := fn(w.Reset(c, caps, binary)); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	rc := NewConn(newMemConn(mc.w.Bytes()))
	var out [][]byte
	for {
		p, err := rc.ReadPacket()
		if err != nil {
			return out
		}
		out = append(out, append([]byte(nil), p...))
	}
}

func unhex(t *testing.T, ss []string) [][]byte {
	t.Helper()
	out := make([][]byte, len(ss))
	for i, s := range ss {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

// TestResultWriterGolden compares the writer's packets with those
// MariaDB 10.11.19 sent for the same statements and capabilities
// (captured with `go test ./internal/integration -run
// TestResultWriterMatchesMariaDB -args -dump-results`, which also checks
// the writer against a live server for more statements).
func TestResultWriterGolden(t *testing.T) {
	long := ColumnDef{Name: "a", Charset: 63, Length: 1, Type: TypeLong, Flags: FlagNotNull | FlagBinary}
	varchar := func(name string, length uint32, flags uint16) ColumnDef {
		return ColumnDef{Name: name, Charset: 45, Length: length, Type: TypeVarString, Flags: flags, Decimals: 39}
	}
	null := func(name string) ColumnDef {
		return ColumnDef{Name: name, Charset: 63, Type: TypeNull, Flags: FlagBinary}
	}
	ten := make([]ColumnDef, 10)
	var tenRow []byte
	for i := range ten {
		name := string(rune('0' + i + 1))
		if i == 9 {
			name = "10"
		}
		if i%2 == 0 {
			ten[i] = ColumnDef{Name: "c" + name, Charset: 63, Length: 1, Type: TypeLong, Flags: FlagNotNull | FlagBinary}
			tenRow = AppendLenEncString(tenRow, string(rune('1'+i)))
		} else {
			ten[i] = null("c" + name)
			tenRow = append(tenRow, 0xfb)
		}
	}
	typed := []ColumnDef{
		{Name: "u", Charset: 63, Length: 20, Type: TypeLongLong, Flags: FlagNotNull | FlagBinary | FlagUnsigned},
		{Name: "i", Charset: 63, Length: 2, Type: TypeLong, Flags: FlagNotNull | FlagBinary},
		{Name: "d", Charset: 63, Length: 4, Type: TypeNewDecimal, Flags: FlagNotNull | FlagBinary, Decimals: 1},
		{Name: "f", Charset: 63, Length: 3, Type: TypeDouble, Flags: FlagNotNull | FlagBinary, Decimals: 31},
		{Name: "dt", Charset: 63, Length: 10, Type: TypeDate, Flags: FlagNotNull | FlagBinary},
		{Name: "ts", Charset: 63, Length: 22, Type: TypeDateTime, Flags: FlagNotNull | FlagBinary, Decimals: 2},
		{Name: "tm", Charset: 63, Length: 10, Type: TypeTime, Flags: FlagNotNull | FlagBinary},
	}
	typedRow := enc("18446744073709551615", "-5", "2.5", "1000", "2024-02-29", "2024-02-29 13:14:15.25", "-01:02:03")
	tests := []struct {
		name         string
		caps, ext    uint32
		binary       bool
		cols         []ColumnDef
		rows         [][]byte
		status, warn uint16
		want         []string
	}{
		{"SELECT 1 AS a, deprecate EOF, extended metadata", goldenDeprecateEOF, MariaDBClientExtendedMetadata, false,
			[]ColumnDef{long}, [][]byte{enc("1")}, StatusAutocommit, 0,
			[]string{"01", "03646566000000016100000c3f0001000000038100000000", "0131", "fe000002000000"}},
		{"SELECT 1 AS a, binary", goldenDeprecateEOF, MariaDBClientExtendedMetadata, true,
			[]ColumnDef{long}, [][]byte{enc("1")}, StatusAutocommit, 0,
			[]string{"01", "03646566000000016100000c3f0001000000038100000000", "000001000000", "fe000002000000"}},
		{"SELECT 1 AS a, classic EOF", goldenClassicEOF, 0, false,
			[]ColumnDef{long}, [][]byte{enc("1")}, StatusAutocommit, 0,
			[]string{"01", "036465660000000161000c3f0001000000038100000000", "fe00000200", "0131", "fe00000200"}},
		{"SELECT NULL AS n, binary", goldenDeprecateEOF, MariaDBClientExtendedMetadata, true,
			[]ColumnDef{null("n")}, [][]byte{enc(nil)}, StatusAutocommit, 0,
			[]string{"01", "03646566000000016e00000c3f0000000000068000000000", "0004", "fe000002000000"}},
		{"three columns with NULLs, classic EOF, binary", goldenClassicEOF, 0, true,
			[]ColumnDef{{Name: "a", Charset: 63, Length: 2, Type: TypeLong, Flags: FlagNotNull | FlagBinary}, varchar("b", 4, 0), varchar("c", 4, 0)},
			[][]byte{enc("1", "x", nil), enc("2", nil, "y")}, StatusAutocommit, 0,
			[]string{"03", "036465660000000161000c3f0002000000038100000000", "036465660000000162000c2d0004000000fd0000270000",
				"036465660000000163000c2d0004000000fd0000270000", "fe00000200", "0010010000000178", "0008020000000179", "fe00000200"}},
		{"ten columns, NULL bitmap over two bytes, binary", goldenDeprecateEOF, MariaDBClientExtendedMetadata, true,
			ten, [][]byte{tenRow}, StatusAutocommit, 0,
			[]string{"0a",
				"0364656600000002633100000c3f0001000000038100000000", "0364656600000002633200000c3f0000000000068000000000",
				"0364656600000002633300000c3f0001000000038100000000", "0364656600000002633400000c3f0000000000068000000000",
				"0364656600000002633500000c3f0001000000038100000000", "0364656600000002633600000c3f0000000000068000000000",
				"0364656600000002633700000c3f0001000000038100000000", "0364656600000002633800000c3f0000000000068000000000",
				"0364656600000002633900000c3f0001000000038100000000", "036465660000000363313000000c3f0000000000068000000000",
				"00a80a0100000003000000050000000700000009000000", "fe000002000000"}},
		{"integers, decimal, double, date, datetime, time, binary", goldenClassicEOF, 0, true,
			typed, [][]byte{typedRow}, StatusAutocommit, 0,
			[]string{"07", "036465660000000175000c3f001400000008a100000000", "036465660000000169000c3f0002000000038100000000",
				"036465660000000164000c3f0004000000f68100010000", "036465660000000166000c3f00030000000581001f0000",
				"03646566000000026474000c3f000a0000000a8100000000", "03646566000000027473000c3f00160000000c8100020000",
				"0364656600000002746d000c3f000a0000000b8100000000", "fe00000200",
				"000000fffffffffffffffffbffffff03322e350000000000408f4004e807021d0be807021d0d0e0f90d00300080100000000010203", "fe00000200"}},
		{"in a transaction, deprecate EOF", goldenDeprecateEOF, MariaDBClientExtendedMetadata, false,
			[]ColumnDef{varchar("t", 8, FlagNotNull)}, [][]byte{enc("in")}, StatusAutocommit | StatusInTrans, 0,
			[]string{"01", "03646566000000017400000c2d0008000000fd0100270000", "02696e", "fe000003000000"}},
		{"autocommit off, classic EOF, binary", goldenClassicEOF, 0, true,
			[]ColumnDef{varchar("t", 12, FlagNotNull)}, [][]byte{enc("off")}, 0, 0,
			[]string{"01", "036465660000000174000c2d000c000000fd0100270000", "fe00000000", "0000036f6666", "fe00000000"}},
		{"a warning, classic EOF", goldenClassicEOF, 0, false,
			[]ColumnDef{{Name: "w", Charset: 63, Length: 7, Type: TypeNewDecimal, Flags: FlagBinary, Decimals: 4}}, [][]byte{enc(nil)}, StatusAutocommit, 1,
			[]string{"01", "036465660000000177000c3f0007000000f68000040000", "fe00000200", "fb", "fe01000200"}},
		{"a warning, deprecate EOF", goldenDeprecateEOF, MariaDBClientExtendedMetadata, false,
			[]ColumnDef{{Name: "w", Charset: 63, Length: 7, Type: TypeNewDecimal, Flags: FlagBinary, Decimals: 4}}, [][]byte{enc(nil)}, StatusAutocommit, 1,
			[]string{"01", "03646566000000017700000c3f0007000000f68000040000", "fb", "fe000002000100"}},
		{"no rows", goldenDeprecateEOF, MariaDBClientExtendedMetadata, true,
			[]ColumnDef{{Schema: "", Table: "t", Name: "a", OrgName: "a", Charset: 63, Length: 1, Type: TypeLong, Flags: FlagNotNull}}, nil, StatusAutocommit, 0,
			[]string{"01", "036465660001740001610161000c3f0001000000030100000000", "fe000002000000"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := writtenPackets(t, tc.caps, tc.ext, tc.binary, func(w *ResultWriter) error {
				if err := w.Begin(tc.cols, tc.status); err != nil {
					return err
				}
				for _, r := range tc.rows {
					if err := w.Row(r); err != nil {
						return err
					}
				}
				return w.End(tc.status, tc.warn)
			})
			want := unhex(t, tc.want)
			if len(got) != len(want) {
				t.Fatalf("%d packets, want %d:\n%x", len(got), len(want), got)
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Errorf("packet %d:\n got  %x\n want %x", i, got[i], want[i])
				}
			}
		})
	}
}

// discardConn drops what is written to it.
type discardConn struct{ memConn }

func (discardConn) Write(p []byte) (int, error) { return len(p), nil }

func benchWriter(binary bool) (*ResultWriter, []byte) {
	c := NewConn(&discardConn{})
	var w ResultWriter
	w.Reset(c, goldenDeprecateEOF, binary)
	cols := []ColumnDef{
		{Name: "id", Type: TypeLongLong, Charset: 63, Flags: FlagNotNull | FlagBinary},
		{Name: "name", Type: TypeVarString, Charset: 45},
		{Name: "at", Type: TypeDateTime, Charset: 63, Flags: FlagBinary},
		{Name: "n", Type: TypeNull, Charset: 63},
	}
	_ = w.Begin(cols, StatusAutocommit)
	return &w, enc("123456", "some name", "2024-02-29 13:14:15", nil)
}

// TestResultWriterRowAllocs: writing a row allocates nothing.
func TestResultWriterRowAllocs(t *testing.T) {
	for _, binary := range []bool{false, true} {
		w, row := benchWriter(binary)
		if n := testing.AllocsPerRun(100, func() { _ = w.Row(row) }); n != 0 {
			t.Errorf("binary=%v: %v allocations per row", binary, n)
		}
		if n := testing.AllocsPerRun(100, func() { _ = w.Values([]byte("1"), nil, []byte("2024-02-29"), nil) }); n != 0 {
			t.Errorf("binary=%v: %v allocations per Values row", binary, n)
		}
	}
}

func BenchmarkResultWriterRows(b *testing.B) {
	for _, binary := range []bool{false, true} {
		name := "text"
		if binary {
			name = "binary"
		}
		b.Run(name, func(b *testing.B) {
			w, row := benchWriter(binary)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := w.Row(row); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestResultFraming(t *testing.T) {
	big := make([]byte, 0xffffff) // a row of 16 MiB or more starts with 0xfe
	big[0] = 0xfe
	for _, tc := range []struct {
		p    []byte
		want RowPacket
	}{
		{[]byte{0x01, 'x'}, RowData},
		{[]byte{0xfb}, RowData},
		{big, RowData},
		{[]byte{0xfe, 0, 0, 2, 0}, RowEnd},
		{[]byte{0xfe, 0, 0, 2, 0, 0, 0}, RowEnd},
		{AppendErr(nil, NewError(1317, "70100", "interrupted")), RowErr},
	} {
		if got := RowPacketKind(tc.p); got != tc.want {
			t.Errorf("RowPacketKind(%x) = %v, want %v", tc.p[:min(len(tc.p), 8)], got, tc.want)
		}
	}
	ok, err := ParseResultEnd([]byte{0xfe, 1, 0, 3, 0}, ClientProtocol41)
	if err != nil || ok.Warnings != 1 || ok.Status != 3 {
		t.Errorf("classic EOF: %+v, %v", ok, err)
	}
	ok, err = ParseResultEnd([]byte{0xfe, 0, 0, 0x22, 0, 2, 0}, ClientProtocol41|ClientDeprecateEOF)
	if err != nil || ok.Warnings != 2 || ok.Status != 0x22 {
		t.Errorf("OK with EOF header: %+v, %v", ok, err)
	}
	for _, tc := range []struct {
		p    []byte
		n    int
		fail bool
	}{
		{[]byte{3}, 3, false},
		{[]byte{0xfc, 0x00, 0x10}, 4096, false},
		{[]byte{0}, 0, true},
		{[]byte{0xfb}, 0, true},
		{[]byte{0xfc, 0}, 0, true},
		{[]byte{0xfd, 0, 0, 1}, 0, true},
	} {
		n, err := ParseColumnCount(tc.p)
		if n != tc.n || (err != nil) != tc.fail {
			t.Errorf("ParseColumnCount(%x) = %d, %v", tc.p, n, err)
		}
	}
}
