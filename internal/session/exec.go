package session

import (
	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/router"
)

// exec is the one executor of a planned statement, for COM_QUERY and
// COM_STMT_EXECUTE alike: a plan tree (tables with rules) runs by its
// root's type, a refusal is answered, a statement the proxy answers itself
// is answered, and anything else runs on the connection the plan names,
// written by send (the text statement, or the backend prepared statement's
// execution; for a plan tree, the execution of a Prepared root; unused
// for other trees, whose physical statements the plan holds). binary says
// how proxy-made rows are encoded. It returns
// whether the statement failed and a non-nil error when the client is
// gone.
func (s *Session) exec(plan *router.Plan, binary bool, send func(*backend.Conn) error) (failed bool, clientErr error) {
	switch {
	case plan.Root != nil:
		return s.runSharded(plan, binary, send)
	case plan.Target == router.TargetError:
		s.writeErr(plan.Err)
		return true, nil
	case plan.Target == router.TargetProxy:
		return !s.local(plan, binary), nil
	}
	// A text statement may carry a GTID wait in the same flush.
	return s.run(plan, !binary, send)
}
