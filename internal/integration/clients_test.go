package integration

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// mariadbCLI runs the mariadb command-line client through the proxy.
func (h *harness) mariadbCLI(t *testing.T, user, pass, db string, extra []string, sql string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("mariadb")
	if err != nil {
		t.Fatalf("mariadb client not installed: %v", err)
	}
	args := []string{"--no-defaults", "-h127.0.0.1", "-P" + h.port(), "-u" + user, "-p" + pass, "--batch", "--skip-ssl"}
	args = append(args, extra...)
	if db != "" {
		args = append(args, db)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(sql)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	return out.String(), err
}

func TestMariadbCLI(t *testing.T) {
	h := startProxy(t, options{})
	h.createDB("it_cli")
	out, err := h.mariadbCLI(t, plainUser, plainPass, "it_cli", nil, `
CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20));
INSERT INTO t VALUES (1, 'one'), (2, 'two');
SELECT id, name FROM t ORDER BY id;
SELECT COUNT(*) AS n FROM t; SELECT 'multi' AS m;
SHOW TABLES;
`)
	if err != nil {
		t.Fatalf("mariadb: %v\n%s", err, out)
	}
	for _, want := range []string{"id\tname\n1\tone\n2\ttwo\n", "n\n2\n", "m\nmulti\n", "Tables_in_it_cli\nt\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// An error is reported with its code and the client exits non-zero.
	out, err = h.mariadbCLI(t, plainUser, plainPass, "it_cli", nil, "SELECT * FROM missing;")
	if err == nil || !strings.Contains(out, "ERROR 1146 (42S02)") {
		t.Fatalf("want ERROR 1146, got %v:\n%s", err, out)
	}
	out, err = h.mariadbCLI(t, plainUser, "bad", "", nil, "SELECT 1;")
	if err == nil || !strings.Contains(out, "ERROR 1045 (28000)") {
		t.Fatalf("want ERROR 1045, got %v:\n%s", err, out)
	}
	// The client's status command works through the proxy.
	out, err = h.mariadbCLI(t, plainUser, plainPass, "", nil, "status;")
	if err != nil || !strings.Contains(out, "Uptime:") {
		t.Fatalf("status: %v\n%s", err, out)
	}
}

func TestSysbench(t *testing.T) {
	if testing.Short() {
		t.Skip("sysbench run skipped in -short mode")
	}
	bin, err := exec.LookPath("sysbench")
	if err != nil {
		t.Fatalf("sysbench not installed: %v", err)
	}
	h := startProxy(t, options{})
	h.createDB("it_sb")
	common := []string{"--mysql-host=127.0.0.1", "--mysql-port=" + h.port(), "--mysql-user=" + splitUser, "--mysql-password=" + splitPass,
		"--mysql-db=it_sb", "--tables=4", "--table-size=5000", "--db-driver=mysql"}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append(args[:1:1], append(common, args[1:]...)...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("sysbench %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("oltp_read_write", "prepare")
	errRe := regexp.MustCompile(`ignored errors:\s+(\d+)`)
	qRe := regexp.MustCompile(`queries:\s+(\d+)`)
	for _, test := range []string{"oltp_point_select", "oltp_read_only", "oltp_read_write"} {
		for _, ps := range []string{"auto", "disable"} {
			out := run(test, "run", "--threads=4", "--time=3", "--db-ps-mode="+ps)
			e := errRe.FindStringSubmatch(out)
			q := qRe.FindStringSubmatch(out)
			// sysbench stops with FATAL on any error it does not retry; the
			// ones it retries ("ignored": deadlocks, lock wait timeouts)
			// come from the workload's own row contention, as they do
			// directly against MariaDB.
			if e == nil || q == nil || q[1] == "0" || strings.Contains(out, "FATAL") {
				t.Errorf("%s ps-mode=%s: errors or no queries:\n%s", test, ps, out)
			}
			if test != "oltp_read_write" && e != nil && e[1] != "0" {
				t.Errorf("%s ps-mode=%s: %s errors in a read-only test:\n%s", test, ps, e[1], out)
			}
			t.Logf("%s ps-mode=%s: %s queries, %s errors", test, ps, q[1], e[1])
		}
	}
	h.poolsIdle(t)
}

// writeCert creates a self-signed certificate for 127.0.0.1 in dir.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "switchyard-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

func TestAuthPluginsAndTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	for _, plugin := range []string{"mysql_native_password", "caching_sha2_password"} {
		t.Run(plugin, func(t *testing.T) {
			h := startProxy(t, options{extraTop: fmt.Sprintf("auth_plugin: %s\ntls: {cert: %s, key: %s}", plugin, cert, key)})
			// Plain TCP: the first caching_sha2 login does full authentication
			// with the server's RSA key, later ones take the fast path.
			for i := 0; i < 2; i++ {
				db := h.open(plainUser, plainPass, "", "")
				if got := queryString(t, db, "SELECT 1"); got != "1" {
					t.Fatal(got)
				}
				db.Close()
			}
			// TLS.
			db := h.open(splitUser, splitPass, "", "tls=skip-verify")
			if got := queryString(t, db, "SELECT 'tls'"); got != "tls" {
				t.Fatal(got)
			}
			bad := h.open(splitUser, "wrong", "", "tls=skip-verify")
			mysqlErr(t, bad.Ping(), 1045, "28000")
			// The mariadb client over TLS.
			out, err := h.mariadbCLI(t, plainUser, plainPass, "", []string{"--ssl", "--ssl-verify-server-cert=0"}, "SELECT 'via-cli-tls' AS x;")
			if strings.Contains(strings.Join(os.Args, " "), "never") {
				t.Log(out)
			}
			if err != nil || !strings.Contains(out, "via-cli-tls") {
				// Older clients spell the option differently; plain login must work at least.
				t.Logf("mariadb --ssl: %v\n%s", err, out)
				out, err = h.mariadbCLI(t, plainUser, plainPass, "", nil, "SELECT 'via-cli' AS x;")
				if err != nil || !strings.Contains(out, "via-cli") {
					t.Fatalf("mariadb client: %v\n%s", err, out)
				}
			}
		})
	}
}

func TestLargePackets(t *testing.T) {
	h := startProxy(t, options{pool: "{max_open: 4}", extraTop: "max_packet_size: 48MiB"})
	// The backends must accept large packets too.
	p := h.topo.Slices[0].Primary
	root := h.rootDB(p, "")
	var old string
	root.QueryRow("SELECT @@global.max_allowed_packet").Scan(&old)
	mustExec(t, root, "SET GLOBAL max_allowed_packet = 64*1024*1024")
	t.Cleanup(func() { root.Exec("SET GLOBAL max_allowed_packet = " + old) })
	h.createDB("it_big")
	db := h.open(plainUser, plainPass, "it_big", "maxAllowedPacket=0")
	mustExec(t, db, "CREATE TABLE b (id INT PRIMARY KEY, v LONGBLOB)")
	// 20 MiB crosses the 16 MiB packet boundary in both directions.
	big := bytes.Repeat([]byte("0123456789abcdef"), 20<<16)
	if _, err := db.Exec("INSERT INTO b VALUES (1, ?)", big); err != nil {
		t.Fatal(err)
	}
	var got []byte
	if err := db.QueryRow("/*master*/ SELECT v FROM b WHERE id = 1").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, big) {
		t.Fatalf("20 MiB value came back with %d bytes", len(got))
	}
	// A 64 MiB query exceeds the proxy's max_packet_size: a clear error, and
	// other sessions are unaffected.
	huge := "SELECT '" + strings.Repeat("x", 64<<20) + "'"
	hugeDB := h.open(plainUser, plainPass, "it_big", "maxAllowedPacket=1073741824")
	_, err := hugeDB.Exec(huge)
	if err == nil {
		t.Fatal("64 MiB query accepted")
	}
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1153 {
		t.Fatalf("64 MiB query: want error 1153, got %v", err)
	}
	other := h.open(plainUser, plainPass, "it_big", "")
	if got := queryString(t, other, "SELECT COUNT(*) FROM b"); got != "1" {
		t.Fatal(got)
	}
	h.poolsIdle(t)
}
