package protocol

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"math"
	"testing"
)

func FuzzReadPacket(f *testing.F) {
	f.Add([]byte{}, uint16(100), false)
	f.Add(frame(0, nil), uint16(100), true)
	f.Add(frame(0, []byte("hello")), uint16(4), false)
	f.Add(append(frame(0, []byte{ComQuery, 'S'}), frame(1, []byte("x"))...), uint16(1000), true)
	f.Add(append(frame(0, []byte("a")), frame(2, []byte("b"))...), uint16(1000), true)
	f.Add([]byte{0xff, 0xff, 0xff, 0, 1, 2, 3}, uint16(0xffff), false)
	f.Add([]byte{5, 0, 0, 0, 'a'}, uint16(10), false)
	f.Add(append(frame(255, []byte("w")), frame(0, []byte("r"))...), uint16(10), true)
	f.Add(AppendOK(frame(0, nil)[:4], OKHeader, &OK{Status: StatusAutocommit}, 0), uint16(64), false)
	f.Fuzz(func(t *testing.T, data []byte, limit uint16, checkSeq bool) {
		c := NewConn(newMemConn(data))
		c.MaxPacket = int(limit) + 1 // bounded: never more than 64 KiB per packet
		c.CheckSeq = checkSeq
		if checkSeq && len(data) >= 4 {
			c.Seq = data[3]
		}
		off := 0
		for i := 0; ; i++ {
			before := c.Seq
			p, err := c.ReadPacket()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) &&
					!errors.Is(err, ErrPacketTooLarge) && !errors.Is(err, ErrBadSequence) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(p) > c.MaxPacket {
				t.Fatalf("packet %d: %d bytes exceeds MaxPacket %d", i, len(p), c.MaxPacket)
			}
			// Packets under MaxPayloadLen are one physical packet: writing
			// the payload back reproduces the consumed bytes.
			if off+4+len(p) > len(data) {
				t.Fatalf("packet %d: consumed past the input", i)
			}
			seq := data[off+3]
			if checkSeq && seq != before {
				t.Fatalf("packet %d: seq %d accepted, want %d", i, seq, before)
			}
			if c.Seq != seq+1 {
				t.Fatalf("packet %d: Seq %d after reading seq %d", i, c.Seq, seq)
			}
			mc := newMemConn(nil)
			w := NewConn(mc)
			w.Seq = seq
			if err := w.WriteFlush(p); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(mc.w.Bytes(), data[off:off+4+len(p)]) {
				t.Fatalf("packet %d: re-encoding % x differs from input % x", i, mc.w.Bytes(), data[off:off+4+len(p)])
			}
			off += 4 + len(p)
		}
	})
}

func FuzzReadLenEnc(f *testing.F) {
	for _, v := range []uint64{0, 250, 251, 1<<16 - 1, 1 << 16, 1<<24 - 1, 1 << 24, math.MaxUint64} {
		f.Add(AppendLenEncInt(nil, v))
	}
	f.Add(AppendLenEncString(nil, "hello"))
	f.Add(AppendLenEncString(nil, string(make([]byte, 300))))
	f.Add([]byte{0xfb})
	f.Add([]byte{0xff})
	f.Add([]byte{0xfc, 1})
	f.Add([]byte{0xfe, 0, 0, 0, 0, 0, 0, 0, 0x80, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, null, n := ReadLenEncInt(b)
		if n < 0 || n > len(b) || n > 9 {
			t.Fatalf("ReadLenEncInt consumed %d of %d bytes", n, len(b))
		}
		if null && (n != 1 || v != 0) {
			t.Fatalf("NULL with n=%d v=%d", n, v)
		}
		if n > 0 && !null {
			enc := AppendLenEncInt(nil, v)
			if len(enc) > n {
				t.Fatalf("canonical encoding of %d is %d bytes, input used %d", v, len(enc), n)
			}
			v2, null2, n2 := ReadLenEncInt(enc)
			if v2 != v || null2 || n2 != len(enc) {
				t.Fatalf("re-encoding %d decodes as %d, %v, %d", v, v2, null2, n2)
			}
			if n == len(enc) && !bytes.Equal(enc, b[:n]) {
				t.Fatalf("same-length encodings differ: % x vs % x", enc, b[:n])
			}
		}

		s, snull, sn := ReadLenEncString(b)
		if sn < 0 || sn > len(b) {
			t.Fatalf("ReadLenEncString consumed %d of %d bytes", sn, len(b))
		}
		if snull != null && sn != 0 {
			t.Fatalf("string NULL=%v, int NULL=%v", snull, null)
		}
		if sn > 0 && !snull {
			if uint64(len(s)) != v || sn != n+len(s) || !bytes.Equal(s, b[n:sn]) {
				t.Fatalf("ReadLenEncString = %d bytes, n=%d; int header %d (n=%d)", len(s), sn, v, n)
			}
		}
		if n > 0 && !null && uint64(len(b)-n) >= v && sn == 0 {
			t.Fatalf("ReadLenEncString failed although %d data bytes follow a length of %d", len(b)-n, v)
		}
	})
}

