package session

import (
	"testing"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/router"
	"github.com/switchyard-db/switchyard/internal/topology"
)

// TestPinStatementDone walks what the session does after every statement
// (statementDone, then settle) from a table of states and outcomes.
func TestPinStatementDone(t *testing.T) {
	s0 := &topology.Slice{Name: "s0"}
	node := &topology.Node{Addr: "a", Slice: s0}
	const (
		none   = iota // no connection pinned
		pinned        // the statement ran on the pinned connection
		pooled        // the statement ran on a pooled connection
	)
	cases := []struct {
		name         string
		start        int // none or pinned
		reasons      router.Pin
		sawTxn       bool
		pin, unpin   router.Pin
		failed       bool // the statement failed without results
		inTrans      bool // the server's flag after it
		wantPinned   int  // none, pinned or pooled
		wantReasons  router.Pin
		wantSawTxn   bool
		wantGiveBack bool
	}{
		{name: "plain read", start: none, wantPinned: none, wantGiveBack: true},
		{name: "user variable pins", start: none, pin: router.PinUserVar, wantPinned: pooled, wantReasons: router.PinUserVar},
		{name: "failed pin statement pins nothing", start: none, pin: router.PinUserVar, failed: true, wantPinned: none, wantGiveBack: true},
		{name: "BEGIN pins", start: none, inTrans: true, wantPinned: pooled, wantSawTxn: true},
		{name: "statement in a transaction keeps it", start: pinned, sawTxn: true, inTrans: true, wantPinned: pinned, wantSawTxn: true},
		{name: "COMMIT unpins", start: pinned, sawTxn: true, wantPinned: none, wantGiveBack: true},
		{name: "COMMIT keeps a user variable", start: pinned, reasons: router.PinUserVar, sawTxn: true, wantPinned: pinned, wantReasons: router.PinUserVar},
		{name: "UNLOCK TABLES unpins", start: pinned, reasons: router.PinLockTables, unpin: router.PinLockTables, wantPinned: none, wantGiveBack: true},
		{name: "UNLOCK TABLES keeps GET_LOCK", start: pinned, reasons: router.PinLockTables | router.PinLockFunc, unpin: router.PinLockTables, wantPinned: pinned, wantReasons: router.PinLockFunc},
		{name: "failed UNLOCK TABLES still unlocks", start: pinned, reasons: router.PinLockTables, unpin: router.PinLockTables, failed: true, wantPinned: none, wantGiveBack: true},
		{name: "SET TRANSACTION waits for the transaction", start: pinned, reasons: router.PinNextTxn, wantPinned: pinned, wantReasons: router.PinNextTxn},
		{name: "the next transaction starts", start: pinned, reasons: router.PinNextTxn, inTrans: true, wantPinned: pinned, wantReasons: router.PinNextTxn, wantSawTxn: true},
		{name: "the next transaction ends", start: pinned, reasons: router.PinNextTxn, sawTxn: true, wantPinned: none, wantGiveBack: true},
		{name: "its end keeps other reasons", start: pinned, reasons: router.PinNextTxn | router.PinTempTable, sawTxn: true, wantPinned: pinned, wantReasons: router.PinTempTable},
		{name: "READ ONLY transaction starts", start: none, pin: router.PinReadOnlyTxn, inTrans: true, wantPinned: pooled, wantReasons: router.PinReadOnlyTxn, wantSawTxn: true},
		{name: "READ ONLY that opened nothing", start: none, pin: router.PinReadOnlyTxn, wantPinned: none, wantGiveBack: true},
		{name: "READ ONLY transaction ends", start: pinned, reasons: router.PinReadOnlyTxn, sawTxn: true, wantPinned: none, wantGiveBack: true},
		{name: "temporary table on the pinned connection", start: pinned, reasons: router.PinUserVar, pin: router.PinTempTable, wantPinned: pinned, wantReasons: router.PinUserVar | router.PinTempTable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old, fresh := &backend.Conn{}, &backend.Conn{}
			var p pinState
			if tc.start == pinned {
				p.pin(old, node)
				p.addReasons(tc.reasons)
				p.noteTxnFlag(tc.sawTxn)
			}
			c := fresh
			if tc.start == pinned {
				c = old
			}
			if tc.inTrans {
				c.Status |= protocol.StatusInTrans
			}
			p.statementDone(tc.pin, tc.unpin, !tc.failed, tc.inTrans)
			giveBack := p.settle(c, node, tc.inTrans)
			want := map[int]*backend.Conn{none: nil, pinned: old, pooled: fresh}[tc.wantPinned]
			if p.conn() != want {
				t.Errorf("pinned %p, want %p (old %p, fresh %p)", p.conn(), want, old, fresh)
			}
			if want != nil && p.pinnedNode() != node {
				t.Errorf("pinned node %v, want %v", p.pinnedNode(), node)
			}
			if p.reasons != tc.wantReasons || p.sawTxn != tc.wantSawTxn || giveBack != tc.wantGiveBack {
				t.Errorf("reasons %v sawTxn %v giveBack %v, want %v %v %v", p.reasons, p.sawTxn, giveBack, tc.wantReasons, tc.wantSawTxn, tc.wantGiveBack)
			}
			if !p.active() && (p.reasons != 0 || p.sawTxn) {
				t.Errorf("nothing pinned, but reasons %v sawTxn %v", p.reasons, p.sawTxn)
			}
		})
	}
}

