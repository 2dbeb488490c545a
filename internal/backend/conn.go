// Package backend holds Switchyard's connections to MySQL/MariaDB servers
// and the per-node pools they live in.
package backend

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/sessvars"
)

// Capabilities Switchyard asks of every backend. The result-set framing is
// always DEPRECATE_EOF toward backends; the session translates for clients
// that did not negotiate it.
const baseCaps = protocol.ClientLongPassword | protocol.ClientLongFlag | protocol.ClientProtocol41 |
	protocol.ClientTransactions | protocol.ClientSecureConnection | protocol.ClientMultiStatements |
	protocol.ClientMultiResults | protocol.ClientPSMultiResults | protocol.ClientPluginAuth |
	protocol.ClientPluginAuthLenencClientData | protocol.ClientSessionTrack | protocol.ClientDeprecateEOF |
	protocol.ClientConnectAttrs

// DialOptions are what a connection needs to log in.
type DialOptions struct {
	User, Password string
	// FoundRows asks for CLIENT_FOUND_ROWS (affected rows = matched rows).
	FoundRows      bool
	ConnectTimeout time.Duration
	// TLS, when set, upgrades the connection if the server offers TLS.
	TLS *tls.Config
}

// Stmt is a statement prepared on one backend connection.
type Stmt struct {
	ID         uint32
	NumParams  uint16
	NumColumns uint16
	sql        string
	prev, next *Stmt // LRU list
}

// Conn is one logged-in connection to a backend server. It is used by one
// session at a time.
type Conn struct {
	*protocol.Conn
	// Addr is the node address.
	Addr string
	// ServerID is the backend's connection id.
	ServerID uint32
	// Version is the backend's version string.
	Version string
	// Caps are the negotiated capabilities.
	Caps uint32
	// Status is the server status of the last OK/EOF read.
	Status uint16

	// DB is the connection's current database.
	DB string
	// Vars are the session variables applied to this connection (nil =
	// server defaults).
	Vars *sessvars.Set
	// LastInsertID is the connection's LAST_INSERT_ID() as last reported.
	LastInsertID uint64
	// Dirty marks state SET cannot undo (user variables, temporary tables,
	// locks, text prepared statements): the connection is reset before reuse.
	Dirty bool

	pool     *Pool
	created  time.Time
	lastUsed time.Time
	broken   bool

	// opts and scramble are the login's, for COM_CHANGE_USER.
	opts     DialOptions
	scramble []byte

	stmts     map[string]*Stmt
	lruHead   *Stmt // most recent
	lruTail   *Stmt
	maxStmts  int
	scratch   []byte
	closeOnce bool
}

