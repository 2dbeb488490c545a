// Package merge combines the result sets of several physical statements
// into the one result a single database would have returned: k-way merge
// for ORDER BY, LIMIT/OFFSET applied once, GROUP BY with aggregates
// combined across shards, DISTINCT, and HAVING evaluated after the merge.
// It streams wherever the order allows and bounds what it must hold.
//
// The router builds a Plan from the client's statement (it also rewrites
// the physical statements so that their rows fit the plan); the executor
// feeds the physical result sets in as Sources.
package merge

// AggFunc says how the values of one physical column are combined when
// several physical rows fold into one group.
type AggFunc uint8

// Combiners.
const (
	// AggNone keeps the group's first value (group keys and plain columns).
	AggNone AggFunc = iota
	// AggCount adds partial COUNT()s (0 for an empty input).
	AggCount
	// AggSum adds partial SUM()s; NULL when every partial is NULL.
	AggSum
	// AggMin keeps the smallest non-NULL value.
	AggMin
	// AggMax keeps the largest non-NULL value.
	AggMax
	// AggGroupConcat joins non-NULL partial GROUP_CONCAT()s with Sep.
	AggGroupConcat
)

// Agg is the combiner of one physical column.
type Agg struct {
	Func AggFunc
	// Sep is GROUP_CONCAT's separator.
	Sep string
}

// Order is one ORDER BY term: a column index and a direction. NULLs sort
// first ascending and last descending, as in MySQL.
type Order struct {
	Col  int
	Desc bool
}

// Plan describes how to merge physical rows. Physical rows all have
// len(Aggs) columns, typed by the column definitions given to Run.
//
// Processing order: k-way merge of the sources by SourceOrder (or plain
// concatenation) → grouping (when Grouped) → Output expressions → Having →
// Distinct → sort by OrderBy (only when NeedSort) → Offset/Limit → the
// first Visible outputs of each row go to the client.
type Plan struct {
	// Aggs has one combiner per physical column.
	Aggs []Agg
	// SourceOrder is the order in which every source delivers its rows (the
	// physical ORDER BY), over physical columns. Empty: sources are read one
	// after the other.
	SourceOrder []Order
	// Grouped: physical rows with equal GroupBy values fold into one row.
	// With no GroupBy columns every row folds into one (a plain aggregate
	// query), and an empty input still yields one row (COUNT(*) = 0).
	Grouped bool
	// GroupBy are physical columns. When SourceOrder begins with them, groups
	// arrive contiguously and are folded streaming; otherwise groups are
	// held in memory (bounded by MaxRows/MaxBytes).
	GroupBy []int
	// Distinct, when set, names the physical column carrying the argument
	// of DISTINCT aggregates (COUNT(DISTINCT x) ...). Physical statements are
	// then grouped by (GroupBy..., x) and ordered the same way, so equal
	// values arrive contiguously within a group and are counted once.
	Distinct *int
	// Output computes the output columns from a folded row.
	Output []Expr
	// Visible: the first Visible outputs go to the client; the others exist
	// for Having and OrderBy.
	Visible int
	// Having filters output rows (nil: none).
	Having Expr
	// DistinctRows removes duplicate rows over the visible outputs
	// (SELECT DISTINCT), keeping the first occurrence.
	DistinctRows bool
	// OrderBy is the client's ORDER BY over output columns.
	OrderBy []Order
	// NeedSort: rows do not already arrive in OrderBy order, so they are
	// collected and sorted (bounded by MaxRows/MaxBytes) before Offset/Limit.
	NeedSort bool
	// Offset rows are skipped, then at most Limit are returned (Limit < 0:
	// no limit).
	Offset uint64
	Limit  int64
	// MaxRows and MaxBytes bound every buffer the merge must hold (groups,
	// sort, distinct set). Exceeding them fails the query with ErrTooBig.
	MaxRows  int64
	MaxBytes int64
	// Shared, when set, is a budget every Run of the proxy draws its bytes
	// from too (merge_memory).
	Shared *Shared
}

// Expr is an output, HAVING or ORDER BY expression evaluated by the proxy.
type Expr interface{ expr() }

// Col is physical column I of the folded row (in Output) or output column
// I (in Having).
type Col struct{ I int }

// Lit is a literal: nil (NULL), int64, uint64, float64, string (a decimal
// literal is a string with IsDecimal set).
type Lit struct {
	V         any
	IsDecimal bool
}

// BinOp is a binary operator.
type BinOp uint8

// Binary operators.
const (
	OpEQ BinOp = iota
	OpNE
	OpLT
	OpLE
	OpGT
	OpGE
	OpNullEQ // <=>
	OpAnd
	OpOr
	OpXor
	OpAdd
	OpSub
	OpMul
	OpDiv // decimal division, div_precision_increment = 4
	OpIntDiv
	OpMod
)

// Bin applies Op to L and R with MySQL's NULL and type rules.
type Bin struct {
	Op   BinOp
	L, R Expr
}

// Not is logical NOT.
type Not struct{ E Expr }

// Neg is unary minus.
type Neg struct{ E Expr }

// IsNull is E IS [NOT] NULL.
type IsNull struct {
	E   Expr
	Not bool
}

// Avg is AVG() rebuilt from a SUM column and a COUNT column of the folded
// row: NULL when the count is 0; for a DECIMAL sum, a DECIMAL with 4 more
// decimals than the sum (MySQL's div_precision_increment); for a DOUBLE
// sum, a DOUBLE.
type Avg struct{ Sum, Count int }

// DistinctFunc is an aggregate over the DISTINCT argument column.
type DistinctFunc uint8

// DISTINCT aggregates.
const (
	DistinctCount DistinctFunc = iota
	DistinctSum
	DistinctAvg
	DistinctGroupConcat
)

// DistinctAgg is COUNT/SUM/AVG/GROUP_CONCAT(DISTINCT x) where x is the
// column Plan.Distinct names; NULLs are ignored, as in MySQL.
type DistinctAgg struct {
	Func DistinctFunc
	Sep  string
}

func (Col) expr()         {}
func (Lit) expr()         {}
func (Bin) expr()         {}
func (Not) expr()         {}
func (Neg) expr()         {}
func (IsNull) expr()      {}
func (Avg) expr()         {}
func (DistinctAgg) expr() {}
