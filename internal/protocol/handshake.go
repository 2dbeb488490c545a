package protocol

import (
	"encoding/binary"
	"fmt"
)

// Greeting is the server's initial handshake (protocol version 10).
type Greeting struct {
	ServerVersion string
	ConnectionID  uint32
	Scramble      []byte // 20 bytes
	Capabilities  uint32
	Charset       uint8
	Status        uint16
	AuthPlugin    string
	// ExtCapabilities are MariaDB's extended capabilities, sent only when
	// Capabilities lacks ClientLongPassword (as MariaDB servers do).
	ExtCapabilities uint32
}

// AppendGreeting appends the HandshakeV10 payload for g.
func AppendGreeting(b []byte, g *Greeting) []byte {
	b = append(b, 10)
	b = append(b, g.ServerVersion...)
	b = append(b, 0)
	b = AppendUint32(b, g.ConnectionID)
	b = append(b, g.Scramble[:8]...)
	b = append(b, 0)
	b = AppendUint16(b, uint16(g.Capabilities))
	b = append(b, g.Charset)
	b = AppendUint16(b, g.Status)
	b = AppendUint16(b, uint16(g.Capabilities>>16))
	b = append(b, byte(len(g.Scramble)+1))
	b = append(b, make([]byte, 6)...)
	if g.Capabilities&ClientLongPassword == 0 {
		b = AppendUint32(b, g.ExtCapabilities)
	} else {
		b = append(b, 0, 0, 0, 0)
	}
	b = append(b, g.Scramble[8:]...)
	b = append(b, 0)
	b = append(b, g.AuthPlugin...)
	return append(b, 0)
}

// ParseGreeting decodes a server's HandshakeV10 payload.
func ParseGreeting(p []byte) (*Greeting, error) {
	if len(p) < 1 {
		return nil, ErrMalformed
	}
	if p[0] == ErrHeader {
		return nil, ParseErr(p)
	}
	if p[0] != 10 {
		return nil, fmt.Errorf("unsupported protocol version %d", p[0])
	}
	g := &Greeting{}
	v, n := ReadNulString(p[1:])
	if n == 0 {
		return nil, ErrMalformed
	}
	g.ServerVersion = string(v)
	pos := 1 + n
	if len(p) < pos+4+8+1+2 {
		return nil, ErrMalformed
	}
	g.ConnectionID = binary.LittleEndian.Uint32(p[pos:])
	pos += 4
	scramble := append([]byte(nil), p[pos:pos+8]...)
	pos += 9
	g.Capabilities = uint32(binary.LittleEndian.Uint16(p[pos:]))
	pos += 2
	authLen := 0
	if len(p) >= pos+16 {
		g.Charset = p[pos]
		g.Status = binary.LittleEndian.Uint16(p[pos+1:])
		g.Capabilities |= uint32(binary.LittleEndian.Uint16(p[pos+3:])) << 16
		authLen = int(p[pos+5])
		if g.Capabilities&ClientLongPassword == 0 {
			g.ExtCapabilities = binary.LittleEndian.Uint32(p[pos+12:])
		}
		pos += 16
	}
	if g.Capabilities&ClientSecureConnection != 0 {
		l := authLen - 8
		if l < 13 {
			l = 13
		}
		if len(p) < pos+l {
			return nil, ErrMalformed
		}
		part := p[pos : pos+l]
		// The second part is NUL terminated.
		if len(part) > 0 && part[len(part)-1] == 0 {
			part = part[:len(part)-1]
		}
		scramble = append(scramble, part...)
		pos += l
	}
	g.Scramble = scramble
	if g.Capabilities&ClientPluginAuth != 0 && pos < len(p) {
		name, n := ReadNulString(p[pos:])
		if n == 0 {
			name = p[pos:]
		}
		g.AuthPlugin = string(name)
	}
	return g, nil
}

// HandshakeResponse is a client's HandshakeResponse41.
type HandshakeResponse struct {
	Capabilities uint32
	MaxPacket    uint32
	Charset      uint8
	User         string
	AuthResponse []byte
	Database     string
	AuthPlugin   string
	Attrs        map[string]string
	// ExtCapabilities are MariaDB's extended capabilities (the last 4
	// filler bytes), meaningful only without ClientLongPassword.
	ExtCapabilities uint32
}

// IsSSLRequest reports whether a handshake response payload is only an
// SSLRequest (the client wants TLS before the real response).
func IsSSLRequest(p []byte) bool {
	return len(p) == 32 && binary.LittleEndian.Uint32(p)&ClientSSL != 0
}

