package protocol

import (
	"strings"
	"testing"
)

func TestColumnDefRoundTrip(t *testing.T) {
	tests := []ColumnDef{
		{},
		{Schema: "shop", Table: "o", OrgTable: "orders", Name: "id", OrgName: "id", Charset: uint16(CharsetBinary), Length: 20, Type: TypeLongLong, Flags: FlagNotNull | FlagPriKey | FlagAutoIncr | FlagUnsigned | FlagNum},
		{Name: "@@version", Charset: uint16(CharsetUTF8MB4GeneralCI), Length: 0xffffffff, Type: TypeVarString, Decimals: 0x27},
		{Schema: strings.Repeat("s", 300), Table: "t", Name: "ünïcode", Charset: 224, Length: 4, Type: TypeNewDecimal, Flags: 0xffff, Decimals: 0xff},
	}
	for _, c := range tests {
		p := AppendColumnDef(nil, &c)
		got, err := ParseColumnDef(p)
		if err != nil {
			t.Fatalf("ParseColumnDef(AppendColumnDef(%+v)): %v", c, err)
		}
		if got != c {
			t.Errorf("round trip: got %+v, want %+v", got, c)
		}
		// The catalog is "def".
		if s, _, n := ReadLenEncString(p); n == 0 || string(s) != "def" {
			t.Errorf("catalog = %q", s)
		}
		// Every truncation is an error.
		for cut := 0; cut < len(p)-2; cut++ { // the last 2 filler bytes are optional
			if _, err := ParseColumnDef(p[:cut]); err == nil {
				t.Errorf("ParseColumnDef(truncated to %d of %d bytes): no error", cut, len(p))
				break
			}
		}
	}
}

func TestStmtPrepareOKRoundTrip(t *testing.T) {
	tests := []StmtPrepareOK{
		{},
		{StmtID: 1, NumColumns: 3, NumParams: 2},
		{StmtID: 0xffffffff, NumColumns: 0xffff, NumParams: 0xffff, Warnings: 0xffff},
	}
	for _, r := range tests {
		p := AppendStmtPrepareOK(nil, &r)
		if len(p) != 12 || p[0] != OKHeader {
			t.Errorf("AppendStmtPrepareOK(%+v) = % x", r, p)
		}
		got, err := ParseStmtPrepareOK(p)
		if err != nil || got != r {
			t.Errorf("ParseStmtPrepareOK(AppendStmtPrepareOK(%+v)) = %+v, %v", r, got, err)
		}
		// Without the warning count (9 bytes) the rest still decodes.
		got, err = ParseStmtPrepareOK(p[:9])
		if want := (StmtPrepareOK{StmtID: r.StmtID, NumColumns: r.NumColumns, NumParams: r.NumParams}); err != nil || got != want {
			t.Errorf("9-byte prepare OK = %+v, %v; want %+v", got, err, want)
		}
	}
	for _, bad := range [][]byte{nil, {0, 1, 0, 0, 0, 0, 0, 0}, AppendErr(nil, &Error{Code: 1064, State: "42000"})} {
		if _, err := ParseStmtPrepareOK(bad); err == nil {
			t.Errorf("ParseStmtPrepareOK(% x): no error", bad)
		}
	}
}

func TestCommandName(t *testing.T) {
	tests := map[byte]string{
		ComQuery:           "COM_QUERY",
		ComQuit:            "COM_QUIT",
		ComStmtPrepare:     "COM_STMT_PREPARE",
		ComStmtClose:       "COM_STMT_CLOSE",
		ComResetConnection: "COM_RESET_CONNECTION",
		0xee:               "COM_UNKNOWN",
	}
	for c, want := range tests {
		if got := CommandName(c); got != want {
			t.Errorf("CommandName(%#x) = %q, want %q", c, got, want)
		}
	}
}

func TestLookupCollation(t *testing.T) {
	if c, ok := LookupCollation(45); !ok || c.Charset != "utf8mb4" || c.Name != "utf8mb4_general_ci" {
		t.Errorf("45 = %+v, %v", c, ok)
	}
	if c, ok := LookupCollation(255); !ok || c.Charset != "utf8mb4" {
		t.Errorf("255 = %+v, %v", c, ok)
	}
	if c, ok := LookupCollation(200); ok || c.ID != CharsetUTF8MB4GeneralCI {
		t.Errorf("unknown id = %+v, %v; want fallback to 45, false", c, ok)
	}
}
