package convert

import (
	"encoding/json"
	"flag"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/shard"
)

var update = flag.Bool("update", false, "rewrite testdata/*.yaml golden files")

func readFixture(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "gaea_namespace.json"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestGaeaGolden(t *testing.T) {
	out, warnings, err := GaeaWithWarnings(readFixture(t))
	if err != nil {
		t.Fatalf("GaeaWithWarnings: %v", err)
	}
	golden := filepath.Join("testdata", "gaea_namespace.yaml")
	if *update {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(out) != string(want) {
		t.Errorf("output differs from %s (run go test -update and review):\n%s", golden, out)
	}
	for _, w := range warnings {
		if !strings.Contains(string(out), "# WARNING: "+w+"\n") {
			t.Errorf("warning %q is not in the YAML header", w)
		}
	}
	plain, err := Gaea(readFixture(t))
	if err != nil || string(plain) != string(out) {
		t.Errorf("Gaea and GaeaWithWarnings differ: %v", err)
	}
}

// The Gaea placement formulas, written from Gaea's documentation
// (docs/shard.md, docs/shard-example.md) and the kingshard docs, kept
// independent of internal/shard on purpose.

type gaeaRule struct {
	DB, Table, ParentTable, Type, Key string
	Locations                         []int
	Slices                            []string
	DateRange                         []string `json:"date_range"`
	TableRowLimit                     int64    `json:"table_row_limit"`
}

func (r *gaeaRule) UnmarshalJSON(b []byte) error {
	var raw struct {
		DB            string   `json:"db"`
		Table         string   `json:"table"`
		ParentTable   string   `json:"parent_table"`
		Type          string   `json:"type"`
		Key           string   `json:"key"`
		Locations     []int    `json:"locations"`
		Slices        []string `json:"slices"`
		DateRange     []string `json:"date_range"`
		TableRowLimit int64    `json:"table_row_limit"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*r = gaeaRule{raw.DB, raw.Table, raw.ParentTable, raw.Type, raw.Key, raw.Locations, raw.Slices, raw.DateRange, raw.TableRowLimit}
	return nil
}

// tableSlice maps a hash/mod/range table index to its slice: tables are
// numbered consecutively, Locations[i] of them on Slices[i].
func (r gaeaRule) tableSlice(index int) string {
	first := 0
	for i, n := range r.Locations {
		if index < first+n {
			return r.Slices[i]
		}
		first += n
	}
	return ""
}

func (r gaeaRule) total() int {
	n := 0
	for _, l := range r.Locations {
		n += l
	}
	return n
}

// dateTables expands date_range (Gaea swaps a backwards range) into
// period -> slice.
func (r gaeaRule) dateTables() map[int]string {
	out := make(map[int]string)
	for i, dr := range r.DateRange {
		a, b, found := strings.Cut(dr, "-")
		if !found {
			b = a
		}
		if b < a {
			a, b = b, a
		}
		switch r.Type {
		case "date_year":
			from, _ := strconv.Atoi(a)
			to, _ := strconv.Atoi(b)
			for y := from; y <= to; y++ {
				out[y] = r.Slices[i]
			}
		case "date_month":
			from, _ := time.Parse("200601", a)
			to, _ := time.Parse("200601", b)
			for d := from; !d.After(to); d = d.AddDate(0, 1, 0) {
				n, _ := strconv.Atoi(d.Format("200601"))
				out[n] = r.Slices[i]
			}
		case "date_day":
			from, _ := time.Parse("20060102", a)
			to, _ := time.Parse("20060102", b)
			for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
				n, _ := strconv.Atoi(d.Format("20060102"))
				out[n] = r.Slices[i]
			}
		}
	}
	return out
}

// gaeaIndex is Gaea's FindTableIndex for a key given as Go value (int64 or
// string), or ok=false where Gaea reports an error.
func (r gaeaRule) gaeaIndex(key any) (int, bool) {
	switch r.Type {
	case "hash":
		var h uint64
		switch k := key.(type) {
		case int64:
			h = uint64(k)
		case string:
			if u, err := strconv.ParseUint(k, 10, 64); err == nil {
				h = u
			} else {
				h = uint64(crc32.ChecksumIEEE([]byte(k)))
			}
		}
		return int(h % uint64(r.total())), true
	case "mod", "range":
		var v int64
		switch k := key.(type) {
		case int64:
			v = k
		case string:
			n, err := strconv.ParseInt(k, 10, 64)
			if err != nil {
				return 0, false
			}
			v = n
		}
		if r.Type == "mod" {
			if v < 0 {
				v = -v
			}
			return int(v % int64(r.total())), true
		}
		for i := 0; i < r.total(); i++ {
			if int64(i)*r.TableRowLimit <= v && v < int64(i+1)*r.TableRowLimit {
				return i, true
			}
		}
		return 0, false
	case "date_year", "date_month", "date_day":
		var ymd string // "YYYYMMDD"
		switch k := key.(type) {
		case int64:
			ymd = time.Unix(k, 0).Format("20060102") // Gaea: time.Unix, local zone
		case string:
			if len(k) < 10 {
				return 0, false
			}
			ymd = k[:4] + k[5:7] + k[8:10]
		}
		width := map[string]int{"date_year": 4, "date_month": 6, "date_day": 8}[r.Type]
		n, _ := strconv.Atoi(ymd[:width])
		if _, ok := r.dateTables()[n]; !ok {
			return 0, false
		}
		return n, true
	}
	return 0, false
}

func (r gaeaRule) gaeaSlice(index int) string {
	if strings.HasPrefix(r.Type, "date_") {
		return r.dateTables()[index]
	}
	return r.tableSlice(index)
}

func TestGaeaPlacementMatches(t *testing.T) {
	data := readFixture(t)
	var ns struct {
		ShardRules []gaeaRule `json:"shard_rules"`
	}
	if err := json.Unmarshal(data, &ns); err != nil {
		t.Fatal(err)
	}
	out, err := Gaea(data)
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(out, "converted.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := shard.Build(c.Namespaces[0])
	if err != nil {
		t.Fatal(err)
	}

	var keys []any
	for i := int64(-20); i <= 60; i++ {
		keys = append(keys, i, strconv.FormatInt(i, 10))
	}
	for _, i := range []int64{999_999, 1_000_000, 1_999_999, 2_000_000, 3_999_999, 4_000_000, 1 << 40, -1 << 62} {
		keys = append(keys, i)
	}
	for _, s := range []string{"abc", "alice", "bob@example.com", "00042", "18446744073709551615", "-7", "用户"} {
		keys = append(keys, s)
	}
	for d := time.Date(2014, 10, 1, 0, 0, 0, 0, time.UTC); d.Before(time.Date(2020, 3, 1, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 3) {
		keys = append(keys, d.Format("2006-01-02"), d.Format("2006-01-02")+" 23:59:59")
	}
	for _, d := range []string{"2014-12-31", "2015-01-01", "2015-01-02", "2015-01-03", "2015-01-05", "2015-01-06", "2015-08-31", "2015-09-01"} {
		keys = append(keys, d, d+" 12:00:00")
	}
	for _, ts := range []int64{1420070400, 1420156799, 1451606400, 1514764800, 1546300800, 1577836800} {
		keys = append(keys, ts)
	}

	parents := make(map[string]gaeaRule)
	for _, r := range ns.ShardRules {
		parents[r.DB+"."+r.Table] = r
	}
	checked := 0
	for _, r := range ns.ShardRules {
		tb, ok := rules.Table(r.DB, r.Table)
		if !ok {
			t.Fatalf("%s.%s has no rule after conversion", r.DB, r.Table)
		}
		if r.Type == "global" {
			var got []string
			for _, tg := range tb.All() {
				got = append(got, tg.Slice+"/"+tg.Database+"."+tg.Table)
			}
			var want []string
			for _, s := range r.Slices {
				want = append(want, s+"/"+r.DB+"."+r.Table)
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("global %s: %q, want %q", r.Table, got, want)
			}
			continue
		}
		formula := r
		if r.Type == "linked" {
			formula = parents[r.DB+"."+r.ParentTable]
		}
		for _, k := range keys {
			var v shard.Value
			switch k := k.(type) {
			case int64:
				v = shard.Int(k)
			case string:
				v = shard.String(k)
			}
			idx, gaeaOK := formula.gaeaIndex(k)
			got, err := tb.Locate(v)
			if !gaeaOK {
				if err == nil && !strings.HasPrefix(r.Type, "date_") {
					t.Errorf("%s.%s key %#v: Gaea fails, Switchyard placed it at %+v", r.DB, r.Table, k, got)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s.%s key %#v: Gaea places it in index %d, Switchyard: %v", r.DB, r.Table, k, idx, err)
				continue
			}
			want := shard.Target{Slice: formula.gaeaSlice(idx), Database: r.DB, Table: fmt.Sprintf("%s_%04d", r.Table, idx), Index: idx}
			if got != want {
				t.Errorf("%s.%s key %#v: Switchyard %+v, Gaea %+v", r.DB, r.Table, k, got, want)
			}
			checked++
		}
	}
	if checked < 1000 {
		t.Errorf("only %d placements compared", checked)
	}
}

// modify decodes the fixture, applies f to the generic JSON and encodes it.
func modify(t *testing.T, f func(ns map[string]any)) []byte {
	t.Helper()
	var ns map[string]any
	if err := json.Unmarshal(readFixture(t), &ns); err != nil {
		t.Fatal(err)
	}
	f(ns)
	b, err := json.Marshal(ns)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rule(ns map[string]any, i int) map[string]any {
	return ns["shard_rules"].([]any)[i].(map[string]any)
}

func slice(ns map[string]any, i int) map[string]any {
	return ns["slices"].([]any)[i].(map[string]any)
}

func TestGaeaErrors(t *testing.T) {
	tests := []struct {
		name string
		json []byte
		want string
	}{
		{"not json", []byte("{"), "gaea: invalid namespace JSON"},
		{"encrypted", modify(t, func(ns map[string]any) { ns["is_encrypt"] = true }), "the namespace is encrypted (is_encrypt: true)"},
		{"mycat", modify(t, func(ns map[string]any) {
			ns["shard_rules"] = append(ns["shard_rules"].([]any), map[string]any{"db": "shop", "table": "t_m", "type": "mycat_mod", "key": "id", "locations": []int{1}, "slices": []string{"slice-0"}, "databases": []string{"db_[0-0]"}})
		}), "gaea: rule shop.t_m: type mycat_mod is not supported"},
		{"unknown type", modify(t, func(ns map[string]any) { rule(ns, 0)["type"] = "consistent" }), `gaea: rule shop.t_user: unknown type "consistent"`},
		{"phy db mapping", modify(t, func(ns map[string]any) { ns["default_phy_dbs"].(map[string]any)["shop"] = "shop_0" }),
			`default_phy_dbs maps logical database "shop" to physical database "shop_0"`},
		{"credentials differ", modify(t, func(ns map[string]any) { slice(ns, 1)["password"] = "other" }),
			`slices "slice-0" and "slice-1" use different backend credentials`},
		{"no master", modify(t, func(ns map[string]any) { slice(ns, 2)["master"] = "" }), `slice "slice-2" has no master`},
		{"locations", modify(t, func(ns map[string]any) { rule(ns, 0)["locations"] = []int{2, 2} }), "rule shop.t_user has 2 locations for 3 slices"},
		{"date ranges", modify(t, func(ns map[string]any) { rule(ns, 5)["date_range"] = []string{"2014-2017"} }), "date rule report.t_log_year has 1 date ranges for 2 slices"},
		{"range limit", modify(t, func(ns map[string]any) { rule(ns, 3)["table_row_limit"] = 0 }), "range rule shop.t_ledger has table_row_limit 0"},
		{"global databases", modify(t, func(ns map[string]any) { rule(ns, 4)["databases"] = []string{"db_[0-2]"} }), "global rule shop.t_region lists databases"},
		{"linked without key", modify(t, func(ns map[string]any) { delete(rule(ns, 1), "key") }), "linked rule shop.t_order needs parent_table and key"},
		{"user of another namespace", modify(t, func(ns map[string]any) { ns["users"].([]any)[0].(map[string]any)["namespace"] = "x" }), `user "app" belongs to namespace "x"`},
		{"no users", modify(t, func(ns map[string]any) { ns["users"] = []any{} }), "the namespace has no users"},
		{"invalid result", modify(t, func(ns map[string]any) { rule(ns, 5)["date_range"] = []string{"14-17", "2019"} }),
			"the converted configuration does not validate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Gaea(tt.json)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Gaea error %v; want %q\n%s", err, tt.want, out)
			}
			if out != nil {
				t.Errorf("output returned along with an error")
			}
		})
	}
}

func TestGaeaWarnings(t *testing.T) {
	tests := []struct {
		name string
		json []byte
		want string
	}{
		{"offline", modify(t, func(ns map[string]any) { ns["online"] = false }), "the namespace is offline in Gaea"},
		{"bad allowed ip", modify(t, func(ns map[string]any) { ns["allowed_ip"] = []string{"10.0.0.0/8", "not-an-ip"} }), `allowed_ip entry "not-an-ip" is not an address or CIDR range`},
		{"sequences", modify(t, func(ns map[string]any) {
			ns["global_sequences"] = []any{map[string]any{"db": "shop", "table": "t_user", "type": "mycat", "pk_name": "id", "slice_name": "slice-0"}}
		}), "global_sequences are not supported"},
		{"unknown field", modify(t, func(ns map[string]any) { ns["brand_new_option"] = 1 }), `field "brand_new_option" is not known to this converter and was ignored`},
		{"statistic slaves", modify(t, func(ns map[string]any) { slice(ns, 0)["statistic_slaves"] = []string{"10.0.0.13:3306"} }), `slice "slice-0" has statistic_slaves`},
		{"init connect", modify(t, func(ns map[string]any) { slice(ns, 0)["init_connect"] = "set names utf8mb4" }), `slice "slice-0" sets init_connect`},
		{"statistics user", modify(t, func(ns map[string]any) { ns["users"].([]any)[0].(map[string]any)["other_property"] = 1 }), `user "app" is a statistics user`},
		{"default slice", modify(t, func(ns map[string]any) { ns["default_slice"] = "" }), `default_slice is empty; "slice-0" (the first slice) receives tables without a rule`},
		{"datacenter", readFixture(t), `replica datacenter tags ("#bj" in slice "slice-0") are ignored`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, warnings, err := GaeaWithWarnings(tt.json)
			if err != nil {
				t.Fatalf("GaeaWithWarnings: %v", err)
			}
			found := false
			for _, w := range warnings {
				if strings.Contains(w, tt.want) {
					found = true
				}
			}
			if !found || !strings.Contains(string(out), tt.want) {
				t.Errorf("warnings %q; want one containing %q", warnings, tt.want)
			}
		})
	}
}

func TestGaeaZeroLocations(t *testing.T) {
	// t_account has locations [3, 0, 2]: slice-1 holds none and is dropped,
	// tables 0..2 on slice-0 and 3..4 on slice-2, as in Gaea.
	out, err := Gaea(readFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(out, "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := shard.Build(c.Namespaces[0])
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := r.Table("shop", "t_account")
	var got []string
	for _, tg := range tb.All() {
		got = append(got, tg.Slice+":"+tg.Table)
	}
	want := "slice-0:t_account_0000 slice-0:t_account_0001 slice-0:t_account_0002 slice-2:t_account_0003 slice-2:t_account_0004"
	if strings.Join(got, " ") != want {
		t.Errorf("t_account: %q", got)
	}
}

// TestGaeaAccess: Gaea's access settings map to Switchyard's.
func TestGaeaAccess(t *testing.T) {
	tests := []struct {
		name string
		json []byte
		want []string
	}{
		{"allowed dbs", modify(t, func(ns map[string]any) { ns["allowed_dbs"] = map[string]bool{"shop": true, "crm": true, "old": false} }),
			[]string{`allowed_databases: ["crm", "shop"]`}},
		{"allowed ip", modify(t, func(ns map[string]any) { ns["allowed_ip"] = []string{"10.0.0.0/8", "192.168.1.7"} }),
			[]string{`allowed_ips: ["10.0.0.0/8", "192.168.1.7"]`}},
		{"read only namespace", modify(t, func(ns map[string]any) { ns["read_only"] = true }),
			[]string{`{name: "app", password: "app_pw", rw_split: true, read_only: true}`}},
		{"black sql", modify(t, func(ns map[string]any) {
			ns["black_sql"] = []string{"delete from t_user", "", "select * from t where id = 1"}
		}),
			[]string{"sql_rules:\n", `- {name: "black_sql_1", fingerprint: "delete from t_user"}`, `- {name: "black_sql_2", fingerprint: "select * from t where id = 1"}`}},
		{"max sql execute time", modify(t, func(ns map[string]any) { ns["max_sql_execute_time"] = 1500 }), []string{"max_execution_time: 1500ms"}},
		{"read only user", modify(t, func(ns map[string]any) { ns["users"].([]any)[0].(map[string]any)["rw_flag"] = 1 }),
			[]string{`{name: "app", password: "app_pw", rw_split: true, read_only: true}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Gaea(tt.json)
			if err != nil {
				t.Fatalf("Gaea: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %s:\n%s", w, out)
				}
			}
		})
	}
}