func FuzzParseOK(f *testing.F) {
	state := append(sysVarEntry("autocommit", "OFF"), schemaEntry("db")...)
	tracked := ClientProtocol41 | ClientSessionTrack
	f.Add(AppendOK(nil, OKHeader, &OK{}, ClientProtocol41), ClientProtocol41)
	f.Add(AppendOK(nil, OKHeader, &OK{AffectedRows: 1 << 40, LastInsertID: 300, Status: StatusAutocommit, Warnings: 2, Info: []byte("Rows matched: 1")}, ClientProtocol41), ClientProtocol41)
	f.Add(AppendOK(nil, OKHeader, &OK{Info: []byte("info"), Status: StatusSessionStateChange, SessionState: state}, tracked), tracked)
	f.Add(AppendOK(nil, EOFHeader, &OK{Status: StatusMoreResultsExists}, tracked), tracked)
	f.Add(AppendEOF(nil, 1, StatusAutocommit), tracked)
	f.Add([]byte{0, 0xfc, 0xff}, uint32(0))
	f.Fuzz(func(t *testing.T, p []byte, caps uint32) {
		ok, err := ParseOK(p, caps)
		if err != nil {
			return
		}
		if len(ok.Info) > len(p) || len(ok.SessionState) > len(p) {
			t.Fatal("fields longer than the packet")
		}
		if len(ok.SessionState) > 0 {
			if caps&ClientSessionTrack == 0 || ok.Status&StatusSessionStateChange == 0 {
				t.Fatalf("session state parsed with caps %#x status %#x", caps, ok.Status)
			}
			_ = WalkSessionState(ok.SessionState, func(typ byte, data []byte) {
				if typ == SessionTrackSystemVariables {
					ParseSessionVar(data)
				}
			})
		}
		// parse(append(parse(p))) == parse(p), except that the state-change
		// flag is only kept together with a state block.
		p2 := AppendOK(nil, p[0], &ok, caps)
		ok2, err := ParseOK(p2, caps)
		if err != nil {
			t.Fatalf("ParseOK(AppendOK(%+v)) = %v (payload % x)", ok, err, p2)
		}
		wantStatus := ok.Status
		if len(ok.SessionState) == 0 || caps&ClientSessionTrack == 0 {
			wantStatus &^= StatusSessionStateChange
		}
		if ok2.AffectedRows != ok.AffectedRows || ok2.LastInsertID != ok.LastInsertID || ok2.Status != wantStatus ||
			ok2.Warnings != ok.Warnings || !bytes.Equal(ok2.Info, ok.Info) || !bytes.Equal(ok2.SessionState, ok.SessionState) {
			t.Fatalf("round trip changed the OK:\n first  %+v\n second %+v", ok, ok2)
		}
	})
}

func FuzzParseGreeting(f *testing.F) {
	f.Add(AppendGreeting(nil, &Greeting{ServerVersion: "5.5.5-10.11.0-MariaDB", ConnectionID: 1, Scramble: fixedScramble, Capabilities: fullServerCaps, Charset: 45, Status: StatusAutocommit, AuthPlugin: AuthNativePassword}))
	f.Add(AppendGreeting(nil, &Greeting{ServerVersion: "8.0", Scramble: fixedScramble, Capabilities: ClientProtocol41 | ClientSecureConnection | ClientPluginAuth, AuthPlugin: AuthCachingSHA2Password}))
	f.Add(AppendErr(nil, &Error{Code: 1040, State: "08004", Message: "Too many connections"}))
	f.Add([]byte{10, 'v', 0, 1, 0, 0, 0, '1', '2', '3', '4', '5', '6', '7', '8', 0, 0, 2})
	f.Fuzz(func(t *testing.T, p []byte) {
		g, err := ParseGreeting(p)
		if err != nil {
			return
		}
		if len(g.Scramble) < 8 {
			t.Fatalf("scramble of %d bytes", len(g.Scramble))
		}
		if g.Capabilities&ClientSecureConnection == 0 || len(g.Scramble) > 254 {
			return
		}
		if len(g.Scramble) < 20 {
			t.Fatalf("secure-connection greeting with a %d-byte scramble", len(g.Scramble))
		}
		g2, err := ParseGreeting(AppendGreeting(nil, g))
		if err != nil {
			t.Fatalf("ParseGreeting(AppendGreeting(%+v)): %v", *g, err)
		}
		if g2.ServerVersion != g.ServerVersion || g2.ConnectionID != g.ConnectionID || !bytes.Equal(g2.Scramble, g.Scramble) ||
			g2.Capabilities != g.Capabilities || g2.Charset != g.Charset || g2.Status != g.Status ||
			(g.Capabilities&ClientPluginAuth != 0 && g2.AuthPlugin != g.AuthPlugin) {
			t.Fatalf("round trip changed the greeting:\n first  %+v\n second %+v", *g, *g2)
		}
	})
}

