package digest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestStore(t *testing.T) {
	s := New(10)
	now := time.Unix(1000, 0)
	s.now = func() time.Time { return now }
	fa, da := Fingerprint("SELECT * FROM t WHERE id = 1")
	fb, db := Fingerprint("select *   from t where id=99")
	if fa != fb || da != db {
		t.Fatalf("same shape, different fingerprints: %q %q", fa, fb)
	}
	fc, dc := Fingerprint("DELETE FROM t WHERE id = 1")
	for i := 1; i <= 100; i++ {
		s.Record("ns", fa, da, "replica", time.Duration(i)*time.Millisecond, 1, i%10 == 0)
	}
	now = now.Add(time.Second)
	s.Record("ns", fc, dc, "primary", 500*time.Millisecond, 3, false)
	top := s.Top("total_time", "", 0)
	if len(top) != 2 || top[0].Digest != da || top[0].Count != 100 || top[0].Errors != 10 || top[0].Rows != 100 {
		t.Fatalf("top: %+v", top)
	}
	e := top[0]
	if p50 := e.Quantile(0.5); p50 < 50*time.Millisecond || p50 > 63*time.Millisecond {
		t.Errorf("p50 %v, want about 50ms", p50)
	}
	if p99 := e.Quantile(0.99); p99 < 99*time.Millisecond || p99 > 100*time.Millisecond {
		t.Errorf("p99 %v, want about 99ms", p99)
	}
	if e.Routes["replica"] != 100 || !e.FirstSeen.Equal(time.Unix(1000, 0)) {
		t.Errorf("entry %+v", e)
	}
	if got := s.Top("max_time", "", 1); got[0].Digest != dc {
		t.Errorf("sort by max_time: %+v", got)
	}
	if got := s.Top("count", "other", 0); len(got) != 0 {
		t.Errorf("namespace filter: %+v", got)
	}
	// Bounded: the least recently seen shapes go first.
	for i := 0; i < 50; i++ {
		now = now.Add(time.Second)
		f, d := Fingerprint(fmt.Sprintf("SELECT c%d FROM t", i))
		s.Record("ns", f, d, "primary", time.Millisecond, 0, false)
	}
	if n := len(s.Top("count", "", 0)); n > 10 {
		t.Fatalf("%d entries kept, max 10", n)
	}
}

func TestSlowLogRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slow.jsonl")
	l, err := OpenSlowLog(path, 400, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := 0; i < 20; i++ {
		if err := l.Write(&SlowEntry{Namespace: "ns", SQL: fmt.Sprintf("SELECT %d", i), DurationMS: 1.5}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{path, path + ".1", path + ".2"} {
		st, err := os.Stat(p)
		if err != nil || st.Size() > 400 {
			t.Fatalf("%s: %v %v", p, st, err)
		}
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Fatal("more files kept than max_files")
	}
	f, _ := os.Open(path)
	defer f.Close()
	sc := bufio.NewScanner(f)
	last := ""
	for sc.Scan() {
		var e SlowEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		last = e.SQL
	}
	if last != "SELECT 19" {
		t.Fatalf("last line %q", last)
	}
}
