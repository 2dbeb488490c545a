// Package inline parses and evaluates the subset of ShardingSphere's Groovy
// "inline expressions" that sharding rules use in practice:
//
//	ds_${user_id % 2}                    one segment, integer remainder
//	t_order_${order_id}                  the column value itself
//	t_${(id / 4) % 8}                    integer division, then remainder
//	t_${Math.abs(code.hashCode()) % 16}  Java String.hashCode, Math.abs
//	ds_${0..1}.t_order_${0..3}           ranges (data nodes), Cartesian product
//	${['online', 'offline']}_t${1..3}    lists, several segments
//
// A template is literal text with segments written ${expr} or $->{expr}.
// Inside a segment the grammar is:
//
//	expr     = additive [ (".." | "..<") additive ]
//	additive = term { ("+" | "-") term }
//	term     = unary { ("*" | "/" | "%") unary }
//	unary    = [ "-" | "+" ] postfix
//	postfix  = primary { "." ("hashCode" "()" | "intdiv" "(" expr ")") }
//	primary  = integer | 'string' | "string" | identifier | "(" expr ")"
//	         | "[" expr { "," expr } "]"
//	         | "Math.abs(" expr ")" | "Math.floorMod(" expr "," expr ")"
//
// Arithmetic follows Java: int (32-bit) operands give int results that wrap,
// anything wider is a long; % is the truncated remainder and takes the sign
// of the dividend. One deliberate difference from Groovy: "/" on integers is
// integer division (Groovy's intdiv); Groovy itself yields a decimal, so a
// ShardingSphere rule such as t_${(id / 4) % 8} only ever placed rows whose
// id was a multiple of 4, and for those both agree. "+" with a string on
// either side concatenates. Everything else (closures, other methods,
// decimals, variables other than the sharding column) is rejected with an
// error that names the expression.
//
// The package is pure and allocation-conscious: Eval appends to a caller's
// buffer and does not allocate for integer arithmetic.
package inline

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxExpansion bounds the number of strings one template or one range may
// expand to, so that a typo such as ${0..99999999} cannot exhaust memory.
const MaxExpansion = 65536

// Arg is the value bound to the sharding column during evaluation. Integers
// that fit in 32 bits behave as a Java Integer, wider ones as a Long (this is
// how ShardingSphere types SQL integer literals).
type Arg struct {
	Str   string
	Int   int64
	IsStr bool
}

// IntArg returns an integer argument.
func IntArg(v int64) Arg { return Arg{Int: v} }

// StrArg returns a string argument.
func StrArg(s string) Arg { return Arg{Str: s, IsStr: true} }

// Error is a parse or evaluation error; Expr is the whole template.
type Error struct {
	Expr string
	Pos  int // 1-based column in Expr; 0 when not tied to a position
	Msg  string
}

func (e *Error) Error() string {
	if e.Pos > 0 {
		return fmt.Sprintf("%s at column %d", e.Msg, e.Pos)
	}
	return e.Msg
}

type op uint8

const (
	opInt op = iota
	opStr
	opIdent
	opNeg
	opAdd
	opSub
	opMul
	opDiv
	opMod
	opRange   // a..b
	opRangeEx // a..<b
	opList
	opHash     // x.hashCode()
	opIntdiv   // x.intdiv(y)
	opAbs      // Math.abs(x)
	opFloorMod // Math.floorMod(x, y)
)

type expr struct {
	op   op
	i    int64
	is32 bool
	s    string
	args []*expr
	pos  int
}

type part struct {
	lit string
	e   *expr // nil for a literal part
}

// Template is a parsed inline expression. It is immutable and safe for
// concurrent use.
type Template struct {
	src    string
	parts  []part
	multi  bool     // contains a range or a list
	idents []string // distinct identifiers, in order of appearance
}

// String returns the source text.
func (t *Template) String() string { return t.src }

// Columns returns the identifiers the template references (the sharding
// column, normally), in order of first appearance.
func (t *Template) Columns() []string { return t.idents }

// Multi reports whether the template contains a range or a list and so
// expands to several strings (data nodes) rather than naming one.
func (t *Template) Multi() bool { return t.multi }

