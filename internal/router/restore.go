package router

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// restoreSQL prints a statement for MariaDB. The parser's printer differs
// from what MariaDB reads in two places that change results:
//   - a shared lock is printed FOR SHARE, which MariaDB 10.11 rejects: it is
//     printed LOCK IN SHARE MODE (with NOWAIT / SKIP LOCKED);
//   - 0x0a and X'0a' are both printed x'0a', but MariaDB reads 0x0a as a
//     number in a numeric context (id = 0x0a is id = 10) and X'0a' as a
//     string (id = X'0a' is id = 0): hexadecimal literals keep the form the
//     client wrote (taken from text, the statement's SQL).
func restoreSQL(st ast.Node, text string) (string, error) {
	return restoreSQLWith(st, text, nil, nil)
}

// restoreSQLWith is restoreSQL printing the nodes of subst as their text;
// forms, when not nil, tells the form of each hexadecimal literal (from
// hexForms over the whole statement, which text may no longer match: an
// INSERT split over physical tables prints some of its rows only).
func restoreSQLWith(st ast.Node, text string, subst map[ast.Node]string, forms map[*test_driver.ValueExpr]bool) (string, error) {
	var locks *lockMarker
	if text == "" || containsFold(text, "share") {
		locks = &lockMarker{}
		st.Accept(locks)
		defer locks.undo()
	}
	hexes, err := wrapHexLiterals(st, text, forms)
	if err != nil {
		return "", err
	}
	if len(subst) > 0 {
		st.Accept(&substWrapper{subst: subst})
	}
	out, rerr := restoreText(st, len(text))
	if len(hexes) > 0 || len(subst) > 0 {
		st.Accept(&hexUnwrapper{})
	}
	if rerr != nil {
		return "", rerr
	}
	if locks != nil && len(locks.saved) > 0 {
		out = replaceOutsideQuotes(out, lockMarkerText, func(i int) string { return locks.text[i] })
	}
	return out, nil
}

// restorer is a printer's context and output, reused (restorers pool).
type restorer struct {
	b   strings.Builder
	ctx format.RestoreCtx
}

var restorers = sync.Pool{New: func() any { return &restorer{} }}

// restoreText prints st with restoreFlags into one allocation sized for a
// statement of about size bytes of text.
func restoreText(st ast.Node, size int) (string, error) {
	r := restorers.Get().(*restorer)
	r.b = strings.Builder{}
	r.b.Grow(size + size/2 + 16) // backquotes and physical names
	r.ctx = format.RestoreCtx{Flags: restoreFlags, In: &r.b}
	err := st.Restore(&r.ctx)
	out := r.b.String()
	r.b = strings.Builder{}
	r.ctx = format.RestoreCtx{}
	restorers.Put(r)
	return out, err
}

// lockMarkerLock is a lock type the printer does not know: it prints
// lockMarkerText, which restoreSQL replaces by MariaDB's syntax.
const lockMarkerLock ast.SelectLockType = 1000

var lockMarkerText = strings.ToUpper(lockMarkerLock.String())

// lockMarker swaps the shared-lock types of every SELECT for the marker
// (in printing order, which is the visiting order) and undoes it.
type lockMarker struct {
	saved []*ast.SelectLockInfo
	types []ast.SelectLockType
	text  []string
}

func (v *lockMarker) Enter(n ast.Node) (ast.Node, bool) {
	if sel, ok := n.(*ast.SelectStmt); ok && sel.LockInfo != nil {
		var text string
		switch sel.LockInfo.LockType {
		case ast.SelectLockForShare:
			text = "LOCK IN SHARE MODE"
		case ast.SelectLockForShareNoWait:
			text = "LOCK IN SHARE MODE NOWAIT"
		case ast.SelectLockForShareSkipLocked:
			text = "LOCK IN SHARE MODE SKIP LOCKED"
		default:
			return n, false
		}
		if len(sel.LockInfo.Tables) > 0 {
			// FOR SHARE OF t: MariaDB has no such form; print the parser's
			// text and let the server answer.
			return n, false
		}
		v.saved = append(v.saved, sel.LockInfo)
		v.types = append(v.types, sel.LockInfo.LockType)
		v.text = append(v.text, text)
		sel.LockInfo.LockType = lockMarkerLock
	}
	return n, false
}

