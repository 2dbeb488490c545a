package monitor

import (
	"net"
	"testing"
)

func TestResolve(t *testing.T) {
	if got := resolve("127.0.0.1:3310"); got != "127.0.0.1:3310" {
		t.Fatalf("IP literal changed: %s", got)
	}
	got := resolve("localhost:3310")
	host, port, err := net.SplitHostPort(got)
	if err != nil || port != "3310" || net.ParseIP(host) == nil || !net.ParseIP(host).IsLoopback() {
		t.Fatalf("localhost resolved to %q", got)
	}
}
