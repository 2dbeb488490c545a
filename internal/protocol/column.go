package protocol

import "encoding/binary"

// ColumnDef is a decoded Protocol::ColumnDefinition41.
type ColumnDef struct {
	Schema, Table, OrgTable, Name, OrgName string
	Charset                                uint16
	Length                                 uint32
	Type                                   byte
	Flags                                  uint16
	Decimals                               byte
	// Extended is MariaDB's extended type info block (e.g. format "json"),
	// sent when the server negotiated MariaDBClientExtendedMetadata; empty
	// when absent.
	Extended string
}

// ParseColumnDef decodes a column definition packet.
func ParseColumnDef(p []byte) (ColumnDef, error) {
	var c ColumnDef
	var fields [6][]byte
	pos := 0
	for i := range fields {
		s, _, n := ReadLenEncString(p[pos:])
		if n == 0 {
			return c, ErrMalformed
		}
		fields[i] = s
		pos += n
	}
	// fields[0] is the catalog ("def").
	c.Schema, c.Table, c.OrgTable, c.Name, c.OrgName = string(fields[1]), string(fields[2]), string(fields[3]), string(fields[4]), string(fields[5])
	if rest := len(p) - pos; rest > 0 && !(rest == 13 && p[pos] == 0x0c) {
		// Not just the fixed fields: MariaDB's extended type info comes
		// first.
		if ext, _, n := ReadLenEncString(p[pos:]); n > 0 && len(p)-pos-n >= 13 && p[pos+n] == 0x0c {
			c.Extended = string(ext)
			pos += n
		}
	}
	_, _, n := ReadLenEncInt(p[pos:]) // length of fixed fields, 0x0c
	if n == 0 || len(p) < pos+n+10 {
		return c, ErrMalformed
	}
	pos += n
	c.Charset = binary.LittleEndian.Uint16(p[pos:])
	c.Length = binary.LittleEndian.Uint32(p[pos+2:])
	c.Type = p[pos+6]
	c.Flags = binary.LittleEndian.Uint16(p[pos+7:])
	c.Decimals = p[pos+9]
	return c, nil
}

// AppendColumnDef appends a column definition payload without extended
// type info.
func AppendColumnDef(b []byte, c *ColumnDef) []byte {
	return AppendColumnDefExt(b, c, 0)
}

// AppendColumnDefExt appends a column definition payload for a client with
// the MariaDB extended capabilities ext: with MariaDBClientExtendedMetadata
// the extended type info block is included (empty when c has none), as
// MariaDB sends it.
func AppendColumnDefExt(b []byte, c *ColumnDef, ext uint32) []byte {
	b = AppendLenEncString(b, "def")
	b = AppendLenEncString(b, c.Schema)
	b = AppendLenEncString(b, c.Table)
	b = AppendLenEncString(b, c.OrgTable)
	b = AppendLenEncString(b, c.Name)
	b = AppendLenEncString(b, c.OrgName)
	if ext&MariaDBClientExtendedMetadata != 0 {
		b = AppendLenEncString(b, c.Extended)
	}
	b = append(b, 0x0c)
	b = AppendUint16(b, c.Charset)
	b = AppendUint32(b, c.Length)
	b = append(b, c.Type)
	b = AppendUint16(b, c.Flags)
	b = append(b, c.Decimals, 0, 0)
	return b
}

// StmtPrepareOK is the first packet of a COM_STMT_PREPARE response.
type StmtPrepareOK struct {
	StmtID     uint32
	NumColumns uint16
	NumParams  uint16
	Warnings   uint16
}

// ParseStmtPrepareOK decodes the first packet of a prepare response.
func ParseStmtPrepareOK(p []byte) (StmtPrepareOK, error) {
	var r StmtPrepareOK
	if len(p) < 9 || p[0] != OKHeader {
		return r, ErrMalformed
	}
	r.StmtID = binary.LittleEndian.Uint32(p[1:])
	r.NumColumns = binary.LittleEndian.Uint16(p[5:])
	r.NumParams = binary.LittleEndian.Uint16(p[7:])
	if len(p) >= 12 {
		r.Warnings = binary.LittleEndian.Uint16(p[10:])
	}
	return r, nil
}

// AppendStmtPrepareOK appends the first packet of a prepare response.
func AppendStmtPrepareOK(b []byte, r *StmtPrepareOK) []byte {
	b = append(b, OKHeader)
	b = AppendUint32(b, r.StmtID)
	b = AppendUint16(b, r.NumColumns)
	b = AppendUint16(b, r.NumParams)
	b = append(b, 0)
	return AppendUint16(b, r.Warnings)
}

// StripColumnExt removes the extended type info block from a column
// definition payload sent by a server that negotiated
// MariaDBClientExtendedMetadata, for a client that did not. It appends the
// result to b; a malformed packet is appended unchanged.
func StripColumnExt(b, p []byte) []byte {
	pos := 0
	for i := 0; i < 6; i++ {
		_, _, n := ReadLenEncString(p[pos:])
		if n == 0 {
			return append(b, p...)
		}
		pos += n
	}
	_, _, n := ReadLenEncString(p[pos:])
	if n == 0 {
		return append(b, p...)
	}
	b = append(b, p[:pos]...)
	return append(b, p[pos+n:]...)
}

// AppendColumnDefNames appends p, a column definition payload, with its
// names replaced by those of c and everything after the names (extended
// type info, fixed fields, a COM_FIELD_LIST default) kept byte for byte.
// A malformed p is appended unchanged.
func AppendColumnDefNames(b, p []byte, c *ColumnDef) []byte {
	pos := 0
	for i := 0; i < 6; i++ {
		_, _, n := ReadLenEncString(p[pos:])
		if n == 0 {
			return append(b, p...)
		}
		pos += n
	}
	b = AppendLenEncString(b, "def")
	b = AppendLenEncString(b, c.Schema)
	b = AppendLenEncString(b, c.Table)
	b = AppendLenEncString(b, c.OrgTable)
	b = AppendLenEncString(b, c.Name)
	b = AppendLenEncString(b, c.OrgName)
	return append(b, p[pos:]...)
}