func (v *lockMarker) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func (v *lockMarker) undo() {
	for i, l := range v.saved {
		l.LockType = v.types[i]
	}
}

// hexLiteral prints a hexadecimal literal as 0x... (the parser prints
// x'...').
type hexLiteral struct {
	*test_driver.ValueExpr
}

func (h *hexLiteral) Restore(ctx *format.RestoreCtx) error {
	b := h.GetBytes()
	if len(b) == 0 {
		ctx.WritePlain("x''") // 0x with no digits is not a literal
		return nil
	}
	ctx.WritePlain("0x" + hex.EncodeToString(b))
	return nil
}

// isHexValue reports whether e is a hexadecimal literal (0x.. or X'..').
func isHexValue(e ast.Node) (*test_driver.ValueExpr, bool) {
	v, ok := e.(*test_driver.ValueExpr)
	if !ok || v.Kind() != test_driver.KindBinaryLiteral || v.Type.GetFlag()&mysql.UnsignedFlag == 0 {
		return nil, false
	}
	return v, true
}

type hexCollector struct{ found []*test_driver.ValueExpr }

func (v *hexCollector) Enter(n ast.Node) (ast.Node, bool) {
	if x, ok := isHexValue(n); ok {
		v.found = append(v.found, x)
	}
	return n, false
}

func (v *hexCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// hexWrapper replaces the chosen literals by hexLiteral nodes.
type hexWrapper struct {
	wrap map[*test_driver.ValueExpr]bool
}

func (v *hexWrapper) Enter(n ast.Node) (ast.Node, bool) { return n, false }

func (v *hexWrapper) Leave(n ast.Node) (ast.Node, bool) {
	if x, ok := n.(*test_driver.ValueExpr); ok && v.wrap[x] {
		return &hexLiteral{x}, true
	}
	return n, true
}

// hexUnwrapper puts the original literals back (hexLiteral's Accept is its
// ValueExpr's, which returns the ValueExpr).
type hexUnwrapper struct{}

func (hexUnwrapper) Enter(n ast.Node) (ast.Node, bool) { return n, false }
func (hexUnwrapper) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// wrapHexLiterals wraps the literals written 0x... in text so that they
// print so. It returns the wrapped literals.
func wrapHexLiterals(st ast.Node, text string, forms map[*test_driver.ValueExpr]bool) ([]*test_driver.ValueExpr, error) {
	if !mayHaveZeroX(text) {
		return nil, nil
	}
	c := &hexCollector{}
	st.Accept(c)
	if len(c.found) == 0 {
		return nil, nil
	}
	if forms != nil {
		wrap := map[*test_driver.ValueExpr]bool{}
		for _, x := range c.found {
			zeroX, known := forms[x]
			if !known {
				return nil, fmt.Errorf("mixed 0x... and X'...' literals in an order the proxy cannot follow; write them in one form")
			}
			if zeroX {
				wrap[x] = true
			}
		}
		if len(wrap) == 0 {
			return nil, nil
		}
		st.Accept(&hexWrapper{wrap: wrap})
		out := make([]*test_driver.ValueExpr, 0, len(wrap))
		for x := range wrap {
			out = append(out, x)
		}
		return out, nil
	}
	toks := scanHexLiterals(text)
	zeroX := 0
	for _, t := range toks {
		if t.zeroX {
			zeroX++
		}
	}
	if zeroX == 0 {
		return nil, nil
	}
	wrap := map[*test_driver.ValueExpr]bool{}
	switch {
	case zeroX == len(toks) && len(toks) == len(c.found):
		for _, x := range c.found {
			wrap[x] = true
		}
	case len(toks) == len(c.found):
		// Mixed forms: the parser visits literals in text order in the
		// statements that reach here; check it by their bytes.
		for i, x := range c.found {
			if !bytes.Equal(x.GetBytes(), toks[i].value) {
				return nil, fmt.Errorf("mixed 0x... and X'...' literals in an order the proxy cannot follow; write them in one form")
			}
			if toks[i].zeroX {
				wrap[x] = true
			}
		}
	default:
		return nil, fmt.Errorf("hexadecimal literals the proxy cannot match to the statement's text")
	}
	st.Accept(&hexWrapper{wrap: wrap})
	out := make([]*test_driver.ValueExpr, 0, len(wrap))
	for x := range wrap {
		out = append(out, x)
	}
	return out, nil
}

type hexToken struct {
	zeroX bool
	value []byte
}

// scanHexLiterals lists the hexadecimal literals of sql outside quotes and
// comments, in order.
func scanHexLiterals(sql string) []hexToken {
	var out []hexToken
	identChar := func(c byte) bool {
		return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
	}
	isHex := func(c byte) bool {
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
	}
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(sql, i)
		case c == '#' || c == '-' && strings.HasPrefix(sql[i:], "-- "):
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				return out
			}
			i += j + 1
		case c == '/' && strings.HasPrefix(sql[i:], "/*") && !strings.HasPrefix(sql[i:], "/*!"):
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				return out
			}
			i += j + 4
		case (c == 'x' || c == 'X') && i+1 < len(sql) && sql[i+1] == '\'' && (i == 0 || !identChar(sql[i-1])):
			j := i + 2
			for j < len(sql) && isHex(sql[j]) {
				j++
			}
			if j < len(sql) && sql[j] == '\'' {
				b, _ := hex.DecodeString(evenHex(sql[i+2 : j]))
				out = append(out, hexToken{value: b})
				i = j + 1
				continue
			}
			i = skipQuoted(sql, i+1)
		case c == '0' && i+1 < len(sql) && (sql[i+1] == 'x' || sql[i+1] == 'X') && (i == 0 || !identChar(sql[i-1])):
			j := i + 2
			for j < len(sql) && isHex(sql[j]) {
				j++
			}
			if j > i+2 && (j == len(sql) || !identChar(sql[j])) {
				b, _ := hex.DecodeString(evenHex(sql[i+2 : j]))
				out = append(out, hexToken{zeroX: true, value: b})
			}
			i = j
		case identChar(c):
			for i < len(sql) && identChar(sql[i]) {
				i++
			}
		default:
			i++
		}
	}
	return out
}

