package session

import (
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/relay"
	"github.com/switchyard-db/switchyard/internal/router"
)

// evalGlobal evaluates, once, the non-deterministic values of a write to
// the copies of a global table (NOW(), UUID(), @@hostname ...) on a
// connection to the first copy's primary, brought in step with the
// session (its time zone, its variables), and puts the same literals into
// every copy's statement. It reports whether it failed (the error was
// sent).
func (s *Session) evalGlobal(sp *router.Write) (*router.Write, bool) {
	if sp.Eval == nil || len(sp.Steps) == 0 {
		return sp, false
	}
	slice := s.ns.Slices[sp.Steps[0].Slice]
	c, node, err := s.getPrimary(slice)
	if err != nil {
		s.writeErr(toProtoErr(err))
		return nil, true
	}
	_, rows, err := c.QueryRows(sp.Eval.SQL)
	if err != nil {
		if c.Broken() {
			s.writeErr(s.lost(c, node, &relay.BackendError{Err: err}))
			return nil, true
		}
		s.release(c, node)
		s.writeErr(toProtoErr(err))
		return nil, true
	}
	s.release(c, node)
	if len(rows) != 1 {
		s.writeErr(protocol.NewError(protocol.ErrUnknown, "HY000", "evaluating values for the copies of a global table: %d rows", len(rows)))
		return nil, true
	}
	// The plan is shared (a prepared statement's); the evaluated
	// statements are this execution's own.
	w := *sp
	w.Steps = append([]router.Step(nil), sp.Steps...)
	w.Eval = nil
	if err := sp.Eval.Apply(w.Steps, rows[0]); err != nil {
		s.writeErr(protocol.NewError(protocol.ErrUnknown, "HY000", "%v", err))
		return nil, true
	}
	return &w, false
}
