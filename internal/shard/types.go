package shard

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// TypeClass is what the placement conversions need to know of a key
// column's SQL type.
type TypeClass uint8

// Type classes.
const (
	// TypeLegacy: no type information was given (callers without a type
	// source, such as tests of placement alone): literals are placed by
	// their text as before, integers as integers and strings as strings.
	TypeLegacy TypeClass = iota
	// TypeUnknown: the type could not be learned. Nothing is placed by a
	// guess: reads go to every candidate table, writes are refused.
	TypeUnknown
	TypeInt      // TINYINT ... BIGINT [UNSIGNED]
	TypeString   // CHAR, VARCHAR, TEXT, BINARY, VARBINARY, BLOB
	TypeDate     // DATE
	TypeDateTime // DATETIME, TIMESTAMP
	// TypeOther: DECIMAL, FLOAT, DOUBLE, BIT, YEAR, TIME, ENUM, SET, JSON
	// ...: the proxy does not model their conversions (as TypeUnknown).
	TypeOther
)

// ColumnType is a key column's type as MariaDB reports it (SHOW FULL
// COLUMNS: Type and Collation).
type ColumnType struct {
	Class    TypeClass
	Unsigned bool
	// Min and Max bound integer columns.
	Min, Max *big.Int
	// Fixed: CHAR/BINARY; CHAR drops trailing spaces when it stores.
	Fixed bool
	// Length is the declared length of a string column in characters (0:
	// not known).
	Length int
	// Binary: a binary string (VARBINARY, BLOB, BINARY): compared byte
	// by byte, no padding (BINARY pads with NUL bytes: Fixed).
	Binary bool
	// Collation of a character column (lower case).
	Collation string
	// Text is the type as the server printed it.
	Text string
}

// Column is one column of a physical table as SHOW FULL COLUMNS shows it.
type Column struct {
	Name string
	Type ColumnType
	// AutoIncrement: the column takes AUTO_INCREMENT values.
	AutoIncrement bool
	// DefaultNow: DEFAULT CURRENT_TIMESTAMP (NOW(), with any precision).
	DefaultNow bool
	// OnUpdateNow: ON UPDATE CURRENT_TIMESTAMP.
	OnUpdateNow bool
}

// ParseColumn reads one row of SHOW FULL COLUMNS (Field, Type, Collation,
// Default, Extra).
func ParseColumn(field, typ, collation, def, extra string) Column {
	e := strings.ToLower(extra)
	d := strings.ToLower(def)
	return Column{
		Name:          field,
		Type:          ParseColumnType(typ, collation),
		AutoIncrement: strings.Contains(e, "auto_increment"),
		DefaultNow:    strings.HasPrefix(d, "current_timestamp") || strings.HasPrefix(d, "now("),
		OnUpdateNow:   strings.Contains(e, "on update current_timestamp") || strings.Contains(e, "on update now("),
	}
}

// Legacy is the ColumnType of callers that give none.
var Legacy = ColumnType{Class: TypeLegacy}

// Unknown is the ColumnType of a column whose type could not be read.
var Unknown = ColumnType{Class: TypeUnknown}

