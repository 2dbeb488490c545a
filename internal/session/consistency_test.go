package session

import (
	"testing"

	"github.com/switchyard-db/switchyard/internal/router"
)

// TestConsistencyLevels: the router's levels are the session's (the plan
// carries the level a replica read needs; metrics count by the same
// numbers).
func TestConsistencyLevels(t *testing.T) {
	for _, c := range []struct {
		r router.Consistency
		l int
	}{{router.ConsistencyEventual, levelEventual}, {router.ConsistencySession, levelSession}, {router.ConsistencyGlobal, levelGlobal}} {
		if int(c.r) != c.l || c.r.String() != levelNames[c.l] {
			t.Errorf("router level %v (%d) is session level %s (%d)", c.r, c.r, levelNames[c.l], c.l)
		}
	}
}
