package integration

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

func TestQueriesTextAndPrepared(t *testing.T) {
	h := startProxy(t, options{})
	h.createDB("it_basic")
	for _, mode := range []string{"", "interpolateParams=true"} {
		t.Run("mode="+mode, func(t *testing.T) {
			db := h.open(plainUser, plainPass, "it_basic", mode)
			mustExec(t, db, "DROP TABLE IF EXISTS t", "CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(40), score DOUBLE, born DATE, data BLOB)")
			for i := 1; i <= 20; i++ {
				res, err := db.Exec("INSERT INTO t (name, score, born, data) VALUES (?, ?, ?, ?)", fmt.Sprintf("n%d", i), float64(i)/2, "2020-01-02", []byte{0, byte(i), 255})
				if err != nil {
					t.Fatal(err)
				}
				if id, _ := res.LastInsertId(); id != int64(i) {
					t.Fatalf("last insert id %d, want %d", id, i)
				}
			}
			rows, err := db.Query("SELECT id, name, score, born, data FROM t WHERE id > ? ORDER BY id", 10)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for rows.Next() {
				var id int
				var name, born string
				var score float64
				var data []byte
				if err := rows.Scan(&id, &name, &score, &born, &data); err != nil {
					t.Fatal(err)
				}
				n++
				if name != fmt.Sprintf("n%d", id) || score != float64(id)/2 || born != "2020-01-02" || string(data) != string([]byte{0, byte(id), 255}) {
					t.Fatalf("bad row %d %s %v %s %v", id, name, score, born, data)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if n != 10 {
				t.Fatalf("got %d rows, want 10", n)
			}
			// NULLs and an empty result.
			var s sql.NullString
			if err := db.QueryRow("SELECT NULL").Scan(&s); err != nil || s.Valid {
				t.Fatalf("NULL: %v %v", s, err)
			}
			if err := db.QueryRow("SELECT id FROM t WHERE id = ?", 999).Scan(new(int)); err != sql.ErrNoRows {
				t.Fatalf("want no rows, got %v", err)
			}
		})
	}
}

func TestPreparedErrorCodesPreserved(t *testing.T) {
	h := startProxy(t, options{})
	h.createDB("it_pserr")
	db := h.open(plainUser, plainPass, "it_pserr", "")
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)")
	st, err := db.Prepare("INSERT INTO t VALUES (?)")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Exec(1); err != nil {
		t.Fatal(err)
	}
	_, err = st.Exec(1)
	mysqlErr(t, err, 1062, "23000")
	_, err = db.Prepare("SELECT nope FROM t")
	mysqlErr(t, err, 1054, "42S22")
}

func TestReadWriteSplitRouting(t *testing.T) {
	h := startProxy(t, options{})
	h.createDB("it_rw")
	s0 := h.topo.Slices[0]
	primary := strconv.Itoa(s0.Primary.Port)
	replica := strconv.Itoa(s0.Replicas[0].Port)
	split := h.conn(h.open(splitUser, splitPass, "it_rw", ""))
	plain := h.conn(h.open(plainUser, plainPass, "it_rw", ""))
	mustExec(t, plain, "CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t VALUES (1)")
	h.topo.WaitReplicas(t)
	cases := []struct {
		name string
		c    *sql.Conn
		sql  string
		want string
	}{
		{"plain select on replica", split, "SELECT @@port", replica},
		{"select from table on replica", split, "SELECT @@port FROM t WHERE id = 1", replica},
		{"for update on primary", split, "SELECT @@port FROM t WHERE id = 1 FOR UPDATE", primary},
		{"lock in share mode on primary", split, "SELECT @@port FROM t WHERE id = 1 LOCK IN SHARE MODE", primary},
		{"master hint", split, "/*master*/ SELECT @@port", primary},
		{"primary hint", split, "SELECT /*+ primary */ @@port", primary},
		{"replica hint for non-split user", plain, "SELECT /*+ replica */ @@port", replica},
		{"non-split user reads primary", plain, "SELECT @@port", primary},
	}
	for _, c := range cases {
		if got := queryString(t, c.c, c.sql); got != c.want {
			t.Errorf("%s: %s ran on port %s, want %s", c.name, c.sql, got, c.want)
		}
	}
	// Inside a transaction everything goes to the primary.
	mustExec(t, split, "BEGIN")
	if got := queryString(t, split, "SELECT @@port"); got != primary {
		t.Errorf("select in transaction ran on %s, want primary %s", got, primary)
	}
	mustExec(t, split, "COMMIT")
	if got := queryString(t, split, "SELECT @@port"); got != replica {
		t.Errorf("select after commit ran on %s, want replica %s", got, replica)
	}
	// A read-only transaction may use a replica, for its whole length.
	mustExec(t, split, "START TRANSACTION READ ONLY")
	if got := queryString(t, split, "SELECT @@port"); got != replica {
		t.Errorf("read-only transaction ran on %s, want replica %s", got, replica)
	}
	if got := queryString(t, split, "SELECT @@port FROM t"); got != replica {
		t.Errorf("read-only transaction moved to %s", got)
	}
	mustExec(t, split, "COMMIT")
	// autocommit=0 means every statement is in a transaction.
	mustExec(t, split, "SET autocommit = 0")
	if got := queryString(t, split, "SELECT @@port"); got != primary {
		t.Errorf("autocommit=0 select ran on %s, want primary", got)
	}
	mustExec(t, split, "INSERT INTO t VALUES (2)", "ROLLBACK", "SET autocommit = 1")
	if got := queryString(t, plain, "SELECT COUNT(*) FROM t"); got != "1" {
		t.Errorf("rolled back insert is visible: count %s", got)
	}
	// Writes always go to the primary; the backend user cannot write on a replica.
	mustExec(t, split, "INSERT INTO t VALUES (3)")
	// The metrics count replica reads.
	body := h.scrape(t)
	if !strings.Contains(body, `route="replica"`) {
		t.Errorf("metrics have no replica route:\n%s", body)
	}
}

func TestSessionStateAcrossMultiplexing(t *testing.T) {
	// One backend connection per node: every session shares it.
	h := startProxy(t, options{pool: "{max_open: 1}"})
	db := h.open(plainUser, plainPass, "", "")
	a, b := h.conn(db), h.conn(db)
	mustExec(t, a, "SET time_zone = '+05:00'", "SET SESSION sql_mode = 'ANSI_QUOTES'", "SET NAMES latin1")
	for i := 0; i < 3; i++ {
		if got := queryString(t, a, "SELECT @@time_zone"); got != "+05:00" {
			t.Fatalf("session a time_zone = %q", got)
		}
		if got := queryString(t, b, "SELECT @@time_zone"); got != "SYSTEM" {
			t.Fatalf("session b time_zone = %q (leaked from a)", got)
		}
		if got := queryString(t, a, "SELECT @@sql_mode"); got != "ANSI_QUOTES" {
			t.Fatalf("session a sql_mode = %q", got)
		}
		if got := queryString(t, b, "SELECT @@character_set_client"); got != "utf8mb4" {
			t.Fatalf("session b charset = %q", got)
		}
		if got := queryString(t, a, "SELECT @@character_set_client"); got != "latin1" {
			t.Fatalf("session a charset = %q", got)
		}
	}
	// Databases follow the session too.
	h.createDB("it_mux1")
	h.createDB("it_mux2")
	mustExec(t, a, "USE it_mux1")
	mustExec(t, b, "USE it_mux2")
	if got := queryString(t, a, "SELECT DATABASE()"); got != "it_mux1" {
		t.Fatalf("a database = %q", got)
	}
	if got := queryString(t, b, "SELECT DATABASE()"); got != "it_mux2" {
		t.Fatalf("b database = %q", got)
	}
	st := h.proxy.Topology().Namespaces["itest"].Default.Primary().Pool(false).Stats()
	if st.Open > 1 {
		t.Fatalf("pool opened %d connections, max 1", st.Open)
	}
}

func TestPinningKeepsConnectionState(t *testing.T) {
	h := startProxy(t, options{})
	h.createDB("it_pin")
	db := h.open(splitUser, splitPass, "it_pin", "")
	c := h.conn(db)
	mustExec(t, c, "CREATE TABLE t (id INT PRIMARY KEY)")
	// User variables pin the session: later reads see them even with read/write split.
	mustExec(t, c, "SET @x = 42")
	for i := 0; i < 3; i++ {
		if got := queryString(t, c, "SELECT @x"); got != "42" {
			t.Fatalf("user variable lost: %q", got)
		}
	}
	// Temporary tables.
	mustExec(t, c, "CREATE TEMPORARY TABLE tmp (v INT)", "INSERT INTO tmp VALUES (7)")
	if got := queryString(t, c, "SELECT v FROM tmp"); got != "7" {
		t.Fatalf("temporary table: %q", got)
	}
	// Text PREPARE / EXECUTE.
	mustExec(t, c, "PREPARE s FROM 'SELECT ? + 1'", "SET @p = 1")
	if got := queryString(t, c, "EXECUTE s USING @p"); got != "2" {
		t.Fatalf("EXECUTE: %q", got)
	}
	// GET_LOCK: the lock stays held by this session.
	if got := queryString(t, c, "SELECT GET_LOCK('it_pin_lock', 1)"); got != "1" {
		t.Fatalf("GET_LOCK: %q", got)
	}
	other := h.conn(h.open(plainUser, plainPass, "it_pin", ""))
	if got := queryString(t, other, "SELECT IS_FREE_LOCK('it_pin_lock')"); got != "0" {
		t.Fatalf("lock not held: IS_FREE_LOCK = %q", got)
	}
	if got := queryString(t, c, "SELECT RELEASE_LOCK('it_pin_lock')"); got != "1" {
		t.Fatalf("RELEASE_LOCK: %q", got)
	}
	// LOCK TABLES.
	d2 := h.conn(h.open(splitUser, splitPass, "it_pin", ""))
	mustExec(t, d2, "LOCK TABLES t WRITE", "INSERT INTO t VALUES (1)")
	if got := queryString(t, d2, "SELECT COUNT(*) FROM t"); got != "1" {
		t.Fatalf("under LOCK TABLES: %q", got)
	}
	mustExec(t, d2, "UNLOCK TABLES")
	// Closing a pinned session resets its backend connection before reuse.
	c.Close()
	db.Close()
	h.poolsIdle(t)
	fresh := h.conn(h.open(plainUser, plainPass, "it_pin", "interpolateParams=true"))
	for i := 0; i < 3; i++ {
		if got := queryString(t, fresh, "SELECT @x IS NULL"); got != "1" {
			t.Fatalf("user variable leaked into another session")
		}
	}
}

func TestTransactions(t *testing.T) {
	h := startProxy(t, options{})
	h.createDB("it_txn")
	db := h.open(splitUser, splitPass, "it_txn", "")
	mustExec(t, db, "CREATE TABLE acct (id INT PRIMARY KEY, bal INT)", "INSERT INTO acct VALUES (1, 100), (2, 100)")
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "UPDATE acct SET bal = bal - 10 WHERE id = 1", "UPDATE acct SET bal = bal + 10 WHERE id = 2")
	if got := queryString(t, tx, "SELECT bal FROM acct WHERE id = 1"); got != "90" {
		t.Fatalf("inside tx: %s", got)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, db, "/*master*/ SELECT SUM(bal) FROM acct WHERE bal = 100"); got != "200" {
		t.Fatalf("rollback did not undo: %s", got)
	}
	tx, _ = db.Begin()
	mustExec(t, tx, "UPDATE acct SET bal = 50 WHERE id = 1", "SAVEPOINT sp", "UPDATE acct SET bal = 0 WHERE id = 1", "ROLLBACK TO SAVEPOINT sp")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, db, "/*master*/ SELECT bal FROM acct WHERE id = 1"); got != "50" {
		t.Fatalf("savepoint: %s", got)
	}
	h.poolsIdle(t)
}