// Literal reports whether the template has no ${} segment at all.
func (t *Template) Literal() bool {
	for _, p := range t.parts {
		if p.e != nil {
			return false
		}
	}
	return true
}

// Parse parses a template.
func Parse(src string) (*Template, error) {
	p := &parser{src: src}
	t := &Template{src: src}
	var lit strings.Builder
	i := 0
	for i < len(src) {
		start := -1
		switch {
		case strings.HasPrefix(src[i:], "${"):
			start = i + 2
		case strings.HasPrefix(src[i:], "$->{"):
			start = i + 4
		}
		if start < 0 {
			lit.WriteByte(src[i])
			i++
			continue
		}
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{lit: lit.String()})
			lit.Reset()
		}
		p.pos = start
		p.next()
		if p.tok.kind == tRBrace {
			return nil, p.errAt(p.tok.pos, "empty ${} segment")
		}
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRBrace {
			return nil, p.unexpected()
		}
		t.parts = append(t.parts, part{e: e})
		i = p.pos
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, part{lit: lit.String()})
	}
	for _, pt := range t.parts {
		if pt.e != nil {
			t.walk(pt.e)
		}
	}
	return t, nil
}

func (t *Template) walk(e *expr) {
	switch e.op {
	case opIdent:
		for _, s := range t.idents {
			if s == e.s {
				return
			}
		}
		t.idents = append(t.idents, e.s)
	case opRange, opRangeEx, opList:
		t.multi = true
	}
	for _, a := range e.args {
		t.walk(a)
	}
}

// ---- lexer and parser ----

type tkind uint8

const (
	tEOF tkind = iota
	tInt
	tStr
	tIdent
	tPunct // one of + - * / % ( ) [ ] , .
	tDotDot
	tDotDotLt
	tRBrace
)

type token struct {
	kind tkind
	pos  int // 0-based offset in src
	s    string
	i    int64
	ch   byte
}

type parser struct {
	src string
	pos int // next unread byte
	tok token
}

func (p *parser) errAt(pos int, format string, args ...any) error {
	return &Error{Expr: p.src, Pos: pos + 1, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) unexpected() error {
	if err := p.lexErr(); err != nil {
		return err
	}
	switch p.tok.kind {
	case tEOF:
		return p.errAt(len(p.src), "unexpected end of expression (missing \"}\"?)")
	case tInt:
		return p.errAt(p.tok.pos, "unexpected number %d", p.tok.i)
	case tStr:
		return p.errAt(p.tok.pos, "unexpected string %q", p.tok.s)
	case tIdent:
		return p.errAt(p.tok.pos, "unexpected %q", p.tok.s)
	case tDotDot:
		return p.errAt(p.tok.pos, "unexpected \"..\"")
	case tDotDotLt:
		return p.errAt(p.tok.pos, "unexpected \"..<\"")
	case tRBrace:
		return p.errAt(p.tok.pos, "unexpected \"}\"")
	}
	return p.errAt(p.tok.pos, "unexpected %q", string(p.tok.ch))
}

// next reads the next token into p.tok; lexing errors become a token the
// parser rejects, so next itself never fails.
func (p *parser) next() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n' || p.src[p.pos] == '\r') {
		p.pos++
	}
	start := p.pos
	if p.pos >= len(p.src) {
		p.tok = token{kind: tEOF, pos: start}
		return
	}
	c := p.src[p.pos]
	switch {
	case c >= '0' && c <= '9':
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
		}
		p.tok = token{kind: tInt, pos: start, s: p.src[start:p.pos]}
		v, err := strconv.ParseInt(p.tok.s, 10, 64)
		if err != nil {
			p.tok = token{kind: tPunct, pos: start, ch: 0, s: "number too large"}
			return
		}
		p.tok.i = v
		// Java/Groovy type suffixes (L, l, I, i) are accepted and ignored.
		if p.pos < len(p.src) && strings.IndexByte("LlIi", p.src[p.pos]) >= 0 {
			p.pos++
		}
		if p.pos+1 < len(p.src) && p.src[p.pos] == '.' && p.src[p.pos+1] >= '0' && p.src[p.pos+1] <= '9' {
			p.tok = token{kind: tPunct, pos: start, s: "decimal numbers are not supported"}
		}
	case c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z'):
		for p.pos < len(p.src) {
			d := p.src[p.pos]
			if d == '_' || (d|0x20 >= 'a' && d|0x20 <= 'z') || (d >= '0' && d <= '9') {
				p.pos++
				continue
			}
			break
		}
		p.tok = token{kind: tIdent, pos: start, s: p.src[start:p.pos]}
	case c == '\'' || c == '"':
		s, ok := p.lexString(c)
		if !ok {
			p.tok = token{kind: tPunct, pos: start, s: "unterminated string"}
			return
		}
		p.tok = token{kind: tStr, pos: start, s: s}
	case c == '.':
		if strings.HasPrefix(p.src[p.pos:], "..<") {
			p.pos += 3
			p.tok = token{kind: tDotDotLt, pos: start}
		} else if strings.HasPrefix(p.src[p.pos:], "..") {
			p.pos += 2
			p.tok = token{kind: tDotDot, pos: start}
		} else {
			p.pos++
			p.tok = token{kind: tPunct, pos: start, ch: '.'}
		}
	case c == '}':
		p.pos++
		p.tok = token{kind: tRBrace, pos: start}
	case strings.IndexByte("+-*/%()[],", c) >= 0:
		p.pos++
		p.tok = token{kind: tPunct, pos: start, ch: c}
	default:
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		p.pos += size
		p.tok = token{kind: tPunct, pos: start, s: fmt.Sprintf("unexpected %q", r)}
	}
}

