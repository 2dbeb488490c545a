// Package sequence generates IDs for the auto-increment column of sharded
// tables, which the proxy fills in when an INSERT omits it: the physical
// tables' own AUTO_INCREMENT counters would hand out the same values on
// every slice.
//
// Two generators implement Generator:
//
//   - Table allocates blocks of IDs from a row of a backing table on one
//     slice (UPDATE ... SET next_id = LAST_INSERT_ID(next_id + block), one
//     round trip, no transaction). IDs are unique across the slices and
//     across every proxy of a namespace sharing that row, dense (only the
//     unused rest of a block is lost, when a proxy stops), and increasing
//     per generator; IDs of different proxies interleave by block.
//   - Snowflake composes IDs from the clock, a worker id and a counter and
//     needs no central table; it needs a distinct worker id per proxy and a
//     clock that does not step backwards.
//
// Both give out IDs in strictly increasing order per generator: when a Next
// call returns before another one starts, every ID of the second call is
// greater than every ID of the first, and the IDs of one call ascend.
package sequence

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// Generator hands out unique IDs.
type Generator interface {
	// Next fills ids with len(ids) new IDs in increasing order, e.g. one per
	// row of an INSERT. The IDs need not be consecutive. It returns an error
	// (and no IDs are to be used) when it cannot allocate them; ctx bounds
	// the wait.
	Next(ctx context.Context, ids []uint64) error
}

// NonBlocking is a Generator that can also hand out IDs without any I/O or
// waiting, when it holds enough (the router plans with it; the session
// fetches IDs with Next when it cannot).
type NonBlocking interface {
	Generator
	// TryNext fills ids at once, or reports false.
	TryNext(ids []uint64) bool
}

// Execer runs one statement on the primary of the slice holding the
// sequence table and returns its OK packet; a server error is a
// *protocol.Error. ForConn and ForPool adapt backend connections.
type Execer func(ctx context.Context, sql string) (protocol.OK, error)

// Querier runs a query and returns the first column of its first row as
// text ("" when it is NULL or there is no row).
type Querier func(ctx context.Context, sql string) (string, error)

// Server error codes the package reacts to.
const (
	errBadDB       = 1049 // ER_BAD_DB_ERROR
	errNoSuchTable = 1146 // ER_NO_SUCH_TABLE
)

// isCode reports whether err is a server error with one of the codes.
func isCode(err error, codes ...uint16) bool {
	var pe *protocol.Error
	if !errors.As(err, &pe) {
		return false
	}
	for _, c := range codes {
		if pe.Code == c {
			return true
		}
	}
	return false
}

// quoteIdent quotes a MySQL identifier with backquotes.
func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

// checkIdent validates a database or table name as MySQL accepts it.
func checkIdent(kind, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("sequence: empty %s name", kind)
	case !utf8.ValidString(s):
		return fmt.Errorf("sequence: %s name %q is not valid UTF-8", kind, s)
	case utf8.RuneCountInString(s) > 64:
		return fmt.Errorf("sequence: %s name %q is longer than 64 characters", kind, s)
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("sequence: %s name %q contains NUL", kind, s)
	case strings.HasSuffix(s, " "):
		return fmt.Errorf("sequence: %s name %q ends with a space", kind, s)
	}
	return nil
}

// parseTable splits "db.table" and returns the quoted `db`.`table` and the
// quoted database.
func parseTable(s string) (qualified, db string, err error) {
	d, t, ok := strings.Cut(s, ".")
	if !ok || strings.Contains(t, ".") {
		return "", "", fmt.Errorf("sequence: table %q: want database.table (names without dots)", s)
	}
	if err := checkIdent("database", d); err != nil {
		return "", "", err
	}
	if err := checkIdent("table", t); err != nil {
		return "", "", err
	}
	return quoteIdent(d) + "." + quoteIdent(t), quoteIdent(d), nil
}

// checkName validates a sequence name (the key of its row).
func checkName(s string) error {
	switch {
	case s == "":
		return errors.New("sequence: empty sequence name")
	case !utf8.ValidString(s):
		return fmt.Errorf("sequence: name %q is not valid UTF-8", s)
	case utf8.RuneCountInString(s) > 128:
		return fmt.Errorf("sequence: name %q is longer than 128 characters", s)
	case strings.HasSuffix(s, " "):
		// PAD SPACE collations compare "a" and "a " as equal.
		return fmt.Errorf("sequence: name %q ends with a space", s)
	}
	return nil
}

// quoteString returns s as an SQL string literal that reads the same under
// every sql_mode: printable ASCII without backslashes between single quotes
// (quotes doubled, which NO_BACKSLASH_ESCAPES also accepts), anything else
// as a utf8mb4 hexadecimal literal.
func quoteString(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return "_utf8mb4 X'" + hex.EncodeToString([]byte(s)) + "'"
}
