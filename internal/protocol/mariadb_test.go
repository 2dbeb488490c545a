package protocol

import (
	"bytes"
	"testing"
)

// TestOKInfoLengthEncoded: the info string is length-encoded with and
// without CLIENT_SESSION_TRACK, as MariaDB sends it (issue 11, defect 2),
// and both forms parse back.
func TestOKInfoLengthEncoded(t *testing.T) {
	info := "Rows matched: 1  Changed: 1  Warnings: 0"
	want := append([]byte{0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, byte(len(info))}, info...)
	for _, caps := range []uint32{0, ClientSessionTrack, ClientSessionTrack | ClientDeprecateEOF} {
		ok := OK{AffectedRows: 1, Status: StatusAutocommit, Info: []byte(info)}
		got := AppendOK(nil, OKHeader, &ok, caps)
		if !bytes.Equal(got, want) {
			t.Fatalf("caps %#x: got %x, want %x", caps, got, want)
		}
		back, err := ParseOK(got, caps)
		if err != nil || string(back.Info) != info {
			t.Fatalf("caps %#x: parsed %q, %v", caps, back.Info, err)
		}
	}
	// A MySQL-style unprefixed info string still parses without session
	// tracking.
	mysql := append([]byte{0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00}, info...)
	if back, err := ParseOK(mysql, 0); err != nil || string(back.Info) != info {
		t.Fatalf("MySQL form: %q, %v", back.Info, err)
	}
}

// TestExtendedCapabilities: MariaDB's extended capabilities travel in the
// greeting and the handshake response when CLIENT_LONG_PASSWORD is off.
func TestExtendedCapabilities(t *testing.T) {
	g := &Greeting{ServerVersion: "5.5.5-10.11.19-MariaDB", ConnectionID: 7, Scramble: bytes.Repeat([]byte{'a'}, 20),
		Capabilities: ClientProtocol41 | ClientSecureConnection | ClientPluginAuth, AuthPlugin: AuthNativePassword,
		ExtCapabilities: MariaDBClientExtendedMetadata}
	back, err := ParseGreeting(AppendGreeting(nil, g))
	if err != nil || back.ExtCapabilities != MariaDBClientExtendedMetadata {
		t.Fatalf("greeting ext caps %#x, %v", back.ExtCapabilities, err)
	}
	r := &HandshakeResponse{Capabilities: ClientProtocol41 | ClientSecureConnection | ClientPluginAuth, User: "u",
		AuthPlugin: AuthNativePassword, ExtCapabilities: MariaDBClientExtendedMetadata}
	rb, err := ParseHandshakeResponse(AppendHandshakeResponse(nil, r, false))
	if err != nil || rb.ExtCapabilities != MariaDBClientExtendedMetadata {
		t.Fatalf("response ext caps %#x, %v", rb.ExtCapabilities, err)
	}
	r.Capabilities |= ClientLongPassword
	if rb, _ := ParseHandshakeResponse(AppendHandshakeResponse(nil, r, false)); rb.ExtCapabilities != 0 {
		t.Fatalf("ext caps read with CLIENT_LONG_PASSWORD set")
	}
}

// TestColumnDefExtended: the extended type info block survives a parse and
// re-encode for an extended-metadata client and is dropped for others.
func TestColumnDefExtended(t *testing.T) {
	c := ColumnDef{Schema: "db", Table: "t", OrgTable: "t", Name: "doc", OrgName: "doc", Charset: 45, Length: 0xffffffff,
		Type: TypeBlob, Flags: 0x90, Extended: "\x01\x04json"}
	ext := AppendColumnDefExt(nil, &c, MariaDBClientExtendedMetadata)
	back, err := ParseColumnDef(ext)
	if err != nil || back != c {
		t.Fatalf("parsed %+v, %v", back, err)
	}
	plain := AppendColumnDef(nil, &c)
	if got := StripColumnExt(nil, ext); !bytes.Equal(got, plain) {
		t.Fatalf("stripped %x, want %x", got, plain)
	}
	if back, err := ParseColumnDef(plain); err != nil || back.Extended != "" || back.Name != "doc" {
		t.Fatalf("plain parsed %+v, %v", back, err)
	}
}
