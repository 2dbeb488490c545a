package peersuite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Mode is how a statement is sent (README 5).
type Mode string

const (
	// Text sends the statement as COM_QUERY with the values in the text
	// (go-sql-driver with interpolateParams=true).
	Text Mode = "text"
	// Prepared prepares it on the server (COM_STMT_PREPARE/EXECUTE, binary
	// results), even without parameters, like useServerPrepStmts=true.
	Prepared Mode = "prepared"
)

// Modes are both execution modes, in report order.
var Modes = []Mode{Text, Prepared}

// DSNParams are the go-sql-driver parameters of a mode (the DSN of a
// prepared-mode handle must not interpolate).
func (m Mode) DSNParams() string {
	if m == Text {
		return "interpolateParams=true"
	}
	return "interpolateParams=false"
}

// Query runs a query in a mode and reads the whole result as text. db must
// have been opened with the mode's DSNParams.
func Query(ctx context.Context, db *sql.DB, mode Mode, query string, args []any) (*Result, error) {
	var rows *sql.Rows
	var err error
	if mode == Prepared {
		var st *sql.Stmt
		st, err = db.PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		defer st.Close()
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = db.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return ReadResult(rows)
}

// ExecResult is what one execution of a data-changing statement reports.
type ExecResult struct {
	// RowsAffected is the affected (with clientFoundRows: found) rows.
	RowsAffected int64
	// LastInsertID is the OK packet's last-insert-id: the first ID the
	// statement generated (0 when it generated none).
	LastInsertID int64
}

// Exec runs a data-changing statement in a mode and returns the affected
// rows and last-insert-id of its first statement (a text-mode statement may
// hold several, ;-separated, when the handle allows multiStatements). db
// must have been opened with the mode's DSNParams.
func Exec(ctx context.Context, db *sql.DB, mode Mode, query string, args []any) (ExecResult, error) {
	if mode == Prepared {
		st, err := db.PrepareContext(ctx, query)
		if err != nil {
			return ExecResult{}, err
		}
		defer st.Close()
		res, err := st.ExecContext(ctx, args...)
		if err != nil {
			return ExecResult{}, err
		}
		return execResult(res)
	}
	c, err := db.Conn(ctx)
	if err != nil {
		return ExecResult{}, err
	}
	defer c.Close()
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		v, err := driver.DefaultParameterConverter.ConvertValue(a)
		if err != nil {
			return ExecResult{}, err
		}
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	var out ExecResult
	err = c.Raw(func(dc any) error {
		ex, ok := dc.(driver.ExecerContext)
		if !ok {
			return fmt.Errorf("peersuite: driver connection %T cannot Exec", dc)
		}
		res, err := ex.ExecContext(ctx, query, named)
		if err != nil {
			return err
		}
		if mr, ok := res.(mysql.Result); ok {
			if all := mr.AllRowsAffected(); len(all) > 0 {
				out.RowsAffected = all[0]
				if ids := mr.AllLastInsertIds(); len(ids) > 0 {
					out.LastInsertID = ids[0]
				}
				return nil
			}
		}
		out, err = execResult(res)
		return err
	})
	return out, err
}

func execResult(res driver.Result) (ExecResult, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return ExecResult{}, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return ExecResult{}, err
	}
	return ExecResult{RowsAffected: n, LastInsertID: id}, nil
}

