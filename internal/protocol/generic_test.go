package protocol

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// sessionStateBlock builds a raw session_state_info block from entries.
func sessionStateBlock(entries ...[]byte) []byte {
	var b []byte
	for _, e := range entries {
		b = append(b, e...)
	}
	return b
}

func sysVarEntry(name, value string) []byte {
	data := AppendLenEncString(nil, name)
	data = AppendLenEncString(data, value)
	return AppendLenEncBytes([]byte{SessionTrackSystemVariables}, data)
}

func schemaEntry(db string) []byte {
	return AppendLenEncBytes([]byte{SessionTrackSchema}, AppendLenEncString(nil, db))
}

func TestOKRoundTrip(t *testing.T) {
	state := sessionStateBlock(
		sysVarEntry("autocommit", "OFF"),
		schemaEntry("shop"),
		sysVarEntry("sql_mode", strings.Repeat("X", 300)), // lenenc > 250
	)
	tests := []struct {
		name   string
		header byte
		ok     OK
		caps   uint32
		// want is what ParseOK returns (nil = same as ok).
		want *OK
	}{
		{name: "minimal", header: OKHeader, ok: OK{}, caps: ClientProtocol41},
		{name: "minimal tracked", header: OKHeader, ok: OK{}, caps: ClientProtocol41 | ClientSessionTrack},
		{name: "big ints", header: OKHeader, ok: OK{AffectedRows: 1 << 40, LastInsertID: 65536, Status: StatusAutocommit | StatusInTrans, Warnings: 7}, caps: ClientProtocol41},
		{name: "info untracked", header: OKHeader, ok: OK{AffectedRows: 3, Status: StatusAutocommit, Info: []byte("Rows matched: 3  Changed: 3  Warnings: 0")}, caps: ClientProtocol41},
		{name: "info tracked", header: OKHeader, ok: OK{AffectedRows: 3, Status: StatusAutocommit, Info: []byte("Rows matched: 3")}, caps: ClientProtocol41 | ClientSessionTrack},
		{name: "eof header", header: EOFHeader, ok: OK{Status: StatusAutocommit | StatusMoreResultsExists, Warnings: 1}, caps: ClientProtocol41 | ClientSessionTrack | ClientDeprecateEOF},
		{
			name: "session state", header: OKHeader,
			ok:   OK{Status: StatusAutocommit | StatusSessionStateChange, SessionState: state},
			caps: ClientProtocol41 | ClientSessionTrack,
		},
		{
			name: "session state and info", header: OKHeader,
			ok:   OK{AffectedRows: 1, Status: StatusSessionStateChange, Info: []byte("info"), SessionState: state},
			caps: ClientProtocol41 | ClientSessionTrack,
		},
		{
			name: "session state without the status flag is dropped", header: OKHeader,
			ok:   OK{Status: StatusAutocommit, SessionState: state},
			caps: ClientProtocol41 | ClientSessionTrack,
			want: &OK{Status: StatusAutocommit},
		},
		{
			name: "session state to an untracked client is dropped", header: OKHeader,
			ok:   OK{Status: StatusAutocommit | StatusSessionStateChange, SessionState: state},
			caps: ClientProtocol41,
			want: &OK{Status: StatusAutocommit},
		},
		{
			name: "state flag without state is cleared", header: OKHeader,
			ok:   OK{Status: StatusAutocommit | StatusSessionStateChange},
			caps: ClientProtocol41 | ClientSessionTrack,
			want: &OK{Status: StatusAutocommit},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := AppendOK([]byte("prefix"), tt.header, &tt.ok, tt.caps)
			if !bytes.HasPrefix(p, []byte("prefix")) {
				t.Fatal("AppendOK clobbered the buffer prefix")
			}
			p = p[len("prefix"):]
			if p[0] != tt.header {
				t.Fatalf("header %#x, want %#x", p[0], tt.header)
			}
			if !IsOK(p) && tt.header == OKHeader {
				t.Error("IsOK = false")
			}
			if tt.header == EOFHeader && !IsEOF(p) {
				t.Error("IsEOF = false for an OK with the EOF header")
			}
			got, err := ParseOK(p, tt.caps)
			if err != nil {
				t.Fatalf("ParseOK(% x): %v", p, err)
			}
			want := tt.ok
			if tt.want != nil {
				want = *tt.want
			}
			if got.AffectedRows != want.AffectedRows || got.LastInsertID != want.LastInsertID ||
				got.Status != want.Status || got.Warnings != want.Warnings ||
				!bytes.Equal(got.Info, want.Info) || !bytes.Equal(got.SessionState, want.SessionState) {
				t.Errorf("ParseOK(AppendOK(%+v)) = %+v, want %+v", tt.ok, got, want)
			}
		})
	}
}