func TestLastInsertIDAndConnectionID(t *testing.T) {
	h := startProxy(t, options{pool: "{max_open: 1}"})
	h.createDB("it_lid")
	db := h.open(plainUser, plainPass, "it_lid", "")
	a, b := h.conn(db), h.conn(db)
	mustExec(t, a, "CREATE TABLE t (id BIGINT PRIMARY KEY AUTO_INCREMENT, v INT)")
	mustExec(t, a, "INSERT INTO t (v) VALUES (1)")
	mustExec(t, b, "INSERT INTO t (v) VALUES (2), (3)")
	// a and b share one backend connection; each sees its own id.
	if got := queryString(t, a, "SELECT LAST_INSERT_ID()"); got != "1" {
		t.Fatalf("a LAST_INSERT_ID() = %s, want 1", got)
	}
	if got := queryString(t, b, "select last_insert_id() as id"); got != "2" {
		t.Fatalf("b LAST_INSERT_ID() = %s, want 2", got)
	}
	// Prepared form too.
	var id int64
	if err := b.QueryRowContext(context.Background(), "SELECT LAST_INSERT_ID()").Scan(&id); err != nil || id != 2 {
		t.Fatalf("prepared LAST_INSERT_ID: %d %v", id, err)
	}
	ida := queryString(t, a, "SELECT CONNECTION_ID()")
	idb := queryString(t, b, "SELECT CONNECTION_ID()")
	if ida == idb {
		t.Fatalf("two sessions report the same CONNECTION_ID %s", ida)
	}
}

