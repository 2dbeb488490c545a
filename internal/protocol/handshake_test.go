package protocol

import (
	"bytes"
	"errors"
	"maps"
	"strings"
	"testing"
)

var fixedScramble = []byte("abcdefghij0123456789")

const fullServerCaps = ClientLongPassword | ClientFoundRows | ClientLongFlag | ClientConnectWithDB |
	ClientProtocol41 | ClientSSL | ClientTransactions | ClientSecureConnection | ClientMultiStatements |
	ClientMultiResults | ClientPSMultiResults | ClientPluginAuth | ClientConnectAttrs |
	ClientPluginAuthLenencClientData | ClientSessionTrack | ClientDeprecateEOF

func TestGreetingRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		g    Greeting
	}{
		{"mariadb native", Greeting{
			ServerVersion: "5.5.5-10.11.0-MariaDB-switchyard", ConnectionID: 42, Scramble: fixedScramble,
			Capabilities: fullServerCaps, Charset: CharsetUTF8MB4GeneralCI, Status: StatusAutocommit,
			AuthPlugin: AuthNativePassword,
		}},
		{"caching sha2, max id", Greeting{
			ServerVersion: "8.0.36", ConnectionID: 0xffffffff, Scramble: NewScramble(),
			Capabilities: fullServerCaps &^ ClientSSL, Charset: 255, Status: StatusAutocommit | StatusInTrans,
			AuthPlugin: AuthCachingSHA2Password,
		}},
		{"no plugin name", Greeting{
			ServerVersion: "x", ConnectionID: 1, Scramble: fixedScramble,
			Capabilities: ClientProtocol41 | ClientSecureConnection | ClientPluginAuth, Charset: 8,
		}},
		{"empty version", Greeting{
			ServerVersion: "", ConnectionID: 7, Scramble: fixedScramble,
			Capabilities: ClientProtocol41 | ClientSecureConnection | ClientPluginAuth, AuthPlugin: "dialog",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := AppendGreeting(nil, &tt.g)
			got, err := ParseGreeting(p)
			if err != nil {
				t.Fatalf("ParseGreeting: %v", err)
			}
			if got.ServerVersion != tt.g.ServerVersion || got.ConnectionID != tt.g.ConnectionID ||
				!bytes.Equal(got.Scramble, tt.g.Scramble) || got.Capabilities != tt.g.Capabilities ||
				got.Charset != tt.g.Charset || got.Status != tt.g.Status || got.AuthPlugin != tt.g.AuthPlugin {
				t.Errorf("ParseGreeting(AppendGreeting(%+v)) = %+v", tt.g, *got)
			}
		})
	}
}

func TestParseGreetingErrors(t *testing.T) {
	good := AppendGreeting(nil, &Greeting{ServerVersion: "v", Scramble: fixedScramble, Capabilities: fullServerCaps, AuthPlugin: AuthNativePassword})
	errPkt := AppendErr(nil, &Error{Code: 1040, State: "08004", Message: "Too many connections"})
	tests := []struct {
		name string
		p    []byte
		code uint16 // expected *Error code, 0 = any error
	}{
		{"empty", nil, 0},
		{"protocol 9", append([]byte{9}, good[1:]...), 0},
		{"ERR instead of greeting", errPkt, 1040},
		{"unterminated version", []byte{10, 'v', 'e', 'r'}, 0},
		{"truncated after version", good[:10], 0},
		{"truncated scramble part 2", good[:len(good)-len(AuthNativePassword)-8], 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := ParseGreeting(tt.p)
			if err == nil {
				t.Fatalf("ParseGreeting(% x) = %+v, want error", tt.p, g)
			}
			if tt.code != 0 {
				var pe *Error
				if !errors.As(err, &pe) || pe.Code != tt.code {
					t.Errorf("err = %v, want *Error %d", err, tt.code)
				}
			}
		})
	}
}

func TestParseGreetingShortForms(t *testing.T) {
	// Pre-4.1 style greeting: only the first 8 scramble bytes and the lower
	// capability flags.
	p := []byte{10, 'v', 0, 1, 0, 0, 0}
	p = append(p, "12345678"...)
	p = append(p, 0)
	p = AppendUint16(p, uint16(ClientProtocol41))
	g, err := ParseGreeting(p)
	if err != nil {
		t.Fatal(err)
	}
	if g.ConnectionID != 1 || string(g.Scramble) != "12345678" || g.Capabilities != ClientProtocol41 || g.AuthPlugin != "" {
		t.Errorf("ParseGreeting = %+v", *g)
	}
	// A plugin name without the trailing NUL (some old MySQL 5.5 servers).
	full := AppendGreeting(nil, &Greeting{ServerVersion: "v", Scramble: fixedScramble, Capabilities: fullServerCaps, AuthPlugin: AuthNativePassword})
	g, err = ParseGreeting(full[:len(full)-1])
	if err != nil {
		t.Fatal(err)
	}
	if g.AuthPlugin != AuthNativePassword || !bytes.Equal(g.Scramble, fixedScramble) {
		t.Errorf("unterminated plugin: %+v", *g)
	}
}