func TestOKSessionStateWalk(t *testing.T) {
	big := strings.Repeat("v", 70000)
	state := sessionStateBlock(
		sysVarEntry("autocommit", "OFF"),
		schemaEntry("shop"),
		sysVarEntry("time_zone", "+00:00"),
		sysVarEntry("sql_mode", big),
		[]byte{SessionTrackStateChange, 1, '1'},
	)
	ok := OK{Status: StatusSessionStateChange | StatusAutocommit, SessionState: state}
	caps := ClientProtocol41 | ClientSessionTrack
	p := AppendOK(nil, OKHeader, &ok, caps)
	got, err := ParseOK(p, caps)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		typ  byte
		name string
		val  string
	}
	var seen []entry
	err = WalkSessionState(got.SessionState, func(typ byte, data []byte) {
		switch typ {
		case SessionTrackSystemVariables:
			v, ok := ParseSessionVar(data)
			if !ok {
				t.Errorf("ParseSessionVar(% x) failed", data)
			}
			seen = append(seen, entry{typ, string(v.Name), string(v.Value)})
		case SessionTrackSchema:
			s, _, n := ReadLenEncString(data)
			if n == 0 {
				t.Errorf("schema entry % x malformed", data)
			}
			seen = append(seen, entry{typ, string(s), ""})
		default:
			seen = append(seen, entry{typ, "", string(data)})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []entry{
		{SessionTrackSystemVariables, "autocommit", "OFF"},
		{SessionTrackSchema, "shop", ""},
		{SessionTrackSystemVariables, "time_zone", "+00:00"},
		{SessionTrackSystemVariables, "sql_mode", big},
		{SessionTrackStateChange, "", "1"},
	}
	if len(seen) != len(want) {
		t.Fatalf("walked %d entries, want %d", len(seen), len(want))
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Errorf("entry %d = {%d %q %d bytes}, want {%d %q %d bytes}", i, seen[i].typ, seen[i].name, len(seen[i].val), want[i].typ, want[i].name, len(want[i].val))
		}
	}
}

func TestWalkSessionStateMalformed(t *testing.T) {
	tests := []struct {
		name  string
		state []byte
		calls int
	}{
		{"empty", nil, 0},
		{"type only", []byte{0}, 0},
		{"length beyond end", []byte{0, 5, 'a'}, 0},
		{"good then truncated", append(sysVarEntry("a", "b"), 0, 0xfc, 1), 1},
		{"invalid lenenc", []byte{0, 0xff}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := WalkSessionState(tt.state, func(byte, []byte) { calls++ })
			if calls != tt.calls {
				t.Errorf("fn called %d times, want %d", calls, tt.calls)
			}
			if len(tt.state) > 0 && !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
			if len(tt.state) == 0 && err != nil {
				t.Errorf("err = %v, want nil", err)
			}
		})
	}
}

func TestParseSessionVarMalformed(t *testing.T) {
	for _, in := range [][]byte{nil, {3, 'a'}, {1, 'a'}, {1, 'a', 5, 'x'}} {
		if v, ok := ParseSessionVar(in); ok {
			t.Errorf("ParseSessionVar(% x) = %+v, true; want false", in, v)
		}
	}
	v, ok := ParseSessionVar([]byte{1, 'a', 0})
	if !ok || string(v.Name) != "a" || len(v.Value) != 0 {
		t.Errorf("ParseSessionVar(a='') = %+v, %v", v, ok)
	}
}

func TestParseOKMalformed(t *testing.T) {
	tests := []struct {
		name string
		p    []byte
		caps uint32
		bad  bool
	}{
		{"empty", nil, 0, true},
		{"header only", []byte{0}, 0, true},
		{"truncated affected rows", []byte{0, 0xfc, 1}, 0, true},
		{"missing last insert id", []byte{0, 1}, 0, true},
		{"no status (old server)", []byte{0, 1, 2}, 0, false},
		{"tracked info length beyond end", []byte{0, 0, 0, 2, 0, 0, 0, 9, 'a'}, ClientSessionTrack, true},
		{"tracked state length beyond end", []byte{0, 0, 0, 0, 0x40, 0, 0, 0, 9, 'a'}, ClientSessionTrack, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOK(tt.p, tt.caps)
			if (err != nil) != tt.bad {
				t.Errorf("ParseOK(% x) err = %v, want error: %v", tt.p, err, tt.bad)
			}
		})
	}
}

