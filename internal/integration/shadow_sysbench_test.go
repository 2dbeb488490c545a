package integration

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/switchyard-db/switchyard/internal/testtopo"
)

// TestShadowSysbench runs sysbench as a load-test user (shadow: true) while
// production holds its own sysbench tables: production's checksums do not
// move, and the shadow side takes the writes.
func TestShadowSysbench(t *testing.T) {
	if testing.Short() {
		t.Skip("sysbench run skipped in -short mode")
	}
	bin, err := exec.LookPath("sysbench")
	if err != nil {
		t.Fatalf("sysbench not installed: %v", err)
	}
	h, prod, shadow := shadowHarness(t)
	run := func(user, pass string, args ...string) string {
		t.Helper()
		common := []string{"--mysql-host=127.0.0.1", "--mysql-port=" + h.port(), "--mysql-user=" + user, "--mysql-password=" + pass,
			"--mysql-db=it_shadow", "--tables=2", "--table-size=1000", "--db-driver=mysql"}
		out, err := exec.Command(bin, append(args[:1:1], append(common, args[1:]...)...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("sysbench %s %v: %v\n%s", user, args, err, out)
		}
		return string(out)
	}
	// The load-test user prepares its tables on the shadow side only; then
	// production prepares its own (its CREATE TABLE also runs on the shadow
	// side, where the table exists: logged, production goes on).
	run("lt", "lt_pw", "oltp_read_write", "prepare")
	run(plainUser, plainPass, "oltp_read_write", "prepare")
	checksums := func(n testtopo.Node) string {
		t.Helper()
		db := h.rootDB(n, "it_shadow")
		var sums []string
		for _, tbl := range []string{"sbtest1", "sbtest2"} {
			var name, sum string
			if err := db.QueryRow("CHECKSUM TABLE "+tbl).Scan(&name, &sum); err != nil {
				t.Fatal(err)
			}
			sums = append(sums, sum)
		}
		return strings.Join(sums, ",")
	}
	prodBefore, shadowBefore := checksums(prod), checksums(shadow)
	qRe := regexp.MustCompile(`queries:\s+(\d+)`)
	for _, ps := range []string{"auto", "disable"} {
		out := run("lt", "lt_pw", "oltp_read_write", "run", "--threads=4", "--time=3", "--db-ps-mode="+ps)
		if q := qRe.FindStringSubmatch(out); q == nil || q[1] == "0" || strings.Contains(out, "FATAL") {
			t.Fatalf("shadow sysbench ps-mode=%s:\n%s", ps, out)
		}
	}
	if got := checksums(prod); got != prodBefore {
		t.Fatalf("production changed under shadow load: %s, before %s", got, prodBefore)
	}
	if got := checksums(shadow); got == shadowBefore {
		t.Fatalf("the shadow side took no writes (checksums %s)", got)
	}
	h.poolsIdle(t)
}
