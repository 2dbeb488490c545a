package session

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/shard"
)

// errParams is the error for a COM_STMT_EXECUTE whose parameters do not
// decode.
func errParams(what string) *protocol.Error {
	return protocol.NewError(protocol.ErrWrongArguments, "HY000", "Incorrect arguments to mysqld_stmt_execute: %s", what)
}

// paramLiterals decodes the binary parameter values of a COM_STMT_EXECUTE
// into SQL literals. types holds two bytes per parameter (type, flags);
// long holds data sent with COM_STMT_SEND_LONG_DATA.
func paramLiterals(n int, nullmap, types, values []byte, long map[uint16][]byte) ([]string, *protocol.Error) {
	out := make([]string, n)
	pos := 0
	for i := 0; i < n; i++ {
		// As in MariaDB, data sent with COM_STMT_SEND_LONG_DATA wins over
		// the NULL bit (mysqlnd sets it for such parameters).
		if data, ok := long[uint16(i)]; ok {
			out[i] = quoteString(data)
			continue
		}
		if nullmap[i/8]&(1<<(i%8)) != 0 {
			out[i] = "NULL"
			continue
		}
		typ, unsigned := types[2*i], types[2*i+1]&0x80 != 0
		rest := values[pos:]
		fixed := func(k int) ([]byte, bool) {
			if len(rest) < k {
				return nil, false
			}
			pos += k
			return rest[:k], true
		}
		switch typ {
		case protocol.TypeNull:
			out[i] = "NULL"
		case protocol.TypeTiny:
			b, ok := fixed(1)
			if !ok {
				return nil, errParams("short value")
			}
			if unsigned {
				out[i] = strconv.FormatUint(uint64(b[0]), 10)
			} else {
				out[i] = strconv.FormatInt(int64(int8(b[0])), 10)
			}
		case protocol.TypeShort, protocol.TypeYear:
			b, ok := fixed(2)
			if !ok {
				return nil, errParams("short value")
			}
			v := binary.LittleEndian.Uint16(b)
			if unsigned {
				out[i] = strconv.FormatUint(uint64(v), 10)
			} else {
				out[i] = strconv.FormatInt(int64(int16(v)), 10)
			}
		case protocol.TypeLong, protocol.TypeInt24:
			b, ok := fixed(4)
			if !ok {
				return nil, errParams("short value")
			}
			v := binary.LittleEndian.Uint32(b)
			if unsigned {
				out[i] = strconv.FormatUint(uint64(v), 10)
			} else {
				out[i] = strconv.FormatInt(int64(int32(v)), 10)
			}
		case protocol.TypeLongLong:
			b, ok := fixed(8)
			if !ok {
				return nil, errParams("short value")
			}
			v := binary.LittleEndian.Uint64(b)
			if unsigned {
				out[i] = strconv.FormatUint(v, 10)
			} else {
				out[i] = strconv.FormatInt(int64(v), 10)
			}
		case protocol.TypeFloat:
			b, ok := fixed(4)
			if !ok {
				return nil, errParams("short value")
			}
			out[i] = floatLiteral(float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), 32)
		case protocol.TypeDouble:
			b, ok := fixed(8)
			if !ok {
				return nil, errParams("short value")
			}
			out[i] = floatLiteral(math.Float64frombits(binary.LittleEndian.Uint64(b)), 64)
		case protocol.TypeDate, protocol.TypeDateTime, protocol.TypeTimestamp, protocol.TypeNewDate:
			if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
				return nil, errParams("short date")
			}
			k := int(rest[0])
			b := rest[1 : 1+k]
			pos += 1 + k
			lit, ok := dateLiteral(typ, b)
			if !ok {
				return nil, errParams("bad date")
			}
			out[i] = lit
		case protocol.TypeTime:
			if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
				return nil, errParams("short time")
			}
			k := int(rest[0])
			b := rest[1 : 1+k]
			pos += 1 + k
			lit, ok := timeLiteral(b)
			if !ok {
				return nil, errParams("bad time")
			}
			out[i] = lit
		case protocol.TypeDecimal, protocol.TypeNewDecimal:
			s, null, k := protocol.ReadLenEncString(rest)
			if k == 0 || null {
				return nil, errParams("bad decimal")
			}
			pos += k
			if _, err := strconv.ParseFloat(string(s), 64); err != nil {
				return nil, errParams("bad decimal")
			}
			out[i] = string(s)
		default:
			// Strings, blobs, JSON, BIT, ENUM, SET, GEOMETRY.
			s, null, k := protocol.ReadLenEncString(rest)
			if k == 0 || null {
				return nil, errParams("bad string value")
			}
			pos += k
			out[i] = quoteString(s)
		}
	}
	return out, nil
}

