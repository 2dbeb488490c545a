package globalcheck

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// column is one column of a global table, from information_schema.COLUMNS.
type column struct {
	Name       string
	DataType   string // lower case: int, varchar, decimal, ...
	ColumnType string // full type: int(10) unsigned, decimal(10,2), ...
	Nullable   bool
	Generated  bool // VIRTUAL/STORED generated: hashed, never written
	Precision  int64
	Scale      int64
}

// kind classifies a column for parameters and literals.
type kind uint8

const (
	kindString   kind = iota // passed as bytes, quoted or X'..' literal
	kindSigned               // integers: int64 parameters, bare literals
	kindUnsigned             // unsigned integers: uint64 parameters
	kindDecimal              // CAST(? AS DECIMAL(p,s)) in comparisons
	kindBit                  // BIT(n): uint64 parameters, bare literals
	kindLOB                  // TEXT/BLOB/JSON/geometry: hashed through SHA1()
)

func (c column) kind() kind {
	switch c.DataType {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint":
		if strings.Contains(strings.ToLower(c.ColumnType), "unsigned") {
			return kindUnsigned
		}
		return kindSigned
	case "decimal", "numeric":
		return kindDecimal
	case "bit":
		return kindBit
	case "tinytext", "text", "mediumtext", "longtext", "tinyblob", "blob", "mediumblob", "longblob",
		"json", "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
		"multipolygon", "geometrycollection", "geomcollection":
		return kindLOB
	}
	return kindString
}

// keyable reports whether the column can be part of the key used to split
// a table into ranges: its SQL order must agree with comparisons against
// parameters and its text form must round-trip exactly.
func (c column) keyable() bool {
	switch c.DataType {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric", "bit",
		"char", "varchar", "binary", "varbinary", "date", "datetime", "timestamp", "time", "year":
		return true
	}
	return false
}

// quoteIdent quotes a MySQL identifier with backticks.
func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

// qualified is `db`.`table`.
func qualified(db, table string) string {
	return quoteIdent(db) + "." + quoteIdent(table)
}

// rowExpr is the string a row is hashed from. Every column contributes its
// value and its length (-1 for NULL), so that NULL differs from the empty string and a
// separator inside a value cannot make two different rows collide. Large
// objects contribute their SHA1 instead of the value; character columns
// are cast to binary so that mixed character sets cannot make CONCAT_WS fail.
func rowExpr(cols []column) string {
	var vals, lens []string
	for _, c := range cols {
		q := quoteIdent(c.Name)
		switch c.kind() {
		case kindLOB:
			vals = append(vals, "SHA1("+q+")")
		case kindString:
			vals = append(vals, "CAST("+q+" AS BINARY)")
		default:
			vals = append(vals, q)
		}
		lens = append(lens, "COALESCE(LENGTH("+q+"),-1)")
	}
	return "CONCAT_WS('#'," + strings.Join(vals, ",") + "," + strings.Join(lens, ",") + ")"
}

// chunkHashExpr aggregates the rows of a range into 64 bits: the XOR of the
// first 64 bits of every row's SHA1. XOR makes the checksums of adjacent
// ranges combine into the checksum of their union.
func chunkHashExpr(cols []column) string {
	return "BIT_XOR(CAST(CONV(LEFT(SHA1(" + rowExpr(cols) + "),16),16,10) AS UNSIGNED))"
}

// bound is a key value that starts (inclusive) or ends (exclusive) a range;
// nil means unbounded.
type bound [][]byte

// keyRange is the half-open key range [Lo, Hi).
type keyRange struct {
	Lo, Hi bound
}

func (r keyRange) String() string { return "[" + r.Lo.text() + ", " + r.Hi.text() + ")" }

func (b bound) text() string {
	if b == nil {
		return "-inf"
	}
	if len(b) == 1 {
		return Value{B: b[0]}.String()
	}
	parts := make([]string, len(b))
	for i, v := range b {
		parts[i] = Value{B: v}.String()
	}
	return "(" + strings.Join(parts, ",") + ")"
}

// table is what the SQL builders need to know about a table copy's shape.
type table struct {
	DB, Name string
	Cols     []column
	Key      []int // positions in Cols of the key columns; nil: no usable key
}

func (t *table) ref() string { return qualified(t.DB, t.Name) }

func (t *table) keyList() string {
	names := make([]string, len(t.Key))
	for i, k := range t.Key {
		names[i] = quoteIdent(t.Cols[k].Name)
	}
	return strings.Join(names, ",")
}

// placeholder is the parameter marker of a value compared with column c.
func placeholder(c column) string {
	if c.kind() == kindDecimal && c.Precision > 0 {
		return fmt.Sprintf("CAST(? AS DECIMAL(%d,%d))", c.Precision, c.Scale)
	}
	return "?"
}

