package backend

import (
	"net"
	"testing"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// BenchmarkAlive measures the non-blocking peek the pool makes before
// handing out a connection that was idle.
func BenchmarkAlive(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			select {}
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	c := &Conn{Conn: protocol.NewConn(nc)}
	b.ReportAllocs()
	for b.Loop() {
		if !c.alive() {
			b.Fatal("dead")
		}
	}
}
