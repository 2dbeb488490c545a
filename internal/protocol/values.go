package protocol

import (
	"encoding/binary"
	"errors"
)

// ErrMalformed reports a packet that could not be decoded.
var ErrMalformed = errors.New("malformed packet")

// ReadLenEncInt decodes a length-encoded integer at the start of b. It
// returns the value, whether it was the NULL marker (0xfb), and the number of
// bytes consumed; n == 0 means b was too short.
func ReadLenEncInt(b []byte) (v uint64, null bool, n int) {
	if len(b) == 0 {
		return 0, false, 0
	}
	switch b[0] {
	case 0xfb:
		return 0, true, 1
	case 0xfc:
		if len(b) < 3 {
			return 0, false, 0
		}
		return uint64(b[1]) | uint64(b[2])<<8, false, 3
	case 0xfd:
		if len(b) < 4 {
			return 0, false, 0
		}
		return uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16, false, 4
	case 0xfe:
		if len(b) < 9 {
			return 0, false, 0
		}
		return binary.LittleEndian.Uint64(b[1:9]), false, 9
	case 0xff:
		return 0, false, 0
	}
	return uint64(b[0]), false, 1
}

// AppendLenEncInt appends v as a length-encoded integer.
func AppendLenEncInt(b []byte, v uint64) []byte {
	switch {
	case v < 251:
		return append(b, byte(v))
	case v < 1<<16:
		return append(b, 0xfc, byte(v), byte(v>>8))
	case v < 1<<24:
		return append(b, 0xfd, byte(v), byte(v>>8), byte(v>>16))
	}
	return append(b, 0xfe, byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
}

// ReadLenEncString decodes a length-encoded string at the start of b. The
// returned slice aliases b. n == 0 means b was malformed or too short.
func ReadLenEncString(b []byte) (s []byte, null bool, n int) {
	l, null, m := ReadLenEncInt(b)
	if m == 0 || null {
		return nil, null, m
	}
	if uint64(len(b)-m) < l {
		return nil, false, 0
	}
	end := m + int(l)
	return b[m:end], false, end
}

// AppendLenEncString appends s as a length-encoded string.
func AppendLenEncString(b []byte, s string) []byte {
	b = AppendLenEncInt(b, uint64(len(s)))
	return append(b, s...)
}

// AppendLenEncBytes appends s as a length-encoded string.
func AppendLenEncBytes(b []byte, s []byte) []byte {
	b = AppendLenEncInt(b, uint64(len(s)))
	return append(b, s...)
}

// ReadNulString returns the bytes before the first NUL and the number of
// bytes consumed including the NUL; n == 0 if there is no NUL.
func ReadNulString(b []byte) (s []byte, n int) {
	for i, c := range b {
		if c == 0 {
			return b[:i], i + 1
		}
	}
	return nil, 0
}

// AppendUint16 appends v little-endian.
func AppendUint16(b []byte, v uint16) []byte { return append(b, byte(v), byte(v>>8)) }

// AppendUint32 appends v little-endian.
func AppendUint32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}
