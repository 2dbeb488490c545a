package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/protocol"
)

// greetingVersion reads the version from a server's handshake.
func greetingVersion(t *testing.T, addr string) string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	p, err := protocol.NewConn(nc).ReadPacket()
	if err != nil {
		t.Fatal(err)
	}
	g, err := protocol.ParseGreeting(p)
	if err != nil {
		t.Fatal(err)
	}
	return g.ServerVersion
}

// TestHandshakeVersion: the proxy announces its backends' version, the
// one SELECT VERSION() returns (issue 11, defect 8).
func TestHandshakeVersion(t *testing.T) {
	h := startProxy(t, options{})
	want := greetingVersion(t, h.topo.Slices[0].Primary.Addr)
	if got := greetingVersion(t, h.addr); got != want {
		t.Fatalf("proxy handshake version %q, backend %q", got, want)
	}
	db := h.open(plainUser, plainPass, "", "")
	if v := queryString(t, db, "SELECT VERSION()"); "5.5.5-"+v != want {
		t.Fatalf("SELECT VERSION() = %q, handshake %q", v, want)
	}
}

// TestTLSCloseNotify: when the proxy shuts down, a TLS client sees a clean
// end of the TLS stream (close_notify): the mariadb client (OpenSSL)
// reports a lost connection (2013/2006), which --reconnect handles, not
// "TLS/SSL error: unexpected eof" (2026) (issue 11, defect 10).
func TestTLSCloseNotify(t *testing.T) {
	bin, err := exec.LookPath("mariadb")
	if err != nil {
		t.Skip("the mariadb client is not installed")
	}
	cert, key := writeCert(t, t.TempDir())
	h := startProxy(t, options{extraTop: fmt.Sprintf("tls: {cert: %s, key: %s}", cert, key)})
	cmd := exec.Command(bin, "--no-defaults", "-h127.0.0.1", "-P"+h.port(), "-u"+plainUser, "-p"+plainPass,
		"--ssl", "--skip-reconnect", "--batch", "--unbuffered")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, "SELECT 'before' AS x;\n")
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && sc.Text() != "before" {
	}
	h.proxy.Close()
	io.WriteString(stdin, "SELECT 'after' AS x;\n")
	stdin.Close()
	cmd.Wait()
	out := stderr.String()
	if strings.Contains(out, "2026") || !strings.Contains(out, "ERROR 2013") && !strings.Contains(out, "ERROR 2006") {
		t.Fatalf("after the proxy closed, the client said %q; want a lost connection (2013/2006), not a TLS error", out)
	}
}

// TestDemoReadConsistency: the demo user reads its own writes (issue 11,
// defect 11).
func TestDemoReadConsistency(t *testing.T) {
	cfg, err := config.Load("../../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ns, u, ok := cfg.UserNamespace("app")
	if !ok || ns.Name != "shop" || u.ReadConsistency != "session" || !u.RWSplit {
		t.Fatalf("demo user app: ok=%v %+v", ok, u)
	}
}
