package protocol

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

var (
	bigPayloadOnce sync.Once
	bigPayload     []byte
)

// payloadOf returns n bytes of a position-dependent pattern, so that a
// misplaced chunk is detected. Up to 2^24+16 bytes the result is a slice of
// one shared read-only buffer (large allocations are slow under -race).
func payloadOf(n int) []byte {
	const shared = 1<<24 + 16
	if n <= shared {
		bigPayloadOnce.Do(func() { bigPayload = makePattern(shared) })
		return bigPayload[:n:n]
	}
	return makePattern(n)
}

func makePattern(n int) []byte {
	b := make([]byte, n)
	const period = 65521 // prime: chunk boundaries never line up with it
	for i := 0; i < n && i < period; i++ {
		b[i] = byte(i*7 + i>>8)
	}
	for off := period; off < n; off *= 2 {
		copy(b[off:], b[:off])
	}
	return b
}

func TestWritePacketFraming(t *testing.T) {
	tests := []struct {
		size     int
		physical []int // lengths of the physical packets
	}{
		{0, []int{0}},
		{1, []int{1}},
		{20000, []int{20000}},                    // larger than the write buffer
		{MaxPayloadLen, []int{MaxPayloadLen, 0}}, // exactly 2^24-1: an empty packet must follow
		{1 << 24, []int{MaxPayloadLen, 1}},
		{1<<24 + 5, []int{MaxPayloadLen, 6}},
	}
	mc := newMemConn(nil)
	mc.w.Grow(1<<24 + 64)
	for _, tt := range tests {
		mc.w.Reset()
		c := NewConn(mc)
		const startSeq = 250 // exercises wrap-around 255 -> 0 as well
		c.Seq = startSeq
		payload := payloadOf(tt.size)
		if err := c.WritePacket(payload); err != nil {
			t.Fatalf("size %d: WritePacket: %v", tt.size, err)
		}
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		if c.BufferedWrite() != 0 {
			t.Errorf("size %d: %d bytes still buffered after Flush", tt.size, c.BufferedWrite())
		}
		pkts, ok := splitPhysical(mc.w.Bytes())
		if !ok {
			t.Fatalf("size %d: output does not end on a packet boundary", tt.size)
		}
		if len(pkts) != len(tt.physical) {
			t.Fatalf("size %d: %d physical packets, want %d", tt.size, len(pkts), len(tt.physical))
		}
		rest := payload
		for i, p := range pkts {
			if len(p.payload) != tt.physical[i] {
				t.Errorf("size %d: physical packet %d has %d bytes, want %d", tt.size, i, len(p.payload), tt.physical[i])
			}
			if want := byte(startSeq + i); p.seq != want {
				t.Errorf("size %d: physical packet %d has seq %d, want %d", tt.size, i, p.seq, want)
			}
			if len(p.payload) > len(rest) || !bytes.Equal(p.payload, rest[:len(p.payload)]) {
				t.Errorf("size %d: physical packet %d differs from the written payload", tt.size, i)
				break
			}
			rest = rest[len(p.payload):]
		}
		if len(rest) != 0 {
			t.Errorf("size %d: %d payload bytes missing from the output", tt.size, len(rest))
		}
		if want := byte(startSeq + len(tt.physical)); c.Seq != want {
			t.Errorf("size %d: Seq after write = %d, want %d", tt.size, c.Seq, want)
		}
	}
}

