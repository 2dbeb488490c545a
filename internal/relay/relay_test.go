package relay_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/relay"
)

// beCaps are the capabilities backend.Dial negotiates with a MariaDB.
const beCaps = protocol.ClientProtocol41 | protocol.ClientSecureConnection | protocol.ClientMultiResults |
	protocol.ClientPSMultiResults | protocol.ClientPluginAuth | protocol.ClientSessionTrack | protocol.ClientDeprecateEOF |
	protocol.ClientTransactions | protocol.ClientLongFlag

const (
	classicClient = protocol.ClientProtocol41 | protocol.ClientSecureConnection | protocol.ClientMultiResults | protocol.ClientTransactions
	modernClient  = classicClient | protocol.ClientSessionTrack | protocol.ClientDeprecateEOF
)

// memConn is a net.Conn over in-memory buffers: reads come from r, writes
// go to w (or fail with werr).
type memConn struct {
	r    io.Reader
	w    bytes.Buffer
	werr error
}

func (c *memConn) Read(p []byte) (int, error) { return c.r.Read(p) }
func (c *memConn) Write(p []byte) (int, error) {
	if c.werr != nil {
		return 0, c.werr
	}
	return c.w.Write(p)
}
func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// discardConn swallows writes.
type discardConn struct{ memConn }

func (*discardConn) Write(p []byte) (int, error) { return len(p), nil }

// stream frames payloads as a backend response to a command sent with
// sequence number 0.
func stream(payloads ...[]byte) []byte {
	var b []byte
	for i, p := range payloads {
		n := len(p)
		b = append(b, byte(n), byte(n>>8), byte(n>>16), byte(i+1))
		b = append(b, p...)
	}
	return b
}

type packet struct {
	seq     byte
	payload []byte
}

func parse(t *testing.T, b []byte) []packet {
	t.Helper()
	var out []packet
	for len(b) > 0 {
		if len(b) < 4 {
			t.Fatalf("trailing %d bytes", len(b))
		}
		n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
		if len(b) < 4+n {
			t.Fatalf("truncated packet")
		}
		out = append(out, packet{b[3], b[4 : 4+n]})
		b = b[4+n:]
	}
	return out
}

// fakeBackend returns a backend.Conn that reads data, as if it had just
// sent a command with sequence number 0.
func fakeBackend(data []byte) (*backend.Conn, *memConn) {
	mc := &memConn{r: bytes.NewReader(data)}
	be := &backend.Conn{Conn: protocol.NewConn(mc), Caps: beCaps, Status: protocol.StatusAutocommit}
	be.Seq = 1
	return be, mc
}

func fakeClient() (*protocol.Conn, *memConn) {
	mc := &memConn{r: bytes.NewReader(nil)}
	cl := protocol.NewConn(mc)
	cl.Seq = 1 // after reading the client's command
	return cl, mc
}

// Packet builders.
func colCount(n int) []byte { return protocol.AppendLenEncInt(nil, uint64(n)) }
func colDef(name string) []byte {
	return protocol.AppendColumnDef(nil, &protocol.ColumnDef{Schema: "db", Table: "t", OrgTable: "t", Name: name, OrgName: name, Charset: 45, Length: 80, Type: protocol.TypeVarString})
}
func row(vals ...string) []byte {
	var b []byte
	for _, v := range vals {
		if v == "NULL" {
			b = append(b, 0xfb)
		} else {
			b = protocol.AppendLenEncString(b, v)
		}
	}
	return b
}
func endOK(status, warnings uint16) []byte {
	return protocol.AppendOK(nil, protocol.EOFHeader, &protocol.OK{Status: status, Warnings: warnings}, beCaps)
}
func okPkt(o protocol.OK) []byte { return protocol.AppendOK(nil, protocol.OKHeader, &o, beCaps) }
func eofPkt(status, warnings uint16) []byte {
	return protocol.AppendEOF(nil, warnings, status)
}
func errPkt(code uint16, msg string) []byte {
	return protocol.AppendErr(nil, protocol.NewError(code, "HY000", "%s", msg))
}

func sysVarState(name, value string) []byte {
	data := protocol.AppendLenEncString(nil, name)
	data = protocol.AppendLenEncString(data, value)
	return protocol.AppendLenEncBytes([]byte{protocol.SessionTrackSystemVariables}, data)
}

const ac = protocol.StatusAutocommit
const more = protocol.StatusMoreResultsExists

