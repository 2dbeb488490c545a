package fleet

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard-db/switchyard/internal/config"
)

// LocalSettings reads the log settings of a local file (for the logger,
// before the namespaces are read from etcd).
func LocalSettings(local []byte, name string) (config.Config, error) {
	var raw struct {
		Log struct {
			Level  string `yaml:"level"`
			Format string `yaml:"format"`
		} `yaml:"log"`
	}
	if err := yaml.Unmarshal(local, &raw); err != nil {
		return config.Config{}, fmt.Errorf("%s: %w", name, err)
	}
	c := config.Config{Log: config.Log{Level: raw.Log.Level, Format: raw.Log.Format}}
	if c.Log.Level == "" {
		c.Log.Level = config.DefaultLogLevel
	}
	if c.Log.Format == "" {
		c.Log.Format = config.DefaultLogFormat
	}
	return c, nil
}

// FormatNamespaces renders stored namespaces as a configuration file's
// `namespaces:` list, passwords redacted (`config get`).
func FormatNamespaces(nss []Namespace) []byte {
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, ns := range nss {
		n, err := parseDoc(Redact(ns.YAML))
		if err != nil {
			continue
		}
		seq.Content = append(seq.Content, n)
	}
	root := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: "namespaces"}, seq}}
	out, _ := marshal(root)
	return out
}

// passwords lists a namespace's passwords in document order.
func passwords(data []byte, secret *Secret) ([]string, bool) {
	root, err := parseDoc(data)
	if err != nil {
		return nil, false
	}
	var out []string
	ok := true
	_ = walkPasswords(root, func(v *yaml.Node) error {
		p, err := secret.Decrypt(v.Value)
		if err != nil {
			ok = false
		}
		out = append(out, p)
		return nil
	})
	return out, ok
}

// Diff shows what `config put` of a file would change: per namespace,
// new, changed (a line diff of the redacted YAML) or unchanged; and the
// stored namespaces the file does not name (put keeps them).
func (s *Store) Diff(ctx context.Context, file []byte, name string, secret *Secret) (string, error) {
	nss, err := SplitFile(file, name)
	if err != nil {
		return "", err
	}
	stored, rev, err := s.Get(ctx)
	if err != nil {
		return "", err
	}
	old := map[string]Namespace{}
	for _, ns := range stored {
		old[ns.Name] = ns
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# cluster %s at revision %d\n", s.Cluster, rev)
	named := map[string]bool{}
	for _, ns := range nss {
		named[ns.Name] = true
		o, ok := old[ns.Name]
		if !ok {
			fmt.Fprintf(&b, "namespace %s: new\n", ns.Name)
			for _, l := range lines(Redact(ns.YAML)) {
				fmt.Fprintf(&b, "+ %s\n", l)
			}
			continue
		}
		a, c := lines(Redact(o.YAML)), lines(Redact(ns.YAML))
		pa, okA := passwords(o.YAML, secret)
		pc, _ := passwords(ns.YAML, nil)
		pwChanged := okA && strings.Join(pa, "\x00") != strings.Join(pc, "\x00")
		if strings.Join(a, "\n") == strings.Join(c, "\n") && !pwChanged {
			fmt.Fprintf(&b, "namespace %s: unchanged\n", ns.Name)
			continue
		}
		fmt.Fprintf(&b, "namespace %s: changed\n", ns.Name)
		for _, l := range lineDiff(a, c) {
			b.WriteString(l + "\n")
		}
		if pwChanged {
			b.WriteString("  (a password changes)\n")
		}
		if !okA {
			b.WriteString("  (stored passwords are encrypted: give --secret-key-file to compare them)\n")
		}
	}
	var rest []string
	for name := range old {
		if !named[name] {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	for _, name := range rest {
		fmt.Fprintf(&b, "namespace %s: only in etcd (put keeps it; `config rm %s` removes it)\n", name, name)
	}
	return b.String(), nil
}

func lines(b []byte) []string {
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// lineDiff is a minimal line diff (longest common subsequence): "  " kept,
// "- " removed, "+ " added.
func lineDiff(a, b []string) []string {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			out = append(out, "  "+a[i])
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, "- "+a[i])
			i++
		default:
			out = append(out, "+ "+b[j])
			j++
		}
	}
	return out
}

// OtherKeys lists the top-level keys of a file besides namespaces (they
// are proxy-local: `config put` does not write them).
func OtherKeys(data []byte) []string {
	root, err := parseDoc(data)
	if err != nil {
		return nil
	}
	var out []string
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i].Value; k != "namespaces" {
			out = append(out, k)
		}
	}
	return out
}
