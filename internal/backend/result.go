package backend

import "github.com/switchyard-db/switchyard/internal/protocol"

// Result reads one result set from a backend connection: its column
// definitions, then its rows up to the packet that ends them. Every reader
// of whole backend results uses it (internal queries, merge inputs,
// RETURNING rows, metadata); the relay streams the same framing
// (protocol.ParseColumnCount, RowPacketKind, ParseResultEnd) packet by
// packet to the client.
type Result struct {
	// Cols are the column definitions; empty when the statement answered
	// an OK instead of a result set.
	Cols []protocol.ColumnDef
	// OK is the statement's OK when it returned no result set, or the
	// packet that ended the rows once Next returned no row.
	OK protocol.OK

	c    *Conn
	done bool
}

// ReadResult reads the start of the response to a statement sent on c: an
// OK (r.Cols empty, r.OK set, nothing more to read in this result), or the
// column count and definitions of a result set, whose rows Next reads. A
// server error is a *protocol.Error and leaves c usable; any other error
// marks c broken.
func (c *Conn) ReadResult(r *Result) error {
	return c.readResult(r, true)
}

// readResult is ReadResult; without parse the column definitions are
// read and dropped.
func (c *Conn) readResult(r *Result, parse bool) error {
	*r = Result{c: c}
	p, err := c.ReadPacket()
	if err != nil {
		c.broken = true
		return err
	}
	switch {
	case len(p) == 0:
		c.broken = true
		return protocol.ErrMalformed
	case protocol.IsErr(p):
		r.done = true
		return protocol.ParseErr(p)
	case protocol.IsOK(p):
		r.done = true
		if r.OK, err = protocol.ParseOK(p, c.Caps); err != nil {
			c.broken = true
			return err
		}
		c.Status = r.OK.Status
		return nil
	case p[0] == protocol.LocalInfileHeader:
		// Switchyard refuses LOAD DATA LOCAL before it reaches a backend;
		// should one slip through, answer with no data.
		if err := c.WriteFlush(nil); err != nil {
			c.broken = true
			return err
		}
		return c.readResult(r, parse)
	}
	n, err := protocol.ParseColumnCount(p)
	if err != nil {
		c.broken = true
		return err
	}
	for i := 0; i < n; i++ {
		p, err := c.ReadPacket()
		if err != nil {
			c.broken = true
			return err
		}
		if !parse {
			continue
		}
		cd, err := protocol.ParseColumnDef(p)
		if err != nil {
			c.broken = true
			return err
		}
		r.Cols = append(r.Cols, cd)
	}
	return nil
}

// Next returns the next row of the result (its payload, valid until the
// connection reads again), or nil once the rows ended; r.OK then holds the
// end packet and the connection's Status its status. A server error that
// cuts the result is a *protocol.Error (c stays usable); any other error
// marks c broken.
func (r *Result) Next() ([]byte, error) {
	if r.done || r.c == nil {
		return nil, nil
	}
	c := r.c
	p, err := c.ReadPacket()
	if err != nil {
		c.broken = true
		return nil, err
	}
	switch protocol.RowPacketKind(p) {
	case protocol.RowEnd:
		r.done = true
		if r.OK, err = protocol.ParseResultEnd(p, c.Caps); err != nil {
			c.broken = true
			return nil, err
		}
		c.Status = r.OK.Status
		return nil, nil
	case protocol.RowErr:
		r.done = true
		return nil, protocol.ParseErr(p)
	}
	return p, nil
}

// Done reports whether the result was read to its end.
func (r *Result) Done() bool { return r.done }

// More reports whether another result follows this one.
func (r *Result) More() bool { return r.OK.Status&protocol.StatusMoreResultsExists != 0 }

// Drain reads and drops what is left of the rows, at most limit of them;
// past the limit the connection is marked broken instead (closing it is
// cheaper than reading a long remainder). A server error ends it too.
func (r *Result) Drain(limit int) {
	for i := 0; !r.done && i < limit; i++ {
		if _, err := r.Next(); err != nil {
			return
		}
	}
	if !r.done {
		r.c.broken = true
	}
}