func evenHex(s string) string {
	if len(s)%2 == 1 {
		return "0" + s
	}
	return s
}

// skipQuoted returns the position after the quoted text starting at i.
func skipQuoted(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q != '`':
			j++
		case s[j] == q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

// replaceOutsideQuotes replaces each occurrence of old outside quoted text
// by repl(k) (k counts the occurrences).
func replaceOutsideQuotes(s, old string, repl func(k int) string) string {
	var b strings.Builder
	k := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := skipQuoted(s, i)
			b.WriteString(s[i:j])
			i = j
		case strings.HasPrefix(s[i:], old):
			b.WriteString(repl(k))
			k++
			i += len(old)
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// substNode prints a node as a fixed text.
type substNode struct {
	ast.ExprNode
	text string
}

func (n *substNode) Restore(ctx *format.RestoreCtx) error {
	ctx.WritePlain(n.text)
	return nil
}

// substWrapper replaces the nodes of subst by substNodes (their Accept is
// the wrapped node's, so any later walk puts the node back).
type substWrapper struct{ subst map[ast.Node]string }

func (v *substWrapper) Enter(n ast.Node) (ast.Node, bool) {
	_, skip := v.subst[n]
	return n, skip
}

func (v *substWrapper) Leave(n ast.Node) (ast.Node, bool) {
	if text, ok := v.subst[n]; ok {
		if e, isExpr := n.(ast.ExprNode); isExpr {
			return &substNode{ExprNode: e, text: text}, true
		}
	}
	return n, true
}

// mayHaveZeroX reports whether text may hold a 0x... literal.
func mayHaveZeroX(text string) bool {
	return strings.Contains(text, "0x") || strings.Contains(text, "0X")
}

// containsFold reports whether s contains the ASCII text w (lower case)
// with its letters in any case, without copying s.
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		j := 0
		for j < len(w) {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != w[j] {
				break
			}
			j++
		}
		if j == len(w) {
			return true
		}
	}
	return false
}
