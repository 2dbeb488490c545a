package integration

import (
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/testtopo"
)

var dumpResults = flag.Bool("dump-results", false, "print MariaDB's result packets of TestResultWriterMatchesMariaDB (to refresh the golden bytes of internal/protocol)")

// execute prepares sql, executes it without parameters and returns the
// execution's response packets, copied.
func (r *rawClient) execute(t *testing.T, sql string) [][]byte {
	t.Helper()
	r.c.Seq = 0
	if err := r.c.WriteFlush(append([]byte{protocol.ComStmtPrepare}, sql...)); err != nil {
		t.Fatal(err)
	}
	p, err := r.c.ReadPacket()
	if err != nil {
		t.Fatal(err)
	}
	if protocol.IsErr(p) {
		t.Fatalf("prepare %s: %v", sql, protocol.ParseErr(p))
	}
	pr, err := protocol.ParseStmtPrepareOK(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{int(pr.NumParams), int(pr.NumColumns)} {
		if n == 0 {
			continue
		}
		if r.caps&protocol.ClientDeprecateEOF == 0 {
			n++
		}
		for i := 0; i < n; i++ {
			if _, err := r.c.ReadPacket(); err != nil {
				t.Fatal(err)
			}
		}
	}
	r.c.Seq = 0
	b := []byte{protocol.ComStmtExecute}
	b = binary.LittleEndian.AppendUint32(b, pr.StmtID)
	b = append(b, 0)                           // no cursor
	b = binary.LittleEndian.AppendUint32(b, 1) // iteration count
	if err := r.c.WriteFlush(b); err != nil {
		t.Fatal(err)
	}
	out := r.response(t, sql)
	r.c.Seq = 0
	if err := r.c.WriteFlush(binary.LittleEndian.AppendUint32([]byte{protocol.ComStmtClose}, pr.StmtID)); err != nil {
		t.Fatal(err)
	}
	return out
}

// rewrite feeds a result set MariaDB sent (packets of one result, the
// column definitions taken from it and the rows given as text rows) to a
// protocol.ResultWriter with the same capabilities and returns what it
// wrote.
func rewrite(t *testing.T, mariadb [][]byte, textRows [][]byte, caps, ext uint32, binaryRows bool) [][]byte {
	t.Helper()
	n, _, _ := protocol.ReadLenEncInt(mariadb[0])
	cols := make([]protocol.ColumnDef, n)
	for i := range cols {
		var err error
		if cols[i], err = protocol.ParseColumnDef(mariadb[1+i]); err != nil {
			t.Fatal(err)
		}
	}
	end := mariadb[len(mariadb)-1]
	var status, warnings uint16
	if len(end) == 5 {
		warnings, status = protocol.ParseEOF(end)
	} else {
		ok, err := protocol.ParseOK(end, caps)
		if err != nil {
			t.Fatal(err)
		}
		status, warnings = ok.Status, ok.Warnings
	}
	// The EOF after the definitions carries the status MariaDB had then.
	defStatus := status
	if caps&protocol.ClientDeprecateEOF == 0 {
		_, defStatus = protocol.ParseEOF(mariadb[1+n])
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	_ = a.SetDeadline(time.Now().Add(10 * time.Second))
	_ = b.SetDeadline(time.Now().Add(10 * time.Second))
	wc := protocol.NewConn(a)
	wc.ExtCaps = ext
	done := make(chan error, 1)
	go func() {
		var w protocol.ResultWriter
		w.Reset(wc, caps, binaryRows)
		err := w.Begin(cols, defStatus)
		for _, row := range textRows {
			if err == nil {
				err = w.Row(row)
			}
		}
		if err == nil {
			err = w.End(status, warnings)
		}
		if err == nil {
			err = wc.Flush()
		}
		done <- err
	}()
	rc := protocol.NewConn(b)
	var out [][]byte
	for range mariadb {
		p, err := rc.ReadPacket()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(nil), p...))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return out
}

// textRowsOf returns the rows of a text result set's packets.
func textRowsOf(ps [][]byte, caps uint32) [][]byte {
	n, _, _ := protocol.ReadLenEncInt(ps[0])
	first := 1 + int(n)
	if caps&protocol.ClientDeprecateEOF == 0 {
		first++
	}
	return ps[first : len(ps)-1]
}

// TestResultWriterMatchesMariaDB checks protocol.ResultWriter against
// MariaDB byte for byte: for each capability set, each statement's result
// (text protocol, and binary through a prepared execution) is rebuilt by
// the writer from its column definitions and text rows, with the status
// MariaDB reported, and must equal what MariaDB sent, packet by packet.
// With -dump-results the packets are printed (the golden bytes of the
// writer's unit tests come from there).
func TestResultWriterMatchesMariaDB(t *testing.T) {
	tp := testtopo.Require(t)
	node := tp.Slices[0].Primary
	stmts := []string{
		"SELECT 1 AS a",
		"SELECT 'abc' AS v",
		"SELECT NULL AS n",
		"SELECT 1 AS a, 'x' AS b, NULL AS c UNION ALL SELECT 2, NULL, 'y'",
		"SELECT CAST(18446744073709551615 AS UNSIGNED) AS u, -5 AS i, 2.5 AS d, 1e3 AS f, DATE '2024-02-29' AS dt, TIMESTAMP '2024-02-29 13:14:15.25' AS ts, TIME '-01:02:03' AS tm",
		"SELECT 1 AS c1, NULL AS c2, 3 AS c3, NULL AS c4, 5 AS c5, NULL AS c6, 7 AS c7, NULL AS c8, 9 AS c9, NULL AS c10",
		"SELECT * FROM (SELECT 1 AS a) t WHERE a = 0",
		"SELECT 1/0 AS w", // a warning
		// Status flags: in a transaction, autocommit off.
		"BEGIN", "SELECT 'in' AS t", "ROLLBACK",
		"SET autocommit = 0", "SELECT 'off' AS t", "SET autocommit = 1",
	}
	for _, cs := range rawCapSets {
		t.Run(cs.name, func(t *testing.T) {
			c := dialRaw(t, node.Addr, tp.RootUser, tp.RootPassword, "", cs.caps, cs.ext)
			ext := c.c.ExtCaps
			for _, q := range stmts {
				text := c.query(t, q)
				if protocol.IsErr(text[0]) {
					t.Fatalf("%s: %v", q, protocol.ParseErr(text[0]))
				}
				if protocol.IsOK(text[0]) {
					continue
				}
				rows := textRowsOf(text, cs.caps)
				if d := diffPackets(text, rewrite(t, text, rows, cs.caps, ext, false)); d != "" {
					t.Errorf("text %s:\n%s", q, d)
				}
				bin := c.execute(t, q)
				if d := diffPackets(bin, rewrite(t, bin, rows, cs.caps, ext, true)); d != "" {
					t.Errorf("binary %s:\n%s", q, d)
				}
				if *dumpResults {
					fmt.Printf("%s | text %s\n", cs.name, q)
					for _, p := range text {
						fmt.Printf("  %x\n", p)
					}
					fmt.Printf("%s | binary %s\n", cs.name, q)
					for _, p := range bin {
						fmt.Printf("  %x\n", p)
					}
				}
			}
		})
	}
}