func TestHandshakeResponseRoundTrip(t *testing.T) {
	longAuth := bytes.Repeat([]byte{0xab}, 300) // needs the lenenc form
	attrs := map[string]string{"_client_name": "libmariadb", "_os": "Linux", "program_name": "mysql", "empty": ""}
	base := ClientProtocol41 | ClientLongPassword | ClientTransactions | ClientSecureConnection
	tests := []struct {
		name string
		r    HandshakeResponse
	}{
		{"minimal secure connection", HandshakeResponse{Capabilities: base, MaxPacket: 1 << 24, Charset: 33, User: "root", AuthResponse: ScrambleNative(fixedScramble, "pw")}},
		{"empty password", HandshakeResponse{Capabilities: base | ClientPluginAuth, User: "u", AuthResponse: nil, AuthPlugin: AuthNativePassword}},
		{"with db", HandshakeResponse{Capabilities: base | ClientConnectWithDB, User: "app", AuthResponse: []byte{1, 2, 3}, Database: "shop"}},
		{"with empty db", HandshakeResponse{Capabilities: base | ClientConnectWithDB | ClientPluginAuth, User: "app", AuthResponse: []byte{1}, Database: "", AuthPlugin: AuthNativePassword}},
		{"plugin auth", HandshakeResponse{Capabilities: base | ClientPluginAuth, User: "app", AuthResponse: ScrambleCachingSHA2(fixedScramble, "pw"), AuthPlugin: AuthCachingSHA2Password}},
		{"lenenc auth data", HandshakeResponse{Capabilities: base | ClientPluginAuth | ClientPluginAuthLenencClientData, User: "app", AuthResponse: longAuth, AuthPlugin: "auth_gssapi_client"}},
		{"connect attrs", HandshakeResponse{Capabilities: base | ClientPluginAuth | ClientConnectAttrs, User: "app", AuthResponse: []byte{9}, AuthPlugin: AuthNativePassword, Attrs: attrs}},
		{"everything", HandshakeResponse{
			Capabilities: fullServerCaps &^ ClientSSL, MaxPacket: 1 << 30, Charset: 45, User: "üser",
			AuthResponse: longAuth, Database: "db_1", AuthPlugin: AuthCachingSHA2Password, Attrs: attrs,
		}},
		{"with SSL flag", HandshakeResponse{Capabilities: base | ClientSSL | ClientPluginAuth, User: "tls", AuthResponse: []byte("x"), AuthPlugin: AuthNativePassword}},
		{"empty attrs", HandshakeResponse{Capabilities: base | ClientPluginAuth | ClientConnectAttrs, User: "a", AuthPlugin: "p", Attrs: map[string]string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := AppendHandshakeResponse(nil, &tt.r, false)
			if IsSSLRequest(p) {
				t.Error("IsSSLRequest(full response) = true")
			}
			got, err := ParseHandshakeResponse(p)
			if err != nil {
				t.Fatalf("ParseHandshakeResponse: %v", err)
			}
			checkResponse(t, got, &tt.r)

			ssl := AppendHandshakeResponse(nil, &tt.r, true)
			if len(ssl) != 32 {
				t.Errorf("SSLRequest is %d bytes, want 32", len(ssl))
			}
			if IsSSLRequest(ssl) != (tt.r.Capabilities&ClientSSL != 0) {
				t.Errorf("IsSSLRequest(SSLRequest with caps %#x) = %v", tt.r.Capabilities, IsSSLRequest(ssl))
			}
		})
	}
}

func checkResponse(t *testing.T, got, want *HandshakeResponse) {
	t.Helper()
	if got.Capabilities != want.Capabilities || got.MaxPacket != want.MaxPacket || got.Charset != want.Charset ||
		got.User != want.User || !bytes.Equal(got.AuthResponse, want.AuthResponse) ||
		got.Database != want.Database || got.AuthPlugin != want.AuthPlugin || !maps.Equal(got.Attrs, want.Attrs) {
		t.Errorf("round trip mismatch:\n got  %+v\n want %+v", *got, *want)
	}
}

// TestHandshakeResponseRoundTripNoSecureConnection covers a client that
// negotiated neither CLIENT_SECURE_CONNECTION nor
// CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA: the auth response is then a
// NUL-terminated string on the wire, which is what ParseHandshakeResponse
// reads.
func TestHandshakeResponseRoundTripNoSecureConnection(t *testing.T) {
	r := HandshakeResponse{Capabilities: ClientProtocol41 | ClientPluginAuth, User: "old", AuthResponse: []byte("scrambled"), AuthPlugin: AuthNativePassword}
	p := AppendHandshakeResponse(nil, &r, false)
	got, err := ParseHandshakeResponse(p)
	if err != nil {
		t.Fatalf("ParseHandshakeResponse(AppendHandshakeResponse(%+v)) failed: %v (payload % x)", r, err, p)
	}
	checkResponse(t, got, &r)
}