func TestResult(t *testing.T) {
	state := sysVarState("autocommit", "OFF")
	tests := []struct {
		name    string
		backend [][]byte
		caps    uint32
		want    [][]byte // nil: same as backend
		rows    int64
		results int
		errCode uint16
		lastOK  protocol.OK
		states  int
		lastRS  bool // Outcome.ResultSet
	}{
		{
			name:    "result set to a classic client",
			backend: [][]byte{colCount(2), colDef("a"), colDef("b"), row("1", "x"), row("2", "NULL"), row("3", ""), endOK(ac, 2)},
			caps:    classicClient,
			want:    [][]byte{colCount(2), colDef("a"), colDef("b"), eofPkt(ac, 0), row("1", "x"), row("2", "NULL"), row("3", ""), eofPkt(ac, 2)},
			rows:    3, results: 1, lastOK: protocol.OK{Status: ac, Warnings: 2},
			lastRS: true,
		},
		{
			name:    "result set to a DEPRECATE_EOF client",
			backend: [][]byte{colCount(2), colDef("a"), colDef("b"), row("1", "x"), row("2", "NULL"), row("3", ""), endOK(ac, 2)},
			caps:    modernClient,
			rows:    3, results: 1, lastOK: protocol.OK{Status: ac, Warnings: 2},
			lastRS: true,
		},
		{
			name:    "DEPRECATE_EOF client without session tracking",
			backend: [][]byte{colCount(1), colDef("a"), row("1"), endOK(ac, 0)},
			caps:    classicClient | protocol.ClientDeprecateEOF,
			rows:    1, results: 1, lastOK: protocol.OK{Status: ac},
			lastRS: true,
		},
		{
			name:    "empty result set to a classic client",
			backend: [][]byte{colCount(1), colDef("a"), endOK(ac, 0)},
			caps:    classicClient,
			want:    [][]byte{colCount(1), colDef("a"), eofPkt(ac, 0), eofPkt(ac, 0)},
			results: 1, lastOK: protocol.OK{Status: ac},
			lastRS: true,
		},
		{
			name: "multi-result to a classic client",
			backend: [][]byte{
				colCount(1), colDef("a"), row("1"), endOK(ac|more, 0),
				okPkt(protocol.OK{AffectedRows: 5, Status: ac | more}),
				colCount(1), colDef("b"), row("2"), row("3"), endOK(ac, 0),
			},
			caps: classicClient,
			want: [][]byte{
				colCount(1), colDef("a"), eofPkt(ac, 0), row("1"), eofPkt(ac|more, 0),
				okPkt(protocol.OK{AffectedRows: 5, Status: ac | more}),
				colCount(1), colDef("b"), eofPkt(ac|more, 0), row("2"), row("3"), eofPkt(ac, 0),
			},
			rows: 3, results: 3, lastOK: protocol.OK{Status: ac},
			lastRS: true,
		},
		{
			name: "multi-result to a DEPRECATE_EOF client",
			backend: [][]byte{
				colCount(1), colDef("a"), row("1"), endOK(ac|more, 0),
				colCount(1), colDef("b"), row("2"), row("3"), endOK(ac|more, 0),
				okPkt(protocol.OK{AffectedRows: 1, Status: ac}),
			},
			caps: modernClient,
			rows: 3, results: 3, lastOK: protocol.OK{AffectedRows: 1, Status: ac},
		},
		{
			name:    "error in the middle of rows, classic client",
			backend: [][]byte{colCount(1), colDef("a"), row("1"), row("2"), errPkt(1317, "Query execution was interrupted")},
			caps:    classicClient,
			want:    [][]byte{colCount(1), colDef("a"), eofPkt(ac, 0), row("1"), row("2"), errPkt(1317, "Query execution was interrupted")},
			rows:    2, errCode: 1317,
		},
		{
			name:    "error in the middle of rows, DEPRECATE_EOF client",
			backend: [][]byte{colCount(1), colDef("a"), row("1"), errPkt(1317, "interrupted")},
			caps:    modernClient,
			rows:    1, errCode: 1317,
		},
		{
			name:    "error in the second result",
			backend: [][]byte{okPkt(protocol.OK{AffectedRows: 1, Status: ac | more}), errPkt(1062, "Duplicate entry")},
			caps:    modernClient,
			results: 1, errCode: 1062, lastOK: protocol.OK{AffectedRows: 1, Status: ac | more},
		},
		{
			name:    "error only",
			backend: [][]byte{errPkt(1146, "Table 'x' doesn't exist")},
			caps:    classicClient,
			errCode: 1146,
		},
		{
			name:    "plain OK",
			backend: [][]byte{okPkt(protocol.OK{AffectedRows: 3, LastInsertID: 9, Status: ac, Warnings: 1, Info: []byte("Rows matched: 3")})},
			caps:    modernClient,
			results: 1, lastOK: protocol.OK{AffectedRows: 3, LastInsertID: 9, Status: ac, Warnings: 1},
		},
		{
			name:    "OK with session state: the state is kept, not relayed",
			backend: [][]byte{okPkt(protocol.OK{Status: ac | protocol.StatusSessionStateChange, SessionState: state})},
			caps:    modernClient,
			want:    [][]byte{protocol.AppendOK(nil, protocol.OKHeader, &protocol.OK{Status: ac}, modernClient)},
			results: 1, lastOK: protocol.OK{Status: ac | protocol.StatusSessionStateChange}, states: 1,
		},
		{
			name: "session state on the end of a result set and on an OK",
			backend: [][]byte{
				colCount(1), colDef("a"), row("1"),
				protocol.AppendOK(nil, protocol.EOFHeader, &protocol.OK{Status: ac | more | protocol.StatusSessionStateChange, SessionState: state}, beCaps),
				okPkt(protocol.OK{Status: ac | protocol.StatusSessionStateChange, SessionState: sysVarState("time_zone", "+01:00")}),
			},
			caps: modernClient,
			want: [][]byte{
				colCount(1), colDef("a"), row("1"),
				protocol.AppendOK(nil, protocol.EOFHeader, &protocol.OK{Status: ac | more}, modernClient),
				protocol.AppendOK(nil, protocol.OKHeader, &protocol.OK{Status: ac}, modernClient),
			},
			rows: 1, results: 2, lastOK: protocol.OK{Status: ac | protocol.StatusSessionStateChange}, states: 2,
		},
		{
			name:    "big row",
			backend: [][]byte{colCount(1), colDef("blob"), row(strings.Repeat("b", 100000)), endOK(ac, 0)},
			caps:    modernClient,
			rows:    1, results: 1, lastOK: protocol.OK{Status: ac},
			lastRS: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be, bmc := fakeBackend(stream(tt.backend...))
			cl, cmc := fakeClient()
			var r relay.Relayer
			o, err := r.Result(cl, tt.caps, be)
			if err != nil {
				t.Fatalf("Result: %v", err)
			}
			if err := cl.Flush(); err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == nil {
				want = tt.backend
			}
			got := parse(t, cmc.w.Bytes())
			if len(got) != len(want) {
				t.Fatalf("client got %d packets, want %d:\n got  %q\n want %q", len(got), len(want), payloadsOf(got), want)
			}
			for i := range want {
				if !bytes.Equal(got[i].payload, want[i]) {
					t.Errorf("packet %d = % x\n want % x", i, got[i].payload, want[i])
				}
				if got[i].seq != byte(i+1) {
					t.Errorf("packet %d has seq %d, want %d", i, got[i].seq, i+1)
				}
			}
			if o.ResultSet != tt.lastRS {
				t.Errorf("Outcome.ResultSet = %v, want %v", o.ResultSet, tt.lastRS)
			}
			if o.Rows != tt.rows || o.Results != tt.results || len(o.SessionState) != tt.states {
				t.Errorf("Outcome Rows %d Results %d states %d; want %d, %d, %d", o.Rows, o.Results, len(o.SessionState), tt.rows, tt.results, tt.states)
			}
			if tt.errCode != 0 {
				if o.Err == nil || o.Err.Code != tt.errCode {
					t.Errorf("Outcome.Err = %v, want code %d", o.Err, tt.errCode)
				}
			} else if o.Err != nil {
				t.Errorf("Outcome.Err = %v", o.Err)
			}
			if o.OK.Info != nil || o.OK.SessionState != nil {
				t.Error("Outcome.OK aliases the packet buffer")
			}
			o.OK.Info, o.OK.SessionState = nil, nil
			if !reflect.DeepEqual(o.OK, tt.lastOK) {
				t.Errorf("Outcome.OK = %+v, want %+v", o.OK, tt.lastOK)
			}
			if be.Broken() {
				t.Error("backend marked broken")
			}
			if tt.lastOK.Status != 0 && be.Status != tt.lastOK.Status {
				t.Errorf("be.Status = %#x, want %#x", be.Status, tt.lastOK.Status)
			}
			if bmc.w.Len() != 0 {
				t.Errorf("relay wrote %d bytes to the backend", bmc.w.Len())
			}
		})
	}
}

