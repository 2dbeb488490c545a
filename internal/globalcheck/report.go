package globalcheck

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Report is the result of one check over the selected global tables.
type Report struct {
	Tables []*TableReport `json:"tables"`
	// Differences is true when some table's copies differ (or differed
	// before a repair).
	Differences bool `json:"differences"`
	// Errors counts tables that could not be checked or repaired completely.
	Errors  int    `json:"errors"`
	Elapsed string `json:"elapsed"`
}

// ExitCode is the command's exit status for the report: 0 when every copy
// is equal, 1 when copies differ (with a repair: they differed and were
// repaired and verified), 2 when errors left something unchecked or
// unrepaired.
func (r *Report) ExitCode() int {
	switch {
	case r.Errors > 0:
		return 2
	case r.Differences:
		return 1
	}
	return 0
}

// TableReport is the result for one global table.
type TableReport struct {
	Namespace string `json:"namespace"`
	// Table is the logical db.table.
	Table string `json:"table"`
	// Key are the columns the table is split into ranges by (its primary
	// key, or a unique key of NOT NULL columns); empty when it has none.
	Key     []string `json:"key,omitempty"`
	KeyName string   `json:"key_name,omitempty"`
	// Reference is the copy the others are compared with (--repair-from,
	// else the first copy).
	Reference string       `json:"reference"`
	Copies    []CopyReport `json:"copies"`
	// ChunkRows is the chunk size; Chunks the number of key ranges
	// compared by checksum.
	ChunkRows int `json:"chunk_rows"`
	Chunks    int `json:"chunks"`
	// DifferingChunks are chunks with at least one differing row.
	DifferingChunks int `json:"differing_chunks"`
	// ScannedRanges are the ranges compared row by row (the chunks whose
	// checksums differed, split further when a copy had many more rows).
	ScannedRanges int `json:"scanned_ranges"`
	// TransientRanges had different checksums but equal rows when read
	// again: rows that changed during the check.
	TransientRanges int `json:"transient_ranges,omitempty"`
	// DifferingRows counts differing rows over all copies; Rows lists the
	// first of them (up to the row cap).
	DifferingRows int       `json:"differing_rows"`
	Rows          []RowDiff `json:"rows,omitempty"`
	RowsTruncated bool      `json:"rows_truncated,omitempty"`
	// SchemaDiffers is set when the copies' columns or keys differ; rows
	// are not compared then.
	SchemaDiffers bool     `json:"schema_differs,omitempty"`
	Notes         []string `json:"notes,omitempty"`
	// Differs is true when copies were found to differ (rows, schema, or
	// the whole-table checksums of a table without a key); Equal when every
	// copy was compared and found equal.
	Differs bool          `json:"differs"`
	Equal   bool          `json:"equal"`
	Repair  *RepairReport `json:"repair,omitempty"`
	Error   string        `json:"error,omitempty"`
	Elapsed string        `json:"elapsed"`
}

// CopyReport describes one copy of a table.
type CopyReport struct {
	// Name is the slice, or slice/database when a slice holds two copies.
	Name     string `json:"name"`
	Slice    string `json:"slice"`
	Database string `json:"database"`
	Table    string `json:"table"`
	Addr     string `json:"addr"`
	Rows     int64  `json:"rows"`
	// Checksum is the XOR of the 64-bit row hashes (equal for equal copies).
	Checksum string `json:"checksum"`
	// Missing, Extra and Different count this copy's rows that differ from
	// the reference.
	Missing   int `json:"missing"`
	Extra     int `json:"extra"`
	Different int `json:"different"`
	// Replaced and Deleted count rows a repair wrote (or, in a dry run,
	// would write) on this copy; Collateral counts further rows REPLACE
	// removed because they conflicted on another unique key.
	Replaced   int64 `json:"replaced,omitempty"`
	Deleted    int64 `json:"deleted,omitempty"`
	Collateral int64 `json:"collateral,omitempty"`
}

// RepairReport summarises a repair.
type RepairReport struct {
	From   string `json:"from"`
	DryRun bool   `json:"dry_run"`
	// Ranges are the key ranges repaired, each in one transaction per copy.
	Ranges int `json:"ranges"`
	// Statements are the DELETE and REPLACE statements run (or printed).
	Statements int `json:"statements"`
	// StillDiffering are repaired ranges whose checksums differed when
	// verified afterwards (rows written during the repair).
	StillDiffering int `json:"still_differing"`
}

// Row kinds of RowDiff.
const (
	Missing   = "missing"   // on the reference, not on the copy
	Extra     = "extra"     // on the copy, not on the reference
	Different = "different" // on both, with different values
)

// RowDiff is one differing row of one copy.
type RowDiff struct {
	Copy string  `json:"copy"`
	Kind string  `json:"kind"`
	Key  []Value `json:"key"`
	// Columns lists the differing columns of a Different row.
	Columns []ColumnDiff `json:"columns,omitempty"`
}

// ColumnDiff is one differing column value.
type ColumnDiff struct {
	Column    string `json:"column"`
	Reference Value  `json:"reference"`
	Copy      Value  `json:"copy"`
}

// Value is a column value as the server returned it; nil B is NULL.
type Value struct {
	B []byte
}

// String renders the value for humans: NULL, a quoted string, or 0x… for
// bytes that are not UTF-8 text.
func (v Value) String() string {
	if v.B == nil {
		return "NULL"
	}
	if utf8.Valid(v.B) && !strings.ContainsFunc(string(v.B), func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "'" + strings.ReplaceAll(string(v.B), "'", "''") + "'"
	}
	return "0x" + hex.EncodeToString(v.B)
}

