package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/digest"
)

// TestDigests: statements are aggregated by shape (GET /api/digests,
// Prometheus top N), and the namespace's slow statements go to the JSON
// slow log.
func TestDigests(t *testing.T) {
	slow := filepath.Join(t.TempDir(), "slow.jsonl")
	h := startProxy(t, options{extraTop: fmt.Sprintf("slow_log: {file: %s}\ndigests: {max_entries: 100, metrics_top: 5}", slow),
		nsExtra: "    slow_query_threshold: 100ms\n"})
	h.createDB("it_digest")
	db := h.open(plainUser, plainPass, "it_digest", "")
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, v INT)")
	for i := 1; i <= 20; i++ {
		mustExec(t, db, fmt.Sprintf("INSERT INTO t VALUES (%d, %d)", i, i*10))
	}
	for i := 1; i <= 7; i++ {
		queryString(t, db, fmt.Sprintf("SELECT v FROM t WHERE id = %d", i))
	}
	if _, err := db.Exec("SELECT nope FROM t WHERE id = 1"); err == nil {
		t.Fatal("bad column accepted")
	}
	queryString(t, db, "SELECT SLEEP(0.2)")

	get := func(query string) []digest.View {
		req, _ := http.NewRequest("GET", "http://"+h.proxy.AdminAddr().String()+"/api/digests"+query, nil)
		req.SetBasicAuth("admin", "admin")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Digests []digest.View }
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET /api/digests%s: %d %v", query, resp.StatusCode, err)
		}
		return body.Digests
	}
	byCount := get("?sort=count&top=2")
	if len(byCount) != 2 || byCount[0].Count != 20 || !strings.HasPrefix(byCount[0].Fingerprint, "insert into `t` values") ||
		byCount[1].Count != 7 || byCount[1].Rows != 7 || byCount[1].Routes["primary"] != 7 {
		t.Fatalf("by count: %+v", byCount)
	}
	// A statement is recorded after its answer is sent: the client may ask
	// before the last one is in, so wait for it (not a fixed sleep).
	var sawErr, sawSleep bool
	for deadline := time.Now().Add(5 * time.Second); ; {
		for _, d := range get("?sort=total_time&top=0") {
			if strings.Contains(d.Fingerprint, "nope") && d.Errors == 1 {
				sawErr = true
			}
			if strings.Contains(d.Fingerprint, "sleep") && d.P99MS >= 200 && d.Namespace == "itest" {
				sawSleep = true
			}
		}
		if sawErr && sawSleep {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("errors counted %v, sleep timed %v", sawErr, sawSleep)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if m := h.scrape(t); !strings.Contains(m, `switchyard_digest_calls_total{digest=`) {
		t.Fatal("no digest metrics")
	}

	// Only the SLEEP passed the namespace's 100ms threshold. (Its line is
	// written just after its digest is recorded: wait for it.)
	var lines []digest.SlowEntry
	for deadline := time.Now().Add(5 * time.Second); ; {
		data, err := os.ReadFile(slow)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		lines = lines[:0]
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			var e digest.SlowEntry
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("slow log line %q: %v", sc.Text(), err)
			}
			lines = append(lines, e)
		}
		if len(lines) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(lines) != 1 || lines[0].SQL != "SELECT SLEEP(0.2)" || lines[0].User != plainUser || lines[0].Namespace != "itest" ||
		lines[0].DurationMS < 200 || lines[0].Fingerprint == "" || lines[0].Route != "primary" {
		t.Fatalf("slow log: %+v", lines)
	}
}