func TestPacketRoundTripPipe(t *testing.T) {
	sizes := []int{0, 1, 255, 16 << 10, 16<<10 + 1, MaxPayloadLen, 1 << 24, 1<<24 + 5}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w, r := NewConn(a), NewConn(b)
	r.CheckSeq = true
	payloads := make([][]byte, len(sizes))
	for i, n := range sizes {
		payloads[i] = payloadOf(n)
	}
	errc := make(chan error, 1)
	go func() {
		w.Seq = 0
		for _, p := range payloads {
			if err := w.WritePacket(p); err != nil {
				errc <- err
				return
			}
			// Flush only some of the time: several packets may share a flush.
			if len(p) > 1000 {
				if err := w.Flush(); err != nil {
					errc <- err
					return
				}
			}
		}
		errc <- w.Flush()
	}()
	r.Seq = 0
	wantSeq := 0
	for i, want := range payloads {
		got, err := r.ReadPacket()
		if err != nil {
			t.Fatalf("packet %d (%d bytes): ReadPacket: %v", i, len(want), err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("packet %d: got %d bytes, want %d (or content differs)", i, len(got), len(want))
		}
		wantSeq += len(want)/MaxPayloadLen + 1
		if r.Seq != byte(wantSeq) {
			t.Errorf("packet %d (%d bytes): reader Seq = %d, want %d", i, len(want), r.Seq, byte(wantSeq))
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if w.Seq != r.Seq {
		t.Errorf("writer Seq %d != reader Seq %d", w.Seq, r.Seq)
	}
}

// hdr returns a physical packet header.
func hdr(n int, seq byte) []byte { return []byte{byte(n), byte(n >> 8), byte(n >> 16), seq} }

// wire returns a reader over the concatenation of parts without copying
// them.
func wire(parts ...[]byte) func() io.Reader {
	return func() io.Reader {
		rs := make([]io.Reader, len(parts))
		for i, p := range parts {
			rs[i] = bytes.NewReader(p)
		}
		return io.MultiReader(rs...)
	}
}

func TestReadPacketLimits(t *testing.T) {
	big := payloadOf(1<<24 + 5)
	bigWire := wire(hdr(MaxPayloadLen, 0), big[:MaxPayloadLen], hdr(6, 1), big[MaxPayloadLen:])
	maxWire := wire(hdr(MaxPayloadLen, 0), big[:MaxPayloadLen], hdr(0, 1))
	tests := []struct {
		name    string
		wire    func() io.Reader
		max     int
		wantLen int
		wantErr error
	}{
		{"under limit", wire(frame(0, payloadOf(99))), 100, 99, nil},
		{"at limit", wire(frame(0, payloadOf(100))), 100, 100, nil},
		{"over limit", wire(frame(0, payloadOf(101))), 100, 0, ErrPacketTooLarge},
		{"no limit", wire(frame(0, payloadOf(5000))), 0, 5000, nil},
		{"multi-packet over limit", bigWire, MaxPayloadLen + 5, 0, ErrPacketTooLarge},
		{"multi-packet at limit", bigWire, 1<<24 + 5, 1<<24 + 5, nil},
		{"exactly max payload with limit max payload", maxWire, MaxPayloadLen, MaxPayloadLen, nil},
		{"first physical packet over limit", bigWire, 1000, 0, ErrPacketTooLarge},
		{"empty stream", wire(), 0, 0, io.EOF},
		{"partial header", wire([]byte{1, 0}), 0, 0, io.ErrUnexpectedEOF},
		{"partial payload", wire([]byte{5, 0, 0, 0, 'a', 'b'}), 0, 0, io.ErrUnexpectedEOF},
		{"missing continuation", wire(hdr(MaxPayloadLen, 0), big[:MaxPayloadLen]), 0, 0, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConn(&memConn{r: tt.wire()})
			c.MaxPacket = tt.max
			p, err := c.ReadPacket()
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("ReadPacket err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && len(p) != tt.wantLen {
				t.Errorf("ReadPacket returned %d bytes, want %d", len(p), tt.wantLen)
			}
		})
	}
}

func TestReadPacketSequence(t *testing.T) {
	wire := append(frame(0, []byte("a")), frame(1, []byte("b"))...)
	wire = append(wire, frame(3, []byte("c"))...) // 2 is missing
	c := NewConn(newMemConn(wire))
	c.CheckSeq = true
	for _, want := range []string{"a", "b"} {
		p, err := c.ReadPacket()
		if err != nil || string(p) != want {
			t.Fatalf("ReadPacket = %q, %v; want %q", p, err, want)
		}
	}
	if _, err := c.ReadPacket(); !errors.Is(err, ErrBadSequence) {
		t.Errorf("out-of-order packet: err = %v, want ErrBadSequence", err)
	}

	// Without CheckSeq the reader follows the sender's numbering.
	c = NewConn(newMemConn(append(frame(7, []byte("x")), frame(200, []byte("y"))...)))
	if _, err := c.ReadPacket(); err != nil || c.Seq != 8 {
		t.Fatalf("err %v, Seq %d; want Seq 8", err, c.Seq)
	}
	if _, err := c.ReadPacket(); err != nil || c.Seq != 201 {
		t.Fatalf("err %v, Seq %d; want Seq 201", err, c.Seq)
	}

	// Wrap-around: 255 is followed by 0.
	c = NewConn(newMemConn(append(frame(255, []byte("x")), frame(0, []byte("y"))...)))
	c.CheckSeq = true
	c.Seq = 255
	for i := 0; i < 2; i++ {
		if _, err := c.ReadPacket(); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	if c.Seq != 1 {
		t.Errorf("Seq = %d after wrap, want 1", c.Seq)
	}
}

func TestReadPacketTimeout(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := NewConn(a)
	c.ReadTimeout = 20 * time.Millisecond
	start := time.Now()
	_, err := c.ReadPacket()
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timeout took %v", d)
	}
}

func TestReadPacketBufferReuse(t *testing.T) {
	wire := frame(0, []byte("first"))
	wire = append(wire, frame(1, payloadOf(5<<20))...) // forces a > 4 MiB buffer
	wire = append(wire, frame(2, []byte("third"))...)
	c := NewConn(newMemConn(wire))
	if p, err := c.ReadPacket(); err != nil || string(p) != "first" {
		t.Fatalf("%q, %v", p, err)
	}
	p, err := c.ReadPacket()
	if err != nil || len(p) != 5<<20 {
		t.Fatalf("%d bytes, %v", len(p), err)
	}
	if c.buf != nil {
		t.Errorf("buffer of %d bytes kept after a large packet", cap(c.buf))
	}
	if !bytes.Equal(p, payloadOf(5<<20)) {
		t.Error("large packet content changed")
	}
	if p, err := c.ReadPacket(); err != nil || string(p) != "third" {
		t.Fatalf("%q, %v", p, err)
	}
}

func TestConnBuffered(t *testing.T) {
	c := NewConn(newMemConn(append(frame(0, []byte("one")), frame(1, []byte("two"))...)))
	if _, err := c.ReadPacket(); err != nil {
		t.Fatal(err)
	}
	if c.Buffered() != 4+3 {
		t.Errorf("Buffered = %d, want 7", c.Buffered())
	}
	if _, err := c.ReadPacket(); err != nil {
		t.Fatal(err)
	}
	if c.Buffered() != 0 {
		t.Errorf("Buffered = %d, want 0", c.Buffered())
	}
	mc := c.Conn.(*memConn)
	if err := c.WritePacket([]byte("w")); err != nil {
		t.Fatal(err)
	}
	if c.BufferedWrite() != 5 || mc.w.Len() != 0 {
		t.Errorf("BufferedWrite = %d, written = %d before Flush", c.BufferedWrite(), mc.w.Len())
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mc.w.Bytes(), frame(2, []byte("w"))) {
		t.Errorf("written % x", mc.w.Bytes())
	}
}

type failConn struct{ memConn }

var errWriteFailed = errors.New("write failed")

func (*failConn) Write([]byte) (int, error) { return 0, errWriteFailed }

func TestWriteErrors(t *testing.T) {
	c := NewConn(&failConn{})
	// Small packets are buffered; the error surfaces at Flush.
	if err := c.WriteFlush([]byte("x")); !errors.Is(err, errWriteFailed) {
		t.Errorf("WriteFlush err = %v", err)
	}
	// Large packets go straight through.
	c = NewConn(&failConn{})
	if err := c.WritePacket(payloadOf(100 << 10)); !errors.Is(err, errWriteFailed) {
		t.Errorf("WritePacket err = %v", err)
	}
}

func BenchmarkReadWritePacket(b *testing.B) {
	lc := &loopConn{}
	c := NewConn(lc)
	payload := append([]byte{ComQuery}, "SELECT 1"...)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		c.Seq = 0
		if err := c.WriteFlush(payload); err != nil {
			b.Fatal(err)
		}
		c.Seq = 0
		p, err := c.ReadPacket()
		if err != nil || len(p) != len(payload) {
			b.Fatal(err)
		}
	}
}

// TestReadPacketTooLargeKeepsSync: after ErrPacketTooLarge the rest of the
// oversized packet has been skipped, so the next ReadPacket returns the
// packet that follows it.
func TestReadPacketTooLargeKeepsSync(t *testing.T) {
	big := payloadOf(1<<24 + 5)
	tests := []struct {
		name  string
		parts [][]byte
		max   int
		seq   byte // seq of the packet after the oversized one
	}{
		{"single packet", [][]byte{frame(0, payloadOf(1000))}, 100, 1},
		{"first chunk over the limit", [][]byte{hdr(MaxPayloadLen, 0), big[:MaxPayloadLen], hdr(6, 1), big[MaxPayloadLen:]}, 1000, 2},
		{"second chunk over the limit", [][]byte{hdr(MaxPayloadLen, 0), big[:MaxPayloadLen], hdr(6, 1), big[MaxPayloadLen:]}, MaxPayloadLen + 1, 2},
		{"exactly MaxPayloadLen plus empty packet", [][]byte{hdr(MaxPayloadLen, 0), big[:MaxPayloadLen], hdr(0, 1)}, 1000, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := append(append([][]byte(nil), tt.parts...), frame(tt.seq, []byte("next")))
			c := NewConn(&memConn{r: wire(parts...)()})
			c.MaxPacket = tt.max
			c.CheckSeq = true
			if _, err := c.ReadPacket(); !errors.Is(err, ErrPacketTooLarge) {
				t.Fatalf("err = %v, want ErrPacketTooLarge", err)
			}
			if c.Seq != tt.seq {
				t.Errorf("Seq = %d after skipping, want %d", c.Seq, tt.seq)
			}
			p, err := c.ReadPacket()
			if err != nil || string(p) != "next" {
				t.Fatalf("next ReadPacket = %q, %v; want \"next\"", p, err)
			}
		})
	}
	// A stream that ends inside the oversized packet reports the I/O error.
	c := NewConn(&memConn{r: wire(hdr(1000, 0), payloadOf(10))()})
	c.MaxPacket = 100
	if _, err := c.ReadPacket(); err == nil || errors.Is(err, ErrPacketTooLarge) {
		t.Errorf("truncated oversized packet: err = %v, want an I/O error", err)
	}
}