// param converts a value read from the server into the parameter sent for
// column c (nil stays NULL).
func param(c column, v []byte) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.kind() {
	case kindSigned:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("column %s: %q is not an integer", c.Name, v)
		}
		return n, nil
	case kindUnsigned:
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("column %s: %q is not an unsigned integer", c.Name, v)
		}
		return n, nil
	case kindBit:
		return bitValue(v), nil
	}
	return v, nil
}

// bitValue decodes a BIT value as returned by the server (big-endian bytes).
func bitValue(v []byte) uint64 {
	var n uint64
	for _, b := range v {
		n = n<<8 | uint64(b)
	}
	return n
}

// literal renders a value as an SQL literal for column c, independent of
// the sql_mode (no backslash escapes: values that would need them are
// written as hex strings, which only ever happens in string columns).
func literal(c column, v []byte) string {
	if v == nil {
		return "NULL"
	}
	switch c.kind() {
	case kindSigned, kindUnsigned, kindDecimal:
		if numeric(v) {
			return string(v)
		}
	case kindBit:
		return strconv.FormatUint(bitValue(v), 10)
	}
	if utf8.Valid(v) && !strings.ContainsFunc(string(v), func(r rune) bool { return r == '\\' || r < 0x20 || r == 0x7f }) {
		return "'" + strings.ReplaceAll(string(v), "'", "''") + "'"
	}
	return "X'" + hex.EncodeToString(v) + "'"
}

func numeric(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	for i, b := range v {
		if (b < '0' || b > '9') && b != '.' && !(i == 0 && b == '-') && b != 'e' && b != 'E' && b != '+' {
			return false
		}
	}
	return true
}

// lowerPred is "key >= lo" over the key columns, with its parameters.
// For (a, b): a > ? OR (a = ? AND b >= ?), a form both MariaDB and MySQL
// turn into index ranges.
func (t *table) lowerPred(lo bound) (string, []any, error) {
	return t.boundPred(lo, ">", ">=")
}

// upperPred is "key < hi".
func (t *table) upperPred(hi bound) (string, []any, error) {
	return t.boundPred(hi, "<", "<")
}

func (t *table) boundPred(b bound, strict, last string) (string, []any, error) {
	if len(b) != len(t.Key) {
		return "", nil, fmt.Errorf("bound has %d values for %d key columns", len(b), len(t.Key))
	}
	var ors []string
	var args []any
	for i := range t.Key {
		var ands []string
		for j := 0; j <= i; j++ {
			c := t.Cols[t.Key[j]]
			op := "="
			if j == i {
				op = strict
				if i == len(t.Key)-1 {
					op = last
				}
			}
			ands = append(ands, quoteIdent(c.Name)+" "+op+" "+placeholder(c))
			p, err := param(c, b[j])
			if err != nil {
				return "", nil, err
			}
			args = append(args, p)
		}
		ors = append(ors, strings.Join(ands, " AND "))
	}
	if len(ors) == 1 {
		return ors[0], args, nil
	}
	return "(" + strings.Join(ors, ") OR (") + ")", args, nil
}