// Dial connects and logs in to addr.
func Dial(ctx context.Context, addr string, o DialOptions) (*Conn, error) {
	d := net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}
	if o.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.ConnectTimeout)
		defer cancel()
	}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	c := &Conn{Conn: protocol.NewConn(nc), Addr: addr, created: time.Now(), maxStmts: 256}
	c.lastUsed = c.created
	if err := c.handshake(o); err != nil {
		nc.Close()
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	if err := c.initSession(); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

func (c *Conn) handshake(o DialOptions) error {
	p, err := c.ReadPacket()
	if err != nil {
		return fmt.Errorf("reading handshake: %w", err)
	}
	g, err := protocol.ParseGreeting(p)
	if err != nil {
		return err
	}
	c.ServerID = g.ConnectionID
	c.Version = g.ServerVersion
	caps := baseCaps
	if o.FoundRows {
		caps |= protocol.ClientFoundRows
	}
	caps &= g.Capabilities | protocol.ClientLongPassword
	if g.Capabilities&protocol.ClientProtocol41 == 0 {
		return errors.New("backend does not speak protocol 4.1")
	}
	var extCaps uint32
	if g.Capabilities&protocol.ClientLongPassword == 0 {
		// MariaDB: take its extended type info (JSON etc.) in column
		// definitions; the relay drops it for clients that did not ask.
		extCaps = g.ExtCapabilities & protocol.MariaDBClientExtendedMetadata
		caps &^= protocol.ClientLongPassword
	}
	resp := &protocol.HandshakeResponse{
		Capabilities: caps,
		MaxPacket:    1 << 30,
		Charset:      protocol.CharsetUTF8MB4GeneralCI,
		User:         o.User,
		AuthPlugin:   g.AuthPlugin,
		Attrs:        map[string]string{"_client_name": "switchyard", "program_name": "switchyard"},

		ExtCapabilities: extCaps,
	}
	if o.TLS != nil && g.Capabilities&protocol.ClientSSL != 0 {
		resp.Capabilities |= protocol.ClientSSL
		if err := c.WriteFlush(protocol.AppendHandshakeResponse(nil, resp, true)); err != nil {
			return err
		}
		if _, err := c.StartTLS(o.TLS, false); err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
	}
	plugin := g.AuthPlugin
	if plugin == "" {
		plugin = protocol.AuthNativePassword
		resp.AuthPlugin = plugin
	}
	_, secure := c.Conn.Conn.(*tls.Conn)
	if plugin != protocol.AuthNativePassword && plugin != protocol.AuthCachingSHA2Password {
		// Never volunteer a clear-text password, and answer plugins we do
		// not know with mysql_native_password: the server may switch.
		plugin = protocol.AuthNativePassword
		resp.AuthPlugin = plugin
	}
	if g.Capabilities&protocol.ClientDeprecateEOF == 0 {
		return errors.New("backend does not support CLIENT_DEPRECATE_EOF (MySQL 5.7.5+ or MariaDB 10.2+ is required)")
	}
	scramble := g.Scramble
	if len(scramble) < 20 {
		return fmt.Errorf("backend sent a %d-byte scramble; the pre-4.1 authentication is not supported", len(scramble))
	}
	scramble = scramble[:20]
	auth, err := authResponse(plugin, scramble, o.Password)
	if err != nil {
		return err
	}
	resp.AuthResponse = auth
	c.Caps = resp.Capabilities
	c.opts, c.scramble = o, append([]byte(nil), scramble...)
	c.ExtCaps = extCaps
	if err := c.WriteFlush(protocol.AppendHandshakeResponse(nil, resp, false)); err != nil {
		return err
	}
	return c.authResult(plugin, scramble, o.Password, secure)
}

// authResult reads the server's answer to an authentication response
// (after the handshake or COM_CHANGE_USER): plugin switches, caching_sha2
// exchanges, and the final OK or ERR.
func (c *Conn) authResult(plugin string, scramble []byte, password string, secure bool) error {
	o := DialOptions{Password: password}
	for {
		p, err := c.ReadPacket()
		if err != nil {
			return fmt.Errorf("reading auth result: %w", err)
		}
		if len(p) == 0 {
			return protocol.ErrMalformed
		}
		switch {
		case protocol.IsOK(p):
			ok, err := protocol.ParseOK(p, c.Caps)
			if err != nil {
				return err
			}
			c.Status = ok.Status
			return nil
		case protocol.IsErr(p):
			return protocol.ParseErr(p)
		case p[0] == protocol.AuthSwitchRequest:
			name, data, err := protocol.ParseAuthSwitch(p)
			if err != nil {
				return err
			}
			plugin = name
			if len(data) >= 20 {
				scramble = data[:20]
			}
			if plugin == protocol.AuthClearPassword && !secure {
				return errors.New("backend asks for a clear-text password over an insecure connection")
			}
			auth, err := authResponse(plugin, scramble, o.Password)
			if err != nil {
				return err
			}
			if err := c.WriteFlush(auth); err != nil {
				return err
			}
		case p[0] == protocol.AuthMoreData && plugin == protocol.AuthCachingSHA2Password:
			if len(p) < 2 {
				return protocol.ErrMalformed
			}
			switch p[1] {
			case 3: // fast auth success; OK follows
			case 4: // full authentication
				if secure {
					if err := c.WriteFlush(append([]byte(o.Password), 0)); err != nil {
						return err
					}
					continue
				}
				if err := c.WriteFlush([]byte{2}); err != nil { // request public key
					return err
				}
				kp, err := c.ReadPacket()
				if err != nil {
					return err
				}
				if len(kp) < 2 || kp[0] != protocol.AuthMoreData {
					return errors.New("backend did not send its public key")
				}
				pub, err := protocol.ParsePublicKey(kp[1:])
				if err != nil {
					return err
				}
				enc, err := protocol.EncryptPasswordRSA(o.Password, scramble, pub)
				if err != nil {
					return err
				}
				if err := c.WriteFlush(enc); err != nil {
					return err
				}
			default:
				return fmt.Errorf("unexpected caching_sha2_password state %d", p[1])
			}
		default:
			return fmt.Errorf("unexpected packet 0x%02x during authentication", p[0])
		}
	}
}

func authResponse(plugin string, scramble []byte, password string) ([]byte, error) {
	switch plugin {
	case protocol.AuthNativePassword:
		return protocol.ScrambleNative(scramble, password), nil
	case protocol.AuthCachingSHA2Password:
		return protocol.ScrambleCachingSHA2(scramble, password), nil
	case protocol.AuthClearPassword:
		return append([]byte(password), 0), nil
	}
	return nil, fmt.Errorf("backend requires unsupported auth plugin %q", plugin)
}

// initSession makes the server report every session variable a statement
// changes, so SETs can be replayed exactly on other connections, and (on
// MySQL) the GTID of each transaction the session commits (MariaDB reports
// it as the last_gtid variable).
func (c *Conn) initSession() error {
	sql := "SET SESSION session_track_system_variables='*'"
	if !c.IsMariaDB() {
		sql += ", session_track_gtids='OWN_GTID'"
	}
	_, err := c.Exec(sql)
	if err != nil && !c.IsMariaDB() && !c.Broken() {
		// A server without GTID tracking (or a MySQL-like server that
		// does not know it): variables only.
		_, err = c.Exec("SET SESSION session_track_system_variables='*'")
	}
	return err
}

// Exec runs a statement that returns no rows (or whose rows are discarded)
// and returns its final OK. A server error is returned as *protocol.Error.
func (c *Conn) Exec(sql string) (protocol.OK, error) {
	c.Seq = 0
	c.scratch = append(c.scratch[:0], protocol.ComQuery)
	c.scratch = append(c.scratch, sql...)
	if err := c.WriteFlush(c.scratch); err != nil {
		c.broken = true
		return protocol.OK{}, err
	}
	return c.ReadResultDiscard()
}

// ReadResultDiscard reads every result of the current command, discarding
// rows, and returns the last OK. It stops at the first error.
func (c *Conn) ReadResultDiscard() (protocol.OK, error) {
	var r Result
	var last protocol.OK
	for {
		if err := c.readResult(&r, false); err != nil {
			return last, err
		}
		for {
			row, err := r.Next()
			if err != nil {
				return last, err
			}
			if row == nil {
				break
			}
		}
		last = r.OK
		if !r.More() {
			return last, nil
		}
	}
}

// QueryRows runs a query and returns its rows as strings (NULL as "" with
// valid=false in the nulls slice omitted: NULLs become ""). Meant for small
// internal queries (monitoring, metadata), not for client traffic.
func (c *Conn) QueryRows(sql string) (cols []string, rows [][]string, err error) {
	c.Seq = 0
	c.scratch = append(c.scratch[:0], protocol.ComQuery)
	c.scratch = append(c.scratch, sql...)
	if err := c.WriteFlush(c.scratch); err != nil {
		c.broken = true
		return nil, nil, err
	}
	return c.ReadRows()
}

// ReadRows reads the result of a query already sent (see QueryRows).
func (c *Conn) ReadRows() (cols []string, rows [][]string, err error) {
	var r Result
	if err := c.ReadResult(&r); err != nil {
		return nil, nil, err
	}
	for i := range r.Cols {
		cols = append(cols, r.Cols[i].Name)
	}
	for {
		p, err := r.Next()
		if err != nil {
			return nil, nil, err
		}
		if p == nil {
			break
		}
		row := make([]string, len(r.Cols))
		pos := 0
		for i := range row {
			s, _, m := protocol.ReadLenEncString(p[pos:])
			if m == 0 {
				c.broken = true
				return nil, nil, protocol.ErrMalformed
			}
			row[i] = string(s)
			pos += m
		}
		rows = append(rows, row)
	}
	if r.More() {
		if _, err := c.ReadResultDiscard(); err != nil {
			return cols, rows, err
		}
	}
	if len(r.Cols) == 0 {
		return nil, nil, nil
	}
	return cols, rows, nil
}

// InitDB changes the connection's database.
func (c *Conn) InitDB(db string) error {
	c.Seq = 0
	c.scratch = append(c.scratch[:0], protocol.ComInitDB)
	c.scratch = append(c.scratch, db...)
	if err := c.WriteFlush(c.scratch); err != nil {
		c.broken = true
		return err
	}
	if _, err := c.ReadResultDiscard(); err != nil {
		return err
	}
	c.DB = db
	return nil
}

// Reset clears the connection's session state with COM_RESET_CONNECTION
// (variables, user variables, temporary tables, locks, prepared statements)
// and re-applies Switchyard's own session settings.
func (c *Conn) Reset() error {
	c.Seq = 0
	if err := c.WriteFlush([]byte{protocol.ComResetConnection}); err != nil {
		c.broken = true
		return err
	}
	if _, err := c.ReadResultDiscard(); err != nil {
		c.broken = true
		return err
	}
	c.forgetStmts()
	c.Vars = nil
	c.Dirty = false
	c.LastInsertID = 0
	return c.initSession()
}

// ClearDB leaves the connection without a current database, as a new
// connection without one (a database cannot be unselected otherwise): it
// logs in again with COM_CHANGE_USER, which also resets the session
// (variables, prepared statements, temporary tables).
func (c *Conn) ClearDB() error {
	if c.opts.User == "" {
		return errors.New("backend connection: no login to repeat")
	}
	plugin := protocol.AuthNativePassword
	auth, err := authResponse(plugin, c.scramble, c.opts.Password)
	if err != nil {
		return err
	}
	b := []byte{protocol.ComChangeUser}
	b = append(b, c.opts.User...)
	b = append(b, 0, byte(len(auth)))
	b = append(b, auth...)
	b = append(b, 0) // no database
	b = append(b, protocol.CharsetUTF8MB4GeneralCI, 0)
	b = append(b, plugin...)
	b = append(b, 0)
	if c.Caps&protocol.ClientConnectAttrs != 0 {
		b = append(b, 0) // no connection attributes
	}
	c.Seq = 0
	if err := c.WriteFlush(b); err != nil {
		c.broken = true
		return err
	}
	_, secure := c.Conn.Conn.(*tls.Conn)
	if err := c.authResult(plugin, c.scramble, c.opts.Password, secure); err != nil {
		if _, ok := err.(*protocol.Error); !ok {
			c.broken = true
		}
		return err
	}
	c.forgetStmts()
	c.Vars = nil
	c.Dirty = false
	c.LastInsertID = 0
	c.DB = ""
	if err := c.initSession(); err != nil {
		return err
	}
	return nil
}

// Ping sends COM_PING.
func (c *Conn) Ping() error {
	c.Seq = 0
	if err := c.WriteFlush([]byte{protocol.ComPing}); err != nil {
		c.broken = true
		return err
	}
	_, err := c.ReadResultDiscard()
	return err
}

// MarkBroken marks the connection unusable: the pool closes it on Put.
func (c *Conn) MarkBroken() { c.broken = true }

// Broken reports whether the connection was marked unusable.
func (c *Conn) Broken() bool { return c.broken }

// Close closes the network connection, sending COM_QUIT first when healthy.
func (c *Conn) Close() error {
	if c.closeOnce {
		return nil
	}
	c.closeOnce = true
	if !c.broken {
		c.Seq = 0
		_ = c.Conn.Conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		_ = c.WriteFlush([]byte{protocol.ComQuit})
	}
	return c.Conn.Conn.Close()
}

// String names the connection for logs.
func (c *Conn) String() string { return fmt.Sprintf("%s#%d", c.Addr, c.ServerID) }

// IsMariaDB reports whether the backend is MariaDB.
func (c *Conn) IsMariaDB() bool { return strings.Contains(c.Version, "MariaDB") }