// ParseColumnType reads a column type as SHOW FULL COLUMNS prints it
// ("int(11)", "bigint(20) unsigned", "varchar(20)", "datetime(6)") with
// the column's collation ("" or "NULL" for non-character columns).
func ParseColumnType(typ, collation string) ColumnType {
	t := strings.ToLower(strings.TrimSpace(typ))
	ct := ColumnType{Class: TypeOther, Text: typ}
	if collation != "NULL" {
		ct.Collation = strings.ToLower(collation)
	}
	base := t
	args := ""
	if i := strings.IndexByte(t, '('); i >= 0 {
		base = t[:i]
		if j := strings.IndexByte(t[i:], ')'); j > 0 {
			args = t[i+1 : i+j]
		}
	} else if i := strings.IndexByte(t, ' '); i >= 0 {
		base = t[:i]
	}
	ct.Unsigned = strings.Contains(t, "unsigned")
	length, _ := strconv.Atoi(args)
	bits := 0
	switch base {
	case "tinyint":
		bits = 8
	case "smallint":
		bits = 16
	case "mediumint":
		bits = 24
	case "int", "integer":
		bits = 32
	case "bigint":
		bits = 64
	case "char":
		ct.Class, ct.Fixed, ct.Length = TypeString, true, length
	case "varchar":
		ct.Class, ct.Length = TypeString, length
	case "tinytext", "text", "mediumtext", "longtext":
		ct.Class = TypeString
	case "binary":
		ct.Class, ct.Fixed, ct.Binary, ct.Length = TypeString, true, true, length
	case "varbinary":
		ct.Class, ct.Binary, ct.Length = TypeString, true, length
	case "tinyblob", "blob", "mediumblob", "longblob":
		ct.Class, ct.Binary = TypeString, true
	case "date":
		ct.Class = TypeDate
	case "datetime", "timestamp":
		ct.Class = TypeDateTime
	}
	if bits > 0 {
		ct.Class = TypeInt
		ct.Min, ct.Max = new(big.Int), new(big.Int)
		if ct.Unsigned {
			ct.Max.Lsh(big.NewInt(1), uint(bits)).Sub(ct.Max, big.NewInt(1))
		} else {
			ct.Min.Lsh(big.NewInt(1), uint(bits-1)).Neg(ct.Min)
			ct.Max.Lsh(big.NewInt(1), uint(bits-1)).Sub(ct.Max, big.NewInt(1))
		}
	}
	if ct.Class == TypeString && ct.Collation == "binary" {
		ct.Binary = true
	}
	return ct
}

// IntType returns the type of a signed (or unsigned) integer column of
// the given width in bits.
func IntType(bits int, unsigned bool) ColumnType {
	name := map[int]string{8: "tinyint", 16: "smallint", 24: "mediumint", 32: "int", 64: "bigint"}[bits]
	if unsigned {
		name += " unsigned"
	}
	return ParseColumnType(name, "")
}

// Known reports whether conversions follow the column's type (not
// TypeLegacy, TypeUnknown or TypeOther).
func (ct ColumnType) Known() bool {
	switch ct.Class {
	case TypeInt, TypeString, TypeDate, TypeDateTime:
		return true
	}
	return false
}

// Stored returns the key value MariaDB stores in a column of this type for
// the value v of an INSERT (the column type's conversion of the literal or
// parameter), as an integer, a string or a date-time. ok is false when the
// proxy cannot know it exactly: the caller must then not place the row.
// Values strict mode rejects are converted as a non-strict session would
// store them (a strict server refuses the row wherever it is sent).
func (ct ColumnType) Stored(v Value) (Value, bool) {
	if v.kind == NoValue {
		return Value{}, false
	}
	switch ct.Class {
	case TypeLegacy:
		return legacyValue(v)
	case TypeInt:
		if k, in, fast := ct.intFast(v); fast && in {
			return k, true
		}
		r, ok := v.numeric()
		if !ok {
			return Value{}, false
		}
		var n *big.Int
		if v.kind == FloatValue {
			n = roundHalfEven(r)
		} else {
			n = roundHalfAway(r)
		}
		if n.Cmp(ct.Min) < 0 {
			n = ct.Min
		}
		if n.Cmp(ct.Max) > 0 {
			n = ct.Max
		}
		return intValue(n), true
	case TypeString:
		var s string
		switch v.kind {
		case StringValue, HexValue:
			s = v.s
		case IntValue:
			s = strconv.FormatInt(int64(v.n), 10)
		case UintValue:
			s = strconv.FormatUint(v.n, 10)
		default:
			// DECIMAL and DOUBLE print by MariaDB's own rules
			// (1e20, 0.00001, 10.50): not modelled.
			return Value{}, false
		}
		if ct.Fixed && !ct.Binary {
			s = strings.TrimRight(s, " ")
		}
		if ct.Length > 0 && charCount(s, ct.Binary) > ct.Length || ct.Fixed && ct.Binary {
			// Too long (truncated or refused) or padded with NUL bytes.
			return Value{}, false
		}
		return String(s), true
	case TypeDate, TypeDateTime:
		t, ok := v.dateTime()
		if !ok {
			return Value{}, false
		}
		return Time(t), true
	}
	return Value{}, false
}

