package merge

import "github.com/switchyard-db/switchyard/internal/protocol"

// field locates one column of a text-protocol row: row[start:end], or
// NULL (then start == end is just past the 0xfb marker).
type field struct {
	start, end int
	null       bool
}

// parseRow splits a text-protocol row into exactly len(fs) columns.
func parseRow(row []byte, fs []field) error {
	pos := 0
	for i := range fs {
		if pos >= len(row) {
			return malformed()
		}
		c := row[pos]
		var l uint64
		h := 1
		switch {
		case c < 0xfb:
			l = uint64(c)
		case c == 0xfb:
			fs[i] = field{pos + 1, pos + 1, true}
			pos++
			continue
		case c == 0xfc && pos+3 <= len(row):
			l, h = uint64(row[pos+1])|uint64(row[pos+2])<<8, 3
		case c == 0xfd && pos+4 <= len(row):
			l, h = uint64(row[pos+1])|uint64(row[pos+2])<<8|uint64(row[pos+3])<<16, 4
		case c == 0xfe && pos+9 <= len(row):
			for k := 8; k >= 1; k-- {
				l = l<<8 | uint64(row[pos+k])
			}
			h = 9
		default:
			return malformed()
		}
		if uint64(len(row)-pos-h) < l {
			return malformed()
		}
		s := pos + h
		pos = s + int(l)
		fs[i] = field{s, pos, false}
	}
	if pos != len(row) {
		return malformed()
	}
	return nil
}

// prefixEnd returns the length of the first n columns of a row.
func prefixEnd(fs []field, n int) int {
	if n <= 0 {
		return 0
	}
	return fs[n-1].end
}

// appendLenEncHeader appends the length header of an n-byte string.
func appendLenEncHeader(b []byte, n int) []byte {
	return protocol.AppendLenEncInt(b, uint64(n))
}

// appendCol appends one column (a length-encoded string or the NULL marker)
// and returns its field.
func appendCol(b []byte, v []byte, null bool) ([]byte, field) {
	if null {
		b = append(b, 0xfb)
		return b, field{len(b), len(b), true}
	}
	b = appendLenEncHeader(b, len(v))
	s := len(b)
	b = append(b, v...)
	return b, field{s, len(b), false}
}

// budget bounds the rows and bytes every buffer of one Run holds together.
type budget struct {
	p           *Plan
	rows, bytes int64
	shared      int64 // bytes taken from p.Shared
}

// rowOverhead approximates the bookkeeping bytes of one retained row.
const rowOverhead = 48

func (b *budget) take(rows, bytes int64) error {
	b.rows += rows
	b.bytes += bytes
	if (b.p.MaxRows > 0 && b.rows > b.p.MaxRows) || (b.p.MaxBytes > 0 && b.bytes > b.p.MaxBytes) {
		return tooBig(b.p)
	}
	if bytes > 0 && b.p.Shared != nil {
		if !b.p.Shared.Take(bytes) {
			return b.p.Shared.tooBig()
		}
		b.shared += bytes
	}
	return nil
}

func (b *budget) give(rows, bytes int64) {
	b.rows -= rows
	b.bytes -= bytes
	if n := min(bytes, b.shared); n > 0 && b.p.Shared != nil {
		b.p.Shared.Give(n)
		b.shared -= n
	}
}

// release gives back what the Run still holds of the shared budget.
func (b *budget) release() {
	if b.shared > 0 && b.p.Shared != nil {
		b.p.Shared.Give(b.shared)
		b.shared = 0
	}
}

// arena copies rows into large shared chunks so buffering many small rows
// costs few allocations.
type arena struct{ cur []byte }

const arenaChunk = 64 << 10

func (a *arena) copy(b []byte) []byte {
	if len(b) > arenaChunk/8 {
		return append([]byte(nil), b...)
	}
	if cap(a.cur)-len(a.cur) < len(b) {
		a.cur = make([]byte, 0, arenaChunk)
	}
	s := len(a.cur)
	a.cur = append(a.cur, b...)
	return a.cur[s:len(a.cur):len(a.cur)]
}

// fieldArena hands out field slices from shared chunks.
type fieldArena struct{ cur []field }

func (a *fieldArena) copy(fs []field) []field {
	if cap(a.cur)-len(a.cur) < len(fs) {
		a.cur = make([]field, 0, max(1024, len(fs)))
	}
	s := len(a.cur)
	a.cur = append(a.cur, fs...)
	return a.cur[s:len(a.cur):len(a.cur)]
}
