package peersuite

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Param is one parsed parameter value (README section 5).
type Param struct {
	// Text is the value as written (trimmed).
	Text string
	// Type is the type as written, lower-cased (int, string, date, ...,
	// enum#season).
	Type string
	// Null is true for the value null (except enum#, set# and cast# types).
	Null bool
	// Value is what gets bound in a prepared statement: int32, int64,
	// int16, int8, float32, float64, bool, string (also decimals, dates,
	// times), []byte, or nil for NULL.
	Value any
	// quoted: the literal form is wrapped in single quotes.
	quoted bool
}

// ParseParameters parses a parameters attribute such as
// "update:String, 1000:int, 10:int": split on ",", the type is after the
// last ":" of each piece (so "13:30:30:time" is the time 13:30:30).
func ParseParameters(s string) ([]Param, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []Param
	for i, piece := range strings.Split(s, ",") {
		k := strings.LastIndexByte(piece, ':')
		if k < 0 {
			return nil, fmt.Errorf("peersuite: parameter %d %q has no :type", i+1, strings.TrimSpace(piece))
		}
		p, err := newParam(strings.TrimSpace(piece[:k]), strings.ToLower(strings.TrimSpace(piece[k+1:])))
		if err != nil {
			return nil, fmt.Errorf("peersuite: parameter %d %q: %w", i+1, strings.TrimSpace(piece), err)
		}
		out = append(out, p)
	}
	return out, nil
}

func newParam(text, typ string) (Param, error) {
	p := Param{Text: text, Type: typ}
	special := strings.HasPrefix(typ, "enum#") || strings.HasPrefix(typ, "set#") || strings.HasPrefix(typ, "cast#")
	if strings.EqualFold(text, "null") && !special {
		p.Null = true
		return p, nil
	}
	intOf := func(bits int) (int64, error) {
		return strconv.ParseInt(text, 10, bits)
	}
	switch typ {
	case "int", "integer", "mediumint", "year":
		v, err := intOf(32)
		p.Value = int32(v)
		return p, err
	case "long", "bigint", "int unsigned":
		v, err := intOf(64)
		p.Value = v
		return p, err
	case "smallint", "tinyint unsigned":
		v, err := intOf(16)
		p.Value = int16(v)
		return p, err
	case "tinyint":
		v, err := intOf(8)
		p.Value = int8(v)
		return p, err
	case "float", "real":
		v, err := strconv.ParseFloat(text, 32)
		p.Value = float32(v)
		return p, err
	case "double":
		v, err := strconv.ParseFloat(text, 64)
		p.Value = v
		return p, err
	case "decimal", "numeric", "bigint unsigned":
		r, ok := new(big.Rat).SetString(text)
		if !ok {
			return p, fmt.Errorf("not a decimal number")
		}
		_ = r
		p.Value = text
		return p, nil
	case "boolean":
		b, err := strconv.ParseBool(strings.ToLower(text))
		p.Value = b
		return p, err
	case "date":
		d, err := time.Parse("2006-01-02", text)
		if err != nil {
			return p, err
		}
		p.Value, p.quoted = d.Format("2006-01-02"), true
		return p, nil
	case "datetime", "timestamp":
		t, err := parseDateTime(text)
		if err != nil {
			return p, err
		}
		p.Value, p.quoted = t.Format("2006-01-02 15:04:05.000"), true
		return p, nil
	case "time":
		p.Value, p.quoted = text, true
		return p, nil
	case "string", "varchar", "char", "text", "json", "enum", "set", "uuid":
		p.Value, p.quoted = text, true
		return p, nil
	case "blob", "bytes", "binary", "varbinary", "longblob", "mediumblob", "tinyblob":
		p.Value, p.quoted = []byte(text), true
		return p, nil
	}
	if strings.HasPrefix(typ, "enum#") || strings.HasPrefix(typ, "set#") || strings.HasPrefix(typ, "cast#") {
		p.Value, p.quoted = text, true
		return p, nil
	}
	return p, fmt.Errorf("unknown type %q", typ)
}

func parseDateTime(s string) (time.Time, error) {
	if len(s) == 10 {
		return time.Parse("2006-01-02", s)
	}
	return time.Parse("2006-01-02 15:04:05.999999999", s)
}

// Literal is the value as upstream writes it into literal SQL: quoted with
// no escaping for strings, dates, times and bytes, bare for numbers and
// booleans, null for NULL.
func (p Param) Literal() string {
	if p.Null {
		return "null"
	}
	switch v := p.Value.(type) {
	case []byte:
		return "'" + string(v) + "'"
	case string:
		if p.quoted {
			return "'" + v + "'"
		}
		return v
	case bool:
		return strconv.FormatBool(v)
	case float32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}

// Args are the values to bind, in order.
func Args(ps []Param) []any {
	out := make([]any, len(ps))
	for i, p := range ps {
		if p.Null {
			out[i] = nil
		} else {
			out[i] = p.Value
		}
	}
	return out
}

// LiteralSQL is upstream's LITERAL-mode statement (SQLE2EITContext.
// getLiteralSQL): every ? replaced in order by its literal; when there are
// parameters, every %% becomes % and a string literal that is then exactly
// '%' goes back to '%%'.
func LiteralSQL(sql string, ps []Param) (string, error) {
	if len(ps) == 0 {
		return sql, nil
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(sql); i++ {
		if sql[i] != '?' {
			b.WriteByte(sql[i])
			continue
		}
		if n >= len(ps) {
			return "", fmt.Errorf("peersuite: %d parameters for more placeholders in %q", len(ps), sql)
		}
		b.WriteString(ps[n].Literal())
		n++
	}
	if n != len(ps) {
		return "", fmt.Errorf("peersuite: %d parameters for %d placeholders in %q", len(ps), n, sql)
	}
	out := strings.ReplaceAll(b.String(), "%%", "%")
	return strings.ReplaceAll(out, "'%'", "'%%'"), nil
}

// Placeholders counts the ? of a statement (plain text count, as upstream).
func Placeholders(sql string) int { return strings.Count(sql, "?") }
