package protocol

// ResultWriter writes a result set the proxy builds itself (local answers,
// merged and re-encoded results, EXPLAIN, metadata listings) to a client,
// framed as MariaDB frames it for the client's capabilities: the column
// count, the column definitions (with MariaDB's extended type info when
// the connection negotiated it), a classic EOF after the definitions
// unless CLIENT_DEPRECATE_EOF, the rows (text, or binary for
// COM_STMT_EXECUTE), and the end: a classic EOF, or an OK packet with the
// EOF header under CLIENT_DEPRECATE_EOF.
//
// Rows are given in the text protocol (length-encoded values, 0xfb for
// NULL); in binary mode each is re-encoded by column type (AppendBinaryRow).
// Writing a row allocates nothing once the scratch buffer has grown.
type ResultWriter struct {
	// Conn is the client connection; its ExtCaps decide whether column
	// definitions carry the extended type info block.
	Conn *Conn
	// Caps are the client's capabilities.
	Caps uint32
	// Binary: rows go out in the binary protocol.
	Binary bool

	cols []ColumnDef
	buf  []byte
	rows uint64
}

// Reset prepares w for a new result on conn.
func (w *ResultWriter) Reset(conn *Conn, caps uint32, binary bool) *ResultWriter {
	w.Conn, w.Caps, w.Binary = conn, caps, binary
	w.cols, w.rows = nil, 0
	return w
}

// Begin writes the column count and the column definitions of cols (kept
// to encode binary rows) followed, for a client without
// CLIENT_DEPRECATE_EOF, by an EOF with the server status.
func (w *ResultWriter) Begin(cols []ColumnDef, status uint16) error {
	w.cols, w.rows = cols, 0
	w.buf = AppendLenEncInt(w.buf[:0], uint64(len(cols)))
	if err := w.Conn.WritePacket(w.buf); err != nil {
		return err
	}
	return w.Defs(cols, status)
}

// Defs writes column definitions and, for a client without
// CLIENT_DEPRECATE_EOF, the EOF that follows them: the header of a result
// set after its column count, or a block of parameter or column
// definitions of a COM_STMT_PREPARE response. An empty block is nothing.
func (w *ResultWriter) Defs(cols []ColumnDef, status uint16) error {
	if len(cols) == 0 {
		return nil
	}
	for i := range cols {
		w.buf = AppendColumnDefExt(w.buf[:0], &cols[i], w.Conn.ExtCaps)
		if err := w.Conn.WritePacket(w.buf); err != nil {
			return err
		}
	}
	if w.Caps&ClientDeprecateEOF == 0 {
		w.buf = AppendEOF(w.buf[:0], 0, status&^StatusSessionStateChange)
		return w.Conn.WritePacket(w.buf)
	}
	return nil
}

// Row writes one row given in the text protocol. In binary mode it is
// re-encoded for the columns of Begin; a row that does not fit them fails
// with a *Error 2027 and nothing is written.
func (w *ResultWriter) Row(text []byte) error {
	if w.Binary {
		var err error
		if w.buf, err = AppendBinaryRow(w.buf[:0], text, w.cols); err != nil {
			return err
		}
		text = w.buf
	}
	w.rows++
	return w.Conn.WritePacket(text)
}

// Values writes one row of values (nil is NULL).
func (w *ResultWriter) Values(vals ...[]byte) error {
	w.buf = w.buf[:0]
	for _, v := range vals {
		if v == nil {
			w.buf = append(w.buf, 0xfb)
		} else {
			w.buf = AppendLenEncBytes(w.buf, v)
		}
	}
	if !w.Binary {
		w.rows++
		return w.Conn.WritePacket(w.buf)
	}
	// The binary row is built after the text one in the same buffer.
	n := len(w.buf)
	b, err := AppendBinaryRow(w.buf, w.buf[:n], w.cols)
	if err != nil {
		return err
	}
	w.buf = b
	w.rows++
	return w.Conn.WritePacket(b[n:])
}

// Rows reports how many rows were written since Begin.
func (w *ResultWriter) Rows() uint64 { return w.rows }

// End writes the end of the result set with the server status and
// warning count.
func (w *ResultWriter) End(status, warnings uint16) error {
	w.buf = AppendResultEnd(w.buf[:0], &OK{Status: status, Warnings: warnings}, w.Caps)
	w.cols = nil
	return w.Conn.WritePacket(w.buf)
}

// AppendResultEnd appends the packet that ends a result set's rows for a
// client with capabilities caps: a classic EOF (warnings and status), or
// under CLIENT_DEPRECATE_EOF an OK packet with the EOF header. The session
// state of ok is left out (it is reported in the end packet only by the
// server that changed it).
func AppendResultEnd(b []byte, ok *OK, caps uint32) []byte {
	if caps&ClientDeprecateEOF == 0 {
		return AppendEOF(b, ok.Warnings, ok.Status&^StatusSessionStateChange)
	}
	st := ok.SessionState
	ok.SessionState = nil
	b = AppendOK(b, EOFHeader, ok, caps)
	ok.SessionState = st
	return b
}

// RowPacket tells what a packet read after a result set's column
// definitions is.
type RowPacket int

// Kinds of packet in a result set's rows.
const (
	RowData RowPacket = iota // a row (text or binary)
	RowEnd                   // the end: a classic EOF, or an OK with the EOF header
	RowErr                   // an ERR packet that cuts the result
)

// RowPacketKind classifies a packet of a result set's rows. A row never
// starts with 0xff, and starts with 0xfe only when it is 16 MiB or longer
// (a length-encoded value of 2^24 bytes or more), which IsEOF tells apart.
func RowPacketKind(p []byte) RowPacket {
	switch {
	case IsEOF(p):
		return RowEnd
	case IsErr(p):
		return RowErr
	}
	return RowData
}

// ParseResultEnd decodes the packet that ends a result set's rows (or a
// COM_FIELD_LIST response): a classic 5-byte EOF, or an OK packet with the
// EOF header under CLIENT_DEPRECATE_EOF. caps are the capabilities the
// sending connection negotiated.
func ParseResultEnd(p []byte, caps uint32) (OK, error) {
	if len(p) == 5 {
		var ok OK
		ok.Warnings, ok.Status = ParseEOF(p)
		return ok, nil
	}
	return ParseOK(p, caps)
}

// ParseColumnCount decodes the first packet of a result set: its number of
// columns.
func ParseColumnCount(p []byte) (int, error) {
	n, null, k := ReadLenEncInt(p)
	if k == 0 || null || n == 0 || n > 0xffff {
		return 0, ErrMalformed
	}
	return int(n), nil
}