func TestKillQuery(t *testing.T) {
	h := startProxy(t, options{})
	db := h.open(plainUser, plainPass, "", "")
	a, b := h.conn(db), h.conn(db)
	id := queryString(t, a, "SELECT CONNECTION_ID()")
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := a.ExecContext(context.Background(), "SELECT SLEEP(20)")
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	mustExec(t, b, "KILL QUERY "+id)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("KILL QUERY did not stop the statement")
	}
	if time.Since(start) > 15*time.Second {
		t.Fatal("statement ran to completion")
	}
	// The killed session still works.
	if got := queryString(t, a, "SELECT 1"); got != "1" {
		t.Fatal(got)
	}
	_, err := b.ExecContext(context.Background(), "KILL 4000000000")
	mysqlErr(t, err, 1094, "")
}

func TestLoginErrors(t *testing.T) {
	h := startProxy(t, options{})
	cases := []struct {
		name, dsn string
		code      uint16
		state     string
	}{
		{"wrong password", h.dsn(plainUser, "nope", "", ""), 1045, "28000"},
		{"unknown user", h.dsn("ghost", "x", "", ""), 1045, "28000"},
		{"unknown database", h.dsn(plainUser, plainPass, "it_no_such_db", ""), 1049, "42000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, _ := sql.Open("mysql", c.dsn)
			defer db.Close()
			mysqlErr(t, db.Ping(), c.code, c.state)
		})
	}
	db := h.open(plainUser, plainPass, "", "")
	_, err := db.Exec("USE it_no_such_db")
	mysqlErr(t, err, 1049, "42000")
	_, err = db.Exec("LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t")
	mysqlErr(t, err, 1148, "42000")
	_, err = db.Exec("SELEC 1")
	mysqlErr(t, err, 1064, "42000")
	h.poolsIdle(t)
}

