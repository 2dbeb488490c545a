package shard

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard-db/switchyard/internal/config"
)

type docBlock struct{ lang, body string }

func docBlocks(t *testing.T, doc string) []docBlock {
	t.Helper()
	var out []docBlock
	rest := doc
	for {
		i := strings.Index(rest, "```")
		if i < 0 {
			return out
		}
		rest = rest[i+3:]
		nl := strings.IndexByte(rest, '\n')
		lang := rest[:nl]
		rest = rest[nl+1:]
		end := strings.Index(rest, "```")
		if end < 0 {
			t.Fatal("unterminated code block")
		}
		out = append(out, docBlock{lang, rest[:end]})
		rest = rest[end+3:]
	}
}

// TestDocsSharding keeps docs/sharding.md honest: every complete YAML
// example loads and builds, an example followed by a text block fails with
// exactly that text, and the placement table is what Locate returns.
func TestDocsSharding(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "sharding.md"))
	if err != nil {
		t.Skipf("docs/sharding.md not readable: %v", err)
	}
	blocks := docBlocks(t, string(data))
	var first *config.Namespace
	complete := 0
	for i, b := range blocks {
		if b.lang != "yaml" || !strings.HasPrefix(b.body, "namespaces:") {
			continue
		}
		complete++
		c, err := ParseConfig([]byte(b.body), "demo.yaml")
		if i+1 < len(blocks) && blocks[i+1].lang == "text" {
			want := strings.TrimSpace(blocks[i+1].body)
			if err == nil || err.Error() != want {
				t.Errorf("example %d: error\n%v\nwant\n%s", i, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("example %d does not load:\n%v\n%s", i, err, b.body)
			continue
		}
		if _, err := Build(c.Namespaces[0]); err != nil {
			t.Errorf("example %d does not build: %v", i, err)
		}
		if first == nil {
			first = c.Namespaces[0]
		}
	}
	if complete < 5 || first == nil {
		t.Fatalf("found %d complete examples", complete)
	}

	r, err := Build(first)
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(data), "<!-- placement examples")
	if !ok {
		t.Fatal("placement table marker not found")
	}
	rows := 0
	for _, line := range strings.Split(table, "\n")[1:] {
		if !strings.HasPrefix(line, "|") {
			if rows > 0 {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if len(cells) != 4 || cells[0] == "table" || strings.HasPrefix(cells[0], "---") {
			continue
		}
		rows++
		tb, _ := r.Table("shop", cells[0])
		var got []Target
		switch {
		case cells[1] == "any":
			got = tb.All()
		case strings.HasPrefix(cells[1], "'"):
			tg, err := tb.Locate(String(strings.Trim(cells[1], "'")))
			if err != nil {
				t.Errorf("%s: %v", line, err)
				continue
			}
			got = []Target{tg}
		default:
			n, err := strconv.ParseInt(cells[1], 10, 64)
			if err != nil {
				t.Fatalf("bad key in %q", line)
			}
			tg, err := tb.Locate(Int(n))
			if err != nil {
				t.Errorf("%s: %v", line, err)
				continue
			}
			got = []Target{tg}
		}
		var slices []string
		for _, g := range got {
			slices = append(slices, g.Slice)
			if g.Database+"."+g.Table != cells[3] {
				t.Errorf("%s: got %s.%s", line, g.Database, g.Table)
			}
		}
		if strings.Join(slices, ", ") != cells[2] {
			t.Errorf("%s: got slices %q", line, slices)
		}
	}
	if rows < 10 {
		t.Errorf("checked only %d placement rows", rows)
	}
}
