package backend_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/protocol"
)

func sendQuery(t *testing.T, c *backend.Conn, sql string) {
	t.Helper()
	c.Seq = 0
	if err := c.WriteFlush(append([]byte{protocol.ComQuery}, sql...)); err != nil {
		t.Fatal(err)
	}
}

// TestResult reads results with backend.Result: definitions, rows, the
// end packet, a server error mid-result, an OK, and Drain within and past
// its limit.
func TestResult(t *testing.T) {
	rows := func(n int) [][]*string {
		var out [][]*string
		for i := 0; i < n; i++ {
			out = append(out, []*string{strp(strconv.Itoa(i)), nil})
		}
		return out
	}
	s := newFakeServer(t)
	s.query = scripted(map[string]func(sc *serverConn) [][]byte{
		"three": func(sc *serverConn) [][]byte {
			return resultSet(sc.caps, protocol.StatusAutocommit|protocol.StatusInTrans, []string{"a", "b"}, rows(3))
		},
		"many": func(sc *serverConn) [][]byte {
			return resultSet(sc.caps, protocol.StatusAutocommit, []string{"a", "b"}, rows(50))
		},
		"midway": func(sc *serverConn) [][]byte {
			rs := resultSet(sc.caps, 0, []string{"a", "b"}, rows(2))
			return append(rs[:len(rs)-1], errPkt(1317, "70100", "Query execution was interrupted"))
		},
		"ok": func(sc *serverConn) [][]byte {
			return [][]byte{okPkt(sc, protocol.OK{AffectedRows: 2, Status: protocol.StatusAutocommit})}
		},
	})
	s.start()
	c := connTo(t, s)

	var r backend.Result
	sendQuery(t, c, "three")
	if err := c.ReadResult(&r); err != nil {
		t.Fatal(err)
	}
	if len(r.Cols) != 2 || r.Cols[0].Name != "a" || r.Cols[1].Name != "b" || r.Cols[1].Charset != 45 {
		t.Fatalf("cols = %+v", r.Cols)
	}
	for i := 0; i < 3; i++ {
		p, err := r.Next()
		if err != nil || p == nil {
			t.Fatalf("row %d: %x, %v", i, p, err)
		}
		if want := append(protocol.AppendLenEncString(nil, strconv.Itoa(i)), 0xfb); string(p) != string(want) {
			t.Errorf("row %d = %x, want %x", i, p, want)
		}
	}
	if p, err := r.Next(); p != nil || err != nil || !r.Done() || r.More() {
		t.Fatalf("end: %x, %v, done %v", p, err, r.Done())
	}
	if r.OK.Status != protocol.StatusAutocommit|protocol.StatusInTrans || c.Status != r.OK.Status {
		t.Errorf("end status %#x, conn %#x", r.OK.Status, c.Status)
	}
	if p, err := r.Next(); p != nil || err != nil {
		t.Errorf("after the end: %x, %v", p, err)
	}

	sendQuery(t, c, "midway")
	if err := c.ReadResult(&r); err != nil {
		t.Fatal(err)
	}
	r.Next()
	r.Next()
	_, err := r.Next()
	var pe *protocol.Error
	if !errors.As(err, &pe) || pe.Code != 1317 || !r.Done() || c.Broken() {
		t.Fatalf("error mid-result: %v, done %v, broken %v", err, r.Done(), c.Broken())
	}

	sendQuery(t, c, "ok")
	if err := c.ReadResult(&r); err != nil || len(r.Cols) != 0 || r.OK.AffectedRows != 2 || !r.Done() {
		t.Fatalf("OK: %v, %+v", err, r)
	}

	// Drain within the limit keeps the connection in sync.
	sendQuery(t, c, "many")
	if err := c.ReadResult(&r); err != nil {
		t.Fatal(err)
	}
	r.Drain(100)
	if !r.Done() || c.Broken() {
		t.Fatalf("drain within limit: done %v, broken %v", r.Done(), c.Broken())
	}
	if err := c.Ping(); err != nil {
		t.Fatalf("Ping after Drain: %v", err)
	}
	// Past the limit the connection is given up.
	sendQuery(t, c, "many")
	if err := c.ReadResult(&r); err != nil {
		t.Fatal(err)
	}
	r.Drain(10)
	if r.Done() || !c.Broken() {
		t.Fatalf("drain past limit: done %v, broken %v", r.Done(), c.Broken())
	}
}
