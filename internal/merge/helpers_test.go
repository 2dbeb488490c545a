package merge

import (
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// enc encodes a text-protocol row: nil is NULL, strings and []byte are
// taken as they are, integers and floats are formatted.
func enc(vals ...any) []byte {
	var b []byte
	for _, v := range vals {
		switch x := v.(type) {
		case nil:
			b = append(b, 0xfb)
		case string:
			b = protocol.AppendLenEncString(b, x)
		case []byte:
			b = protocol.AppendLenEncBytes(b, x)
		case int:
			b = protocol.AppendLenEncString(b, strconv.Itoa(x))
		case int64:
			b = protocol.AppendLenEncString(b, strconv.FormatInt(x, 10))
		case uint64:
			b = protocol.AppendLenEncString(b, strconv.FormatUint(x, 10))
		case float64:
			b = protocol.AppendLenEncString(b, strconv.FormatFloat(x, 'g', -1, 64))
		default:
			panic(fmt.Sprintf("enc: %T", v))
		}
	}
	return b
}

// fakeSource serves prepared rows through one reused buffer, so that a
// merge keeping a row past the next Next call sees it overwritten.
type fakeSource struct {
	rows  [][]byte
	i     int
	buf   []byte
	err   error // returned after the rows
	reads int
}

func (s *fakeSource) Next() ([]byte, error) {
	s.reads++
	if s.i >= len(s.rows) {
		return nil, s.err
	}
	r := s.rows[s.i]
	s.i++
	for i := range s.buf {
		s.buf[i] = 0xee
	}
	s.buf = append(s.buf[:0], r...)
	return s.buf, nil
}

// src builds a source from rows of Go values.
func src(rows ...[]any) *fakeSource {
	s := &fakeSource{}
	for _, r := range rows {
		s.rows = append(s.rows, enc(r...))
	}
	return s
}

func r(vals ...any) []any { return vals }

func intCol(name string) protocol.ColumnDef {
	return protocol.ColumnDef{Name: name, Type: protocol.TypeLongLong, Charset: 63, Flags: flagsNum, Length: 20}
}

func uintCol(name string) protocol.ColumnDef {
	c := intCol(name)
	c.Flags |= protocol.FlagUnsigned
	return c
}

func decCol(name string, decimals byte) protocol.ColumnDef {
	return protocol.ColumnDef{Name: name, Type: protocol.TypeNewDecimal, Charset: 63, Flags: flagsNum, Decimals: decimals, Length: 33}
}

func dblCol(name string) protocol.ColumnDef {
	return protocol.ColumnDef{Name: name, Type: protocol.TypeDouble, Charset: 63, Flags: flagsNum, Decimals: 31, Length: 23}
}

func strCol(name string, coll uint16) protocol.ColumnDef {
	return protocol.ColumnDef{Name: name, Type: protocol.TypeVarString, Charset: coll, Length: 255}
}

func typed(name string, typ byte) protocol.ColumnDef {
	return protocol.ColumnDef{Name: name, Type: typ, Charset: 63, Flags: protocol.FlagBinary}
}

const nul = "<NULL>"

// decodeRow splits an emitted row into strings (nul for NULL).
func decodeRow(t testing.TB, row []byte) []string {
	t.Helper()
	var out []string
	for len(row) > 0 {
		s, null, n := protocol.ReadLenEncString(row)
		if n == 0 {
			t.Fatalf("malformed output row %x", row)
		}
		if null {
			out = append(out, nul)
		} else {
			out = append(out, string(s))
		}
		row = row[n:]
	}
	return out
}

// runPlan runs p and returns the output rows as strings.
func runPlan(t testing.TB, p *Plan, cols []protocol.ColumnDef, srcs ...*fakeSource) ([][]string, error) {
	t.Helper()
	ss := make([]Source, len(srcs))
	for i, s := range srcs {
		ss[i] = s
	}
	var out [][]string
	err := Run(p, cols, ss, func(row []byte) error {
		out = append(out, decodeRow(t, row))
		return nil
	})
	return out, err
}

func mustRun(t testing.TB, p *Plan, cols []protocol.ColumnDef, srcs ...*fakeSource) [][]string {
	t.Helper()
	out, err := runPlan(t, p, cols, srcs...)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out
}

func rowsEqual(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

func checkRows(t testing.TB, got [][]string, want ...[]string) {
	t.Helper()
	if want == nil {
		want = [][]string{}
	}
	if got == nil {
		got = [][]string{}
	}
	if !rowsEqual(got, want) {
		t.Errorf("rows:\n got  %q\n want %q", got, want)
	}
}

func s(vals ...string) []string { return vals }

// errCode returns the code of a *protocol.Error, or 0.
func errCode(err error) uint16 {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return 0
}

func aggs(fns ...AggFunc) []Agg {
	out := make([]Agg, len(fns))
	for i, f := range fns {
		out[i] = Agg{Func: f}
	}
	return out
}

func cols(cs ...protocol.ColumnDef) []protocol.ColumnDef { return cs }

func intp(i int) *int { return &i }
