package router

import (
	"fmt"
	"strings"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// Node is one operator of the plan tree of a statement on tables with
// sharding rules. Each variant says everything the router decided about
// it; the executor runs a node by its type and patches nothing:
//
//   - *Refuse: nothing runs, the client gets the error.
//   - *Route: one physical statement, relayed as the backend answers.
//   - *Prepared: one execution of a statement prepared on the backend
//     (a Template placed by its key parameter), relayed as it answers.
//   - *Merge: a SELECT on several physical tables, merged by the proxy.
//   - *Write: one write in parts (or with generated IDs) that all apply or
//     none.
//   - *Fanout: DDL applied to every physical table, answered with one OK.
//   - *Meta: a metadata statement whose result names physical tables the
//     client knows by their logical names.
//   - *Explain: the proxy answers with the plan of the statement it names.
//
// Nodes that combine others (proxy-side joins, unions, derived tables)
// are new variants holding their inputs as children, the way Explain holds
// the plan it describes.
type Node interface {
	// Physical returns the node's physical statements, in order.
	Physical() []Step
	// Words spells the node for a reader: one line per fact, without its
	// physical statements.
	Words() []string
	node()
}

// Refuse is a statement that does not run.
type Refuse struct {
	// Err says precisely what is not supported (or what is wrong).
	Err *protocol.Error
}

// Route is one physical statement whose result the client gets as it is.
type Route struct {
	Step Step
}

// Prepared is one execution of a Template: the physical statement Step
// was prepared on the backend, and runs there with the client's
// parameters; its binary result is relayed as it is.
type Prepared struct {
	Step Step
}

// Merge is a SELECT run on every step; the proxy merges the results as
// Scatter describes.
type Merge struct {
	Steps   []Step
	Scatter *Scatter
}

// Write is one write in parts: rows of an INSERT placed on several
// tables, an UPDATE/DELETE reaching several tables, a write to every copy
// of a global table, or a write with IDs the proxy generated. Every part
// applies or none does.
type Write struct {
	Steps []Step
	// Global: a write to every copy of a global table; the client sees the
	// affected rows of one copy.
	Global bool
	// Eval: values to evaluate once before a global write (see
	// GlobalEval); nil when there are none.
	Eval *GlobalEval
	// InsertID is the first ID the proxy generated for the INSERT (0: none).
	InsertID uint64
	// Rows: for an INSERT split over several tables, the statement's row
	// numbers (from 0) each step inserts, in order.
	Rows [][]int
	// Returning is the RETURNING list of an INSERT/REPLACE ... RETURNING
	// (each step carries it too): the executor answers the returned rows.
	Returning string
}

// Fanout is DDL applied to every physical table; the results combine into
// one OK.
type Fanout struct {
	Steps []Step
}

// Meta is a metadata statement (SHOW, information_schema) whose result the
// proxy rewrites: exactly one of Rename, ShowTables and Listing is set.
type Meta struct {
	Steps []Step
	// Rename: the result names a physical table the client knows by its
	// logical name.
	Rename *Rename
	// ShowTables: SHOW TABLES (or DATABASES) in a database with rules.
	ShowTables *ShowTables
	// Listing: a listing of tables showing logical tables.
	Listing *Listing
}

// Explain answers EXPLAIN of a statement: one row per physical statement
// of Of.
type Explain struct {
	Of Node
	// Analysis is the analysis of the statement EXPLAIN names.
	Analysis *Analysis
}

func (*Refuse) node()   {}
func (*Route) node()    {}
func (*Prepared) node() {}
func (*Merge) node()    {}
func (*Write) node()    {}
func (*Fanout) node()   {}
func (*Meta) node()     {}
func (*Explain) node()  {}

// Physical implements Node.
func (*Refuse) Physical() []Step { return nil }

// Physical implements Node.
func (n *Route) Physical() []Step { return []Step{n.Step} }

// Physical implements Node.
func (n *Prepared) Physical() []Step { return []Step{n.Step} }

// Physical implements Node.
func (n *Merge) Physical() []Step { return n.Steps }

// Physical implements Node.
func (n *Write) Physical() []Step { return n.Steps }

// Physical implements Node.
func (n *Fanout) Physical() []Step { return n.Steps }

// Physical implements Node.
func (n *Meta) Physical() []Step { return n.Steps }

// Physical implements Node.
func (n *Explain) Physical() []Step { return nil }

// Words implements Node.
func (n *Refuse) Words() []string {
	return []string{fmt.Sprintf("refused: error %d (%s) %s", n.Err.Code, n.Err.State, n.Err.Message)}
}

// Words implements Node.
func (n *Route) Words() []string {
	return []string{"one physical statement, its result relayed as it is"}
}

// Words implements Node.
func (n *Prepared) Words() []string {
	return []string{"one execution of the statement prepared on the backend, its binary result relayed as it is"}
}

// Words implements Node.
func (n *Merge) Words() []string {
	return append([]string{fmt.Sprintf("merge of %d physical results: %s", len(n.Steps), n.Scatter)}, n.Scatter.Words()...)
}

// Words implements Node.
func (n *Write) Words() []string {
	var w []string
	switch {
	case n.Global:
		w = append(w, fmt.Sprintf("write to every copy of a global table (%d copies, all or none); the client gets one copy's affected rows", len(n.Steps)))
	case len(n.Steps) > 1:
		w = append(w, fmt.Sprintf("write in %d parts, all or none; affected rows are summed", len(n.Steps)))
	default:
		w = append(w, "one physical write")
	}
	if n.Eval != nil {
		w = append(w, "values evaluated once before the write: "+n.Eval.SQL)
	}
	if n.InsertID != 0 {
		w = append(w, fmt.Sprintf("generated IDs from %d (LAST_INSERT_ID)", n.InsertID))
	}
	if len(n.Rows) > 0 && len(n.Steps) > 1 {
		parts := make([]string, len(n.Rows))
		for i, rows := range n.Rows {
			parts[i] = strings.Trim(fmt.Sprint(rows), "[]")
		}
		w = append(w, "rows per part (from 0): "+strings.Join(parts, " | "))
	}
	if n.Returning != "" {
		w = append(w, "the proxy answers the rows RETURNING "+n.Returning)
	}
	return w
}

// Words implements Node.
func (n *Fanout) Words() []string {
	return []string{fmt.Sprintf("fan-out to %d physical tables, one OK", len(n.Steps))}
}

// Words implements Node.
func (n *Meta) Words() []string {
	switch {
	case n.Rename != nil:
		return []string{fmt.Sprintf("metadata: the result's %s reads %s", n.Rename.Physical, n.Rename.Logical)}
	case n.ShowTables != nil:
		return []string{fmt.Sprintf("table list: adds %v like %q", n.ShowTables.Add, n.ShowTables.Like)}
	case n.Listing != nil:
		return []string{fmt.Sprintf("table listing of %d slices: physical tables shown once by their logical name", len(n.Steps))}
	}
	return nil
}

// Words implements Node.
func (n *Explain) Words() []string {
	return append([]string{"EXPLAIN answered by the proxy, one row per physical statement of:"}, n.Of.Words()...)
}

// refuse is a Refuse node saying what is not supported (1235).
func refuse(what string) Node {
	return &Refuse{Err: protocol.ErrUnsupported(what)}
}

// refuseErr is a Refuse node with a given error.
func refuseErr(e *protocol.Error) Node {
	return &Refuse{Err: e}
}

// refused returns the error of a Refuse node (nil for other nodes).
func refused(n Node) *protocol.Error {
	if r, ok := n.(*Refuse); ok {
		return r.Err
	}
	return nil
}

// RefusedErr returns the error of a Refuse node, nil for any other node.
func RefusedErr(n Node) *protocol.Error { return refused(n) }
