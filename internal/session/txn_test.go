package session

import "testing"

// TestTxnStateTransitions walks the named transitions of txnState.
func TestTxnStateTransitions(t *testing.T) {
	type want struct {
		held, readOnly, implicit, distributed bool
		pending                               string
	}
	check := func(step string, x *txnState, w want) {
		t.Helper()
		got := want{x.held(), x.readOnly, x.implicit, x.distributed(), x.pending}
		if got != w {
			t.Errorf("after %s: %+v, want %+v", step, got, w)
		}
	}
	var x txnState
	check("zero", &x, want{})
	x.hold(false)
	check("hold", &x, want{held: true, pending: "BEGIN"})
	x.started()
	check("started", &x, want{})
	x.hold(true)
	check("hold read-only", &x, want{held: true, pending: "START TRANSACTION READ ONLY"})
	x.started()
	check("started read-only", &x, want{readOnly: true})
	x.parts = map[string]part{"s1": {}}
	check("joined", &x, want{readOnly: true, distributed: true})
	x.ended()
	check("ended", &x, want{})
	x.holdImplicit()
	check("implicit", &x, want{held: true, implicit: true, pending: "BEGIN"})
	x.dropHeld()
	check("dropped", &x, want{})
	x.hold(true)
	x.dropHeld()
	check("dropped read-only", &x, want{})
}
