package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/shard"
)

// Namespace is one namespace as stored in etcd: its name and its YAML
// mapping (the namespace's entry of a configuration file).
type Namespace struct {
	Name string
	YAML []byte
}

// parseDoc decodes a YAML document and returns its top-level mapping.
func parseDoc(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, errors.New("top level: expected a mapping")
	}
	return expand(root), nil
}

// expand returns n with aliases replaced by copies of what they name, so
// that parts of the document stand alone.
func expand(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return expand(n.Alias)
	}
	c := *n
	c.Anchor = ""
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, x := range n.Content {
		c.Content[i] = expand(x)
	}
	return &c
}

// mapValue returns the value of key in mapping m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// withoutKey returns mapping m without key.
func withoutKey(m *yaml.Node, key string) *yaml.Node {
	c := *m
	c.Content = nil
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != key {
			c.Content = append(c.Content, m.Content[i], m.Content[i+1])
		}
	}
	return &c
}

func marshal(n *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	_ = enc.Close()
	return b.Bytes(), nil
}

// SplitFile validates a configuration file (as `switchyard check` does)
// and returns its namespaces, each as a standalone YAML mapping.
func SplitFile(data []byte, name string) ([]Namespace, error) {
	if _, err := shard.ParseConfig(data, name); err != nil {
		return nil, err
	}
	root, err := parseDoc(data)
	if err != nil {
		return nil, err
	}
	seq := mapValue(root, "namespaces")
	var out []Namespace
	for _, n := range seq.Content {
		name := mapValue(n, "name")
		b, err := marshal(n)
		if err != nil {
			return nil, err
		}
		out = append(out, Namespace{Name: name.Value, YAML: b})
	}
	return out, nil
}

// walkPasswords calls fn on every scalar value of a "password" key.
func walkPasswords(n *yaml.Node, fn func(v *yaml.Node) error) error {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "password" && n.Content[i+1].Kind == yaml.ScalarNode {
				if err := fn(n.Content[i+1]); err != nil {
					return err
				}
				continue
			}
			if err := walkPasswords(n.Content[i+1], fn); err != nil {
				return err
			}
		}
		return nil
	}
	for _, c := range n.Content {
		if err := walkPasswords(c, fn); err != nil {
			return err
		}
	}
	return nil
}

// rewritePasswords returns a namespace's YAML with every password passed
// through fn.
func rewritePasswords(data []byte, fn func(string) (string, error)) ([]byte, error) {
	root, err := parseDoc(data)
	if err != nil {
		return nil, err
	}
	err = walkPasswords(root, func(v *yaml.Node) error {
		s, err := fn(v.Value)
		if err != nil {
			return err
		}
		v.Value, v.Tag, v.Style = s, "!!str", 0
		return nil
	})
	if err != nil {
		return nil, err
	}
	return marshal(root)
}

// Redact returns a namespace's YAML with every password replaced by
// Redacted.
func Redact(data []byte) []byte {
	out, err := rewritePasswords(data, func(string) (string, error) { return Redacted, nil })
	if err != nil {
		return []byte("# unreadable namespace\n")
	}
	return out
}

// Compose builds the proxy's configuration from its local file (listen,
// admin, TLS, log, ...; namespaces in it are ignored) and the namespaces
// read from etcd, decrypting their passwords with secret (may be nil), and
// validates it. name is the local file's name (relative TLS paths are
// resolved against its directory).
func Compose(local []byte, name string, nss []Namespace, secret *Secret) (*config.Config, error) {
	root, err := parseDoc(local)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	root = withoutKey(root, "namespaces")
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	sorted := append([]Namespace(nil), nss...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, ns := range sorted {
		plain, err := rewritePasswords(ns.YAML, func(v string) (string, error) {
			if v == Redacted {
				return "", fmt.Errorf("namespace %s: a password is %q (output of `config get`), not a password", ns.Name, Redacted)
			}
			p, err := secret.Decrypt(v)
			if err != nil {
				return "", fmt.Errorf("namespace %s: %w", ns.Name, err)
			}
			return p, nil
		})
		if err != nil {
			return nil, err
		}
		n, err := parseDoc(plain)
		if err != nil {
			return nil, fmt.Errorf("namespace %s: %w", ns.Name, err)
		}
		seq.Content = append(seq.Content, n)
	}
	root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "namespaces"}, seq)
	data, err := marshal(root)
	if err != nil {
		return nil, err
	}
	return shard.ParseConfig(data, name)
}
