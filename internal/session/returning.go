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
	cols   []protocol.ColumnDef // column definitions of the first step
	rows   [][][]byte           // per step
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
	var r backend.Result
	if err := c.ReadResult(&r); err != nil {
		return protocol.OK{}, err
	}
	if len(r.Cols) == 0 {
		return r.OK, nil
	}
	var rows [][]byte
	for {
		p, err := r.Next()
		if err != nil {
			return protocol.OK{}, err
		}
		if p == nil {
			break
		}
		rows = append(rows, append([]byte(nil), p...))
	}
	if s.ret.cols == nil {
		s.ret.cols = r.Cols
	}
	if i < len(s.ret.rows) {
		s.ret.rows[i] = rows
	}
	ok := r.OK
	ok.AffectedRows = uint64(len(rows))
	return ok, nil
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
	cols := r.cols
	for i := range cols {
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
