package router

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/shard"
)

// SchemaSource returns the columns of a table's physical tables as the
// executor last read them (SHOW FULL COLUMNS), from its cache without I/O;
// ok is false when they are not known (the router then places nothing by
// a guess, and the executor may fetch them and plan again).
type SchemaSource func(t *shard.Table) (cols []shard.Column, ok bool)

// keyConv converts the literals of one statement to key values of one
// table, by the types of its key columns.
type keyConv struct {
	table *shard.Table
	// types are the key columns' types, in Keys order (pointing into the
	// schema source's columns, or at shard.Legacy or shard.Unknown; never
	// written through).
	types []*shard.ColumnType
	// hex tells, per hexadecimal literal of the statement, whether it was
	// written 0x... (a number in a numeric context) rather than X'...'
	// (a string); literals missing from it are of unknown form.
	hex map[*test_driver.ValueExpr]bool
	// buf holds types for tables of up to two key columns (no second
	// allocation per statement).
	buf [2]*shard.ColumnType
}

// newKeyConv looks up the key columns' types: Legacy without a source,
// Unknown for columns the source does not know.
func newKeyConv(t *shard.Table, schema SchemaSource, hex map[*test_driver.ValueExpr]bool) *keyConv {
	c := &keyConv{}
	c.init(t, schema, hex)
	return c
}

// init is newKeyConv for a converter c the caller holds (c must not be
// copied afterwards: its types may point into it).
func (c *keyConv) init(t *shard.Table, schema SchemaSource, hex map[*test_driver.ValueExpr]bool) {
	*c = keyConv{table: t, hex: hex}
	if n := len(t.Keys()); n <= len(c.buf) {
		c.types = c.buf[:n]
	} else {
		c.types = make([]*shard.ColumnType, n)
	}
	var cols []shard.Column
	ok := false
	if schema != nil && len(t.Keys()) > 0 {
		cols, ok = schema(t)
	}
	for i, k := range t.Keys() {
		switch {
		case schema == nil:
			c.types[i] = &shard.Legacy
		case !ok:
			c.types[i] = &shard.Unknown
		default:
			c.types[i] = &shard.Unknown
			for j := range cols {
				if strings.EqualFold(cols[j].Name, k) {
					c.types[i] = &cols[j].Type
				}
			}
		}
	}
}

// typeOf returns the type of key column col.
func (c *keyConv) typeOf(col string) shard.ColumnType {
	if c == nil {
		return shard.Legacy
	}
	for i, k := range c.table.Keys() {
		if strings.EqualFold(k, col) {
			return *c.types[i]
		}
	}
	return shard.Unknown
}

// literal reads a SQL literal as a value (before any conversion to the key
// column's type): integers, TRUE/FALSE, DECIMAL, DOUBLE, strings,
// hexadecimal and bit literals, and their negations.
func (c *keyConv) literal(e ast.ExprNode) (shard.Value, bool) {
	if u, ok := e.(*ast.UnaryOperationExpr); ok {
		switch u.Op {
		case opcode.Minus:
			v, ok := c.literal(u.V)
			if !ok {
				return shard.Value{}, false
			}
			return negate(v)
		case opcode.Plus:
			return c.literal(u.V)
		}
		return shard.Value{}, false
	}
	if p, ok := e.(*ast.ParenthesesExpr); ok {
		return c.literal(p.Expr)
	}
	ve, ok := e.(*test_driver.ValueExpr)
	if !ok {
		return shard.Value{}, false
	}
	switch ve.Kind() {
	case test_driver.KindInt64:
		return shard.Int(ve.GetInt64()), true
	case test_driver.KindUint64:
		return shard.Uint(ve.GetUint64()), true
	case test_driver.KindString:
		return shard.String(ve.GetString()), true
	case test_driver.KindBytes:
		return shard.Bytes(ve.GetBytes()), true
	case test_driver.KindFloat32, test_driver.KindFloat64:
		return shard.Float(ve.GetFloat64()), true
	case test_driver.KindMysqlDecimal:
		return shard.Decimal(ve.GetMysqlDecimal().String()), true
	case test_driver.KindBinaryLiteral:
		b := ve.GetBytes()
		if ve.Type.GetFlag()&mysql.UnsignedFlag == 0 {
			return shard.Hex(b), true // b'...' / 0b...: a number in a numeric context
		}
		if c == nil {
			return shard.Value{}, false
		}
		zeroX, known := c.hex[ve]
		switch {
		case !known:
			return shard.Value{}, false
		case zeroX:
			return shard.Hex(b), true
		}
		return shard.Bytes(b), true // X'...' is a string
	}
	return shard.Value{}, false
}

