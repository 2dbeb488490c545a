package session

import (
	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/router"
	"github.com/switchyard-db/switchyard/internal/topology"
)

// pinState is the backend connection a session keeps between statements
// (in a transaction over several slices, the first slice's) and why it
// keeps it. Only its transitions change it; the session reads it through
// its queries.
type pinState struct {
	c    *backend.Conn
	node *topology.Node
	// reasons: connection-bound state besides a transaction (user
	// variables, LOCK TABLES, GET_LOCK, temporary tables ...).
	reasons router.Pin
	// sawTxn: the server reported a transaction open on c; when it ends,
	// the reasons that last one transaction (SET TRANSACTION, READ ONLY)
	// end with it.
	sawTxn bool
}

// conn is the pinned connection (nil: none) and node its node.
func (p *pinState) conn() *backend.Conn        { return p.c }
func (p *pinState) pinnedNode() *topology.Node { return p.node }

// active reports a pinned connection.
func (p *pinState) active() bool { return p.c != nil }

// holds reports whether c is the pinned connection.
func (p *pinState) holds(c *backend.Conn) bool { return p.c != nil && p.c == c }

// pinnedTo reports a pinned connection on slice.
func (p *pinState) pinnedTo(slice *topology.Slice) bool { return p.c != nil && p.node.Slice == slice }

// inTxn reports a transaction open on the pinned connection, as its server
// last reported.
func (p *pinState) inTxn() bool { return p.c != nil && p.c.Status&protocol.StatusInTrans != 0 }

// hasReasons reports connection-bound state besides a transaction.
func (p *pinState) hasReasons() bool { return p.reasons != 0 }

// pin keeps c (of node) for the next statements. Reasons are unchanged.
func (p *pinState) pin(c *backend.Conn, node *topology.Node) { p.c, p.node = c, node }

// addReasons records state a statement bound to the connection (a plan's
// Pin).
func (p *pinState) addReasons(r router.Pin) { p.reasons |= r }

// clearReasons forgets state a statement released (a plan's Unpin).
func (p *pinState) clearReasons(r router.Pin) { p.reasons &^= r }

// noteTxnFlag follows the in-transaction flag of the server's answer: the
// end of a transaction ends the reasons that last one transaction.
func (p *pinState) noteTxnFlag(inTrans bool) {
	if inTrans {
		p.sawTxn = true
	} else if p.sawTxn {
		p.reasons &^= router.PinNextTxn | router.PinReadOnlyTxn
		p.sawTxn = false
	}
}

// statementDone applies a statement's outcome: its plan's reasons when it
// took effect (applied), the reasons it released, and the server's
// in-transaction flag. A START TRANSACTION READ ONLY that opened no
// transaction leaves no reason.
func (p *pinState) statementDone(pin, unpin router.Pin, applied, inTrans bool) {
	if applied {
		p.addReasons(pin)
	}
	p.clearReasons(unpin)
	p.noteTxnFlag(inTrans)
	if pin&router.PinReadOnlyTxn != 0 && !inTrans {
		p.clearReasons(router.PinReadOnlyTxn)
	}
}

// settle decides, after statementDone, whether c (of node), which served
// the statement, stays: the pinned connection is let go when no
// transaction and no reason holds it; another connection is pinned when
// one does. giveBack reports that c goes back to its pool.
func (p *pinState) settle(c *backend.Conn, node *topology.Node, inTrans bool) (giveBack bool) {
	if p.holds(c) {
		if !inTrans && p.reasons == 0 {
			p.c, p.node = nil, nil
			return true
		}
		return false
	}
	if inTrans || p.reasons != 0 {
		// The statement opened connection-bound state on a pooled
		// connection (e.g. a statement the parser did not understand).
		p.pin(c, node)
		return false
	}
	return true
}

// unpin lets the pinned connection go with every reason. It returns the
// connection to give back (nil: none), its node, and whether it carries
// state a reset must clear (a reason or an open transaction).
func (p *pinState) unpin() (c *backend.Conn, node *topology.Node, dirty bool) {
	c, node = p.c, p.node
	dirty = c != nil && (p.reasons != 0 || c.Status&protocol.StatusInTrans != 0)
	*p = pinState{}
	return c, node, dirty
}