// Equal returns the key value of the rows that a condition `column = v`
// matches, by MariaDB's comparison rules for the column's type and v's
// type. none is true when no row can match (an integer column compared
// with 10.5). ok is false when the matching rows cannot be named by one
// key value (a string key compared with a number matches '10', '10.0',
// '1e1' ...; a case-insensitive string key matches 'ab' and 'AB '): the
// caller reads every candidate table.
func (ct ColumnType) Equal(v Value) (key Value, none, ok bool) {
	if v.kind == NoValue {
		return Value{}, false, false
	}
	switch ct.Class {
	case TypeLegacy:
		k, ok := legacyValue(v)
		return k, false, ok
	case TypeInt:
		if k, in, fast := ct.intFast(v); fast {
			return k, !in, true
		}
		// An integer column compared with a string, a DECIMAL or a DOUBLE
		// compares their exact values (MariaDB 10.11: id = '10.0000000000000001'
		// matches nothing, id = '9007199254740993' one row).
		r, ok := v.numeric()
		if !ok {
			return Value{}, false, false
		}
		if !r.IsInt() || r.Num().Cmp(ct.Min) < 0 || r.Num().Cmp(ct.Max) > 0 {
			return Value{}, true, true
		}
		return intValue(r.Num()), false, true
	case TypeString:
		if v.kind != StringValue && v.kind != HexValue {
			// A string compared with a number compares as DOUBLE.
			return Value{}, false, false
		}
		s := v.s
		switch {
		case ct.Binary && !ct.Fixed:
			return String(s), false, true
		case ct.Fixed && !ct.Binary && exactCollation(ct.Collation, strings.TrimRight(s, " ")):
			// CHAR stores no trailing spaces and PAD SPACE comparison
			// ignores them: the stored value is the trimmed literal.
			return String(strings.TrimRight(s, " ")), false, true
		case strings.HasSuffix(ct.Collation, "_nopad_bin"):
			return String(s), false, true
		}
		// VARCHAR with a PAD SPACE collation: 'ab' also matches 'ab '
		// (and, case-insensitively, 'AB'), which are placed elsewhere.
		return Value{}, false, false
	case TypeDate, TypeDateTime:
		t, ok := v.dateTime()
		if !ok {
			return Value{}, false, false
		}
		return Time(t), false, true
	}
	return Value{}, false, false
}

// RangeBound converts a bound of a range condition on the column (col < v,
// col >= v, BETWEEN) to a bound of key values. The result may be wider than
// the condition (never narrower); ok is false when v gives no usable bound
// (the side is then unbounded).
func (ct ColumnType) RangeBound(b Bound, upper bool) (Bound, bool) {
	v := b.Value
	switch ct.Class {
	case TypeLegacy:
		k, ok := legacyValue(v)
		return Bound{Value: k, Exclusive: b.Exclusive}, ok
	case TypeInt:
		r, ok := v.numeric()
		if !ok {
			return Bound{}, false
		}
		if r.IsInt() {
			return Bound{Value: clampInt64(r.Num()), Exclusive: b.Exclusive}, true
		}
		// Between two integers: the nearest one inside the range.
		n := floorRat(r)
		if !upper {
			n.Add(n, big.NewInt(1))
		}
		return Inclusive(clampInt64(n)), true
	case TypeDate, TypeDateTime:
		t, ok := v.dateTime()
		if !ok {
			return Bound{}, false
		}
		return Bound{Value: Time(t), Exclusive: b.Exclusive}, true
	}
	return Bound{}, false
}

// legacyValue is the placement of callers without types: integers and
// strings as they are; other literals are not placed.
func legacyValue(v Value) (Value, bool) {
	switch v.kind {
	case IntValue, UintValue, StringValue, TimeValue:
		return v, true
	}
	return Value{}, false
}

