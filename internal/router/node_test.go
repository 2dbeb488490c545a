package router

import "github.com/switchyard-db/switchyard/internal/protocol"

// flatPlan is a plan tree read back into one record, for tests that check
// a few facts of many plans.
type flatPlan struct {
	Steps      []Step
	Err        *protocol.Error
	Scatter    *Scatter
	Fanout     bool
	Write      bool
	Global     bool
	Eval       *GlobalEval
	InsertID   uint64
	Rows       [][]int
	Returning  string
	Rename     *Rename
	ShowTables *ShowTables
	Listing    *Listing
	Explain    *flatPlan
}

// flatten reads a plan tree into a flatPlan (nil for nil).
func flatten(n Node) *flatPlan {
	if n == nil {
		return nil
	}
	f := &flatPlan{Steps: n.Physical()}
	switch n := n.(type) {
	case *Refuse:
		f.Err = n.Err
	case *Merge:
		f.Scatter = n.Scatter
	case *Write:
		f.Write = len(n.Steps) > 1
		f.Global, f.Eval, f.InsertID, f.Rows, f.Returning = n.Global, n.Eval, n.InsertID, n.Rows, n.Returning
	case *Fanout:
		f.Fanout = true
	case *Meta:
		f.Rename, f.ShowTables, f.Listing = n.Rename, n.ShowTables, n.Listing
	case *Explain:
		f.Explain = flatten(n.Of)
	}
	return f
}

// flat is flatten for the results of AnalyzeSharded*.
func flat(a *Analysis, n Node) (*Analysis, *flatPlan) {
	return a, flatten(n)
}
