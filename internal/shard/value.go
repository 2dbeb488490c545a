package shard

import (
	"fmt"
	"strconv"
	"time"

	"github.com/switchyard-db/switchyard/internal/config"
)

// ValueKind is the type of a sharding key value.
type ValueKind uint8

// Value kinds.
const (
	NoValue      ValueKind = iota // the zero Value; an unbounded Bound
	IntValue                      // a signed integer literal or parameter
	UintValue                     // an unsigned integer above MaxInt64, or an unsigned parameter
	StringValue                   // a string literal or parameter (also []byte)
	TimeValue                     // a DATE/DATETIME/TIMESTAMP parameter of the binary protocol
	DecimalValue                  // a DECIMAL literal or parameter (its text, e.g. "-10.50")
	FloatValue                    // a DOUBLE literal (1e1) or parameter
	HexValue                      // a 0x... or b'...' literal: a number in a numeric context, else a binary string
)

func (k ValueKind) String() string {
	switch k {
	case IntValue:
		return "integer"
	case UintValue:
		return "unsigned integer"
	case StringValue:
		return "string"
	case TimeValue:
		return "date-time"
	case DecimalValue:
		return "decimal"
	case FloatValue:
		return "double"
	case HexValue:
		return "hexadecimal"
	}
	return "no value"
}

// Value is a sharding key value as the router parsed it from a SQL literal
// or a binary-protocol parameter. The zero Value is "no value".
type Value struct {
	kind ValueKind
	n    uint64 // IntValue (two's complement) and UintValue
	s    string // StringValue, DecimalValue, HexValue (its bytes)
	t    time.Time
	f    float64
}

// Int returns an integer value.
func Int(v int64) Value { return Value{kind: IntValue, n: uint64(v)} }

// Uint returns an unsigned integer value.
func Uint(v uint64) Value { return Value{kind: UintValue, n: v} }

// String returns a string value.
func String(s string) Value { return Value{kind: StringValue, s: s} }

// Bytes returns a string value holding a copy of b.
func Bytes(b []byte) Value { return Value{kind: StringValue, s: string(b)} }

// Time returns a date-time value. Date rules use its wall clock (Year,
// Month, Day in t's own location): MySQL DATE and DATETIME values carry no
// zone.
func Time(t time.Time) Value { return Value{kind: TimeValue, t: t} }

// Decimal returns a DECIMAL value from its text ([-]digits[.digits]).
func Decimal(text string) Value { return Value{kind: DecimalValue, s: text} }

// Float returns a DOUBLE value.
func Float(f float64) Value { return Value{kind: FloatValue, f: f} }

// Hex returns the value of a 0x... or b'...' literal with these bytes
// (X'...' is a string: use Bytes).
func Hex(b []byte) Value { return Value{kind: HexValue, s: string(b)} }

// Int64 returns an IntValue's integer.
func (v Value) Int64() int64 { return int64(v.n) }

// Uint64 returns a UintValue's integer.
func (v Value) Uint64() uint64 { return v.n }

// Float64 returns a FloatValue's number.
func (v Value) Float64() float64 { return v.f }

// Kind returns the value's kind.
func (v Value) Kind() ValueKind { return v.kind }

// String formats the value for messages: integers in decimal, strings
// quoted, date-times as "2006-01-02 15:04:05.999999999".
func (v Value) String() string {
	switch v.kind {
	case IntValue:
		return strconv.FormatInt(int64(v.n), 10)
	case UintValue:
		return strconv.FormatUint(v.n, 10)
	case StringValue:
		return strconv.Quote(v.s)
	case TimeValue:
		return v.t.Format("2006-01-02 15:04:05.999999999")
	case DecimalValue:
		return v.s
	case FloatValue:
		return strconv.FormatFloat(v.f, 'g', -1, 64)
	case HexValue:
		return fmt.Sprintf("0x%x", v.s)
	}
	return "<no value>"
}

// Bound is one end of a key range for LocateRange. The zero Bound (no
// value) is unbounded.
type Bound struct {
	Value     Value
	Exclusive bool
}

// Inclusive returns the bound v (<= or >=).
func Inclusive(v Value) Bound { return Bound{Value: v} }