// lexString reads a quoted string starting at p.pos (the quote).
func (p *parser) lexString(q byte) (string, bool) {
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == q:
			p.pos++
			return b.String(), true
		case c == '\\' && p.pos+1 < len(p.src):
			p.pos++
			switch e := p.src[p.pos]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(e)
			}
			p.pos++
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return "", false
}

func (p *parser) isPunct(c byte) bool { return p.tok.kind == tPunct && p.tok.ch == c && p.tok.s == "" }

// lexErr reports a lexing error carried by the current token, if any.
func (p *parser) lexErr() error {
	if p.tok.kind == tPunct && p.tok.s != "" {
		return p.errAt(p.tok.pos, "%s", p.tok.s)
	}
	return nil
}

func (p *parser) expect(c byte) error {
	if !p.isPunct(c) {
		if err := p.lexErr(); err != nil {
			return err
		}
		if p.tok.kind == tEOF || p.tok.kind == tRBrace {
			return p.errAt(p.tok.pos, "missing %q", string(c))
		}
		return p.unexpected()
	}
	p.next()
	return nil
}

const maxDepth = 64

func (p *parser) parseExpr() (*expr, error) { return p.parseRange(0) }

func (p *parser) parseRange(depth int) (*expr, error) {
	if depth > maxDepth {
		return nil, p.errAt(p.tok.pos, "expression is nested too deeply")
	}
	lo, err := p.parseAdditive(depth)
	if err != nil {
		return nil, err
	}
	if p.tok.kind == tDotDot || p.tok.kind == tDotDotLt {
		o := opRange
		if p.tok.kind == tDotDotLt {
			o = opRangeEx
		}
		pos := p.tok.pos
		p.next()
		hi, err := p.parseAdditive(depth)
		if err != nil {
			return nil, err
		}
		return &expr{op: o, args: []*expr{lo, hi}, pos: pos}, nil
	}
	return lo, nil
}

func (p *parser) parseAdditive(depth int) (*expr, error) {
	x, err := p.parseTerm(depth)
	if err != nil {
		return nil, err
	}
	for p.isPunct('+') || p.isPunct('-') {
		o := opAdd
		if p.tok.ch == '-' {
			o = opSub
		}
		pos := p.tok.pos
		p.next()
		y, err := p.parseTerm(depth)
		if err != nil {
			return nil, err
		}
		x = &expr{op: o, args: []*expr{x, y}, pos: pos}
	}
	return x, nil
}

func (p *parser) parseTerm(depth int) (*expr, error) {
	x, err := p.parseUnary(depth)
	if err != nil {
		return nil, err
	}
	for p.isPunct('*') || p.isPunct('/') || p.isPunct('%') {
		var o op
		switch p.tok.ch {
		case '*':
			o = opMul
		case '/':
			o = opDiv
		default:
			o = opMod
		}
		pos := p.tok.pos
		p.next()
		y, err := p.parseUnary(depth)
		if err != nil {
			return nil, err
		}
		if (o == opDiv || o == opMod) && y.op == opInt && y.i == 0 {
			return nil, p.errAt(pos, "division by zero")
		}
		x = &expr{op: o, args: []*expr{x, y}, pos: pos}
	}
	return x, nil
}