// exactCollation reports whether strings equal to s under collation c are
// s alone (after PAD SPACE): binary collations, and the simple legacy
// collations for ASCII text without letters.
func exactCollation(c, s string) bool {
	if strings.HasSuffix(c, "_bin") || c == "binary" {
		return true
	}
	if !strings.HasSuffix(c, "_general_ci") && c != "latin1_swedish_ci" {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 0x80 || ch < 0x20 || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' {
			return false
		}
	}
	return true
}

func charCount(s string, binary bool) int {
	if binary {
		return len(s)
	}
	return len([]rune(s))
}

func intValue(n *big.Int) Value {
	if n.IsInt64() {
		return Int(n.Int64())
	}
	return Uint(n.Uint64())
}

func clampInt64(n *big.Int) Value {
	if n.IsInt64() {
		return Int(n.Int64())
	}
	if n.Sign() < 0 {
		return Int(math.MinInt64)
	}
	return Int(math.MaxInt64)
}

var (
	bigHalf = big.NewRat(1, 2)
	bigOne  = big.NewInt(1)
)

func floorRat(r *big.Rat) *big.Int {
	q, _ := new(big.Int).DivMod(r.Num(), r.Denom(), new(big.Int))
	return q // Euclidean division by a positive denominator floors
}

// roundHalfAway rounds like DECIMAL and strings: halves away from zero.
func roundHalfAway(r *big.Rat) *big.Int {
	a := new(big.Rat).Abs(r)
	n := floorRat(a.Add(a, bigHalf))
	if r.Sign() < 0 {
		n.Neg(n)
	}
	return n
}

// roundHalfEven rounds like DOUBLE (rint): halves to even.
func roundHalfEven(r *big.Rat) *big.Int {
	f := floorRat(r)
	frac := new(big.Rat).Sub(r, new(big.Rat).SetInt(f))
	switch frac.Cmp(bigHalf) {
	case 1:
		f.Add(f, bigOne)
	case 0:
		if f.Bit(0) == 1 {
			f.Add(f, bigOne)
		}
	}
	return f
}

// maxExponent bounds the exponents the proxy evaluates exactly.
const maxExponent = 400

