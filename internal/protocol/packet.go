package protocol

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// ErrPacketTooLarge is returned by ReadPacket when a logical packet exceeds
// the connection's size limit. The rest of the packet has been read and
// dropped, so an error can still be sent before closing.
var ErrPacketTooLarge = errors.New("packet too large")

// ErrBadSequence is returned when a packet arrives with an unexpected
// sequence number.
var ErrBadSequence = errors.New("packet out of order")

// Conn frames MySQL packets over a network connection. Reads and writes are
// buffered; writes reach the network on Flush or when the buffer fills.
// A Conn is not safe for concurrent use except that Close may be called from
// another goroutine.
type Conn struct {
	net.Conn
	r   *bufio.Reader
	w   *bufio.Writer
	buf []byte // reusable payload buffer for ReadPacket
	hdr [4]byte
	// Seq is the sequence number expected on the next read and used by the
	// next write.
	Seq byte
	// MaxPacket bounds the size of a logical packet read; 0 means no limit.
	MaxPacket int
	// ReadTimeout, when non-zero, is applied as a read deadline to each ReadPacket.
	ReadTimeout time.Duration
	// CheckSeq makes ReadPacket verify incoming sequence numbers.
	CheckSeq bool
	// ExtCaps are the MariaDB extended capabilities negotiated on this
	// connection (MariaDBClient*).
	ExtCaps uint32

	colBuf []byte // scratch for WriteColumnDef
}

// Default buffer sizes for NewConn.
const (
	readBufSize  = 16 << 10
	writeBufSize = 16 << 10
)

// NewConn wraps c.
func NewConn(c net.Conn) *Conn {
	return &Conn{Conn: c, r: bufio.NewReaderSize(c, readBufSize), w: bufio.NewWriterSize(c, writeBufSize)}
}

// bufferedConn reads what a bufio.Reader already holds before reading the
// socket: a TLS hello may arrive in the same read as the SSLRequest.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// StartTLS upgrades the connection to TLS (as the server, or as the client)
// after the SSLRequest exchange, and continues framing over TLS.
func (c *Conn) StartTLS(cfg *tls.Config, server bool) (*tls.Conn, error) {
	if err := c.w.Flush(); err != nil {
		return nil, err
	}
	raw := bufferedConn{Conn: c.Conn, r: c.r}
	var tc *tls.Conn
	if server {
		tc = tls.Server(raw, cfg)
	} else {
		tc = tls.Client(raw, cfg)
	}
	if err := tc.Handshake(); err != nil {
		return nil, err
	}
	c.Conn = tc
	c.r = bufio.NewReaderSize(tc, readBufSize)
	c.w.Reset(tc)
	return tc, nil
}

// Buffered reports whether unread bytes are waiting in the read buffer.
func (c *Conn) Buffered() int { return c.r.Buffered() }

// ReadPacket reads one logical packet (joining physical packets of
// MaxPayloadLen) and returns its payload. The slice is valid until the next
// ReadPacket call.
func (c *Conn) ReadPacket() ([]byte, error) {
	if c.ReadTimeout > 0 {
		if err := c.Conn.SetReadDeadline(time.Now().Add(c.ReadTimeout)); err != nil {
			return nil, err
		}
	}
	total := 0
	for {
		if _, err := io.ReadFull(c.r, c.hdr[:]); err != nil {
			return nil, err
		}
		n := int(uint32(c.hdr[0]) | uint32(c.hdr[1])<<8 | uint32(c.hdr[2])<<16)
		if c.CheckSeq && c.hdr[3] != c.Seq {
			return nil, fmt.Errorf("%w: got sequence %d, want %d", ErrBadSequence, c.hdr[3], c.Seq)
		}
		c.Seq = c.hdr[3] + 1
		if c.MaxPacket > 0 && total+n > c.MaxPacket {
			// Read and drop the rest of the packet so that the peer, still
			// writing, gets our error instead of a reset connection.
			if err := c.discard(n); err != nil {
				return nil, err
			}
			return nil, ErrPacketTooLarge
		}
		if cap(c.buf) < total+n {
			nb := make([]byte, total, growCap(cap(c.buf), total+n))
			copy(nb, c.buf[:total])
			c.buf = nb
		}
		c.buf = c.buf[:total+n]
		if _, err := io.ReadFull(c.r, c.buf[total:]); err != nil {
			return nil, err
		}
		total += n
		if n < MaxPayloadLen {
			break
		}
	}
	// Do not keep huge buffers alive after a large packet.
	p := c.buf[:total]
	if cap(c.buf) > 4<<20 {
		c.buf = nil
	}
	return p, nil
}

// discard skips n payload bytes and every continuation packet after them.
func (c *Conn) discard(n int) error {
	for {
		if _, err := c.r.Discard(n); err != nil {
			return err
		}
		if n < MaxPayloadLen {
			return nil
		}
		if _, err := io.ReadFull(c.r, c.hdr[:]); err != nil {
			return err
		}
		n = int(uint32(c.hdr[0]) | uint32(c.hdr[1])<<8 | uint32(c.hdr[2])<<16)
		c.Seq = c.hdr[3] + 1
	}
}

func growCap(old, need int) int {
	c := old * 2
	if c < 256 {
		c = 256
	}
	if c < need {
		c = need
	}
	return c
}

// WritePacket buffers payload as one logical packet, splitting it into
// physical packets when needed, and advances the sequence number.
func (c *Conn) WritePacket(payload []byte) error {
	for {
		n := len(payload)
		if n > MaxPayloadLen {
			n = MaxPayloadLen
		}
		c.hdr[0], c.hdr[1], c.hdr[2], c.hdr[3] = byte(n), byte(n>>8), byte(n>>16), c.Seq
		c.Seq++
		if _, err := c.w.Write(c.hdr[:]); err != nil {
			return err
		}
		if _, err := c.w.Write(payload[:n]); err != nil {
			return err
		}
		payload = payload[n:]
		if n < MaxPayloadLen {
			return nil
		}
	}
}

// Flush writes buffered packets to the network.
func (c *Conn) Flush() error { return c.w.Flush() }

// WriteFlush writes one packet and flushes.
func (c *Conn) WriteFlush(payload []byte) error {
	if err := c.WritePacket(payload); err != nil {
		return err
	}
	return c.w.Flush()
}

// BufferedWrite reports how many bytes wait in the write buffer.
func (c *Conn) BufferedWrite() int { return c.w.Buffered() }

// WriteColumnDef writes a column definition payload p received from a
// connection with the extended capabilities srcExt, dropping MariaDB's
// extended type info block when this connection did not negotiate it.
func (c *Conn) WriteColumnDef(p []byte, srcExt uint32) error {
	if srcExt&MariaDBClientExtendedMetadata != 0 && c.ExtCaps&MariaDBClientExtendedMetadata == 0 {
		c.colBuf = StripColumnExt(c.colBuf[:0], p)
		return c.WritePacket(c.colBuf)
	}
	return c.WritePacket(p)
}