func (p *parser) parseUnary(depth int) (*expr, error) {
	if depth > maxDepth {
		return nil, p.errAt(p.tok.pos, "expression is nested too deeply")
	}
	if p.isPunct('-') {
		pos := p.tok.pos
		p.next()
		x, err := p.parseUnary(depth + 1)
		if err != nil {
			return nil, err
		}
		if x.op == opInt { // fold negative literals
			return &expr{op: opInt, i: -x.i, is32: -x.i >= math.MinInt32 && -x.i <= math.MaxInt32, pos: pos}, nil
		}
		return &expr{op: opNeg, args: []*expr{x}, pos: pos}, nil
	}
	if p.isPunct('+') {
		p.next()
		return p.parseUnary(depth + 1)
	}
	return p.parsePostfix(depth)
}

var supported = "supported: hashCode(), intdiv(n), Math.abs(x), Math.floorMod(x, n)"

func (p *parser) parsePostfix(depth int) (*expr, error) {
	// Static calls: Math.abs(x), Math.floorMod(x, y).
	if p.tok.kind == tIdent && p.tok.s == "Math" {
		pos := p.tok.pos
		p.next()
		if !p.isPunct('.') {
			return nil, p.errAt(pos, "Math must be followed by .abs(x) or .floorMod(x, n)")
		}
		p.next()
		if p.tok.kind != tIdent {
			return nil, p.unexpected()
		}
		name, npos := p.tok.s, p.tok.pos
		p.next()
		args, err := p.parseArgs(depth)
		if err != nil {
			return nil, err
		}
		var e *expr
		switch {
		case name == "abs" && len(args) == 1:
			e = &expr{op: opAbs, args: args, pos: npos}
		case name == "floorMod" && len(args) == 2:
			if args[1].op == opInt && args[1].i == 0 {
				return nil, p.errAt(npos, "division by zero")
			}
			e = &expr{op: opFloorMod, args: args, pos: npos}
		default:
			return nil, p.errAt(npos, "unsupported function Math.%s with %d argument(s) (%s)", name, len(args), supported)
		}
		return p.parseMethods(e, depth)
	}
	x, err := p.parsePrimary(depth)
	if err != nil {
		return nil, err
	}
	return p.parseMethods(x, depth)
}

func (p *parser) parseMethods(x *expr, depth int) (*expr, error) {
	for p.isPunct('.') {
		p.next()
		if p.tok.kind != tIdent {
			if err := p.lexErr(); err != nil {
				return nil, err
			}
			return nil, p.unexpected()
		}
		name, npos := p.tok.s, p.tok.pos
		p.next()
		if !p.isPunct('(') {
			return nil, p.errAt(npos, "unsupported property %q (%s)", name, supported)
		}
		args, err := p.parseArgs(depth)
		if err != nil {
			return nil, err
		}
		switch {
		case name == "hashCode" && len(args) == 0:
			x = &expr{op: opHash, args: []*expr{x}, pos: npos}
		case name == "intdiv" && len(args) == 1:
			if args[0].op == opInt && args[0].i == 0 {
				return nil, p.errAt(npos, "division by zero")
			}
			x = &expr{op: opIntdiv, args: []*expr{x, args[0]}, pos: npos}
		default:
			return nil, p.errAt(npos, "unsupported method %s() with %d argument(s) (%s)", name, len(args), supported)
		}
	}
	return x, nil
}

// parseArgs parses "(" [expr {"," expr}] ")".
func (p *parser) parseArgs(depth int) ([]*expr, error) {
	if err := p.expect('('); err != nil {
		return nil, err
	}
	var args []*expr
	if p.isPunct(')') {
		p.next()
		return args, nil
	}
	for {
		a, err := p.parseRange(depth + 1)
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		if p.isPunct(',') {
			p.next()
			continue
		}
		if err := p.expect(')'); err != nil {
			return nil, err
		}
		return args, nil
	}
}

