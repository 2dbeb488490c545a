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
func (s *Session) evalGlobal(sp *router.ShardPlan) (failed bool) {
	if sp.Eval == nil || len(sp.Steps) == 0 {
		return false
	}
	slice := s.ns.Slices[sp.Steps[0].Slice]
	c, node, err := s.getPrimary(slice)
	if err != nil {
		s.writeErr(toProtoErr(err))
		return true
	}
	_, rows, err := c.QueryRows(sp.Eval.SQL)
	if err != nil {
		if c.Broken() {
			s.writeErr(s.lost(c, node, &relay.BackendError{Err: err}))
			return true
		}
		s.release(c, node)
		s.writeErr(toProtoErr(err))
		return true
	}
	s.release(c, node)
	if len(rows) != 1 {
		s.writeErr(protocol.NewError(protocol.ErrUnknown, "HY000", "evaluating values for the copies of a global table: %d rows", len(rows)))
		return true
	}
	if err := sp.Eval.Apply(sp.Steps, rows[0]); err != nil {
		s.writeErr(protocol.NewError(protocol.ErrUnknown, "HY000", "%v", err))
		return true
	}
	sp.Eval = nil
	return false
}
