package config

import (
	"regexp"

	"go.yaml.in/yaml/v3"
)

// Shadow are a namespace's shadow data sources: for every slice, a shadow
// slice of the same name on other servers. Statements marked as load test
// traffic run there with the same rules, physical databases and tables,
// and production never sees them (see docs/operations.md "Shadow
// database").
type Shadow struct {
	// Slices has exactly one shadow slice per slice of the namespace,
	// matched by name.
	Slices []*Slice
	// Rules mark statements as shadow traffic by a column's value.
	Rules []ShadowRule
}

// ShadowRule marks a statement as shadow traffic when a literal value of
// Column (in INSERT values, or compared with = or IN in a WHERE condition)
// is one of Values or matches Regex.
type ShadowRule struct {
	// Table limits the rule to one table (name without database); empty:
	// any table.
	Table string
	// Column is the column name (case-insensitive).
	Column string
	// Values are the literal values that mark (compared as text).
	Values []string
	// Regex is a Go regular expression the value must match.
	Regex string
}

// shadowConfig decodes a namespace's shadow key.
func (p *parser) shadowConfig(ns *Namespace) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		sh := &Shadow{}
		if !p.mapping(n, path, "in shadow ("+path+")", fields{
			"slices": func(n *yaml.Node, path string) {
				p.sequence(n, path, func(item *yaml.Node, path string) {
					s := &Slice{}
					p.mapping(item, path, "in shadow slice ("+path+")", fields{
						"name":    p.str(&s.Name),
						"primary": p.str(&s.Primary),
						"replicas": func(n *yaml.Node, path string) {
							p.sequence(n, path, func(item *yaml.Node, path string) {
								s.Replicas = append(s.Replicas, p.replica(item, path))
							})
						},
					})
					sh.Slices = append(sh.Slices, s)
				})
			},
			"rules": func(n *yaml.Node, path string) {
				p.sequence(n, path, func(item *yaml.Node, path string) {
					var r ShadowRule
					p.mapping(item, path, "in shadow rule ("+path+")", fields{
						"table":  p.str(&r.Table),
						"column": p.str(&r.Column),
						"values": p.strList(&r.Values),
						"regex":  p.str(&r.Regex),
					})
					sh.Rules = append(sh.Rules, r)
				})
			},
		}) {
			return
		}
		ns.Shadow = sh
	}
}

// validateShadow checks that every slice has exactly one shadow slice and
// that no shadow node is a node of the namespace's production slices.
func (p *parser) validateShadow(ns *Namespace, path string) {
	if ns.Shadow == nil {
		for j, u := range ns.Users {
			if u.Shadow {
				up := indexPath(path+".users", j)
				p.errorf(up+".shadow", "%s.shadow is true but the namespace has no shadow data sources (%s.shadow)", up, path)
			}
		}
		return
	}
	sp := path + ".shadow.slices"
	prod := map[string]string{} // normalized address -> production path
	for j, s := range ns.Slices {
		pp := indexPath(path+".slices", j)
		if s.Primary != "" {
			prod[normalizeAddr(s.Primary)] = pp + ".primary"
		}
		for k, r := range s.Replicas {
			prod[normalizeAddr(r.Addr)] = indexPath(pp+".replicas", k)
		}
	}
	names := map[string]string{}
	nodes := map[string]string{}
	useNode := func(np, addr string) {
		if !p.checkAddr(np, addr, false) {
			return
		}
		key := normalizeAddr(addr)
		if prev, ok := prod[key]; ok {
			p.errorf(np, "%s %q is a production node (%s): shadow slices need servers of their own", np, addr, prev)
			return
		}
		if prev, dup := nodes[key]; dup {
			p.errorf(np, "%s %q is already used by %s", np, addr, prev)
			return
		}
		nodes[key] = np
	}
	for j, s := range ns.Shadow.Slices {
		ip := indexPath(sp, j)
		switch {
		case s.Name == "":
			p.errorf(ip+".name", "%s.name is required", ip)
		case ns.Slice(s.Name) == nil:
			p.errorf(ip+".name", "%s.name %q does not name a slice of this namespace (a shadow slice takes the name of the slice it shadows)", ip, s.Name)
		case names[s.Name] != "":
			p.errorf(ip+".name", "%s.name %q is already used by %s", ip, s.Name, names[s.Name])
		default:
			names[s.Name] = ip
		}
		if s.Primary == "" {
			p.errorf(ip+".primary", "%s.primary is required", ip)
		} else {
			useNode(ip+".primary", s.Primary)
		}
		for k, r := range s.Replicas {
			rp := indexPath(ip+".replicas", k)
			if r.Weight < 1 {
				p.errorf(rp, "%s %q: weight must be at least 1", rp, r.Addr)
			}
			useNode(rp, r.Addr)
		}
	}
	for j, r := range ns.Shadow.Rules {
		rp := indexPath(path+".shadow.rules", j)
		if r.Column == "" {
			p.errorf(rp+".column", "%s.column is required", rp)
		}
		if (len(r.Values) == 0) == (r.Regex == "") {
			p.errorf(rp, "%s: give exactly one of values and regex", rp)
		}
		if r.Regex != "" {
			if _, err := regexp.Compile(r.Regex); err != nil {
				p.errorf(rp+".regex", "%s.regex: %v", rp, err)
			}
		}
	}
	for _, s := range ns.Slices {
		if s.Name != "" && names[s.Name] == "" {
			p.errorf(path+".shadow", "%s.shadow: slice %q has no shadow slice (every slice needs one)", path, s.Name)
		}
	}
}

// ShadowConfig returns the namespace as its shadow side sees it: the same
// settings and rules with the shadow slices in place of the slices; nil
// when the namespace has no shadow data sources.
func (ns *Namespace) ShadowConfig() *Namespace {
	if ns.shadow != nil || ns.Shadow == nil {
		return ns.shadow
	}
	return ns.buildShadow()
}

func (ns *Namespace) buildShadow() *Namespace {
	if ns.Shadow == nil {
		return nil
	}
	cp := *ns
	cp.Shadow = nil
	cp.shadow = nil
	cp.Slices = make([]*Slice, 0, len(ns.Slices))
	cp.slices = map[string]*Slice{}
	for _, s := range ns.Slices {
		for _, sh := range ns.Shadow.Slices {
			if sh.Name == s.Name {
				cp.Slices = append(cp.Slices, sh)
				cp.slices[sh.Name] = sh
			}
		}
	}
	return &cp
}
