package backend

import (
	"encoding/binary"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// SetMaxStmts sets how many prepared statements the connection keeps.
func (c *Conn) SetMaxStmts(n int) {
	if n > 0 {
		c.maxStmts = n
	}
}

// CachedStmt returns the statement prepared on this connection for sql, if
// any, and marks it recently used.
func (c *Conn) CachedStmt(sql string) *Stmt {
	s := c.stmts[sql]
	if s != nil && s != c.lruHead {
		c.unlink(s)
		c.pushFront(s)
	}
	return s
}

// Prepare prepares sql on this connection and caches it; the server's
// response (parameter and column definitions) is discarded. Use
// PrepareRelay to forward the response to a client instead.
func (c *Conn) Prepare(sql string) (*Stmt, error) {
	if s := c.CachedStmt(sql); s != nil {
		return s, nil
	}
	if err := c.sendPrepare(sql); err != nil {
		return nil, err
	}
	p, err := c.ReadPacket()
	if err != nil {
		c.broken = true
		return nil, err
	}
	if protocol.IsErr(p) {
		return nil, protocol.ParseErr(p)
	}
	r, err := protocol.ParseStmtPrepareOK(p)
	if err != nil {
		c.broken = true
		return nil, err
	}
	if err := c.skipPrepareDefs(r); err != nil {
		return nil, err
	}
	return c.addStmt(sql, r), nil
}

func (c *Conn) sendPrepare(sql string) error {
	c.Seq = 0
	c.scratch = append(c.scratch[:0], protocol.ComStmtPrepare)
	c.scratch = append(c.scratch, sql...)
	if err := c.WriteFlush(c.scratch); err != nil {
		c.broken = true
		return err
	}
	return nil
}

func (c *Conn) skipPrepareDefs(r protocol.StmtPrepareOK) error {
	n := int(r.NumParams) + int(r.NumColumns)
	for i := 0; i < n; i++ {
		if _, err := c.ReadPacket(); err != nil {
			c.broken = true
			return err
		}
	}
	return nil
}

// PrepareRelay prepares sql on this connection and passes each packet of
// the server's response to fn (the first packet is the prepare OK or an
// error). The statement is cached on success.
func (c *Conn) PrepareRelay(sql string, fn func(p []byte) error) (*Stmt, error) {
	if err := c.sendPrepare(sql); err != nil {
		return nil, err
	}
	p, err := c.ReadPacket()
	if err != nil {
		c.broken = true
		return nil, err
	}
	if protocol.IsErr(p) {
		e := protocol.ParseErr(p)
		return nil, e
	}
	r, err := protocol.ParseStmtPrepareOK(p)
	if err != nil {
		c.broken = true
		return nil, err
	}
	if old := c.stmts[sql]; old != nil {
		// Already cached: close the duplicate after relaying.
		defer c.closeStmtID(r.StmtID)
	}
	if err := fn(p); err != nil {
		c.broken = true
		return nil, err
	}
	n := int(r.NumParams) + int(r.NumColumns)
	for i := 0; i < n; i++ {
		p, err := c.ReadPacket()
		if err != nil {
			c.broken = true
			return nil, err
		}
		if err := fn(p); err != nil {
			c.broken = true
			return nil, err
		}
	}
	if old := c.stmts[sql]; old != nil {
		return old, nil
	}
	return c.addStmt(sql, r), nil
}

func (c *Conn) addStmt(sql string, r protocol.StmtPrepareOK) *Stmt {
	if c.stmts == nil {
		c.stmts = make(map[string]*Stmt)
	}
	s := &Stmt{ID: r.StmtID, NumParams: r.NumParams, NumColumns: r.NumColumns, sql: sql}
	c.stmts[sql] = s
	c.pushFront(s)
	for len(c.stmts) > c.maxStmts && c.lruTail != nil {
		old := c.lruTail
		c.unlink(old)
		delete(c.stmts, old.sql)
		c.closeStmtID(old.ID)
	}
	return s
}

// closeStmtID sends COM_STMT_CLOSE (which has no response).
func (c *Conn) closeStmtID(id uint32) {
	c.Seq = 0
	var b [5]byte
	b[0] = protocol.ComStmtClose
	binary.LittleEndian.PutUint32(b[1:], id)
	if err := c.WriteFlush(b[:]); err != nil {
		c.broken = true
	}
}

// DropStmt closes and forgets the statement for sql (after the server lost
// it, e.g. ER_UNKNOWN_STMT_HANDLER).
func (c *Conn) DropStmt(sql string) {
	if s := c.stmts[sql]; s != nil {
		c.unlink(s)
		delete(c.stmts, sql)
		c.closeStmtID(s.ID)
	}
}

func (c *Conn) forgetStmts() {
	c.stmts = nil
	c.lruHead, c.lruTail = nil, nil
}

// NumStmts reports how many statements are cached on the connection.
func (c *Conn) NumStmts() int { return len(c.stmts) }

func (c *Conn) pushFront(s *Stmt) {
	s.prev = nil
	s.next = c.lruHead
	if c.lruHead != nil {
		c.lruHead.prev = s
	}
	c.lruHead = s
	if c.lruTail == nil {
		c.lruTail = s
	}
}

func (c *Conn) unlink(s *Stmt) {
	if s.prev != nil {
		s.prev.next = s.next
	} else {
		c.lruHead = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	} else {
		c.lruTail = s.prev
	}
	s.prev, s.next = nil, nil
}