func TestErrRoundTrip(t *testing.T) {
	tests := []struct {
		in   Error
		want Error
	}{
		{Error{1045, "28000", "Access denied for user 'u'@'h' (using password: YES)"}, Error{1045, "28000", "Access denied for user 'u'@'h' (using password: YES)"}},
		{Error{1146, "42S02", ""}, Error{1146, "42S02", ""}},
		{Error{65535, "HY000", "max code"}, Error{65535, "HY000", "max code"}},
		{Error{1105, "", "no state"}, Error{1105, "HY000", "no state"}},
		{Error{1105, "TOOLONG", "bad state"}, Error{1105, "HY000", "bad state"}},
		{Error{1064, "42000", "syntax error near '#'"}, Error{1064, "42000", "syntax error near '#'"}},
	}
	for _, tt := range tests {
		p := AppendErr(nil, &tt.in)
		if !IsErr(p) || IsOK(p) || IsEOF(p) {
			t.Errorf("AppendErr(%v): IsErr/IsOK/IsEOF wrong for % x", tt.in, p)
		}
		got := ParseErr(p)
		if *got != tt.want {
			t.Errorf("ParseErr(AppendErr(%+v)) = %+v, want %+v", tt.in, *got, tt.want)
		}
		if got.Error() == "" || !strings.Contains(got.Error(), tt.want.State) {
			t.Errorf("Error() = %q", got.Error())
		}
	}
}

func TestParseErrVariants(t *testing.T) {
	tests := []struct {
		name string
		p    []byte
		want Error
	}{
		{"too short", []byte{0xff, 1}, Error{1105, "HY000", "malformed error packet"}},
		{"no sql state marker (pre-4.1)", append([]byte{0xff, 0x15, 0x04}, "Access denied"...), Error{1045, "HY000", "Access denied"}},
		{"code only", []byte{0xff, 0x15, 0x04}, Error{1045, "HY000", ""}},
		{"marker but state too short", append([]byte{0xff, 0x15, 0x04}, "#2800"...), Error{1045, "HY000", "#2800"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseErr(tt.p); *got != tt.want {
				t.Errorf("ParseErr(% x) = %+v, want %+v", tt.p, *got, tt.want)
			}
		})
	}
}

func TestNewError(t *testing.T) {
	e := NewError(1049, "42000", "Unknown database '%s'", "x%y")
	if e.Message != "Unknown database 'x%y'" {
		t.Errorf("Message = %q", e.Message)
	}
	e = NewError(1064, "42000", "plain message")
	if e.Message != "plain message" || e.Code != 1064 || e.State != "42000" {
		t.Errorf("NewError = %+v", e)
	}
	if u := ErrUnsupported("XA"); u.Code != ErrNotSupportedYet || !strings.Contains(u.Message, "XA") {
		t.Errorf("ErrUnsupported = %+v", u)
	}
}

func TestEOFRoundTrip(t *testing.T) {
	tests := []struct{ warnings, status uint16 }{
		{0, 0},
		{1, StatusAutocommit},
		{65535, StatusMoreResultsExists | StatusInTrans},
	}
	for _, tt := range tests {
		p := AppendEOF(nil, tt.warnings, tt.status)
		if len(p) != 5 || !IsEOF(p) || IsOK(p) || IsErr(p) {
			t.Errorf("AppendEOF(%d, %#x) = % x", tt.warnings, tt.status, p)
		}
		w, s := ParseEOF(p)
		if w != tt.warnings || s != tt.status {
			t.Errorf("ParseEOF(AppendEOF(%d, %#x)) = %d, %#x", tt.warnings, tt.status, w, s)
		}
	}
	if w, s := ParseEOF([]byte{0xfe}); w != 0 || s != 0 {
		t.Errorf("ParseEOF(short) = %d, %d", w, s)
	}
}

func TestIsEOFLargePacket(t *testing.T) {
	// A row that starts with 0xfe (a lenenc length >= 2^24) is at least
	// 16 MiB long and is not an EOF.
	p := make([]byte, 0xffffff)
	p[0] = EOFHeader
	if IsEOF(p) {
		t.Error("IsEOF(16 MiB packet starting with 0xfe) = true")
	}
	if IsEOF(p[:0xfffffe]) != true {
		t.Error("IsEOF(0xfffffe-byte packet starting with 0xfe) = false")
	}
	if IsEOF(nil) || IsOK(nil) || IsErr(nil) {
		t.Error("empty packet classified")
	}
}