func payloadsOf(ps []packet) [][]byte {
	out := make([][]byte, len(ps))
	for i, p := range ps {
		out[i] = p.payload
	}
	return out
}

// TestResultSessionStateCopied: the state blocks in the Outcome must not
// alias the backend's read buffer.
func TestResultSessionStateCopied(t *testing.T) {
	st := sysVarState("autocommit", "OFF")
	be, _ := fakeBackend(stream(
		okPkt(protocol.OK{Status: ac | more | protocol.StatusSessionStateChange, SessionState: st}),
		okPkt(protocol.OK{Status: ac | protocol.StatusSessionStateChange, SessionState: sysVarState("time_zone", "SYSTEM")}),
	))
	cl, _ := fakeClient()
	var r relay.Relayer
	o, err := r.Result(cl, modernClient, be)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.SessionState) != 2 || !bytes.Equal(o.SessionState[0], st) {
		t.Fatalf("SessionState = %q", o.SessionState)
	}
	var names []string
	for _, block := range o.SessionState {
		_ = protocol.WalkSessionState(block, func(typ byte, data []byte) {
			if v, ok := protocol.ParseSessionVar(data); ok {
				names = append(names, string(v.Name)+"="+string(v.Value))
			}
		})
	}
	if !reflect.DeepEqual(names, []string{"autocommit=OFF", "time_zone=SYSTEM"}) {
		t.Errorf("variables %q", names)
	}
}

