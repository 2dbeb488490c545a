// Package relay streams a backend's response to a client packet by packet,
// translating result-set framing where the two sides negotiated different
// capabilities (backends always use CLIENT_DEPRECATE_EOF). Rows are never
// buffered beyond the connections' write buffers.
package relay

import (
	"errors"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/protocol"
)

// ClientError wraps a failure to write to the client.
type ClientError struct{ Err error }

func (e *ClientError) Error() string { return "client: " + e.Err.Error() }
func (e *ClientError) Unwrap() error { return e.Err }

// BackendError wraps a failure to read from or write to the backend.
type BackendError struct{ Err error }

func (e *BackendError) Error() string { return "backend: " + e.Err.Error() }
func (e *BackendError) Unwrap() error { return e.Err }

// IsClientError reports whether err came from the client side.
func IsClientError(err error) bool {
	var ce *ClientError
	return errors.As(err, &ce)
}

// Outcome summarizes a relayed response.
type Outcome struct {
	// OK is the last OK (or end-of-result) packet.
	OK protocol.OK
	// Err is the server error relayed to the client, if any.
	Err *protocol.Error
	// Rows counts relayed rows.
	Rows int64
	// SessionState holds a copy of every session state block seen.
	SessionState [][]byte
	// Results counts result sets and OKs relayed.
	Results int
	// ResultSet: the last result was a result set (not a plain OK).
	ResultSet bool
}

// Relayer carries the scratch buffer used to re-encode packets.
type Relayer struct {
	buf []byte
	// Rename, when set, may rewrite the names of a relayed column
	// definition (physical to logical tables); it reports a change.
	Rename func(*protocol.ColumnDef) bool
	// Limit, when set, is asked after each relayed row (rows and bytes of
	// the result so far); an error ends the result there: Stop is called
	// (to kill the backend statement), the rest is read and dropped, and
	// the error is sent.
	Limit func(rows, bytes int64) *protocol.Error
	Stop  func()
}

// columnDef relays one column definition, renamed by r.Rename.
func (r *Relayer) columnDef(cl *protocol.Conn, be *backend.Conn, p []byte) error {
	if r.Rename != nil {
		if c, err := protocol.ParseColumnDef(p); err == nil && r.Rename(&c) {
			r.buf = protocol.AppendColumnDefNames(r.buf[:0], p, &c)
			p = r.buf
		}
	}
	return cl.WriteColumnDef(p, be.ExtCaps)
}

func (r *Relayer) writeOK(cl *protocol.Conn, caps uint32, header byte, ok *protocol.OK) error {
	if header == protocol.EOFHeader {
		r.buf = protocol.AppendResultEnd(r.buf[:0], ok, caps)
	} else {
		st := ok.SessionState
		ok.SessionState = nil
		r.buf = protocol.AppendOK(r.buf[:0], header, ok, caps)
		ok.SessionState = st
	}
	if err := cl.WritePacket(r.buf); err != nil {
		return &ClientError{err}
	}
	return nil
}

func (r *Relayer) writeEOF(cl *protocol.Conn, status uint16) error {
	r.buf = protocol.AppendEOF(r.buf[:0], 0, status&^protocol.StatusSessionStateChange)
	if err := cl.WritePacket(r.buf); err != nil {
		return &ClientError{err}
	}
	return nil
}

// forwardOK decodes an OK (or end-of-result) packet from the backend,
// records it in o and on be, and writes it to the client with the given
// header, re-encoded for the client's capabilities. A 5-byte packet is a
// classic EOF.
func (r *Relayer) forwardOK(cl *protocol.Conn, caps uint32, be *backend.Conn, p []byte, header byte, o *Outcome) (protocol.OK, error) {
	var ok protocol.OK
	var err error
	if header == protocol.EOFHeader {
		ok, err = protocol.ParseResultEnd(p, be.Caps)
	} else {
		ok, err = protocol.ParseOK(p, be.Caps)
	}
	if err != nil {
		be.MarkBroken()
		return ok, &BackendError{err}
	}
	be.Status = ok.Status
	o.noteOK(&ok)
	if err := r.writeOK(cl, caps, header, &ok); err != nil {
		be.MarkBroken()
		return ok, err
	}
	return ok, nil
}

func (o *Outcome) noteOK(ok *protocol.OK) {
	o.OK = *ok
	o.OK.Info = nil
	if len(ok.SessionState) > 0 {
		o.SessionState = append(o.SessionState, append([]byte(nil), ok.SessionState...))
	}
	o.OK.SessionState = nil
}