// TestPinUnpin: unpin gives back the connection and says whether it
// carries state a reset must clear.
func TestPinUnpin(t *testing.T) {
	node := &topology.Node{Addr: "a", Slice: &topology.Slice{Name: "s0"}}
	cases := []struct {
		name      string
		pinned    bool
		reasons   router.Pin
		inTrans   bool
		wantDirty bool
	}{
		{name: "nothing pinned"},
		{name: "clean", pinned: true},
		{name: "reason", pinned: true, reasons: router.PinTempTable, wantDirty: true},
		{name: "open transaction", pinned: true, inTrans: true, wantDirty: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p pinState
			c := &backend.Conn{}
			if tc.inTrans {
				c.Status = protocol.StatusInTrans
			}
			if tc.pinned {
				p.pin(c, node)
				p.addReasons(tc.reasons)
				p.noteTxnFlag(tc.inTrans)
			}
			got, gotNode, dirty := p.unpin()
			if tc.pinned && (got != c || gotNode != node) || !tc.pinned && (got != nil || gotNode != nil) {
				t.Errorf("unpin gave %p %v", got, gotNode)
			}
			if dirty != tc.wantDirty {
				t.Errorf("dirty %v, want %v", dirty, tc.wantDirty)
			}
			if p != (pinState{}) {
				t.Errorf("after unpin: %+v", p)
			}
		})
	}
}

// TestPinQueries: the read-only accessors follow the transitions.
func TestPinQueries(t *testing.T) {
	s0, s1 := &topology.Slice{Name: "s0"}, &topology.Slice{Name: "s1"}
	node := &topology.Node{Addr: "a", Slice: s0}
	c, other := &backend.Conn{}, &backend.Conn{}
	var p pinState
	if p.active() || p.holds(nil) || p.holds(c) || p.pinnedTo(s0) || p.inTxn() || p.hasReasons() {
		t.Fatalf("zero pinState: %+v", p)
	}
	p.pin(c, node)
	if !p.active() || !p.holds(c) || p.holds(other) || !p.pinnedTo(s0) || p.pinnedTo(s1) || p.inTxn() {
		t.Errorf("pinned on s0: active %v holds %v/%v pinnedTo %v/%v inTxn %v",
			p.active(), p.holds(c), p.holds(other), p.pinnedTo(s0), p.pinnedTo(s1), p.inTxn())
	}
	c.Status = protocol.StatusInTrans
	if !p.inTxn() {
		t.Error("inTxn does not follow the connection's status")
	}
	p.addReasons(router.PinLockTables | router.PinUserVar)
	p.clearReasons(router.PinLockTables)
	if !p.hasReasons() || p.reasons != router.PinUserVar {
		t.Errorf("reasons %v, want %v", p.reasons, router.PinUserVar)
	}
}