func TestResultLocalInfile(t *testing.T) {
	be, bmc := fakeBackend(stream(
		append([]byte{protocol.LocalInfileHeader}, "/etc/passwd"...),
		okPkt(protocol.OK{Status: ac}), // the server's seq 3 after our empty packet (seq 2)
	))
	cl, cmc := fakeClient()
	var r relay.Relayer
	o, err := r.Result(cl, modernClient, be)
	if err != nil {
		t.Fatal(err)
	}
	if o.Results != 1 {
		t.Errorf("Results = %d", o.Results)
	}
	if want := []byte{0, 0, 0, 2}; !bytes.Equal(bmc.w.Bytes(), want) {
		t.Errorf("relay answered the LOCAL INFILE request with % x, want % x (empty packet, seq 2)", bmc.w.Bytes(), want)
	}
	cl.Flush()
	if got := parse(t, cmc.w.Bytes()); len(got) != 1 || !protocol.IsOK(got[0].payload) {
		t.Errorf("client got %q, want only the OK", payloadsOf(got))
	}
}

func TestResultErrors(t *testing.T) {
	tests := []struct {
		name      string
		backend   []byte
		clientErr error
		wantCl    bool // want a ClientError (else a BackendError)
	}{
		{"backend closes before the response", nil, nil, false},
		{"backend closes mid-rows", stream(colCount(1), colDef("a"), row("1")), nil, false},
		{"backend closes mid-defs", stream(colCount(2), colDef("a")), nil, false},
		{"truncated packet", stream(colCount(1), colDef("a"))[:10], nil, false},
		{"malformed column count", stream([]byte{0xfc, 1}), nil, false},
		{"malformed OK", stream([]byte{0x00, 0xfc}), nil, false},
		{"malformed end of result set", stream(colCount(1), colDef("a"), []byte{0xfe, 0xfd, 1}), nil, false},
		{"client write fails", stream(colCount(1), colDef("a"), row(strings.Repeat("x", 40000)), endOK(ac, 0)), errors.New("broken pipe"), true},
		{"client write fails on an OK", stream(okPkt(protocol.OK{Info: []byte(strings.Repeat("i", 20000))})), errors.New("broken pipe"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be, _ := fakeBackend(tt.backend)
			cl, cmc := fakeClient()
			cmc.werr = tt.clientErr
			var r relay.Relayer
			_, err := r.Result(cl, classicClient|protocol.ClientSessionTrack, be)
			if err == nil {
				t.Fatal("no error")
			}
			if relay.IsClientError(err) != tt.wantCl {
				t.Errorf("IsClientError(%v) = %v, want %v", err, relay.IsClientError(err), tt.wantCl)
			}
			var be2 *relay.BackendError
			if !tt.wantCl && !errors.As(err, &be2) {
				t.Errorf("err %T, want *relay.BackendError", err)
			}
			if tt.wantCl && !errors.Is(err, tt.clientErr) {
				t.Errorf("ClientError does not unwrap to the write error: %v", err)
			}
			if !be.Broken() {
				t.Error("backend connection not marked broken")
			}
			if !strings.HasPrefix(err.Error(), "client: ") && !strings.HasPrefix(err.Error(), "backend: ") {
				t.Errorf("error text %q", err)
			}
		})
	}
}

