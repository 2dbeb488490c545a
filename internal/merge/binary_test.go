package merge

import (
	"bytes"
	"testing"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

func TestAppendBinaryRow(t *testing.T) {
	col := func(typ byte, flags uint16) protocol.ColumnDef {
		return protocol.ColumnDef{Type: typ, Flags: flags, Charset: 63}
	}
	u := protocol.FlagUnsigned
	tests := []struct {
		name string
		col  protocol.ColumnDef
		text string
		want []byte // the value bytes after header and bitmap
	}{
		{"tiny", col(protocol.TypeTiny, 0), "-1", []byte{0xff}},
		{"tiny unsigned", col(protocol.TypeTiny, u), "255", []byte{0xff}},
		{"short", col(protocol.TypeShort, 0), "-2", []byte{0xfe, 0xff}},
		{"year", col(protocol.TypeYear, u), "2024", []byte{0xe8, 0x07}},
		{"int24", col(protocol.TypeInt24, 0), "-3", []byte{0xfd, 0xff, 0xff, 0xff}},
		{"long", col(protocol.TypeLong, 0), "305419896", []byte{0x78, 0x56, 0x34, 0x12}},
		{"longlong", col(protocol.TypeLongLong, 0), "-9223372036854775808", []byte{0, 0, 0, 0, 0, 0, 0, 0x80}},
		{"longlong unsigned", col(protocol.TypeLongLong, u), "18446744073709551615", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"float", col(protocol.TypeFloat, 0), "1.5", []byte{0, 0, 0xc0, 0x3f}},
		{"double", col(protocol.TypeDouble, 0), "-2", []byte{0, 0, 0, 0, 0, 0, 0, 0xc0}},
		{"double exponent", col(protocol.TypeDouble, 0), "1e20", []byte{0x40, 0x8c, 0xb5, 0x78, 0x1d, 0xaf, 0x15, 0x44}},
		{"decimal", col(protocol.TypeNewDecimal, 0), "-1.50", []byte{5, '-', '1', '.', '5', '0'}},
		{"varchar", protocol.ColumnDef{Type: protocol.TypeVarString, Charset: 45}, "héllo", append([]byte{6}, "héllo"...)},
		{"blob", col(protocol.TypeBlob, 0), "\x00\x01", []byte{2, 0, 1}},
		{"json", col(protocol.TypeJSON, 0), `{"a":1}`, append([]byte{7}, `{"a":1}`...)},
		{"bit", col(protocol.TypeBit, u), "\x01\x02", []byte{2, 1, 2}},
		{"enum", col(protocol.TypeEnum, 0), "red", []byte{3, 'r', 'e', 'd'}},
		{"set", col(protocol.TypeSet, 0), "a,b", []byte{3, 'a', ',', 'b'}},
		{"geometry", col(protocol.TypeGeometry, 0), "\x00\x00", []byte{2, 0, 0}},
		{"date", col(protocol.TypeDate, 0), "2024-02-29", []byte{4, 0xe8, 0x07, 2, 29}},
		{"zero date", col(protocol.TypeDate, 0), "0000-00-00", []byte{0}},
		{"datetime midnight", col(protocol.TypeDateTime, 0), "2024-02-29 00:00:00", []byte{4, 0xe8, 0x07, 2, 29}},
		{"datetime", col(protocol.TypeDateTime, 0), "2024-02-29 13:14:15", []byte{7, 0xe8, 0x07, 2, 29, 13, 14, 15}},
		{"datetime micro", col(protocol.TypeDateTime, 0), "2024-02-29 13:14:15.000123", []byte{11, 0xe8, 0x07, 2, 29, 13, 14, 15, 123, 0, 0, 0}},
		{"timestamp fsp 3", col(protocol.TypeTimestamp, 0), "2024-02-29 00:00:00.500", []byte{11, 0xe8, 0x07, 2, 29, 0, 0, 0, 0x20, 0xa1, 0x07, 0}},
		{"zero datetime", col(protocol.TypeDateTime, 0), "0000-00-00 00:00:00", []byte{0}},
		{"time zero", col(protocol.TypeTime, 0), "00:00:00", []byte{0}},
		{"time", col(protocol.TypeTime, 0), "-01:02:03", []byte{8, 1, 0, 0, 0, 0, 1, 2, 3}},
		{"time days", col(protocol.TypeTime, 0), "838:59:59", []byte{8, 0, 34, 0, 0, 0, 22, 59, 59}},
		{"time micro", col(protocol.TypeTime, 0), "-00:00:00.000001", []byte{12, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}},
		{"time with day part", col(protocol.TypeTime, 0), "2 03:00:00", []byte{8, 0, 2, 0, 0, 0, 3, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			row := protocol.AppendLenEncString(nil, tc.text)
			got, err := AppendBinaryRow([]byte{0xaa}, row, []protocol.ColumnDef{tc.col})
			if err != nil {
				t.Fatal(err)
			}
			want := append([]byte{0xaa, 0x00, 0x00}, tc.want...)
			if !bytes.Equal(got, want) {
				t.Errorf("got  %x\nwant %x", got, want)
			}
		})
	}
}

func TestAppendBinaryRowNulls(t *testing.T) {
	cs := make([]protocol.ColumnDef, 10)
	for i := range cs {
		cs[i] = protocol.ColumnDef{Type: protocol.TypeTiny}
	}
	// Columns 0, 5, 6 and 9 NULL: bits 2, 7, 8, 11.
	row := enc(nil, 1, 2, 3, 4, nil, nil, 7, 8, nil)
	got, err := AppendBinaryRow(nil, row, cs)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x00, 0x84, 0x09, 1, 2, 3, 4, 7, 8}
	if !bytes.Equal(got, want) {
		t.Errorf("got %x, want %x", got, want)
	}
}

func TestAppendBinaryRowErrors(t *testing.T) {
	tests := []struct {
		typ  byte
		text string
	}{
		{protocol.TypeLong, "x"},
		{protocol.TypeLongLong, "1.5"},
		{protocol.TypeDouble, "abc"},
		{protocol.TypeDate, "2024-2-1"},
		{protocol.TypeDateTime, "2024-02-01 1:00:00"},
		{protocol.TypeDateTime, "2024-02-01 01:00:00.x"},
		{protocol.TypeTime, "1:2"},
		{protocol.TypeTime, ""},
	}
	for _, tc := range tests {
		dst := []byte{1, 2}
		got, err := AppendBinaryRow(dst, protocol.AppendLenEncString(nil, tc.text), []protocol.ColumnDef{{Type: tc.typ}})
		if errCode(err) != 2027 || !bytes.Equal(got, dst) {
			t.Errorf("%#x %q: %x, %v", tc.typ, tc.text, got, err)
		}
	}
	if _, err := AppendBinaryRow(nil, enc(1, 2), []protocol.ColumnDef{{Type: protocol.TypeTiny}}); errCode(err) != 2027 {
		t.Errorf("column count: %v", err)
	}
	// Many columns (beyond the stack buffer).
	cs := make([]protocol.ColumnDef, 40)
	vals := make([]any, 40)
	for i := range cs {
		cs[i] = protocol.ColumnDef{Type: protocol.TypeVarString}
		vals[i] = "v"
	}
	if _, err := AppendBinaryRow(nil, enc(vals...), cs); err != nil {
		t.Error(err)
	}
}