// Result relays the complete response to COM_QUERY or COM_STMT_EXECUTE
// (all result sets of a multi-result response). A server error is relayed
// and reported in Outcome.Err with a nil error.
func (r *Relayer) Result(cl *protocol.Conn, caps uint32, be *backend.Conn) (Outcome, error) {
	var o Outcome
	for {
		p, err := be.ReadPacket()
		if err != nil {
			be.MarkBroken()
			return o, &BackendError{err}
		}
		if len(p) == 0 {
			be.MarkBroken()
			return o, &BackendError{protocol.ErrMalformed}
		}
		switch {
		case protocol.IsErr(p):
			o.Err = protocol.ParseErr(p)
			if err := cl.WritePacket(p); err != nil {
				return o, &ClientError{err}
			}
			return o, nil
		case protocol.IsOK(p):
			ok, err := r.forwardOK(cl, caps, be, p, protocol.OKHeader, &o)
			if err != nil {
				return o, err
			}
			o.Results++
			o.ResultSet = false
			if ok.Status&protocol.StatusMoreResultsExists == 0 {
				return o, nil
			}
		case p[0] == protocol.LocalInfileHeader:
			// Switchyard refuses LOAD DATA LOCAL before it reaches a backend;
			// should one slip through, answer the request with no data.
			if err := be.WriteFlush(nil); err != nil {
				be.MarkBroken()
				return o, &BackendError{err}
			}
		default:
			more, err := r.resultSet(cl, caps, be, p, &o)
			if err != nil || !more {
				return o, err
			}
		}
	}
}

// resultSet relays one result set whose column-count packet is p.
func (r *Relayer) resultSet(cl *protocol.Conn, caps uint32, be *backend.Conn, p []byte, o *Outcome) (more bool, err error) {
	var bytes int64
	n, err := protocol.ParseColumnCount(p)
	if err != nil {
		be.MarkBroken()
		return false, &BackendError{err}
	}
	if err := cl.WritePacket(p); err != nil {
		be.MarkBroken()
		return false, &ClientError{err}
	}
	for i := 0; i < n; i++ {
		p, err := be.ReadPacket()
		if err != nil {
			be.MarkBroken()
			return false, &BackendError{err}
		}
		if err := r.columnDef(cl, be, p); err != nil {
			be.MarkBroken()
			return false, &ClientError{err}
		}
	}
	if caps&protocol.ClientDeprecateEOF == 0 {
		if err := r.writeEOF(cl, be.Status); err != nil {
			be.MarkBroken()
			return false, err
		}
	}
	for {
		p, err := be.ReadPacket()
		if err != nil {
			be.MarkBroken()
			return false, &BackendError{err}
		}
		switch protocol.RowPacketKind(p) {
		case protocol.RowEnd:
			ok, err := r.forwardOK(cl, caps, be, p, protocol.EOFHeader, o)
			if err != nil {
				return false, err
			}
			o.Results++
			o.ResultSet = true
			return ok.Status&protocol.StatusMoreResultsExists != 0, nil
		case protocol.RowErr:
			o.Err = protocol.ParseErr(p)
			if err := cl.WritePacket(p); err != nil {
				be.MarkBroken()
				return false, &ClientError{err}
			}
			return false, nil
		default:
			o.Rows++
			bytes += int64(len(p))
			if r.Limit != nil {
				if e := r.Limit(o.Rows, bytes); e != nil {
					return r.cutResult(cl, be, e, o)
				}
			}
			if err := cl.WritePacket(p); err != nil {
				be.MarkBroken()
				return false, &ClientError{err}
			}
		}
	}
}

// cutResult ends a result set at a limit: the backend statement is
// stopped and its remaining rows dropped, and the client gets e. A backend
// with further result sets is not read further (the connection is marked
// broken).
func (r *Relayer) cutResult(cl *protocol.Conn, be *backend.Conn, e *protocol.Error, o *Outcome) (bool, error) {
	if r.Stop != nil {
		r.Stop()
	}
	for {
		p, err := be.ReadPacket()
		if err != nil {
			be.MarkBroken()
			return false, &BackendError{err}
		}
		kind := protocol.RowPacketKind(p)
		if kind == protocol.RowEnd {
			ok, err := protocol.ParseResultEnd(p, be.Caps)
			if err != nil || ok.Status&protocol.StatusMoreResultsExists != 0 {
				be.MarkBroken()
			} else {
				be.Status = ok.Status
			}
		}
		if kind != protocol.RowData {
			break
		}
	}
	o.Rows--
	o.Err = e
	r.buf = protocol.AppendErr(r.buf[:0], e)
	if err := cl.WritePacket(r.buf); err != nil {
		return false, &ClientError{err}
	}
	return false, nil
}

// FieldList relays the response to COM_FIELD_LIST: column definitions and
// an end marker.
func (r *Relayer) FieldList(cl *protocol.Conn, caps uint32, be *backend.Conn) (Outcome, error) {
	var o Outcome
	for {
		p, err := be.ReadPacket()
		if err != nil {
			be.MarkBroken()
			return o, &BackendError{err}
		}
		switch protocol.RowPacketKind(p) {
		case protocol.RowErr:
			o.Err = protocol.ParseErr(p)
			if err := cl.WritePacket(p); err != nil {
				return o, &ClientError{err}
			}
			return o, nil
		case protocol.RowEnd:
			_, err := r.forwardOK(cl, caps, be, p, protocol.EOFHeader, &o)
			return o, err
		default:
			if err := r.columnDef(cl, be, p); err != nil {
				be.MarkBroken()
				return o, &ClientError{err}
			}
		}
	}
}