// TestResultEmptyPacket: a zero-length packet from the backend must be an
// error, not a panic (relay.go Result tests p[0] after IsErr/IsOK).
func TestResultEmptyPacket(t *testing.T) {
	be, _ := fakeBackend(stream([]byte{}))
	cl, _ := fakeClient()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("BUG: Relayer.Result panicked on an empty backend packet: %v", r)
		}
	}()
	var r relay.Relayer
	if _, err := r.Result(cl, modernClient, be); err == nil {
		t.Error("no error for an empty backend packet")
	}
}

func TestFieldList(t *testing.T) {
	tests := []struct {
		name    string
		backend [][]byte
		caps    uint32
		want    [][]byte
		status  uint16
		errCode uint16
	}{
		{
			name:    "classic client",
			backend: [][]byte{colDef("a"), colDef("b"), endOK(ac, 0)},
			caps:    classicClient,
			want:    [][]byte{colDef("a"), colDef("b"), eofPkt(ac, 0)},
			status:  ac,
		},
		{
			name:    "DEPRECATE_EOF client",
			backend: [][]byte{colDef("a"), endOK(ac, 0)},
			caps:    modernClient,
			want:    [][]byte{colDef("a"), endOK(ac, 0)},
			status:  ac,
		},
		{
			name:    "error",
			backend: [][]byte{errPkt(1146, "no table")},
			caps:    classicClient,
			want:    [][]byte{errPkt(1146, "no table")},
			errCode: 1146,
		},
		{
			// The code falls back to ParseEOF "for a classic EOF" when
			// ParseOK fails, but ParseOK accepts the 5-byte EOF (reading the
			// warning count as affected rows), so status and warnings are
			// lost.
			name:    "classic EOF from the backend",
			backend: [][]byte{colDef("a"), eofPkt(ac|protocol.StatusInTrans, 1)},
			caps:    classicClient,
			want:    [][]byte{colDef("a"), eofPkt(ac|protocol.StatusInTrans, 1)},
			status:  ac | protocol.StatusInTrans,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be, _ := fakeBackend(stream(tt.backend...))
			cl, cmc := fakeClient()
			var r relay.Relayer
			o, err := r.FieldList(cl, tt.caps, be)
			if err != nil {
				t.Fatal(err)
			}
			cl.Flush()
			got := payloadsOf(parse(t, cmc.w.Bytes()))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("client got % x\n want % x", got, tt.want)
			}
			if tt.errCode != 0 {
				if o.Err == nil || o.Err.Code != tt.errCode {
					t.Errorf("Outcome.Err = %v", o.Err)
				}
				return
			}
			if o.OK.Status != tt.status || be.Status != tt.status {
				t.Errorf("Outcome.OK.Status %#x, be.Status %#x; want %#x", o.OK.Status, be.Status, tt.status)
			}
		})
	}
	// I/O errors.
	be, _ := fakeBackend(stream(colDef("a")))
	cl, _ := fakeClient()
	var r relay.Relayer
	if _, err := r.FieldList(cl, classicClient, be); err == nil || relay.IsClientError(err) || !be.Broken() {
		t.Errorf("truncated field list: %v, broken %v", err, be.Broken())
	}
}

