package globalcheck_test

import (
	"os"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/globalcheck"
)

func TestZZMeasure(t *testing.T) {
	if os.Getenv("GC_MEASURE") == "" {
		t.Skip()
	}
	e := newGCEnv(t, "t_m")
	e.all("CREATE TABLE t_m (id INT PRIMARY KEY, v VARCHAR(32) NOT NULL, n INT NULL, d DATETIME, txt TEXT)",
		"INSERT INTO t_m SELECT seq, MD5(seq), IF(seq % 10 = 0, NULL, seq), '2024-01-01' + INTERVAL seq SECOND, REPEAT('y', seq % 100) FROM seq_1_to_1000000")
	for _, chunk := range []int{1000, 10000, 50000} {
		start := time.Now()
		rep := e.check(globalcheck.Options{Chunk: chunk})
		t.Logf("equal 3 x 1M rows, chunk %d: %v (%d chunks)", chunk, time.Since(start), rep.Tables[0].Chunks)
	}
	e.on(1, "UPDATE t_m SET n = -1 WHERE id % 100000 = 7")
	e.on(2, "DELETE FROM t_m WHERE id BETWEEN 500000 AND 500999")
	start := time.Now()
	rep := e.check(globalcheck.Options{})
	t.Logf("differing (10 + 1000 rows) 3 x 1M, chunk 10000: %v (%d differing chunks, %d rows)", time.Since(start), rep.Tables[0].DifferingChunks, rep.Tables[0].DifferingRows)
	start = time.Now()
	rep = e.check(globalcheck.Options{RepairFrom: "s0"})
	t.Logf("repair: %v exit %d", time.Since(start), rep.ExitCode())
	start = time.Now()
	rep = e.check(globalcheck.Options{})
	t.Logf("after: %v exit %d", time.Since(start), rep.ExitCode())
}
