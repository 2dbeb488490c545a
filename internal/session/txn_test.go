package session

import (
	"errors"
	"testing"

	"github.com/switchyard-db/switchyard/internal/backend"
)

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

// TestTxnStateParticipants walks joining, leaving, dooming and the end of
// a transaction over several slices.
func TestTxnStateParticipants(t *testing.T) {
	c1, c2, other := &backend.Conn{}, &backend.Conn{}, &backend.Conn{}
	var x txnState
	x.hold(true)
	x.started()
	x.join("s1", c1, nil)
	x.join("s2", c2, nil)
	if !x.distributed() || !x.isPart(c1) || !x.isPart(c2) || x.isPart(other) {
		t.Fatalf("after joins: distributed %v isPart %v %v %v", x.distributed(), x.isPart(c1), x.isPart(c2), x.isPart(other))
	}
	if p, ok := x.part("s2"); !ok || p.c != c2 {
		t.Errorf("part s2: %v %v", p, ok)
	}
	x.noteTxnFlag(false)
	if !x.readOnly {
		t.Error("READ ONLY ended while participants remain")
	}
	x.leave("s2")
	x.leaveConn(c1)
	if x.distributed() || x.isPart(c1) || x.isPart(c2) {
		t.Errorf("after leaving: %+v", x)
	}
	first, second := errors.New("first"), errors.New("second")
	x.doom(first)
	x.doom(second)
	if x.doomed != first {
		t.Errorf("doomed %v, want the first cause", x.doomed)
	}
	x.noteTxnFlag(true)
	if !x.readOnly {
		t.Error("READ ONLY ended inside the transaction")
	}
	x.noteTxnFlag(false)
	if x.readOnly {
		t.Error("READ ONLY outlived the transaction")
	}
	x.ended()
	if x.doomed != nil || x.distributed() || x.readOnly {
		t.Errorf("after ended: %+v", x)
	}
	x.holdImplicit()
	x.implicitDone()
	if x.implicit || !x.held() {
		t.Errorf("implicitDone: implicit %v held %v", x.implicit, x.held())
	}
}