// TestResultViaDial relays a response read by a backend.Conn that logged
// in to a fake server over TCP.
func TestResultViaDial(t *testing.T) {
	resp := stream(colCount(1), colDef("n"), row("1"), row("2"), endOK(ac|more, 0), okPkt(protocol.OK{AffectedRows: 4, Status: ac}))
	addr := serveOnce(t, resp)
	be, err := backend.Dial(t.Context(), addr, backend.DialOptions{User: "u", ConnectTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	be.Seq = 0
	if err := be.WriteFlush(append([]byte{protocol.ComQuery}, "SELECT n; UPDATE t"...)); err != nil {
		t.Fatal(err)
	}
	cl, cmc := fakeClient()
	var r relay.Relayer
	o, err := r.Result(cl, classicClient, be)
	if err != nil {
		t.Fatal(err)
	}
	cl.Flush()
	if o.Rows != 2 || o.Results != 2 || o.OK.AffectedRows != 4 {
		t.Errorf("Outcome %+v", o)
	}
	want := [][]byte{colCount(1), colDef("n"), eofPkt(ac, 0), row("1"), row("2"), eofPkt(ac|more, 0), okPkt(protocol.OK{AffectedRows: 4, Status: ac})}
	if got := payloadsOf(parse(t, cmc.w.Bytes())); !reflect.DeepEqual(got, want) {
		t.Errorf("client got %q\n want %q", got, want)
	}
}

// serveOnce starts a server that accepts one login without checking it,
// answers the session-tracking SET with OK and the next command with resp
// (already framed).
func serveOnce(t *testing.T, resp []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
		pc := protocol.NewConn(nc)
		caps := beCaps | protocol.ClientPluginAuthLenencClientData | protocol.ClientConnectAttrs
		g := &protocol.Greeting{ServerVersion: "10.11.0-MariaDB", ConnectionID: 7, Scramble: protocol.NewScramble(), Capabilities: caps, Charset: 45, Status: ac, AuthPlugin: protocol.AuthNativePassword}
		if pc.WriteFlush(protocol.AppendGreeting(nil, g)) != nil {
			return
		}
		if _, err := pc.ReadPacket(); err != nil {
			return
		}
		ok := protocol.AppendOK(nil, protocol.OKHeader, &protocol.OK{Status: ac}, caps)
		if pc.WriteFlush(ok) != nil { // login OK
			return
		}
		if _, err := pc.ReadPacket(); err != nil { // SET SESSION session_track...
			return
		}
		if pc.WriteFlush(ok) != nil {
			return
		}
		if _, err := pc.ReadPacket(); err != nil {
			return
		}
		_, _ = nc.Write(resp)
		_, _ = pc.ReadPacket() // COM_QUIT
	}()
	return ln.Addr().String()
}

// rowsStream encodes a result set of n two-column rows.
func rowsStream(n int) []byte {
	pk := [][]byte{colCount(2), colDef("id"), colDef("name")}
	for i := 0; i < n; i++ {
		pk = append(pk, row(fmt.Sprint(i), "name"))
	}
	pk = append(pk, endOK(ac, 0))
	// stream numbers from 1 and wraps the byte as the server does.
	return stream(pk...)
}

// relayer holds a backend and a client that can relay the same response
// over and over without allocating.
type relayer struct {
	data []byte
	rd   *bytes.Reader
	mc   *memConn
	be   *backend.Conn
	cl   *protocol.Conn
	r    relay.Relayer
}

func newRelayer(data []byte) *relayer {
	x := &relayer{data: data, rd: bytes.NewReader(data)}
	x.mc = &memConn{r: x.rd}
	x.be = &backend.Conn{Conn: protocol.NewConn(x.mc), Caps: beCaps, Status: ac}
	x.cl = protocol.NewConn(&discardConn{})
	return x
}

func (x *relayer) run(tb testing.TB, caps uint32) relay.Outcome {
	x.rd.Reset(x.data)
	x.be.Seq = 1
	x.cl.Seq = 1
	o, err := x.r.Result(x.cl, caps, x.be)
	if err != nil {
		tb.Fatal(err)
	}
	if err := x.cl.Flush(); err != nil {
		tb.Fatal(err)
	}
	return o
}

// TestRelayRowsDoNotAllocate: relaying must not allocate per row.
func TestRelayRowsDoNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	for _, caps := range []uint32{classicClient, modernClient} {
		small := newRelayer(rowsStream(1000))
		large := newRelayer(rowsStream(100000))
		if o := large.run(t, caps); o.Rows != 100000 {
			t.Fatalf("relayed %d rows", o.Rows)
		}
		aSmall := testing.AllocsPerRun(3, func() { small.run(t, caps) })
		aLarge := testing.AllocsPerRun(3, func() { large.run(t, caps) })
		if aLarge > aSmall+2 || aLarge > 10 {
			t.Errorf("caps %#x: %.0f allocations for 1k rows, %.0f for 100k rows: relaying allocates per row", caps, aSmall, aLarge)
		}
	}
}

func BenchmarkRelayRows(b *testing.B) {
	for _, bc := range []struct {
		name string
		caps uint32
	}{{"classic", classicClient}, {"deprecateEOF", modernClient}} {
		b.Run(bc.name, func(b *testing.B) {
			const n = 1000
			x := newRelayer(rowsStream(n))
			b.ReportAllocs()
			b.SetBytes(int64(len(x.data)))
			for b.Loop() {
				x.run(b, bc.caps)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
		})
	}
}
