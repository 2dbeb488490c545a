package config

import (
	"fmt"
	"testing"
)

func TestLocalChanges(t *testing.T) {
	base := "namespaces: [{name: n, users: [{name: u}], backend: {user: b}, slices: [{name: s0, primary: 127.0.0.1:1}]}]\n"
	for _, c := range []struct{ top, want string }{
		{"", "[]"},
		{"listen: 127.0.0.1:5000\n", "[listen]"},
		{"max_packet_size: 2048\nfailover_hold_timeout: 1s\n", "[max_packet_size failover_hold_timeout]"},
		{"auth_plugin: caching_sha2_password\nmonitor: {interval: 1s}\n", "[auth_plugin monitor]"},
		{"log: {level: debug}\nadmin: {listen: 127.0.0.1:5001}\n", "[admin log]"},
	} {
		a, err := Parse([]byte(base), "a.yaml")
		if err != nil {
			t.Fatal(err)
		}
		b, err := Parse([]byte(c.top+base), "a.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(LocalChanges(a, b)); got != c.want {
			t.Errorf("%q: LocalChanges = %s, want %s", c.top, got, c.want)
		}
	}
}