func (p *parser) parsePrimary(depth int) (*expr, error) {
	if err := p.lexErr(); err != nil {
		return nil, err
	}
	t := p.tok
	switch t.kind {
	case tInt:
		p.next()
		return &expr{op: opInt, i: t.i, is32: t.i <= math.MaxInt32, pos: t.pos}, nil
	case tStr:
		p.next()
		return &expr{op: opStr, s: t.s, pos: t.pos}, nil
	case tIdent:
		p.next()
		if p.isPunct('(') {
			return nil, p.errAt(t.pos, "unsupported function %s() (%s)", t.s, supported)
		}
		return &expr{op: opIdent, s: t.s, pos: t.pos}, nil
	case tPunct:
		switch t.ch {
		case '(':
			p.next()
			x, err := p.parseRange(depth + 1)
			if err != nil {
				return nil, err
			}
			if err := p.expect(')'); err != nil {
				return nil, err
			}
			return x, nil
		case '[':
			p.next()
			l := &expr{op: opList, pos: t.pos}
			if p.isPunct(']') {
				return nil, p.errAt(t.pos, "empty list")
			}
			for {
				x, err := p.parseRange(depth + 1)
				if err != nil {
					return nil, err
				}
				l.args = append(l.args, x)
				if p.isPunct(',') {
					p.next()
					continue
				}
				if err := p.expect(']'); err != nil {
					return nil, err
				}
				return l, nil
			}
		}
	}
	return nil, p.unexpected()
}

// ---- evaluation ----

type vkind uint8

const (
	kInt32 vkind = iota
	kInt64
	kStr
	kList
)

type value struct {
	k    vkind
	i    int64
	s    string
	list []value
}

func intVal(v int64, is32 bool) value {
	if is32 {
		return value{k: kInt32, i: int64(int32(v))}
	}
	return value{k: kInt64, i: v}
}

func argValue(a Arg) value {
	if a.IsStr {
		return value{k: kStr, s: a.Str}
	}
	return intVal(a.Int, a.Int >= math.MinInt32 && a.Int <= math.MaxInt32)
}

func (v value) isInt() bool { return v.k == kInt32 || v.k == kInt64 }

func (v value) describe() string {
	switch v.k {
	case kStr:
		return "the string " + strconv.Quote(v.s)
	case kList:
		return "a list"
	}
	return "the number " + strconv.FormatInt(v.i, 10)
}

func appendValue(dst []byte, v value) []byte {
	if v.k == kStr {
		return append(dst, v.s...)
	}
	return strconv.AppendInt(dst, v.i, 10)
}

func (v value) string() string {
	if v.k == kStr {
		return v.s
	}
	return strconv.FormatInt(v.i, 10)
}

// evaluator carries the template (for errors) and the argument. bound is
// false when evaluating data nodes, where no column exists.
type evaluator struct {
	t     *Template
	arg   value
	bound bool
}

func (ev *evaluator) errAt(e *expr, format string, args ...any) error {
	return &Error{Expr: ev.t.src, Pos: e.pos + 1, Msg: fmt.Sprintf(format, args...)}
}

// JavaStringHash is Java's String.hashCode over the UTF-16 code units of s.
func JavaStringHash(s string) int32 {
	var h int32
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r >= 0x10000 {
			r -= 0x10000
			h = 31*h + int32(0xD800+(r>>10))
			h = 31*h + int32(0xDC00+(r&0x3FF))
			continue
		}
		h = 31*h + int32(r)
	}
	return h
}

