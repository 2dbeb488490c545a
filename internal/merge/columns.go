package merge

import "github.com/switchyard-db/switchyard/internal/protocol"

// OutputColumns returns the definitions of the p.Visible output columns
// (all of them when p.Visible <= 0), derived from the physical ones.
//
// Output i starts as a copy of cols[i] when i < len(cols) (the router labels
// physical column i with the name the client expects for output i, adding a
// placeholder column when output i is an expression) and as a synthetic
// column named "expr" otherwise; its type is then set from the expression:
// Col{i} keeps cols[i]; Col{j} takes the type of cols[j]; Avg is DECIMAL
// (0xf6) with the sum's decimals + 4 (at most 30), or DOUBLE (0x05,
// decimals 31) for a floating sum; COUNT(DISTINCT) is a NOT NULL LONGLONG;
// SUM(DISTINCT x) is DECIMAL with x's decimals or DOUBLE; GROUP_CONCAT
// (DISTINCT) is a BLOB; arithmetic is LONGLONG, DECIMAL or DOUBLE after
// MySQL's rules; comparisons and logic are INT(1) (LONG), as in MariaDB.
func OutputColumns(p *Plan, cols []protocol.ColumnDef) []protocol.ColumnDef {
	if p == nil {
		return append([]protocol.ColumnDef(nil), cols...)
	}
	specs := make([]colSpec, len(cols))
	for i := range cols {
		specs[i] = specFor(&cols[i])
	}
	var nodes []*node
	if p.Output == nil {
		nodes, _ = compileOutputs(p, specs)
	} else {
		cx := &compileCtx{specs: specs, pspecs: specs, grouped: p.Grouped}
		if p.Distinct != nil && *p.Distinct >= 0 && *p.Distinct < len(specs) {
			cx.distinct = &specs[*p.Distinct]
		}
		nodes = make([]*node, len(p.Output))
		for i, e := range p.Output {
			nodes[i], _ = compile(e, cx) // nil for an invalid expression
		}
	}
	defs := outputDefs(nodes, cols)
	return defs[:visibleOf(p, len(defs))]
}

// outputDefs derives the definitions of every output column.
func outputDefs(nodes []*node, cols []protocol.ColumnDef) []protocol.ColumnDef {
	defs := make([]protocol.ColumnDef, len(nodes))
	for i, n := range nodes {
		defs[i] = outputDef(i, n, cols)
	}
	return defs
}

const (
	flagsNum = protocol.FlagBinary | protocol.FlagNum
)

func outputDef(i int, n *node, cols []protocol.ColumnDef) protocol.ColumnDef {
	var d protocol.ColumnDef
	if i < len(cols) {
		d = cols[i]
	} else {
		d = protocol.ColumnDef{Name: "expr", Charset: uint16(protocol.CharsetUTF8MB4GeneralCI), Type: protocol.TypeVarString}
	}
	if n == nil {
		return d
	}
	if n.typedBy > 0 && n.typedBy <= len(cols) {
		src := &cols[n.typedBy-1]
		d.Charset, d.Length, d.Type, d.Flags, d.Decimals = src.Charset, src.Length, src.Type, src.Flags, src.Decimals
		return d
	}
	if n.op == nCol {
		if n.i != i {
			src := &cols[n.i]
			d.Charset, d.Length, d.Type, d.Flags, d.Decimals = src.Charset, src.Length, src.Type, src.Flags, src.Decimals
		}
		return d
	}
	t := &n.t
	d.Charset = uint16(protocol.CharsetBinary)
	d.Decimals = 0
	d.Flags = flagsNum
	switch t.k {
	case vInt:
		if t.boolean {
			d.Type, d.Length = protocol.TypeLong, 1
		} else {
			d.Type, d.Length = protocol.TypeLongLong, 21
		}
		if t.unsigned {
			d.Flags |= protocol.FlagUnsigned
		}
	case vUint:
		d.Type, d.Length = protocol.TypeLongLong, 20
		d.Flags |= protocol.FlagUnsigned
	case vDec:
		d.Type, d.Decimals = protocol.TypeNewDecimal, byte(t.scale)
		d.Length = 65 + 2
	case vFloat:
		d.Type, d.Decimals, d.Length = protocol.TypeDouble, 31, 23
	case vNull:
		d.Type, d.Length, d.Flags = protocol.TypeNull, 0, protocol.FlagBinary
	default: // strings
		d.Flags = 0
		switch {
		case t.charset != 0:
			d.Charset = t.charset
		case i < len(cols) && isStringType(cols[i].Type):
			d.Charset = cols[i].Charset
		default:
			d.Charset = uint16(protocol.CharsetUTF8MB4GeneralCI)
		}
		d.Type, d.Length = protocol.TypeVarString, 1<<24-1
		if n.op == nDistinct {
			d.Type = protocol.TypeBlob
		}
	}
	if t.notNull {
		d.Flags |= protocol.FlagNotNull
	}
	return d
}

func isStringType(t byte) bool {
	switch t {
	case protocol.TypeVarchar, protocol.TypeVarString, protocol.TypeString, protocol.TypeTinyBlob,
		protocol.TypeMediumBlob, protocol.TypeLongBlob, protocol.TypeBlob:
		return true
	}
	return false
}