// Exclusive returns the bound v (< or >).
func Exclusive(v Value) Bound { return Bound{Value: v, Exclusive: true} }

// Unbounded is the absent bound.
var Unbounded = Bound{}

func (b Bound) set() bool { return b.Value.kind != NoValue }

// ---- conversions used by the algorithms ----

// hashKey is kingshard/Gaea's HashValue: integers as uint64 (negative
// values wrap), strings by CRC-32 unless numericFirst and the string is a
// decimal unsigned integer (Gaea's ParseUint).
func hashKey(v Value, numericFirst bool) (uint64, error) {
	switch v.kind {
	case IntValue, UintValue:
		return v.n, nil
	case StringValue:
		if numericFirst {
			if n, ok := parseUint(v.s); ok {
				return n, nil
			}
		}
		return uint64(crc32String(v.s)), nil
	}
	return 0, badValue(v, "hash needs an integer or a string")
}

// parseUint is strconv.ParseUint(s, 10, 64) without the error allocation.
func parseUint(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (1<<64-1)/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n < uint64(c-'0') {
			return 0, false
		}
	}
	return n, true
}

// numKey is kingshard/Gaea's NumValue: integers as int64 (an unsigned value
// above MaxInt64 wraps negative), strings parsed as a decimal int64.
func numKey(v Value, alg config.Algorithm) (int64, error) {
	switch v.kind {
	case IntValue, UintValue:
		return int64(v.n), nil
	case StringValue:
		n, err := strconv.ParseInt(v.s, 10, 64)
		if err != nil {
			return 0, badValue(v, string(alg)+" needs an integer")
		}
		return n, nil
	}
	return 0, badValue(v, string(alg)+" needs an integer")
}

// civil returns the value's wall-clock date-time (in a UTC time.Time):
// date-times as written, strings "YYYY-MM-DD" or "YYYY-MM-DD hh:mm:ss[.f]"
// ('T' also separates), integers as unix seconds read in loc (kingshard and
// Gaea use the host's local zone).
func civil(v Value, loc *time.Location) (time.Time, error) {
	switch v.kind {
	case IntValue, UintValue:
		t := time.Unix(int64(v.n), 0).In(loc)
		return wall(t), nil
	case TimeValue:
		return wall(v.t), nil
	case StringValue:
		if t, ok := parseDateTime(v.s); ok {
			return t, nil
		}
		return time.Time{}, badValue(v, "not a date: use 'YYYY-MM-DD', 'YYYY-MM-DD hh:mm:ss' or a unix timestamp")
	}
	return time.Time{}, badValue(v, "a date rule needs a date, a date-time or a unix timestamp")
}

func wall(t time.Time) time.Time {
	y, m, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, m, d, h, mi, s, t.Nanosecond(), time.UTC)
}

// parseDateTime parses "YYYY-MM-DD", "YYYY-MM-DD hh:mm:ss" and
// "YYYY-MM-DD hh:mm:ss.ffffff" (also with 'T'), strictly: two-digit
// fields, a real calendar date, a real time of day.
func parseDateTime(s string) (time.Time, bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	y, ok1 := digits(s[0:4])
	mo, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) {
		return time.Time{}, false
	}
	var h, mi, sec, ns int
	if len(s) > 10 {
		if len(s) < 19 || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' {
			return time.Time{}, false
		}
		var okh, okm, oks bool
		h, okh = digits(s[11:13])
		mi, okm = digits(s[14:16])
		sec, oks = digits(s[17:19])
		if !okh || !okm || !oks || h > 23 || mi > 59 || sec > 59 {
			return time.Time{}, false
		}
		if len(s) > 19 {
			frac := s[20:]
			if s[19] != '.' || len(frac) == 0 || len(frac) > 9 {
				return time.Time{}, false
			}
			f, ok := digits(frac)
			if !ok {
				return time.Time{}, false
			}
			for i := len(frac); i < 9; i++ {
				f *= 10
			}
			ns = f
		}
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC), true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, len(s) > 0
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func badValue(v Value, msg string) error {
	return &Error{Err: ErrBadValue, Msg: fmt.Sprintf("%s %s: %s", v.kind, v, msg)}
}
