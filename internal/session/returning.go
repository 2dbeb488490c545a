package session

import (
	"errors"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/router"
)

// returning collects the rows of the physical statements of an INSERT ...
// RETURNING over sharded tables (router.Write.Returning); the write
// itself runs like any other (runWrite: one statement, or all-or-nothing
// over several tables).
type returning struct {
	binary bool
	cols   [][]byte   // column definitions of the first step
	rows   [][][]byte // per step
}

// runReturning executes an INSERT ... RETURNING plan and answers the
// returned rows in the order of the statement's rows.
func (s *Session) runReturning(a *router.Analysis, sp *router.Write, binary bool) (failed bool) {
	s.ret = &returning{binary: binary, rows: make([][][]byte, len(sp.Steps))}
	defer func() { s.ret = nil }()
	return s.runWrite(a, sp)
}

// execStep runs physical statement i of a write: c.Exec, or for INSERT ...
// RETURNING a read of its result set into s.ret.
func (s *Session) execStep(c *backend.Conn, i int, sql string) (protocol.OK, error) {
	if s.ret == nil {
		return c.Exec(sql)
	}
	c.Seq = 0
	s.buf = append(s.buf[:0], protocol.ComQuery)
	s.buf = append(s.buf, sql...)
	if err := c.WriteFlush(s.buf); err != nil {
		c.MarkBroken()
		return protocol.OK{}, err
	}
	read := func() ([]byte, error) {
		p, err := c.ReadPacket()
		if err != nil {
			c.MarkBroken()
			return nil, err
		}
		if len(p) == 0 {
			c.MarkBroken()
			return nil, protocol.ErrMalformed
		}
		return p, nil
	}
	p, err := read()
	if err != nil {
		return protocol.OK{}, err
	}
	switch {
	case protocol.IsErr(p):
		return protocol.OK{}, protocol.ParseErr(p)
	case protocol.IsOK(p):
		ok, err := protocol.ParseOK(p, c.Caps)
		c.Status = ok.Status
		return ok, err
	}
	n, _, k := protocol.ReadLenEncInt(p)
	if k == 0 {
		c.MarkBroken()
		return protocol.OK{}, protocol.ErrMalformed
	}
	var cols [][]byte
	for j := uint64(0); j < n; j++ {
		p, err := read()
		if err != nil {
			return protocol.OK{}, err
		}
		// A parsed and re-encoded definition: the backend's extended type
		// info is kept, the client's capabilities decide at the end.
		cd, err := protocol.ParseColumnDef(p)
		if err != nil {
			c.MarkBroken()
			return protocol.OK{}, err
		}
		cols = append(cols, protocol.AppendColumnDefExt(nil, &cd, protocol.MariaDBClientExtendedMetadata))
	}
	var rows [][]byte
	for {
		p, err := read()
		if err != nil {
			return protocol.OK{}, err
		}
		if protocol.IsErr(p) {
			return protocol.OK{}, protocol.ParseErr(p)
		}
		if protocol.IsEOF(p) {
			ok, err := protocol.ParseOK(p, c.Caps)
			if err != nil {
				c.MarkBroken()
				return ok, err
			}
			c.Status = ok.Status
			if s.ret.cols == nil {
				s.ret.cols = cols
			}
			if i < len(s.ret.rows) {
				s.ret.rows[i] = rows
			}
			ok.AffectedRows = uint64(len(rows))
			return ok, nil
		}
		rows = append(rows, append([]byte(nil), p...))
	}
}

// writeReturning answers the rows an INSERT ... RETURNING returned, in the
// order of the statement's rows when every step returned one row per row
// it inserted (else step by step).
func (s *Session) writeReturning(sp *router.Write) {
	r := s.ret
	var rows [][]byte
	inOrder := len(sp.Rows) == len(r.rows) && len(r.rows) > 1
	total := 0
	for i, rs := range r.rows {
		total += len(rs)
		if inOrder && len(rs) != len(sp.Rows[i]) {
			inOrder = false
		}
	}
	if inOrder {
		rows = make([][]byte, total)
		for i, rs := range r.rows {
			for j, row := range rs {
				if n := sp.Rows[i][j]; n < total {
					rows[n] = row
				} else {
					inOrder = false
				}
			}
		}
		for _, row := range rows {
			if row == nil {
				inOrder = false
			}
		}
	}
	if !inOrder {
		rows = rows[:0]
		for _, rs := range r.rows {
			rows = append(rows, rs...)
		}
	}
	cols := make([]protocol.ColumnDef, len(r.cols))
	for i, p := range r.cols {
		cols[i], _ = protocol.ParseColumnDef(p)
		s.logicalColumn(&cols[i])
	}
	w := s.result(r.binary)
	w.Begin(cols, s.status())
	for _, row := range rows {
		if err := w.Row(row); err != nil {
			var pe *protocol.Error
			if errors.As(err, &pe) {
				s.writeErr(protocol.NewError(protocol.ErrUnknown, "HY000", "re-encoding a RETURNING row: %v", err))
			}
			return
		}
	}
	s.rowCount, s.foundRows = int64(len(rows)), uint64(len(rows))
	w.End(s.status(), 0)
}
