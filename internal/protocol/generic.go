package protocol

import (
	"encoding/binary"
	"fmt"
)

// OK is a decoded OK packet (or the OK-with-EOF-header that ends a result
// set under CLIENT_DEPRECATE_EOF).
type OK struct {
	AffectedRows uint64
	LastInsertID uint64
	Status       uint16
	Warnings     uint16
	Info         []byte // aliases the packet
	SessionState []byte // raw session_state_info; aliases the packet
}

// IsOK reports whether payload is an OK packet (header 0x00).
func IsOK(p []byte) bool { return len(p) > 0 && p[0] == OKHeader }

// IsErr reports whether payload is an ERR packet.
func IsErr(p []byte) bool { return len(p) > 0 && p[0] == ErrHeader }

// IsEOF reports whether payload is a classic EOF packet or an OK packet with
// the EOF header (CLIENT_DEPRECATE_EOF): header 0xfe and shorter than 16 MiB.
func IsEOF(p []byte) bool { return len(p) > 0 && p[0] == EOFHeader && len(p) < 0xffffff }

// ParseOK decodes an OK packet (header 0x00 or 0xfe). caps are the
// negotiated capabilities.
func ParseOK(p []byte, caps uint32) (OK, error) {
	var ok OK
	if len(p) < 1 {
		return ok, ErrMalformed
	}
	pos := 1
	v, _, n := ReadLenEncInt(p[pos:])
	if n == 0 {
		return ok, ErrMalformed
	}
	ok.AffectedRows = v
	pos += n
	v, _, n = ReadLenEncInt(p[pos:])
	if n == 0 {
		return ok, ErrMalformed
	}
	ok.LastInsertID = v
	pos += n
	if len(p) < pos+4 {
		// Some servers omit status on very old protocols.
		return ok, nil
	}
	ok.Status = binary.LittleEndian.Uint16(p[pos:])
	ok.Warnings = binary.LittleEndian.Uint16(p[pos+2:])
	pos += 4
	if pos >= len(p) {
		return ok, nil
	}
	if caps&ClientSessionTrack != 0 {
		s, _, n := ReadLenEncString(p[pos:])
		if n == 0 {
			return ok, ErrMalformed
		}
		ok.Info = s
		pos += n
		if ok.Status&StatusSessionStateChange != 0 && pos < len(p) {
			s, _, n := ReadLenEncString(p[pos:])
			if n == 0 {
				return ok, ErrMalformed
			}
			ok.SessionState = s
		}
	} else if s, _, n := ReadLenEncString(p[pos:]); n > 0 && pos+n == len(p) {
		// MariaDB length-encodes the info string whatever the capabilities.
		ok.Info = s
	} else {
		// MySQL sends it as the rest of the packet.
		ok.Info = p[pos:]
	}
	return ok, nil
}

// AppendOK appends an OK packet payload with the given header (OKHeader, or
// EOFHeader for the end of a result set under CLIENT_DEPRECATE_EOF), byte
// for byte as MariaDB builds it for the same capabilities.
func AppendOK(b []byte, header byte, ok *OK, caps uint32) []byte {
	b = append(b, header)
	b = AppendLenEncInt(b, ok.AffectedRows)
	b = AppendLenEncInt(b, ok.LastInsertID)
	status := ok.Status
	if caps&ClientSessionTrack == 0 || len(ok.SessionState) == 0 {
		status &^= StatusSessionStateChange
	}
	b = AppendUint16(b, status)
	b = AppendUint16(b, ok.Warnings)
	// As MariaDB does: the info string is length-encoded (with or without
	// CLIENT_SESSION_TRACK) and omitted when empty and no state follows.
	if len(ok.Info) > 0 || status&StatusSessionStateChange != 0 {
		b = AppendLenEncBytes(b, ok.Info)
	}
	if status&StatusSessionStateChange != 0 {
		b = AppendLenEncBytes(b, ok.SessionState)
	}
	return b
}

// AppendEOF appends a classic EOF packet payload.
func AppendEOF(b []byte, warnings, status uint16) []byte {
	b = append(b, EOFHeader)
	b = AppendUint16(b, warnings)
	return AppendUint16(b, status)
}

// ParseEOF decodes a classic EOF packet.
func ParseEOF(p []byte) (warnings, status uint16) {
	if len(p) >= 5 {
		return binary.LittleEndian.Uint16(p[1:]), binary.LittleEndian.Uint16(p[3:])
	}
	return 0, 0
}

// Error is a MySQL error as carried by an ERR packet. It implements error.
type Error struct {
	Code    uint16
	State   string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("ERROR %d (%s): %s", e.Code, e.State, e.Message)
}

// NewError builds an Error; the message is formatted with args.
func NewError(code uint16, state, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Code: code, State: state, Message: msg}
}

// ParseErr decodes an ERR packet.
func ParseErr(p []byte) *Error {
	e := &Error{Code: 1105, State: "HY000"}
	if len(p) < 3 {
		e.Message = "malformed error packet"
		return e
	}
	e.Code = binary.LittleEndian.Uint16(p[1:])
	rest := p[3:]
	if len(rest) >= 6 && rest[0] == '#' {
		e.State = string(rest[1:6])
		rest = rest[6:]
	}
	e.Message = string(rest)
	return e
}

// AppendErr appends an ERR packet payload for e.
func AppendErr(b []byte, e *Error) []byte {
	b = append(b, ErrHeader)
	b = AppendUint16(b, e.Code)
	b = append(b, '#')
	st := e.State
	if len(st) != 5 {
		st = "HY000"
	}
	b = append(b, st...)
	return append(b, e.Message...)
}

// SessionVar is one system variable change reported in an OK packet's
// session state.
type SessionVar struct {
	Name, Value []byte
}

// WalkSessionState calls fn for every entry of a raw session_state_info
// block. Entry data aliases state.
func WalkSessionState(state []byte, fn func(typ byte, data []byte)) error {
	for len(state) > 0 {
		typ := state[0]
		data, _, n := ReadLenEncString(state[1:])
		if n == 0 {
			return ErrMalformed
		}
		fn(typ, data)
		state = state[1+n:]
	}
	return nil
}

// ParseSessionVar decodes the data of a SESSION_TRACK_SYSTEM_VARIABLES entry.
func ParseSessionVar(data []byte) (SessionVar, bool) {
	name, _, n := ReadLenEncString(data)
	if n == 0 {
		return SessionVar{}, false
	}
	val, _, m := ReadLenEncString(data[n:])
	if m == 0 {
		return SessionVar{}, false
	}
	return SessionVar{Name: name, Value: val}, true
}
