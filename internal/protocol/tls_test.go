package protocol

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

func selfSignedTLS(t testing.TB) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "switchyard-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// coalescingConn sends whatever was written with the first Write call
// together with the next one, so that the SSLRequest and the TLS
// ClientHello reach the peer in a single read.
type coalescingConn struct {
	net.Conn
	mu      sync.Mutex
	pending []byte
	holdOne bool
}

func (c *coalescingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holdOne {
		c.holdOne = false
		c.pending = append(c.pending, p...)
		return len(p), nil
	}
	if len(c.pending) > 0 {
		b := append(c.pending, p...)
		c.pending = nil
		if _, err := c.Conn.Write(b); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func TestStartTLS(t *testing.T) {
	serverCfg := selfSignedTLS(t)
	for _, coalesce := range []bool{false, true} {
		name := "separate writes"
		if coalesce {
			name = "SSLRequest and ClientHello in one read"
		}
		t.Run(name, func(t *testing.T) {
			a, b := net.Pipe()
			defer a.Close()
			defer b.Close()
			_ = a.SetDeadline(time.Now().Add(5 * time.Second))
			_ = b.SetDeadline(time.Now().Add(5 * time.Second))
			var clientNet net.Conn = b
			if coalesce {
				clientNet = &coalescingConn{Conn: b, holdOne: true}
			}
			errc := make(chan error, 1)
			go func() {
				cl := NewConn(clientNet)
				req := AppendHandshakeResponse(nil, &HandshakeResponse{Capabilities: ClientProtocol41 | ClientSSL}, true)
				cl.Seq = 1
				if err := cl.WritePacket(req); err != nil {
					errc <- err
					return
				}
				if _, err := cl.StartTLS(&tls.Config{InsecureSkipVerify: true}, false); err != nil {
					errc <- err
					return
				}
				if err := cl.WriteFlush([]byte("over tls")); err != nil {
					errc <- err
					return
				}
				p, err := cl.ReadPacket()
				if err == nil && string(p) != "reply" {
					err = errWriteFailed
				}
				errc <- err
			}()
			srv := NewConn(a)
			p, err := srv.ReadPacket()
			if err != nil {
				t.Fatal(err)
			}
			if !IsSSLRequest(p) {
				t.Fatalf("first packet % x is not an SSLRequest", p)
			}
			if coalesce && srv.Buffered() == 0 {
				t.Fatal("test setup: the ClientHello was not read together with the SSLRequest")
			}
			tc, err := srv.StartTLS(serverCfg, true)
			if err != nil {
				t.Fatalf("server StartTLS: %v", err)
			}
			if srv.Conn != net.Conn(tc) {
				t.Error("Conn not replaced by the TLS connection")
			}
			p, err = srv.ReadPacket()
			if err != nil || string(p) != "over tls" {
				t.Fatalf("ReadPacket over TLS = %q, %v", p, err)
			}
			if srv.Seq != 3 {
				t.Errorf("Seq = %d after the TLS upgrade, want 3", srv.Seq)
			}
			if err := srv.WriteFlush([]byte("reply")); err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatalf("client: %v", err)
			}
		})
	}
}