func TestParseHandshakeResponseErrors(t *testing.T) {
	good := AppendHandshakeResponse(nil, &HandshakeResponse{
		Capabilities: fullServerCaps &^ ClientSSL, User: "app", AuthResponse: []byte{1, 2, 3},
		Database: "db", AuthPlugin: AuthNativePassword, Attrs: map[string]string{"k": "v"},
	}, false)
	tests := []struct {
		name string
		p    []byte
	}{
		{"empty", nil},
		{"31 bytes", good[:31]},
		{"no protocol 4.1", append(AppendUint32(nil, ClientSecureConnection), good[4:]...)},
		{"unterminated user", good[:32+2]},
		{"auth length beyond end", good[:32+4+2]},
		{"attrs length beyond end", good[:len(good)-1]},
		{"secure connection auth length beyond end", append(append(AppendUint32(nil, ClientProtocol41|ClientSecureConnection), make([]byte, 28)...), 'u', 0, 9, 1)},
		{"secure connection no auth byte", append(append(AppendUint32(nil, ClientProtocol41|ClientSecureConnection), make([]byte, 28)...), 'u', 0)},
		{"bad attr entry", append(append(AppendUint32(nil, ClientProtocol41|ClientPluginAuthLenencClientData|ClientConnectAttrs), make([]byte, 28)...), 'u', 0, 0, 2, 1, 'k')},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r, err := ParseHandshakeResponse(tt.p); err == nil {
				t.Errorf("ParseHandshakeResponse(% x) = %+v, want error", tt.p, *r)
			}
		})
	}
}

func TestParseHandshakeResponseCopiesAuth(t *testing.T) {
	p := AppendHandshakeResponse(nil, &HandshakeResponse{Capabilities: ClientProtocol41 | ClientSecureConnection, User: "u", AuthResponse: []byte("secret")}, false)
	r, err := ParseHandshakeResponse(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p {
		p[i] = 0
	}
	if string(r.AuthResponse) != "secret" {
		t.Errorf("AuthResponse aliases the packet: %q", r.AuthResponse)
	}
}

func TestIsSSLRequest(t *testing.T) {
	ssl := AppendHandshakeResponse(nil, &HandshakeResponse{Capabilities: ClientProtocol41 | ClientSSL}, true)
	tests := []struct {
		name string
		p    []byte
		want bool
	}{
		{"ssl request", ssl, true},
		{"no SSL flag", AppendHandshakeResponse(nil, &HandshakeResponse{Capabilities: ClientProtocol41}, true), false},
		{"33 bytes", append(append([]byte(nil), ssl...), 0), false},
		{"31 bytes", ssl[:31], false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		if got := IsSSLRequest(tt.p); got != tt.want {
			t.Errorf("%s: IsSSLRequest = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestAuthSwitchRoundTrip(t *testing.T) {
	tests := []struct {
		plugin string
		data   []byte
	}{
		{AuthNativePassword, fixedScramble},
		{AuthCachingSHA2Password, NewScramble()},
		{AuthClearPassword, nil},
	}
	for _, tt := range tests {
		p := AppendAuthSwitch(nil, tt.plugin, tt.data)
		if p[0] != AuthSwitchRequest {
			t.Errorf("header %#x", p[0])
		}
		plugin, data, err := ParseAuthSwitch(p)
		if err != nil || plugin != tt.plugin || !bytes.Equal(data, tt.data) {
			t.Errorf("ParseAuthSwitch(AppendAuthSwitch(%q, % x)) = %q, % x, %v", tt.plugin, tt.data, plugin, data, err)
		}
	}
	// Old servers send only the plugin name, without NUL or data.
	plugin, data, err := ParseAuthSwitch(append([]byte{AuthSwitchRequest}, "mysql_old_password"...))
	if err != nil || plugin != "mysql_old_password" || data != nil {
		t.Errorf("bare switch = %q, % x, %v", plugin, data, err)
	}
	for _, bad := range [][]byte{nil, {AuthSwitchRequest}, {0x00, 'x'}} {
		if _, _, err := ParseAuthSwitch(bad); err == nil {
			t.Errorf("ParseAuthSwitch(% x): no error", bad)
		}
	}
	// The returned data is a copy.
	p := AppendAuthSwitch(nil, AuthNativePassword, fixedScramble)
	_, data, _ = ParseAuthSwitch(p)
	copy(p, strings.Repeat("\x00", len(p)))
	if !bytes.Equal(data, fixedScramble) {
		t.Error("ParseAuthSwitch data aliases the packet")
	}
}