func floatLiteral(f float64, bits int) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "NULL"
	}
	// An exponent makes MySQL read the literal as a DOUBLE, as the
	// parameter was.
	s := strconv.FormatFloat(f, 'g', -1, bits)
	if !strings.Contains(s, "e") {
		s += "e0"
	}
	return s
}

// quoteString makes a string literal that reads back as b. Backslashes are
// escaped, which assumes the default sql_mode (without
// NO_BACKSLASH_ESCAPES).
func quoteString(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) + 2)
	sb.WriteByte('\'')
	for _, c := range b {
		switch c {
		case '\'':
			sb.WriteString("''")
		case '\\':
			sb.WriteString("\\\\")
		case 0:
			sb.WriteString("\\0")
		default:
			sb.WriteByte(c)
		}
	}
	sb.WriteByte('\'')
	return sb.String()
}

func dateLiteral(typ byte, b []byte) (string, bool) {
	var y, mo, d, h, mi, s int
	var us uint32
	switch len(b) {
	case 0:
		return "'0000-00-00 00:00:00'", true
	case 4, 7, 11:
		y, mo, d = int(binary.LittleEndian.Uint16(b)), int(b[2]), int(b[3])
		if len(b) >= 7 {
			h, mi, s = int(b[4]), int(b[5]), int(b[6])
		}
		if len(b) == 11 {
			us = binary.LittleEndian.Uint32(b[7:])
		}
	default:
		return "", false
	}
	if typ == protocol.TypeDate || typ == protocol.TypeNewDate {
		return fmt.Sprintf("'%04d-%02d-%02d'", y, mo, d), true
	}
	if us != 0 {
		return fmt.Sprintf("'%04d-%02d-%02d %02d:%02d:%02d.%06d'", y, mo, d, h, mi, s, us), true
	}
	return fmt.Sprintf("'%04d-%02d-%02d %02d:%02d:%02d'", y, mo, d, h, mi, s), true
}

func timeLiteral(b []byte) (string, bool) {
	switch len(b) {
	case 0:
		return "'00:00:00'", true
	case 8, 12:
	default:
		return "", false
	}
	sign := ""
	if b[0] == 1 {
		sign = "-"
	}
	days := binary.LittleEndian.Uint32(b[1:])
	h := uint32(b[5]) + days*24
	if len(b) == 12 {
		return fmt.Sprintf("'%s%02d:%02d:%02d.%06d'", sign, h, b[6], b[7], binary.LittleEndian.Uint32(b[8:])), true
	}
	return fmt.Sprintf("'%s%02d:%02d:%02d'", sign, h, b[6], b[7]), true
}

// keyValue decodes parameter i of an execution as a shard key value
// (integers and strings); ok is false for other types and NULL.
func keyValue(i, n int, nullmap, types, values []byte, long map[uint16][]byte) (shard.Value, bool) {
	lits, perr := paramLiterals(n, nullmap, types, values, long)
	if perr != nil || i >= len(lits) {
		return shard.Value{}, false
	}
	lit := lits[i]
	switch {
	case lit == "NULL" || lit == "":
		return shard.Value{}, false
	case lit[0] == '\'':
		return shard.String(unquoteString(lit)), true
	}
	if v, err := strconv.ParseInt(lit, 10, 64); err == nil {
		return shard.Int(v), true
	}
	if v, err := strconv.ParseUint(lit, 10, 64); err == nil {
		return shard.Uint(v), true
	}
	return shard.Value{}, false
}

// unquoteString reverses quoteString.
func unquoteString(lit string) string {
	s := lit[1 : len(lit)-1]
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case c == '\\' && i+1 < len(s):
			i++
			if s[i] == '0' {
				b.WriteByte(0)
			} else {
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