func FuzzParseHandshakeResponse(f *testing.F) {
	attrs := map[string]string{"_client_name": "libmariadb", "program_name": "mysql"}
	base := ClientProtocol41 | ClientSecureConnection
	seeds := []HandshakeResponse{
		{Capabilities: base, MaxPacket: 1 << 24, Charset: 33, User: "root", AuthResponse: ScrambleNative(fixedScramble, "pw")},
		{Capabilities: base | ClientConnectWithDB | ClientPluginAuth, User: "app", AuthResponse: []byte{1, 2, 3}, Database: "shop", AuthPlugin: AuthNativePassword},
		{Capabilities: base | ClientPluginAuth | ClientPluginAuthLenencClientData | ClientConnectAttrs, User: "app", AuthResponse: make([]byte, 300), AuthPlugin: AuthCachingSHA2Password, Attrs: attrs},
		{Capabilities: fullServerCaps, MaxPacket: 1 << 30, Charset: 45, User: "u", Database: "d", AuthPlugin: "p", Attrs: attrs},
	}
	for _, r := range seeds {
		f.Add(AppendHandshakeResponse(nil, &r, false))
	}
	f.Add(AppendHandshakeResponse(nil, &HandshakeResponse{Capabilities: ClientProtocol41 | ClientSSL}, true))
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := ParseHandshakeResponse(p)
		if err != nil {
			return
		}
		if r.Capabilities&ClientProtocol41 == 0 {
			t.Fatal("accepted a pre-4.1 response")
		}
		// Only the two length-prefixed auth encodings round-trip (see
		// TestHandshakeResponseRoundTripNoSecureConnection for the third).
		if r.Capabilities&(ClientPluginAuthLenencClientData|ClientSecureConnection) == 0 {
			return
		}
		r2, err := ParseHandshakeResponse(AppendHandshakeResponse(nil, r, false))
		if err != nil {
			t.Fatalf("ParseHandshakeResponse(AppendHandshakeResponse(%+v)): %v", *r, err)
		}
		if r2.Capabilities != r.Capabilities || r2.MaxPacket != r.MaxPacket || r2.Charset != r.Charset ||
			r2.User != r.User || !bytes.Equal(r2.AuthResponse, r.AuthResponse) || r2.Database != r.Database ||
			r2.AuthPlugin != r.AuthPlugin || !maps.Equal(r2.Attrs, r.Attrs) {
			t.Fatalf("round trip changed the response:\n first  %+v\n second %+v", *r, *r2)
		}
	})
}

func FuzzWalkSessionState(f *testing.F) {
	f.Add(append(sysVarEntry("autocommit", "OFF"), schemaEntry("shop")...))
	f.Add(sysVarEntry("sql_mode", string(make([]byte, 300))))
	f.Add([]byte{SessionTrackStateChange, 1, '1'})
	f.Add([]byte{0, 0xfc, 1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, state []byte) {
		type entry struct {
			typ  byte
			data []byte
		}
		var entries []entry
		consumed := 0
		err := WalkSessionState(state, func(typ byte, data []byte) {
			entries = append(entries, entry{typ, data})
			consumed += 1 + len(data)
			if typ == SessionTrackSystemVariables {
				if v, ok := ParseSessionVar(data); ok && len(v.Name)+len(v.Value) > len(data) {
					t.Fatal("session variable longer than its entry")
				}
			}
		})
		if consumed > len(state) {
			t.Fatalf("entries cover %d bytes of %d", consumed, len(state))
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v", err)
			}
			return
		}
		// Re-encoding the entries canonically walks to the same entries.
		var re []byte
		for _, e := range entries {
			re = AppendLenEncBytes(append(re, e.typ), e.data)
		}
		i := 0
		if err := WalkSessionState(re, func(typ byte, data []byte) {
			if i >= len(entries) || entries[i].typ != typ || !bytes.Equal(entries[i].data, data) {
				t.Fatalf("re-encoded entry %d differs", i)
			}
			i++
		}); err != nil || i != len(entries) {
			t.Fatalf("re-encoded walk: %v, %d of %d entries", err, i, len(entries))
		}
	})
}

func FuzzParseColumnDef(f *testing.F) {
	f.Add(AppendColumnDef(nil, &ColumnDef{}))
	f.Add(AppendColumnDef(nil, &ColumnDef{Schema: "shop", Table: "o", OrgTable: "orders", Name: "id", OrgName: "id", Charset: 63, Length: 20, Type: TypeLongLong, Flags: FlagNotNull | FlagPriKey}))
	f.Add(AppendColumnDef(nil, &ColumnDef{Name: string(make([]byte, 260)), Length: 0xffffffff, Type: TypeVarString, Decimals: 31}))
	f.Add([]byte{3, 'd', 'e', 'f', 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0x0c})
	f.Fuzz(func(t *testing.T, p []byte) {
		c, err := ParseColumnDef(p)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v", err)
			}
			return
		}
		if len(c.Schema)+len(c.Table)+len(c.OrgTable)+len(c.Name)+len(c.OrgName)+10 > len(p) {
			t.Fatal("decoded more bytes than the packet holds")
		}
		c2, err := ParseColumnDef(AppendColumnDef(nil, &c))
		if err != nil || c2 != c {
			t.Fatalf("round trip: %+v -> %+v, %v", c, c2, err)
		}
	})
}
