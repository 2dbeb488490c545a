package session

import (
	"errors"
	"strconv"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// Result sets the proxy builds itself (local answers, EXPLAIN, metadata
// listings, merged and RETURNING results) all go out through one
// protocol.ResultWriter, which frames them for the client's capabilities
// and protocol (text or binary).

// notFixedDec is the decimals MariaDB sends for string results
// (NOT_FIXED_DEC), as for SELECT @@tx_isolation or EXPLAIN's columns.
const notFixedDec = 39

// result starts a proxy-made result set for the client.
func (s *Session) result(binary bool) *protocol.ResultWriter {
	return s.rw.Reset(s.cl, s.caps, binary)
}

// writeValue sends a one-row, one-column result.
func (s *Session) writeValue(col protocol.ColumnDef, v string, binary bool) {
	_, _ = s.writeRows([]protocol.ColumnDef{col}, [][][]byte{{[]byte(v)}}, binary)
}

// writeUint64Result sends a one-row, one-column BIGINT UNSIGNED result in
// the text or binary protocol.
func (s *Session) writeUint64Result(label string, v uint64, binary bool) {
	s.writeIntCol(label, v, protocol.TypeLongLong, 21, true, binary)
}

// writeInt64Result sends a one-row, one-column signed BIGINT result.
func (s *Session) writeInt64Result(label string, v int64, binary bool) {
	s.writeIntCol(label, uint64(v), protocol.TypeLongLong, 21, false, binary)
}

// writeIntCol sends a one-row, one-column integer result whose column
// definition is MariaDB's for the function answered (LAST_INSERT_ID():
// BIGINT(21) UNSIGNED, CONNECTION_ID(): INT(10) UNSIGNED, ROW_COUNT():
// BIGINT(21)).
func (s *Session) writeIntCol(label string, v uint64, typ byte, length uint32, unsigned, binary bool) {
	flags := protocol.FlagBinary | protocol.FlagNotNull
	text := strconv.FormatInt(int64(v), 10)
	if unsigned {
		flags |= protocol.FlagUnsigned
		text = strconv.FormatUint(v, 10)
	}
	s.writeValue(protocol.ColumnDef{Name: label, Charset: uint16(protocol.CharsetBinary), Length: length, Type: typ, Flags: flags}, text, binary)
}

// writeStringResult sends a one-row, one-column VARCHAR result (such as a
// proxy variable's value).
func (s *Session) writeStringResult(label, v string, binary bool) {
	s.writeValue(protocol.ColumnDef{Name: label, Charset: uint16(protocol.CharsetUTF8MB4GeneralCI), Length: 64, Type: protocol.TypeVarString, Decimals: notFixedDec}, v, binary)
}

// writeTextTable sends a proxy-made result of VARCHAR columns.
func (s *Session) writeTextTable(names []string, rows [][]string, binary bool) {
	cols := make([]protocol.ColumnDef, len(names))
	for i, name := range names {
		cols[i] = protocol.ColumnDef{Name: name, Charset: uint16(protocol.CharsetUTF8MB4GeneralCI), Length: 1024, Type: protocol.TypeVarString, Decimals: notFixedDec}
	}
	vals := make([][][]byte, len(rows))
	for i, r := range rows {
		vals[i] = make([][]byte, len(r))
		for j, v := range r {
			vals[i][j] = []byte(v)
		}
	}
	_, _ = s.writeRows(cols, vals, binary)
}

// writeRows sends rows the proxy built (nil values are NULL) under the
// given column definitions (their physical tables named as logical ones),
// in the text or binary protocol.
func (s *Session) writeRows(cols []protocol.ColumnDef, rows [][][]byte, binary bool) (failed bool, clientErr error) {
	for i := range cols {
		s.logicalColumn(&cols[i])
	}
	w := s.result(binary)
	if err := w.Begin(cols, s.status()); err != nil {
		return true, err
	}
	for _, r := range rows {
		if err := w.Values(r...); err != nil {
			return s.rowFailed(err)
		}
	}
	s.rowCount, s.foundRows = -1, w.Rows()
	return false, w.End(s.status(), 0)
}

// rowFailed handles an error of ResultWriter.Row: a row that does not fit
// its columns is answered with the error (the result is cut there, as a
// server cuts a failing result); anything else is the client's connection.
func (s *Session) rowFailed(err error) (failed bool, clientErr error) {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		s.writeErr(pe)
		return true, nil
	}
	return true, err
}