// numeric returns v's exact numeric value in a numeric context: integers,
// DECIMAL and DOUBLE as they are, 0x/b” literals as unsigned integers,
// strings by their longest numeric prefix (after leading white space; no
// digits is 0), as MariaDB converts them. ok is false for values it cannot
// evaluate exactly (date-times, overlong hexadecimal, huge exponents).
func (v Value) numeric() (*big.Rat, bool) {
	switch v.kind {
	case IntValue:
		return new(big.Rat).SetInt64(int64(v.n)), true
	case UintValue:
		return new(big.Rat).SetInt(new(big.Int).SetUint64(v.n)), true
	case FloatValue:
		if math.IsNaN(v.f) || math.IsInf(v.f, 0) {
			return nil, false
		}
		return new(big.Rat).SetFloat64(v.f), true
	case DecimalValue, StringValue:
		return parseNumberPrefix(v.s)
	case HexValue:
		if len(v.s) > 8 {
			return nil, false
		}
		var n uint64
		for i := 0; i < len(v.s); i++ {
			n = n<<8 | uint64(v.s[i])
		}
		return new(big.Rat).SetInt(new(big.Int).SetUint64(n)), true
	}
	return nil, false
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// parseNumberPrefix reads [space][sign]digits[.digits][e[sign]digits] at the
// start of s, as MariaDB converts a string to a number.
func parseNumberPrefix(s string) (*big.Rat, bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var mant strings.Builder
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		mant.WriteByte(s[i])
		i++
	}
	scale := 0
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			mant.WriteByte(s[i])
			scale++
			i++
		}
	}
	if mant.Len() == 0 {
		return new(big.Rat), true
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		eneg := false
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			eneg = s[j] == '-'
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			if exp > maxExponent*10 {
				return nil, false
			}
			exp = exp*10 + int(s[k]-'0')
			k++
		}
		if k > j {
			if eneg {
				exp = -exp
			}
		} else {
			exp = 0
		}
	}
	exp -= scale
	if exp > maxExponent || exp < -maxExponent || mant.Len() > maxExponent {
		return nil, false
	}
	n, _ := new(big.Int).SetString(mant.String(), 10)
	r := new(big.Rat).SetInt(n)
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp))), nil)
	if exp >= 0 {
		r.Mul(r, new(big.Rat).SetInt(p))
	} else {
		r.Quo(r, new(big.Rat).SetInt(p))
	}
	if neg {
		r.Neg(r)
	}
	return r, true
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// dateTime converts v to a DATETIME as MariaDB does for a DATE/DATETIME
// column (the calendar date is what date rules need): strings in the
// usual forms, numbers as YYYYMMDD[hhmmss] or YYMMDD[hhmmss], binary-
// protocol date-times as they are. ok is false for what the proxy does
// not read exactly (zero dates, invalid dates, other forms).
func (v Value) dateTime() (time.Time, bool) {
	switch v.kind {
	case TimeValue:
		return wall(v.t), true
	case StringValue, HexValue:
		return parseMariaDateTime(v.s)
	case IntValue:
		if int64(v.n) < 0 {
			return time.Time{}, false
		}
		return numberToDateTime(v.n)
	case UintValue:
		return numberToDateTime(v.n)
	case DecimalValue, FloatValue:
		r, ok := v.numeric()
		if !ok || r.Sign() < 0 {
			return time.Time{}, false
		}
		n := floorRat(r)
		if !n.IsUint64() {
			return time.Time{}, false
		}
		// The fraction is a fraction of a second: it never changes the
		// date (DATETIME truncates it).
		return numberToDateTime(n.Uint64())
	}
	return time.Time{}, false
}

// numberToDateTime is MariaDB's reading of a number as a date-time.
func numberToDateTime(n uint64) (time.Time, bool) {
	var y, mo, d, h, mi, s uint64
	switch {
	case n == 0:
		return time.Time{}, false
	case n <= 991231:
		y, mo, d = n/10000, n/100%100, n%100
		y = twoDigitYear(y)
	case n < 10000101:
		return time.Time{}, false
	case n <= 99991231:
		y, mo, d = n/10000, n/100%100, n%100
	case n < 101000000:
		return time.Time{}, false
	case n <= 991231235959:
		y, mo, d, h, mi, s = n/10000000000, n/100000000%100, n/1000000%100, n/10000%100, n/100%100, n%100
		y = twoDigitYear(y)
	case n < 10000101000000:
		return time.Time{}, false
	case n <= 99991231235959:
		y, mo, d, h, mi, s = n/10000000000, n/100000000%100, n/1000000%100, n/10000%100, n/100%100, n%100
	default:
		return time.Time{}, false
	}
	return makeDateTime(int(y), int(mo), int(d), int(h), int(mi), int(s), 0)
}

func twoDigitYear(y uint64) uint64 {
	if y < 70 {
		return 2000 + y
	}
	return 1900 + y
}

func makeDateTime(y, mo, d, h, mi, s, ns int) (time.Time, bool) {
	if y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC), true
}

