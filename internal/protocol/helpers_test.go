package protocol

import (
	"bytes"
	"io"
	"net"
	"time"
)

// memConn is a net.Conn without a peer: reads come from an in-memory
// reader, writes are collected in an in-memory buffer. Nothing blocks, so
// it suits fuzzing and benchmarks.
type memConn struct {
	r io.Reader
	w bytes.Buffer
}

func newMemConn(in []byte) *memConn { return &memConn{r: bytes.NewReader(in)} }

func (c *memConn) Read(p []byte) (int, error) {
	if c.r == nil {
		return 0, io.EOF
	}
	return c.r.Read(p)
}
func (c *memConn) Write(p []byte) (int, error)      { return c.w.Write(p) }
func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return memAddr{} }
func (c *memConn) RemoteAddr() net.Addr             { return memAddr{} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// loopConn reads back what was written to it (an in-memory loopback).
type loopConn struct {
	memConn
}

func (c *loopConn) Read(p []byte) (int, error) { return c.w.Read(p) }

type memAddr struct{}

func (memAddr) Network() string { return "mem" }
func (memAddr) String() string  { return "mem" }

// rawPacket is one physical packet as seen on the wire.
type rawPacket struct {
	seq     byte
	payload []byte
}

// splitPhysical cuts a byte stream into physical packets. ok is false when
// the stream does not end on a packet boundary.
func splitPhysical(b []byte) (pkts []rawPacket, ok bool) {
	for len(b) > 0 {
		if len(b) < 4 {
			return pkts, false
		}
		n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
		if len(b) < 4+n {
			return pkts, false
		}
		pkts = append(pkts, rawPacket{seq: b[3], payload: b[4 : 4+n]})
		b = b[4+n:]
	}
	return pkts, true
}

// frame builds the wire bytes of one physical packet.
func frame(seq byte, payload []byte) []byte {
	n := len(payload)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}, payload...)
}