func (ev *evaluator) eval(e *expr) (value, error) {
	switch e.op {
	case opInt:
		return intVal(e.i, e.is32), nil
	case opStr:
		return value{k: kStr, s: e.s}, nil
	case opIdent:
		if !ev.bound {
			return value{}, ev.errAt(e, "%q is not defined here (data nodes take no column)", e.s)
		}
		return ev.arg, nil
	case opNeg:
		x, err := ev.eval(e.args[0])
		if err != nil {
			return value{}, err
		}
		if !x.isInt() {
			return value{}, ev.errAt(e, "cannot negate %s", x.describe())
		}
		return intVal(-x.i, x.k == kInt32), nil
	case opAdd, opSub, opMul, opDiv, opMod, opIntdiv, opFloorMod:
		x, err := ev.eval(e.args[0])
		if err != nil {
			return value{}, err
		}
		y, err := ev.eval(e.args[1])
		if err != nil {
			return value{}, err
		}
		if e.op == opAdd && (x.k == kStr || y.k == kStr) && x.k != kList && y.k != kList {
			return value{k: kStr, s: x.string() + y.string()}, nil
		}
		if !x.isInt() || !y.isInt() {
			bad := x
			if x.isInt() {
				bad = y
			}
			return value{}, ev.errAt(e, "arithmetic needs numbers, got %s", bad.describe())
		}
		return ev.arith(e, x, y)
	case opRange, opRangeEx:
		lo, err := ev.eval(e.args[0])
		if err != nil {
			return value{}, err
		}
		hi, err := ev.eval(e.args[1])
		if err != nil {
			return value{}, err
		}
		if !lo.isInt() || !hi.isInt() {
			return value{}, ev.errAt(e, "range bounds must be numbers")
		}
		return ev.rangeList(e, lo.i, hi.i, e.op == opRangeEx)
	case opList:
		l := make([]value, 0, len(e.args))
		for _, a := range e.args {
			v, err := ev.eval(a)
			if err != nil {
				return value{}, err
			}
			if v.k == kList {
				return value{}, ev.errAt(a, "nested lists are not supported")
			}
			l = append(l, v)
		}
		return value{k: kList, list: l}, nil
	case opHash:
		x, err := ev.eval(e.args[0])
		if err != nil {
			return value{}, err
		}
		switch x.k {
		case kStr:
			return value{k: kInt32, i: int64(JavaStringHash(x.s))}, nil
		case kInt32:
			return x, nil // Integer.hashCode
		case kInt64:
			u := uint64(x.i)
			return value{k: kInt32, i: int64(int32(u ^ (u >> 32)))}, nil // Long.hashCode
		}
		return value{}, ev.errAt(e, "hashCode() of a list is not supported")
	case opAbs:
		x, err := ev.eval(e.args[0])
		if err != nil {
			return value{}, err
		}
		if !x.isInt() {
			return value{}, ev.errAt(e, "Math.abs needs a number, got %s", x.describe())
		}
		if x.i < 0 {
			return intVal(-x.i, x.k == kInt32), nil // Java: abs(MIN_VALUE) stays MIN_VALUE
		}
		return x, nil
	}
	return value{}, ev.errAt(e, "internal error: unknown operation")
}

func (ev *evaluator) arith(e *expr, x, y value) (value, error) {
	is32 := x.k == kInt32 && y.k == kInt32
	a, b := x.i, y.i
	if is32 {
		a32, b32 := int32(a), int32(b)
		var r int32
		switch e.op {
		case opAdd:
			r = a32 + b32
		case opSub:
			r = a32 - b32
		case opMul:
			r = a32 * b32
		case opDiv, opIntdiv, opMod, opFloorMod:
			if b32 == 0 {
				return value{}, ev.errAt(e, "division by zero")
			}
			switch e.op {
			case opMod:
				r = a32 % b32
			case opFloorMod:
				r = a32 % b32
				if r != 0 && (r < 0) != (b32 < 0) {
					r += b32
				}
			default:
				r = a32 / b32
			}
		}
		return value{k: kInt32, i: int64(r)}, nil
	}
	var r int64
	switch e.op {
	case opAdd:
		r = a + b
	case opSub:
		r = a - b
	case opMul:
		r = a * b
	case opDiv, opIntdiv, opMod, opFloorMod:
		if b == 0 {
			return value{}, ev.errAt(e, "division by zero")
		}
		switch e.op {
		case opMod:
			r = a % b
		case opFloorMod:
			r = a % b
			if r != 0 && (r < 0) != (b < 0) {
				r += b
			}
		default:
			r = a / b
		}
	}
	return value{k: kInt64, i: r}, nil
}