// negate returns -v for numbers.
func negate(v shard.Value) (shard.Value, bool) {
	switch v.Kind() {
	case shard.IntValue:
		n := v.Int64()
		if n == -1<<63 {
			return shard.Decimal("9223372036854775808"), true
		}
		return shard.Int(-n), true
	case shard.UintValue:
		if v.Uint64() == 1<<63 {
			return shard.Int(-1 << 63), true
		}
		return shard.Decimal("-" + v.String()), true
	case shard.DecimalValue:
		s := v.String()
		if strings.HasPrefix(s, "-") {
			return shard.Decimal(s[1:]), true
		}
		return shard.Decimal("-" + s), true
	case shard.FloatValue:
		return shard.Float(-v.Float64()), true
	}
	return shard.Value{}, false
}

// equal converts the value of `col = e` to the key value of the matching
// rows; none: no row matches; ok false: read every candidate.
func (c *keyConv) equal(col string, e ast.ExprNode) (key shard.Value, none, ok bool) {
	v, ok := c.literal(e)
	if !ok {
		return shard.Value{}, false, false
	}
	ct := c.typeOf(col)
	k, none, ok := ct.Equal(v)
	if !ok || none {
		return k, none, ok
	}
	k, ok = c.asKey(ct, k)
	return k, false, ok
}

// asKey gives date-times to algorithms other than the date rules as the
// text MariaDB prints for the stored value ('2024-03-01 10:11:12'), which
// hash, mod, range and inline rules read as a string. Columns with
// fractional seconds are not placed (their text depends on the precision).
func (c *keyConv) asKey(ct shard.ColumnType, k shard.Value) (shard.Value, bool) {
	if k.Kind() != shard.TimeValue || c == nil {
		return k, true
	}
	switch c.table.Algorithm() {
	case config.AlgDateYear, config.AlgDateMonth, config.AlgDateDay:
		return k, true
	}
	if strings.Contains(ct.Text, "(") {
		return shard.Value{}, false
	}
	return shard.String(ct.Format(k)), true
}

// bound converts a range bound on col.
func (c *keyConv) bound(col string, e ast.ExprNode, exclusive, upper bool) (shard.Bound, bool) {
	v, ok := c.literal(e)
	if !ok {
		return shard.Bound{}, false
	}
	return c.typeOf(col).RangeBound(shard.Bound{Value: v, Exclusive: exclusive}, upper)
}

// stored converts an INSERT value of col to the key value MariaDB stores.
func (c *keyConv) stored(col string, e ast.ExprNode) (shard.Value, bool) {
	v, ok := c.literal(e)
	if !ok {
		return shard.Value{}, false
	}
	ct := c.typeOf(col)
	k, ok := ct.Stored(v)
	if !ok {
		return k, false
	}
	return c.asKey(ct, k)
}

// mayHaveHex reports whether text may hold a hexadecimal literal (of
// either form).
func mayHaveHex(text string) bool {
	return mayHaveZeroX(text) || strings.Contains(text, "'")
}

// hexFormsOf maps each of a statement's hexadecimal literals (found in
// visiting order) to whether text wrote it 0x... (true) or X'...' (false).
// Literals it cannot match to text are left out.
func hexFormsOf(found []*test_driver.ValueExpr, text string) map[*test_driver.ValueExpr]bool {
	if len(found) == 0 {
		return nil
	}
	toks := scanHexLiterals(text)
	out := map[*test_driver.ValueExpr]bool{}
	if len(toks) != len(found) {
		return out
	}
	same := true
	for _, t := range toks {
		same = same && t.zeroX == toks[0].zeroX
	}
	for i, x := range found {
		if same {
			out[x] = toks[0].zeroX
			continue
		}
		if string(x.GetBytes()) != string(toks[i].value) {
			return map[*test_driver.ValueExpr]bool{}
		}
		out[x] = toks[i].zeroX
	}
	return out
}

// ErrNoPartitionForValue is MariaDB's error for a row of a partitioned
// table that no partition takes; the proxy answers it for an INSERT whose
// key no range or date of the rule covers.
const ErrNoPartitionForValue uint16 = 1526

// insertKeyRefusal says why an INSERT's key value cannot be placed.
func insertKeyRefusal(t *shard.Table, col string, ct shard.ColumnType, e ast.ExprNode) string {
	switch ct.Class {
	case shard.TypeUnknown:
		return "INSERT into " + t.Name() + " while the type of its key column " + col + " is unknown (the proxy could not read the table's columns)"
	case shard.TypeOther:
		return "INSERT into " + t.Name() + " whose key column " + col + " has type " + ct.Text + " (the proxy places keys of integer, string and date types)"
	}
	if _, ok := e.(ast.ValueExpr); ok {
		return "INSERT into " + t.Name() + " of a key value for " + col + " (" + ct.Text + ") whose stored value the proxy cannot compute exactly; write it as the column stores it"
	}
	return "INSERT into " + t.Name() + " whose key " + col + " is not a literal"
}