// where is the WHERE clause (with a leading space; empty when unbounded) of
// a key range.
func (t *table) where(r keyRange) (string, []any, error) {
	var preds []string
	var args []any
	if r.Lo != nil {
		p, a, err := t.lowerPred(r.Lo)
		if err != nil {
			return "", nil, err
		}
		preds = append(preds, "("+p+")")
		args = append(args, a...)
	}
	if r.Hi != nil {
		p, a, err := t.upperPred(r.Hi)
		if err != nil {
			return "", nil, err
		}
		preds = append(preds, "("+p+")")
		args = append(args, a...)
	}
	if len(preds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(preds, " AND "), args, nil
}

// boundarySQL finds the key of the row `offset` rows after the start of r
// (in key order): the start of the next chunk.
func (t *table) boundarySQL(r keyRange, offset int) (string, []any, error) {
	w, args, err := t.where(r)
	if err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("SELECT %s FROM %s%s ORDER BY %s LIMIT 1 OFFSET %d", t.keyList(), t.ref(), w, t.keyList(), offset), args, nil
}

// checksumSQL counts and hashes the rows of r (the whole table without a key).
func (t *table) checksumSQL(r keyRange) (string, []any, error) {
	w, args, err := t.where(r)
	if err != nil {
		return "", nil, err
	}
	return "SELECT COUNT(*), " + chunkHashExpr(t.Cols) + " FROM " + t.ref() + w, args, nil
}

// rowHashSQL lists the key and the hash of every row of r. forUpdate locks
// the rows (and gaps) it reads.
func (t *table) rowHashSQL(r keyRange, forUpdate bool) (string, []any, error) {
	w, args, err := t.where(r)
	if err != nil {
		return "", nil, err
	}
	q := "SELECT " + t.keyList() + ", SHA1(" + rowExpr(t.Cols) + ") FROM " + t.ref() + w + " ORDER BY " + t.keyList()
	if forUpdate {
		q += " FOR UPDATE"
	}
	return q, args, nil
}

// keysPred matches the rows with the given keys.
func (t *table) keysPred(keys []bound) (string, []any, error) {
	var args []any
	if len(t.Key) == 1 {
		c := t.Cols[t.Key[0]]
		ph := make([]string, len(keys))
		for i, k := range keys {
			p, err := param(c, k[0])
			if err != nil {
				return "", nil, err
			}
			ph[i] = placeholder(c)
			args = append(args, p)
		}
		return quoteIdent(c.Name) + " IN (" + strings.Join(ph, ",") + ")", args, nil
	}
	ors := make([]string, len(keys))
	for i, k := range keys {
		ands := make([]string, len(t.Key))
		for j, ki := range t.Key {
			c := t.Cols[ki]
			p, err := param(c, k[j])
			if err != nil {
				return "", nil, err
			}
			ands[j] = quoteIdent(c.Name) + " = " + placeholder(c)
			args = append(args, p)
		}
		ors[i] = "(" + strings.Join(ands, " AND ") + ")"
	}
	return strings.Join(ors, " OR "), args, nil
}

// keysLiteral is keysPred with literal values (dry runs).
func (t *table) keysLiteral(keys []bound) string {
	if len(t.Key) == 1 {
		c := t.Cols[t.Key[0]]
		vals := make([]string, len(keys))
		for i, k := range keys {
			vals[i] = literal(c, k[0])
		}
		return quoteIdent(c.Name) + " IN (" + strings.Join(vals, ",") + ")"
	}
	ors := make([]string, len(keys))
	for i, k := range keys {
		ands := make([]string, len(t.Key))
		for j, ki := range t.Key {
			c := t.Cols[ki]
			ands[j] = quoteIdent(c.Name) + " = " + literal(c, k[j])
		}
		ors[i] = "(" + strings.Join(ands, " AND ") + ")"
	}
	return strings.Join(ors, " OR ")
}

// selectRowsSQL reads whole rows by key.
func (t *table) selectRowsSQL(keys []bound) (string, []any, error) {
	p, args, err := t.keysPred(keys)
	if err != nil {
		return "", nil, err
	}
	names := make([]string, len(t.Cols))
	for i, c := range t.Cols {
		names[i] = quoteIdent(c.Name)
	}
	return "SELECT " + strings.Join(names, ",") + " FROM " + t.ref() + " WHERE " + p, args, nil
}

// deleteSQL deletes rows by key; the literal form is for dry runs.
func (t *table) deleteSQL(keys []bound, lit bool) (string, []any, error) {
	if lit {
		return "DELETE FROM " + t.ref() + " WHERE " + t.keysLiteral(keys), nil, nil
	}
	p, args, err := t.keysPred(keys)
	if err != nil {
		return "", nil, err
	}
	return "DELETE FROM " + t.ref() + " WHERE " + p, args, nil
}

// writable are the positions of the columns REPLACE writes (generated
// columns are computed by the server).
func (t *table) writable() []int {
	var out []int
	for i, c := range t.Cols {
		if !c.Generated {
			out = append(out, i)
		}
	}
	return out
}

// replaceSQL writes whole rows (values in Cols order); the literal form is
// for dry runs.
func (t *table) replaceSQL(rows [][][]byte, lit bool) (string, []any, error) {
	w := t.writable()
	names := make([]string, len(w))
	for i, ci := range w {
		names[i] = quoteIdent(t.Cols[ci].Name)
	}
	var b strings.Builder
	b.WriteString("REPLACE INTO " + t.ref() + " (" + strings.Join(names, ",") + ") VALUES ")
	var args []any
	for ri, row := range rows {
		if ri > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for i, ci := range w {
			if i > 0 {
				b.WriteByte(',')
			}
			c := t.Cols[ci]
			if lit {
				b.WriteString(literal(c, row[ci]))
				continue
			}
			b.WriteByte('?')
			p, err := param(c, row[ci])
			if err != nil {
				return "", nil, err
			}
			args = append(args, p)
		}
		b.WriteByte(')')
	}
	return b.String(), args, nil
}

// keyString encodes key values as a map key (length-prefixed, so that no
// two different keys share an encoding).
func keyString(vals [][]byte) string {
	var b []byte
	for _, v := range vals {
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		b = append(b, v...)
	}
	return string(b)
}
