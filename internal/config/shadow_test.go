package config

import (
	"strings"
	"testing"
)

const shadowBase = `
namespaces:
  - name: shop
    users:
      - {name: app, password: pw}
      - {name: loadtest, password: pw, shadow: true}
    backend: {user: proxy}
    default_slice: s0
    slices:
      - {name: s0, primary: 127.0.0.1:3310, replicas: [127.0.0.1:3311]}
      - {name: s1, primary: 127.0.0.1:3320}
`

func TestShadowParse(t *testing.T) {
	cfg, err := Parse([]byte(shadowBase+`    shadow:
      slices:
        - {name: s1, primary: 127.0.0.1:4320}
        - {name: s0, primary: 127.0.0.1:4310, replicas: ["127.0.0.1:4311@3"]}
      rules:
        - {table: t_user, column: name, regex: "^lt_"}
        - {column: tenant, values: ["0", "-1"]}
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ns := cfg.Namespaces[0]
	if ns.Users[0].Shadow || !ns.Users[1].Shadow {
		t.Fatalf("user shadow flags: %v %v", ns.Users[0].Shadow, ns.Users[1].Shadow)
	}
	sh := ns.ShadowConfig()
	if sh == nil || sh.Shadow != nil || sh.Name != "shop" || sh.DefaultSlice != "s0" {
		t.Fatalf("shadow config: %+v", sh)
	}
	// Slices keep the production order and names, with shadow nodes.
	if len(sh.Slices) != 2 || sh.Slices[0].Name != "s0" || sh.Slices[0].Primary != "127.0.0.1:4310" ||
		sh.Slices[1].Primary != "127.0.0.1:4320" || sh.Slice("s0").Replicas[0] != (Replica{Addr: "127.0.0.1:4311", Weight: 3}) {
		t.Fatalf("shadow slices: %+v %+v", sh.Slices[0], sh.Slices[1])
	}
	if r := ns.Shadow.Rules; len(r) != 2 || r[0].Table != "t_user" || r[0].Column != "name" || r[0].Regex != "^lt_" || r[1].Column != "tenant" || len(r[1].Values) != 2 {
		t.Fatalf("rules: %+v", r)
	}
	// Production is untouched.
	if ns.Slice("s0").Primary != "127.0.0.1:3310" {
		t.Fatal("production slice changed")
	}
	// Without the key there is no shadow side.
	cfg, err = Parse([]byte(strings.Replace(shadowBase, ", shadow: true", "", 1)), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Namespaces[0].ShadowConfig() != nil {
		t.Fatal("shadow config without shadow key")
	}
}

func TestShadowErrors(t *testing.T) {
	for _, tc := range []struct {
		name, shadow, want string
	}{
		{"missing slice", `    shadow: {slices: [{name: s0, primary: 127.0.0.1:4310}]}`, `slice "s1" has no shadow slice`},
		{"unknown slice", `    shadow: {slices: [{name: s0, primary: 127.0.0.1:4310}, {name: s1, primary: 127.0.0.1:4320}, {name: s9, primary: 127.0.0.1:4390}]}`, `"s9" does not name a slice`},
		{"duplicate", `    shadow: {slices: [{name: s0, primary: 127.0.0.1:4310}, {name: s0, primary: 127.0.0.1:4320}]}`, `"s0" is already used`},
		{"production node", `    shadow: {slices: [{name: s0, primary: 127.0.0.1:3311}, {name: s1, primary: 127.0.0.1:4320}]}`, `is a production node`},
		{"shared shadow node", `    shadow: {slices: [{name: s0, primary: 127.0.0.1:4310}, {name: s1, primary: 127.0.0.1:4310}]}`, `"127.0.0.1:4310" is already used`},
		{"no primary", `    shadow: {slices: [{name: s0}, {name: s1, primary: 127.0.0.1:4320}]}`, `primary is required`},
		{"bad address", `    shadow: {slices: [{name: s0, primary: nowhere}, {name: s1, primary: 127.0.0.1:4320}]}`, `is not host:port`},
		{"unknown key", `    shadow: {slices: [{name: s0, primary: 127.0.0.1:4310, weight: 2}, {name: s1, primary: 127.0.0.1:4320}]}`, `unknown key "weight"`},
		{"user flag without shadow", ``, `shadow is true but the namespace has no shadow data sources`},
		{"rule without column", `    shadow: {slices: [{name: s0, primary: 127.0.0.1:4310}, {name: s1, primary: 127.0.0.1:4320}], rules: [{values: [x]}]}`, `column is required`},
		{"rule with both", `    shadow: {slices: [{name: s0, primary: 127.0.0.1:4310}, {name: s1, primary: 127.0.0.1:4320}], rules: [{column: c, values: [x], regex: y}]}`, `exactly one of values and regex`},
		{"rule with neither", `    shadow: {slices: [{name: s0, primary: 127.0.0.1:4310}, {name: s1, primary: 127.0.0.1:4320}], rules: [{column: c}]}`, `exactly one of values and regex`},
		{"bad regex", `    shadow: {slices: [{name: s0, primary: 127.0.0.1:4310}, {name: s1, primary: 127.0.0.1:4320}], rules: [{column: c, regex: "("}]}`, `regex: error parsing regexp`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(shadowBase+tc.shadow+"\n"), "t.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
