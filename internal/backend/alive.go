package backend

import (
	"errors"
	"net"
	"syscall"
)

// alive reports whether an idle connection can still be used: the server
// has not closed it (a FIN or RST waiting to be read after a restart, a
// crash or a KILL) and sent nothing unasked (such as the error packet a
// server sends before it drops an idle connection). It peeks at the socket
// without blocking; connections it cannot inspect (TLS) count as alive.
func (c *Conn) alive() bool {
	if c.Buffered() > 0 {
		return false
	}
	tc, ok := c.Conn.Conn.(*net.TCPConn)
	if !ok {
		return true
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return true
	}
	alive := true
	var buf [1]byte
	rerr := rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case n == 0 && err == nil: // orderly shutdown by the server
			alive = false
		case n > 0: // unexpected data
			alive = false
		case err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EWOULDBLOCK):
			alive = false
		}
		return true
	})
	return alive && rerr == nil
}