func (ev *evaluator) rangeList(e *expr, lo, hi int64, exclusive bool) (value, error) {
	step := int64(1)
	if hi < lo {
		step = -1
	}
	if exclusive {
		if lo == hi {
			return value{k: kList}, nil
		}
		hi -= step
	}
	var n uint64 // number of values - 1, without overflow
	if hi >= lo {
		n = uint64(hi) - uint64(lo)
	} else {
		n = uint64(lo) - uint64(hi)
	}
	if n >= MaxExpansion {
		return value{}, ev.errAt(e, "range %d..%d has more than %d values", lo, hi, MaxExpansion)
	}
	l := make([]value, 0, n+1)
	for v := lo; ; v += step {
		l = append(l, intVal(v, v >= math.MinInt32 && v <= math.MaxInt32))
		if v == hi {
			break
		}
	}
	return value{k: kList, list: l}, nil
}

// Eval evaluates a single-valued template with the column bound to a and
// appends the result to dst. Templates with ranges or lists are rejected.
func (t *Template) Eval(dst []byte, a Arg) ([]byte, error) {
	ev := evaluator{t: t, arg: argValue(a), bound: true}
	for _, p := range t.parts {
		if p.e == nil {
			dst = append(dst, p.lit...)
			continue
		}
		v, err := ev.eval(p.e)
		if err != nil {
			return dst, err
		}
		if v.k == kList {
			return dst, ev.errAt(p.e, "expression produces a list, not one name")
		}
		dst = appendValue(dst, v)
	}
	return dst, nil
}

// EvalString is Eval returning a string.
func (t *Template) EvalString(a Arg) (string, error) {
	b, err := t.Eval(nil, a)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Expand evaluates a template that references no column and returns every
// string it denotes: segments that produce lists (ranges, [..]) combine as a
// Cartesian product, leftmost segment varying slowest.
func (t *Template) Expand() ([]string, error) {
	ev := evaluator{t: t}
	out := []string{""}
	for _, p := range t.parts {
		if p.e == nil {
			for i := range out {
				out[i] += p.lit
			}
			continue
		}
		v, err := ev.eval(p.e)
		if err != nil {
			return nil, err
		}
		items := []value{v}
		if v.k == kList {
			items = v.list
		}
		if len(items) == 0 {
			return nil, ev.errAt(p.e, "expression expands to nothing")
		}
		if len(out)*len(items) > MaxExpansion {
			return nil, &Error{Expr: t.src, Msg: fmt.Sprintf("expands to more than %d names", MaxExpansion)}
		}
		next := make([]string, 0, len(out)*len(items))
		for _, prefix := range out {
			for _, it := range items {
				next = append(next, prefix+it.string())
			}
		}
		out = next
	}
	return out, nil
}

// SplitList splits a comma-separated list of templates (ShardingSphere's
// actualDataNodes syntax), ignoring commas inside ${} segments and quotes,
// and trims the spaces around each item.
func SplitList(src string) ([]string, error) {
	var items []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case depth > 0 && (c == '\'' || c == '"'):
			quote = c
		case c == '{' && (depth > 0 || (i > 0 && (src[i-1] == '$' || strings.HasSuffix(src[:i], "$->")))):
			depth++
		case c == '}' && depth > 0:
			depth--
		case c == ',' && depth == 0:
			items = append(items, strings.TrimSpace(src[start:i]))
			start = i + 1
		}
	}
	if depth > 0 || quote != 0 {
		return nil, &Error{Expr: src, Msg: "unterminated ${} segment"}
	}
	items = append(items, strings.TrimSpace(src[start:]))
	for _, it := range items {
		if it == "" {
			return nil, &Error{Expr: src, Msg: "empty item in comma-separated list"}
		}
	}
	return items, nil
}

// ExpandList parses a comma-separated list of templates and expands each
// (see Expand), concatenating the results in order.
func ExpandList(src string) ([]string, error) {
	items, err := SplitList(src)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, it := range items {
		t, err := Parse(it)
		if err != nil {
			return nil, err
		}
		names, err := t.Expand()
		if err != nil {
			return nil, err
		}
		if len(out)+len(names) > MaxExpansion {
			return nil, &Error{Expr: src, Msg: fmt.Sprintf("expands to more than %d names", MaxExpansion)}
		}
		out = append(out, names...)
	}
	return out, nil
}

// ErrUnbounded is returned by Outputs when the set of possible results
// cannot be enumerated (for example ${order_id}).
var ErrUnbounded = errors.New("inline: outputs cannot be enumerated")