// ExecBatch prepares a statement once and executes it with each argument
// set in turn on one connection (MySQL has no batch command; this is what
// a JDBC batch of a server-side prepared statement amounts to). It returns
// what each execution reported.
func ExecBatch(ctx context.Context, db *sql.DB, query string, argSets [][]any) ([]ExecResult, error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var out []ExecResult
	for _, args := range argSets {
		res, err := st.ExecContext(ctx, args...)
		if err != nil {
			return out, err
		}
		r, err := execResult(res)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// ReadResult reads rows as text (numbers in their text form; binary
// protocol values are formatted by database/sql).
func ReadResult(rows *sql.Rows) (*Result, error) {
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	res := &Result{Columns: make([]ResultColumn, len(cts))}
	for i, ct := range cts {
		res.Columns[i] = ResultColumn{Label: ct.Name(), Type: ct.DatabaseTypeName()}
	}
	raw := make([]sql.RawBytes, len(cts))
	dest := make([]any, len(cts))
	for i := range raw {
		dest[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		row := make([]Cell, len(raw))
		for i, b := range raw {
			if b == nil {
				row[i] = Cell{Null: true}
			} else {
				row[i] = Cell{Text: string(b)}
			}
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

// referenceTimeout bounds a query on the reference database.
const referenceTimeout = 30 * time.Second

// Outcome classifies one case in one mode.
type Outcome int

const (
	// Pass: the proxy's result equals the reference's.
	Pass Outcome = iota
	// Wrong: the proxy answered, differently from the reference.
	Wrong
	// CleanError: the proxy returned a MySQL error (e.g. 1235 not
	// supported).
	CleanError
	// Other: a driver error, timeout or lost connection.
	Other
	// Skipped: not run or not checkable (rule not convertible, reference
	// database failed).
	Skipped
)

// Outcomes in report order.
var Outcomes = []Outcome{Pass, Wrong, CleanError, Other, Skipped}

func (o Outcome) String() string {
	switch o {
	case Pass:
		return "pass"
	case Wrong:
		return "wrong"
	case CleanError:
		return "clean-error"
	case Other:
		return "other"
	case Skipped:
		return "skipped"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// ClassifyError sorts a proxy error: a MySQL error packet is a clean
// error; anything else (timeouts, lost connections, driver errors) is
// Other. The message is "ERROR <code> (<state>): <text>" for MySQL errors.
func ClassifyError(err error) (Outcome, string) {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return CleanError, fmt.Sprintf("ERROR %d (%s): %s", me.Number, string(me.SQLState[:]), me.Message)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return Other, "timeout: " + err.Error()
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, mysql.ErrInvalidConn), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return Other, "connection lost: " + err.Error()
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return Other, "network: " + err.Error()
	}
	return Other, "driver: " + err.Error()
}

// CaseResult is one assertion run in one mode.
type CaseResult struct {
	Outcome Outcome
	// Detail is the error message or the difference.
	Detail string
	// Rows is the number of rows compared (Pass, Wrong).
	Rows int
}

// RunDQL runs a query through the proxy and on the reference database in
// the same mode and compares the answers. refQuery is what runs on the
// reference (the assertion-sql when a case has one, else query).
func RunDQL(ctx context.Context, proxy, ref *sql.DB, mode Mode, query, refQuery string, params []Param) CaseResult {
	args := Args(params)
	got, perr := Query(ctx, proxy, mode, query, args)
	// The reference gets its own time: a slow proxy must not make it fail.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), referenceTimeout)
	defer cancel()
	want, rerr := Query(rctx, ref, mode, refQuery, args)
	if perr != nil {
		o, msg := ClassifyError(perr)
		if o == CleanError && rerr != nil {
			// The statement fails on the plain database too.
			return CaseResult{Outcome: Skipped, Detail: "fails on the reference database too: " + rerr.Error() + " (proxy: " + msg + ")"}
		}
		return CaseResult{Outcome: o, Detail: msg}
	}
	if rerr != nil {
		return CaseResult{Outcome: Skipped, Detail: "reference database failed: " + rerr.Error()}
	}
	c := Compare(query, got, want)
	if !c.Equal {
		return CaseResult{Outcome: Wrong, Detail: c.Diff, Rows: len(want.Rows)}
	}
	return CaseResult{Outcome: Pass, Rows: len(want.Rows)}
}

// Tally counts outcomes and error messages.
type Tally struct {
	Counts map[Outcome]int
	// Messages counts the clean errors' messages, OtherMessages the
	// failures'.
	Messages, OtherMessages map[string]int
}

// Add records a result.
func (t *Tally) Add(r CaseResult) {
	if t.Counts == nil {
		t.Counts = map[Outcome]int{}
		t.Messages = map[string]int{}
		t.OtherMessages = map[string]int{}
	}
	t.Counts[r.Outcome]++
	switch r.Outcome {
	case CleanError:
		t.Messages[r.Detail]++
	case Other:
		t.OtherMessages[r.Detail]++
	}
}

// Total is the number of results.
func (t *Tally) Total() int {
	n := 0
	for _, c := range t.Counts {
		n += c
	}
	return n
}

// MessageCount is an error message and how often it occurred.
type MessageCount struct {
	Message string
	Count   int
}

// TopMessages sorts messages by count (then text).
func TopMessages(m map[string]int) []MessageCount {
	out := make([]MessageCount, 0, len(m))
	for k, v := range m {
		out = append(out, MessageCount{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Message < out[j].Message
	})
	return out
}

// SummaryRow is one line of a summary table.
type SummaryRow struct {
	Scenario string
	// Type is DQL or DML.
	Type string
	// Mode is text, prepared, or prepared-batch (DML batch runs).
	Mode  string
	Tally Tally
}

// Markdown renders summary rows as a markdown table.
func Markdown(rows []SummaryRow) string {
	var b strings.Builder
	b.WriteString("| scenario | type | mode |")
	for _, o := range Outcomes {
		fmt.Fprintf(&b, " %s |", o)
	}
	b.WriteString(" total |\n|---|---|---|")
	for range Outcomes {
		b.WriteString("---:|")
	}
	b.WriteString("---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s |", r.Scenario, strings.ToUpper(r.Type), r.Mode)
		for _, o := range Outcomes {
			fmt.Fprintf(&b, " %d |", r.Tally.Counts[o])
		}
		fmt.Fprintf(&b, " %d |\n", r.Tally.Total())
	}
	return b.String()
}
