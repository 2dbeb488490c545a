package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"testing"
)

func TestAppendBinaryRow(t *testing.T) {
	col := func(typ byte, flags uint16) ColumnDef {
		return ColumnDef{Type: typ, Flags: flags, Charset: 63}
	}
	u := FlagUnsigned
	tests := []struct {
		name string
		col  ColumnDef
		text string
		want []byte // the value bytes after header and bitmap
	}{
		{"tiny", col(TypeTiny, 0), "-1", []byte{0xff}},
		{"tiny unsigned", col(TypeTiny, u), "255", []byte{0xff}},
		{"short", col(TypeShort, 0), "-2", []byte{0xfe, 0xff}},
		{"year", col(TypeYear, u), "2024", []byte{0xe8, 0x07}},
		{"int24", col(TypeInt24, 0), "-3", []byte{0xfd, 0xff, 0xff, 0xff}},
		{"long", col(TypeLong, 0), "305419896", []byte{0x78, 0x56, 0x34, 0x12}},
		{"longlong", col(TypeLongLong, 0), "-9223372036854775808", []byte{0, 0, 0, 0, 0, 0, 0, 0x80}},
		{"longlong unsigned", col(TypeLongLong, u), "18446744073709551615", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"float", col(TypeFloat, 0), "1.5", []byte{0, 0, 0xc0, 0x3f}},
		{"double", col(TypeDouble, 0), "-2", []byte{0, 0, 0, 0, 0, 0, 0, 0xc0}},
		{"double exponent", col(TypeDouble, 0), "1e20", []byte{0x40, 0x8c, 0xb5, 0x78, 0x1d, 0xaf, 0x15, 0x44}},
		{"decimal", col(TypeNewDecimal, 0), "-1.50", []byte{5, '-', '1', '.', '5', '0'}},
		{"varchar", ColumnDef{Type: TypeVarString, Charset: 45}, "héllo", append([]byte{6}, "héllo"...)},
		{"blob", col(TypeBlob, 0), "\x00\x01", []byte{2, 0, 1}},
		{"json", col(TypeJSON, 0), `{"a":1}`, append([]byte{7}, `{"a":1}`...)},
		{"bit", col(TypeBit, u), "\x01\x02", []byte{2, 1, 2}},
		{"enum", col(TypeEnum, 0), "red", []byte{3, 'r', 'e', 'd'}},
		{"set", col(TypeSet, 0), "a,b", []byte{3, 'a', ',', 'b'}},
		{"geometry", col(TypeGeometry, 0), "\x00\x00", []byte{2, 0, 0}},
		{"date", col(TypeDate, 0), "2024-02-29", []byte{4, 0xe8, 0x07, 2, 29}},
		{"zero date", col(TypeDate, 0), "0000-00-00", []byte{0}},
		{"datetime midnight", col(TypeDateTime, 0), "2024-02-29 00:00:00", []byte{4, 0xe8, 0x07, 2, 29}},
		{"datetime", col(TypeDateTime, 0), "2024-02-29 13:14:15", []byte{7, 0xe8, 0x07, 2, 29, 13, 14, 15}},
		{"datetime micro", col(TypeDateTime, 0), "2024-02-29 13:14:15.000123", []byte{11, 0xe8, 0x07, 2, 29, 13, 14, 15, 123, 0, 0, 0}},
		{"timestamp fsp 3", col(TypeTimestamp, 0), "2024-02-29 00:00:00.500", []byte{11, 0xe8, 0x07, 2, 29, 0, 0, 0, 0x20, 0xa1, 0x07, 0}},
		{"zero datetime", col(TypeDateTime, 0), "0000-00-00 00:00:00", []byte{0}},
		{"time zero", col(TypeTime, 0), "00:00:00", []byte{0}},
		{"time", col(TypeTime, 0), "-01:02:03", []byte{8, 1, 0, 0, 0, 0, 1, 2, 3}},
		{"time days", col(TypeTime, 0), "838:59:59", []byte{8, 0, 34, 0, 0, 0, 22, 59, 59}},
		{"time micro", col(TypeTime, 0), "-00:00:00.000001", []byte{12, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}},
		{"time with day part", col(TypeTime, 0), "2 03:00:00", []byte{8, 0, 2, 0, 0, 0, 3, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			row := AppendLenEncString(nil, tc.text)
			got, err := AppendBinaryRow([]byte{0xaa}, row, []ColumnDef{tc.col})
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
	cs := make([]ColumnDef, 10)
	for i := range cs {
		cs[i] = ColumnDef{Type: TypeTiny}
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
		{TypeLong, "x"},
		{TypeLongLong, "1.5"},
		{TypeDouble, "abc"},
		{TypeDate, "2024-2-1"},
		{TypeDateTime, "2024-02-01 1:00:00"},
		{TypeDateTime, "2024-02-01 01:00:00.x"},
		{TypeTime, "1:2"},
		{TypeTime, ""},
	}
	for _, tc := range tests {
		dst := []byte{1, 2}
		got, err := AppendBinaryRow(dst, AppendLenEncString(nil, tc.text), []ColumnDef{{Type: tc.typ}})
		if errCode(err) != 2027 || !bytes.Equal(got, dst) {
			t.Errorf("%#x %q: %x, %v", tc.typ, tc.text, got, err)
		}
	}
	if _, err := AppendBinaryRow(nil, enc(1, 2), []ColumnDef{{Type: TypeTiny}}); errCode(err) != 2027 {
		t.Errorf("column count: %v", err)
	}
	// Many columns (beyond the stack buffer).
	cs := make([]ColumnDef, 40)
	vals := make([]any, 40)
	for i := range cs {
		cs[i] = ColumnDef{Type: TypeVarString}
		vals[i] = "v"
	}
	if _, err := AppendBinaryRow(nil, enc(vals...), cs); err != nil {
		t.Error(err)
	}
}

// enc builds a text-protocol row: nil is NULL, strings and integers are
// length-encoded.
func enc(vals ...any) []byte {
	var b []byte
	for _, v := range vals {
		switch x := v.(type) {
		case nil:
			b = append(b, 0xfb)
		case string:
			b = AppendLenEncString(b, x)
		case int:
			b = AppendLenEncString(b, strconv.Itoa(x))
		default:
			panic(fmt.Sprintf("enc: %T", v))
		}
	}
	return b
}

func errCode(err error) uint16 {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return 0
}