func TestBackendDown(t *testing.T) {
	// A namespace whose only node refuses connections.
	h := startProxy(t, options{extraNamespaces: `  - name: dead
    users: [{name: deaduser, password: p}]
    backend: {user: proxy, password: proxy}
    pool: {connect_timeout: 500ms}
    slices: [{name: sd, primary: 127.0.0.1:1}]
`})
	db := h.open("deaduser", "p", "", "")
	start := time.Now()
	_, err := db.Exec("SELECT 1")
	me := mysqlErr(t, err, protocol.ErrConnectToBackend, "")
	if !strings.Contains(me.Message, "sd") || !strings.Contains(me.Message, "127.0.0.1:1") {
		t.Fatalf("error does not name slice and node: %s", me.Message)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("took %v, more than the connect timeout", time.Since(start))
	}
	// Other namespaces keep working.
	ok := h.open(plainUser, plainPass, "", "")
	if got := queryString(t, ok, "SELECT 1"); got != "1" {
		t.Fatal(got)
	}
}

func TestMultiStatements(t *testing.T) {
	h := startProxy(t, options{})
	h.createDB("it_multi")
	db := h.open(plainUser, plainPass, "it_multi", "multiStatements=true")
	mustExec(t, db, "CREATE TABLE t (id INT); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)")
	if got := queryString(t, db, "SELECT COUNT(*) FROM t"); got != "2" {
		t.Fatalf("count %s", got)
	}
	// Without the capability, multi-statements are refused.
	single := h.open(plainUser, plainPass, "it_multi", "")
	_, err := single.Exec("INSERT INTO t VALUES (3); INSERT INTO t VALUES (4)")
	mysqlErr(t, err, 1064, "42000")
}