// parseMariaDateTime reads the string forms of dates MariaDB accepts that
// the proxy models: 'YYYY-MM-DD', 'YY-M-D' (any of - / . as separator),
// with an optional time 'h[:m[:s[.f]]]' after a space or T, and the digit
// strings YYYYMMDD, YYMMDD, YYYYMMDDhhmmss, YYMMDDhhmmss; white space
// around is ignored.
func parseMariaDateTime(s string) (time.Time, bool) {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	s = s[i:j]
	if s == "" {
		return time.Time{}, false
	}
	allDigits := true
	for k := 0; k < len(s); k++ {
		if s[k] < '0' || s[k] > '9' {
			allDigits = false
			break
		}
	}
	if allDigits {
		switch len(s) {
		case 6, 8, 12, 14:
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			if len(s) == 6 || len(s) == 12 {
				// A 6- or 12-digit string is always YYMMDD[hhmmss].
				y := twoDigitYear(n / pow10(len(s)-2))
				rest := n % pow10(len(s)-2)
				if len(s) == 6 {
					return makeDateTime(int(y), int(rest/100), int(rest%100), 0, 0, 0, 0)
				}
				return makeDateTime(int(y), int(rest/100000000), int(rest/1000000%100), int(rest/10000%100), int(rest/100%100), int(rest%100), 0)
			}
			return numberToDateTime(n)
		}
		return time.Time{}, false
	}
	fields := make([]int, 0, 7)
	widths := make([]int, 0, 7)
	k := 0
	num := func() bool {
		st := k
		n := 0
		for k < len(s) && s[k] >= '0' && s[k] <= '9' && k-st < 9 {
			n = n*10 + int(s[k]-'0')
			k++
		}
		if k == st {
			return false
		}
		fields = append(fields, n)
		widths = append(widths, k-st)
		return true
	}
	sep := func(set string) bool {
		if k < len(s) && strings.IndexByte(set, s[k]) >= 0 {
			k++
			return true
		}
		return false
	}
	if !num() || !sep("-/.") || !num() || !sep("-/.") || !num() {
		return time.Time{}, false
	}
	if widths[0] != 2 && widths[0] != 4 || widths[1] > 2 || widths[2] > 2 {
		return time.Time{}, false
	}
	y := fields[0]
	if widths[0] == 2 {
		y = int(twoDigitYear(uint64(y)))
	}
	h, mi, sec, ns := 0, 0, 0, 0
	if k < len(s) {
		if !sep(" T") || !num() || widths[3] > 2 {
			return time.Time{}, false
		}
		h = fields[3]
		if sep(":") {
			if !num() || widths[4] > 2 {
				return time.Time{}, false
			}
			mi = fields[4]
			if sep(":") {
				if !num() || widths[5] > 2 {
					return time.Time{}, false
				}
				sec = fields[5]
				if sep(".") {
					if !num() {
						return time.Time{}, false
					}
					// The fraction is truncated to microseconds and never
					// changes the date; keep nanoseconds for messages.
					f, w := fields[6], widths[6]
					for ; w < 9; w++ {
						f *= 10
					}
					ns = f
				}
			}
		}
		if k != len(s) {
			return time.Time{}, false
		}
	}
	return makeDateTime(y, fields[1], fields[2], h, mi, sec, ns)
}

func pow10(n int) uint64 {
	p := uint64(1)
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

// Format prints a date-time value as MariaDB prints a value of the column
// type: 'YYYY-MM-DD' for DATE, 'YYYY-MM-DD hh:mm:ss[.ffffff]' for
// DATETIME/TIMESTAMP without fractional seconds.
func (ct ColumnType) Format(v Value) string {
	if v.kind != TimeValue {
		return v.String()
	}
	t := v.t
	if ct.Class == TypeDate {
		return t.Format("2006-01-02")
	}
	// DATETIME(0) drops fractions.
	return t.Format("2006-01-02 15:04:05")
}

// intFast handles an integer value for an integer column without big
// numbers: fast is false for other values; in reports whether v lies in
// the column's range.
func (ct ColumnType) intFast(v Value) (k Value, in, fast bool) {
	switch v.kind {
	case IntValue:
		n := int64(v.n)
		if ct.Min.IsInt64() && n < ct.Min.Int64() || ct.Max.IsInt64() && n > ct.Max.Int64() {
			return Value{}, false, true
		}
		return v, true, true
	case UintValue:
		if v.n <= maxInt64 {
			return ct.intFast(Int(int64(v.n)))
		}
		if ct.Max.IsUint64() && v.n <= ct.Max.Uint64() && !ct.Max.IsInt64() {
			return v, true, true
		}
		return Value{}, false, true
	}
	return Value{}, false, false
}