// ParseHandshakeResponse decodes a HandshakeResponse41 payload.
func ParseHandshakeResponse(p []byte) (*HandshakeResponse, error) {
	if len(p) < 32 {
		return nil, ErrMalformed
	}
	r := &HandshakeResponse{}
	r.Capabilities = binary.LittleEndian.Uint32(p)
	if r.Capabilities&ClientProtocol41 == 0 {
		return nil, fmt.Errorf("client does not support protocol 4.1")
	}
	r.MaxPacket = binary.LittleEndian.Uint32(p[4:])
	r.Charset = p[8]
	if r.Capabilities&ClientLongPassword == 0 {
		r.ExtCapabilities = binary.LittleEndian.Uint32(p[28:])
	}
	pos := 32
	user, n := ReadNulString(p[pos:])
	if n == 0 {
		return nil, ErrMalformed
	}
	r.User = string(user)
	pos += n
	switch {
	case r.Capabilities&ClientPluginAuthLenencClientData != 0:
		s, _, n := ReadLenEncString(p[pos:])
		if n == 0 {
			return nil, ErrMalformed
		}
		r.AuthResponse = s
		pos += n
	case r.Capabilities&ClientSecureConnection != 0:
		if pos >= len(p) {
			return nil, ErrMalformed
		}
		l := int(p[pos])
		if len(p) < pos+1+l {
			return nil, ErrMalformed
		}
		r.AuthResponse = p[pos+1 : pos+1+l]
		pos += 1 + l
	default:
		s, n := ReadNulString(p[pos:])
		if n == 0 {
			return nil, ErrMalformed
		}
		r.AuthResponse = s
		pos += n
	}
	r.AuthResponse = append([]byte(nil), r.AuthResponse...)
	if r.Capabilities&ClientConnectWithDB != 0 && pos < len(p) {
		db, n := ReadNulString(p[pos:])
		if n == 0 {
			return nil, ErrMalformed
		}
		r.Database = string(db)
		pos += n
	}
	if r.Capabilities&ClientPluginAuth != 0 && pos < len(p) {
		name, n := ReadNulString(p[pos:])
		if n == 0 {
			name, n = p[pos:], len(p)-pos
		}
		r.AuthPlugin = string(name)
		pos += n
	}
	if r.Capabilities&ClientConnectAttrs != 0 && pos < len(p) {
		total, _, n := ReadLenEncInt(p[pos:])
		if n == 0 || uint64(len(p)-pos-n) < total {
			return nil, ErrMalformed
		}
		attrs := p[pos+n : pos+n+int(total)]
		r.Attrs = map[string]string{}
		for len(attrs) > 0 {
			k, _, n1 := ReadLenEncString(attrs)
			if n1 == 0 {
				return nil, ErrMalformed
			}
			v, _, n2 := ReadLenEncString(attrs[n1:])
			if n2 == 0 {
				return nil, ErrMalformed
			}
			r.Attrs[string(k)] = string(v)
			attrs = attrs[n1+n2:]
		}
	}
	return r, nil
}

// AppendHandshakeResponse appends a HandshakeResponse41 payload. With
// sslOnly set it appends only the 32-byte SSLRequest.
func AppendHandshakeResponse(b []byte, r *HandshakeResponse, sslOnly bool) []byte {
	b = AppendUint32(b, r.Capabilities)
	b = AppendUint32(b, r.MaxPacket)
	b = append(b, r.Charset)
	b = append(b, make([]byte, 19)...)
	if r.Capabilities&ClientLongPassword == 0 {
		b = AppendUint32(b, r.ExtCapabilities)
	} else {
		b = append(b, 0, 0, 0, 0)
	}
	if sslOnly {
		return b
	}
	b = append(b, r.User...)
	b = append(b, 0)
	switch {
	case r.Capabilities&ClientPluginAuthLenencClientData != 0:
		b = AppendLenEncBytes(b, r.AuthResponse)
	case r.Capabilities&ClientSecureConnection != 0:
		b = append(b, byte(len(r.AuthResponse)))
		b = append(b, r.AuthResponse...)
	default:
		b = append(b, r.AuthResponse...)
		b = append(b, 0)
	}
	if r.Capabilities&ClientConnectWithDB != 0 {
		b = append(b, r.Database...)
		b = append(b, 0)
	}
	if r.Capabilities&ClientPluginAuth != 0 {
		b = append(b, r.AuthPlugin...)
		b = append(b, 0)
	}
	if r.Capabilities&ClientConnectAttrs != 0 {
		var attrs []byte
		for k, v := range r.Attrs {
			attrs = AppendLenEncString(attrs, k)
			attrs = AppendLenEncString(attrs, v)
		}
		b = AppendLenEncBytes(b, attrs)
	}
	return b
}

// AppendAuthSwitch appends an AuthSwitchRequest payload.
func AppendAuthSwitch(b []byte, plugin string, scramble []byte) []byte {
	b = append(b, AuthSwitchRequest)
	b = append(b, plugin...)
	b = append(b, 0)
	b = append(b, scramble...)
	return append(b, 0)
}

// ParseAuthSwitch decodes an AuthSwitchRequest payload.
func ParseAuthSwitch(p []byte) (plugin string, data []byte, err error) {
	if len(p) < 2 || p[0] != AuthSwitchRequest {
		return "", nil, ErrMalformed
	}
	name, n := ReadNulString(p[1:])
	if n == 0 {
		return string(p[1:]), nil, nil
	}
	data = p[1+n:]
	if len(data) > 0 && data[len(data)-1] == 0 {
		data = data[:len(data)-1]
	}
	return string(name), append([]byte(nil), data...), nil
}