func TestRawCommands(t *testing.T) {
	h := startProxy(t, options{})
	h.createDB("it_raw")
	c := h.raw(plainUser, plainPass)
	if err := c.Ping(); err != nil {
		t.Fatal(err)
	}
	if err := c.InitDB("it_raw"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec("CREATE TABLE f (a INT, b VARCHAR(3))"); err != nil {
		t.Fatal(err)
	}
	// COM_FIELD_LIST.
	c.Seq = 0
	if err := c.WriteFlush(append([]byte{protocol.ComFieldList}, "f\x00"...)); err != nil {
		t.Fatal(err)
	}
	var cols []string
	for {
		p, err := c.ReadPacket()
		if err != nil {
			t.Fatal(err)
		}
		if protocol.IsErr(p) {
			t.Fatal(protocol.ParseErr(p))
		}
		if protocol.IsEOF(p) {
			break
		}
		cd, err := protocol.ParseColumnDef(p)
		if err != nil {
			t.Fatal(err)
		}
		cols = append(cols, cd.Name)
	}
	if strings.Join(cols, ",") != "a,b" {
		t.Fatalf("field list %v", cols)
	}
	// COM_STATISTICS answers a status string.
	c.Seq = 0
	c.WriteFlush([]byte{protocol.ComStatistics})
	p, err := c.ReadPacket()
	if err != nil || !strings.HasPrefix(string(p), "Uptime:") {
		t.Fatalf("statistics: %q %v", p, err)
	}
	// Unknown commands get ER_UNKNOWN_COM_ERROR and the session goes on.
	for _, cmd := range []byte{protocol.ComBinlogDump, protocol.ComRegisterSlave, 0x7f} {
		c.Seq = 0
		c.WriteFlush([]byte{cmd, 1, 2, 3})
		p, err := c.ReadPacket()
		if err != nil || !protocol.IsErr(p) || protocol.ParseErr(p).Code != protocol.ErrUnknownCom {
			t.Fatalf("command 0x%02x: %q %v", cmd, p, err)
		}
	}
	// COM_SET_OPTION toggles multi-statements.
	c.Seq = 0
	c.WriteFlush([]byte{protocol.ComSetOption, 1, 0})
	if p, err := c.ReadPacket(); err != nil || !protocol.IsEOF(p) {
		t.Fatalf("set option: %q %v", p, err)
	}
	if _, err := c.Exec("SELECT 1; SELECT 2"); err == nil {
		t.Fatal("multi-statements still allowed after COM_SET_OPTION off")
	}
	// COM_RESET_CONNECTION clears session variables.
	if _, err := c.Exec("SET @v = 1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	_, rows, err := c.QueryRows("SELECT @v IS NULL")
	if err != nil || rows[0][0] != "1" {
		t.Fatalf("after reset @v: %v %v", rows, err)
	}
	// COM_STMT_EXECUTE for an unknown statement.
	c.Seq = 0
	c.WriteFlush([]byte{protocol.ComStmtExecute, 99, 0, 0, 0, 0, 1, 0, 0, 0})
	if p, err := c.ReadPacket(); err != nil || protocol.ParseErr(p).Code != protocol.ErrUnknownStmtHandler {
		t.Fatalf("unknown stmt: %q %v", p, err)
	}
	// Empty query.
	if _, err := c.Exec(""); err == nil || err.(*protocol.Error).Code != protocol.ErrEmptyQuery {
		t.Fatalf("empty query: %v", err)
	}
}

func TestChangeUser(t *testing.T) {
	h := startProxy(t, options{})
	c := h.raw(plainUser, plainPass)
	if _, err := c.Exec("SET @keep = 1"); err != nil {
		t.Fatal(err)
	}
	// COM_CHANGE_USER to the read/write-splitting user; the proxy asks for
	// a fresh scramble with an auth switch.
	c.Seq = 0
	pkt := []byte{protocol.ComChangeUser}
	pkt = append(pkt, splitUser...)
	pkt = append(pkt, 0, 0) // user, empty auth response
	pkt = append(pkt, 0)    // no database
	pkt = append(pkt, protocol.CharsetUTF8MB4GeneralCI, 0)
	pkt = append(pkt, protocol.AuthNativePassword...)
	pkt = append(pkt, 0)
	if err := c.WriteFlush(pkt); err != nil {
		t.Fatal(err)
	}
	p, err := c.ReadPacket()
	if err != nil {
		t.Fatal(err)
	}
	plugin, data, err := protocol.ParseAuthSwitch(p)
	if err != nil || plugin != protocol.AuthNativePassword {
		t.Fatalf("want auth switch, got %q (%v)", p, err)
	}
	c.WriteFlush(protocol.ScrambleNative(data, splitPass))
	p, err = c.ReadPacket()
	if err != nil || !protocol.IsOK(p) {
		t.Fatalf("change user: %q %v", p, err)
	}
	_, rows, err := c.QueryRows("SELECT @keep IS NULL")
	if err != nil || rows[0][0] != "1" {
		t.Fatalf("state survived COM_CHANGE_USER: %v %v", rows, err)
	}
	// A wrong password ends the connection with 1045.
	c2 := h.raw(plainUser, plainPass)
	c2.Seq = 0
	pkt = append([]byte{protocol.ComChangeUser}, splitUser...)
	pkt = append(pkt, 0, 0, 0, protocol.CharsetUTF8MB4GeneralCI, 0)
	pkt = append(pkt, protocol.AuthNativePassword...)
	c2.WriteFlush(append(pkt, 0))
	p, _ = c2.ReadPacket()
	_, data, _ = protocol.ParseAuthSwitch(p)
	c2.WriteFlush(protocol.ScrambleNative(data, "wrong"))
	p, err = c2.ReadPacket()
	if err != nil || protocol.ParseErr(p).Code != protocol.ErrAccessDenied {
		t.Fatalf("wrong password on change user: %q %v", p, err)
	}
}

func TestClientDisconnectMidResult(t *testing.T) {
	h := startProxy(t, options{})
	h.createDB("it_drop")
	for i := 0; i < 5; i++ {
		c := h.raw(plainUser, plainPass)
		if err := c.InitDB("it_drop"); err != nil {
			t.Fatal(err)
		}
		c.Seq = 0
		if err := c.WriteFlush(append([]byte{protocol.ComQuery}, "SELECT seq, REPEAT('x', 200) FROM seq_1_to_200000"...)); err != nil {
			t.Fatal(err)
		}
		// Read the first few packets, then drop the TCP connection.
		for k := 0; k < 10; k++ {
			if _, err := c.ReadPacket(); err != nil {
				t.Fatal(err)
			}
		}
		c.MarkBroken()
		c.Close()
	}
	h.poolsIdle(t)
	ok := h.open(plainUser, plainPass, "it_drop", "")
	if got := queryString(t, ok, "SELECT COUNT(*) FROM seq_1_to_1000"); got != "1000" {
		t.Fatal(got)
	}
}

func TestManyConnectionsOpenedAndDropped(t *testing.T) {
	h := startProxy(t, options{pool: "{max_open: 8}"})
	const total = 10000
	var wg sync.WaitGroup
	var failed atomicCounter
	var firstErr sync.Once
	work := make(chan int)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := mysql.NewConfig()
			cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = plainUser, plainPass, "tcp", h.addr
			connector, _ := mysql.NewConnector(cfg)
			db := sql.OpenDB(connector)
			db.SetMaxIdleConns(0) // every call opens and closes a connection
			defer db.Close()
			for i := range work {
				var err error
				switch i % 4 {
				case 0, 2:
					// Drop right after the greeting, or mid-handshake.
					var c net.Conn
					if c, err = net.Dial("tcp", h.addr); err == nil {
						if i%4 == 2 {
							c.Write([]byte{5, 0, 0, 1, 0xff})
						}
						c.Close()
					}
				case 1:
					err = db.Ping()
				case 3:
					_, err = db.Exec("DO 1")
				}
				if err != nil {
					failed.add()
					firstErr.Do(func() { t.Errorf("connection %d: %v", i, err) })
				}
			}
		}()
	}
	for i := 0; i < total; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	if n := failed.load(); n > 0 {
		t.Fatalf("%d of %d connections failed", n, total)
	}
	h.poolsIdle(t)
	db := h.open(plainUser, plainPass, "", "")
	if got := queryString(t, db, "SELECT 1"); got != "1" {
		t.Fatal(got)
	}
	// Sessions unregister as their goroutines end.
	deadline := time.Now().Add(5 * time.Second)
	for h.proxy.Sessions() > 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions still registered", h.proxy.Sessions())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) add()        { c.n.Add(1) }
func (c *atomicCounter) load() int64 { return c.n.Load() }

func TestIdleClientTimeout(t *testing.T) {
	h := startProxy(t, options{extraTop: "idle_client_timeout: 300ms"})
	c := h.raw(plainUser, plainPass)
	if err := c.Ping(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(800 * time.Millisecond)
	if err := c.Ping(); err == nil {
		t.Fatal("idle connection still open after idle_client_timeout")
	}
	deadline := time.Now().Add(5 * time.Second)
	for h.proxy.Sessions() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions left after the idle timeout", h.proxy.Sessions())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRowCountInsideStatements: ROW_COUNT() and FOUND_ROWS() belong to
// the connection that ran the session's previous statement. Alone, the
// proxy answers them from the session; inside another statement outside a
// transaction a pooled connection would answer another session's value,
// so the proxy refuses with 1235; inside a transaction the pinned
// connection ran the previous statement and answers as MariaDB does.
func TestRowCountInsideStatements(t *testing.T) {
	h := startProxy(t, options{pool: "{max_open: 1}"})
	h.createDB("it_rc")
	db := h.open(plainUser, plainPass, "it_rc", "")
	a, b := h.conn(db), h.conn(db)
	mustExec(t, a, "CREATE TABLE t (id INT PRIMARY KEY, v INT)")
	mustExec(t, a, "INSERT INTO t VALUES (1, 0), (2, 0), (3, 0)")
	mustExec(t, a, "UPDATE t SET v = v + 1")
	mustExec(t, b, "UPDATE t SET v = v + 1 WHERE id = 1") // b's statement ran last on the shared connection
	if got := queryString(t, a, "SELECT ROW_COUNT()"); got != "3" {
		t.Errorf("a: SELECT ROW_COUNT() = %s, want 3", got)
	}
	mustExec(t, a, "UPDATE t SET v = v + 1")
	_, err := a.ExecContext(context.Background(), "SELECT ROW_COUNT() + 0")
	mysqlErr(t, err, 1235, "42000")
	// In a transaction the pinned connection ran the UPDATE.
	mustExec(t, a, "BEGIN")
	mustExec(t, a, "UPDATE t SET v = v + 1 WHERE id <= 2")
	if got := queryString(t, a, "SELECT ROW_COUNT() + 0"); got != "2" {
		t.Errorf("in a transaction: SELECT ROW_COUNT() + 0 = %s, want 2", got)
	}
	mustExec(t, a, "COMMIT")
}