// MarshalJSON encodes NULL as null, text as a string and other bytes as
// "0x…".
func (v Value) MarshalJSON() ([]byte, error) {
	if v.B == nil {
		return []byte("null"), nil
	}
	if utf8.Valid(v.B) {
		return json.Marshal(string(v.B))
	}
	return json.Marshal("0x" + hex.EncodeToString(v.B))
}

// UnmarshalJSON reads what MarshalJSON wrote (bytes shown as "0x…" stay
// that text).
func (v *Value) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		v.B = nil
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v.B = []byte(s)
	return nil
}

// keyText renders a key as col=value pairs.
func keyText(names []string, key []Value) string {
	parts := make([]string, len(key))
	for i, v := range key {
		n := "?"
		if i < len(names) {
			n = names[i]
		}
		parts[i] = n + "=" + v.String()
	}
	return strings.Join(parts, ",")
}

// WriteText writes the report for humans.
func (r *Report) WriteText(w io.Writer) {
	if len(r.Tables) == 0 {
		fmt.Fprintln(w, "no global tables to check")
	}
	for _, t := range r.Tables {
		t.writeText(w)
	}
	equal := 0
	for _, t := range r.Tables {
		if t.Equal {
			equal++
		}
	}
	verdict := "all copies equal"
	if r.Differences {
		verdict = "DIFFERENCES FOUND"
	}
	if r.Errors > 0 {
		verdict += fmt.Sprintf(", %d ERROR(S)", r.Errors)
	}
	fmt.Fprintf(w, "%d global table(s) checked, %d equal: %s (%s)\n", len(r.Tables), equal, verdict, r.Elapsed)
}

func (t *TableReport) writeText(w io.Writer) {
	state := "equal"
	switch {
	case t.Error != "":
		state = "ERROR"
	case t.Differs && t.Repair != nil && !t.Repair.DryRun:
		state = "DIFFERENT, REPAIRED"
	case !t.Equal:
		state = "DIFFERENT"
	}
	fmt.Fprintf(w, "global table %s (namespace %s): %s\n", t.Table, t.Namespace, state)
	if len(t.Key) > 0 {
		fmt.Fprintf(w, "  key %s (%s), chunks of %d rows\n", strings.Join(t.Key, ","), t.KeyName, t.ChunkRows)
	}
	for _, c := range t.Copies {
		ref := ""
		if c.Name == t.Reference {
			ref = " (reference)"
		}
		fmt.Fprintf(w, "  copy %-8s %s %s.%s: %d rows, checksum %s%s", c.Name, c.Addr, c.Database, c.Table, c.Rows, c.Checksum, ref)
		if c.Missing+c.Extra+c.Different > 0 {
			fmt.Fprintf(w, ": %d missing, %d extra, %d different", c.Missing, c.Extra, c.Different)
		}
		fmt.Fprintln(w)
	}
	if len(t.Key) > 0 && !t.SchemaDiffers && t.Chunks > 0 {
		fmt.Fprintf(w, "  chunks: %d compared, %d differing, %d range(s) compared row by row", t.Chunks, t.DifferingChunks, t.ScannedRanges)
		if t.TransientRanges > 0 {
			fmt.Fprintf(w, ", %d changed while checked", t.TransientRanges)
		}
		fmt.Fprintln(w)
	}
	if t.DifferingRows > 0 {
		fmt.Fprintf(w, "  differing rows: %d", t.DifferingRows)
		if t.RowsTruncated {
			fmt.Fprintf(w, " (first %d listed)", len(t.Rows))
		}
		fmt.Fprintln(w)
		for _, d := range t.Rows {
			fmt.Fprintf(w, "    %s %s %s", d.Copy, d.Kind, keyText(t.Key, d.Key))
			for i, c := range d.Columns {
				sep := ": "
				if i > 0 {
					sep = ", "
				}
				fmt.Fprintf(w, "%s%s %s=%s %s=%s", sep, c.Column, t.Reference, c.Reference, d.Copy, c.Copy)
			}
			fmt.Fprintln(w)
		}
	}
	for _, n := range t.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	if rp := t.Repair; rp != nil {
		verb := "repaired"
		if rp.DryRun {
			verb = "dry run (nothing changed)"
		}
		fmt.Fprintf(w, "  repair from %s, %s: %d range(s), %d statement(s)", rp.From, verb, rp.Ranges, rp.Statements)
		if !rp.DryRun && rp.Ranges > 0 {
			if rp.StillDiffering == 0 {
				fmt.Fprint(w, ", verified equal")
			} else {
				fmt.Fprintf(w, ", %d range(s) STILL DIFFER", rp.StillDiffering)
			}
		}
		fmt.Fprintln(w)
		for _, c := range t.Copies {
			if c.Replaced+c.Deleted+c.Collateral == 0 {
				continue
			}
			fmt.Fprintf(w, "    %s: %d row(s) replaced, %d deleted", c.Name, c.Replaced, c.Deleted)
			if c.Collateral > 0 {
				fmt.Fprintf(w, ", %d further row(s) removed by REPLACE (unique key conflicts)", c.Collateral)
			}
			fmt.Fprintln(w)
		}
	}
	if t.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", t.Error)
	}
	fmt.Fprintf(w, "  (%s)\n", t.Elapsed)
}

func elapsed(d time.Duration) string {
	return d.Round(time.Millisecond).String()
}
