package governance

import (
	"strings"
	"testing"

	"github.com/switchyard-db/switchyard/internal/config"
)

const testConfig = `
namespaces:
  - name: a
    users:
      - {name: ua, password: x}
      - {name: ro, password: x, read_only: true}
      - {name: narrow, password: x, databases: [a1]}
    backend: {user: p, password: p}
    default_slice: s0
    allowed_databases: [a1, a2]
    slices: [{name: s0, primary: 127.0.0.1:3306}]
  - name: b
    users: [{name: ub, password: x}]
    backend: {user: p, password: p}
    default_slice: s0
    allowed_databases: [b1]
    slices: [{name: s0, primary: 127.0.0.1:3306}]
  - name: open
    users: [{name: uo, password: x}]
    backend: {user: p, password: p}
    default_slice: s0
    slices: [{name: s0, primary: 127.0.0.1:3306}]
`

func policy(t *testing.T, user string) *Policy {
	t.Helper()
	cfg, err := config.Parse([]byte(testConfig), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ns, u, ok := cfg.UserNamespace(user)
	if !ok {
		t.Fatalf("no user %s", user)
	}
	return NewPolicy(cfg, ns, u, "127.0.0.1")
}

func TestCheck(t *testing.T) {
	cases := []struct {
		user, db, sql string
		code          uint16 // 0: allowed
		rewrite       string // substring of the rewritten SQL
		show          bool
	}{
		{user: "ua", db: "a1", sql: "SELECT * FROM t"},
		{user: "ua", db: "a1", sql: "SELECT * FROM a2.t"},
		{user: "ua", db: "a1", sql: "SELECT * FROM b1.t", code: 1044},
		{user: "ua", db: "a1", sql: "SELECT * FROM mysql.user", code: 1044},
		{user: "ua", db: "a1", sql: "SELECT * FROM `mysql`.`user`", code: 1044},
		{user: "ua", db: "a1", sql: "SELECT * FROM t WHERE id IN (SELECT id FROM b1.t)", code: 1044},
		{user: "ua", db: "a1", sql: "SELECT (SELECT COUNT(*) FROM switchyard.xa_decisions)", code: 1044},
		{user: "ua", db: "a1", sql: "SELECT 1; SELECT * FROM b1.t", code: 1044},
		{user: "ua", db: "a1", sql: "USE b1", code: 1044},
		{user: "ua", db: "a1", sql: "USE a2"},
		{user: "ua", db: "a1", sql: "CREATE DATABASE zz", code: 1044},
		{user: "ua", db: "a1", sql: "DROP DATABASE b1", code: 1044},
		{user: "ua", db: "a1", sql: "SHOW TABLES FROM b1", code: 1044},
		{user: "ua", db: "a1", sql: "SHOW COLUMNS FROM t FROM b1", code: 1044},
		{user: "ua", db: "a1", sql: "SHOW CREATE TABLE b1.t", code: 1044},
		{user: "ua", db: "a1", sql: "SHOW CREATE DATABASE b1", code: 1044},
		{user: "ua", db: "a1", sql: "SHOW PROCESSLIST", code: 1227},
		{user: "ua", db: "a1", sql: "SHOW ENGINE INNODB STATUS", code: 1227},
		{user: "ua", db: "a1", sql: "SHOW BINLOG EVENTS", code: 1227},
		{user: "ua", db: "a1", sql: "PREPARE s FROM 'SELECT * FROM b1.t'", code: 1044},
		{user: "ua", db: "a1", sql: "PREPARE s FROM @q", code: 1235},
		{user: "ua", db: "a1", sql: "EXECUTE IMMEDIATE 'SELECT * FROM b1.t'", code: 1235},
		{user: "ua", db: "a1", sql: "XA PREPARE 'x1'"},
		{user: "ua", db: "a1", sql: "CREATE PROCEDURE p() BEGIN PREPARE s FROM @q; EXECUTE s; END", code: 1235},
		{user: "ua", db: "a1", sql: "SELECT b1.f()", code: 1044},
		{user: "ua", db: "a1", sql: "CALL b1.p()", code: 1044},
		{user: "ua", db: "a1", sql: "INSERT INTO t SELECT * FROM b1.t", code: 1044},
		{user: "ua", db: "a1", sql: "UPDATE t JOIN b1.t u ON t.id = u.id SET t.x = 1", code: 1044},
		{user: "ua", db: "a1", sql: "CREATE VIEW v AS SELECT * FROM b1.t", code: 1044},
		{user: "ua", db: "a1", sql: "GRANT ALL ON *.* TO x", code: 1227},
		{user: "ua", db: "a1", sql: "LOAD DATA INFILE '/etc/passwd' INTO TABLE t", code: 1227},
		{user: "ua", db: "a1", sql: "SELECT * FROM t INTO OUTFILE '/tmp/x'", code: 1227},
		{user: "ua", db: "a1", sql: "SELECT * FROM b1.t FOR SYSTEM_TIME ALL", code: 1044},
		{user: "ua", db: "a1", sql: "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.x = (SELECT 1 FROM mysql.user LIMIT 1)", code: 1044},
		{user: "ua", db: "a1", sql: "/*M!100000 SELECT * FROM b1.t */", code: 1044},
		{user: "ua", db: "a1", sql: "SELECT 1 /*M!100000 , (SELECT secret FROM b1.t) */", code: 1044},
		{user: "ua", db: "a1", sql: "SELECT 1 /*!100000 , (SELECT secret FROM b1.t) */", code: 1044},
		{user: "ua", db: "a1", sql: "OPTIMIZE TABLE b1.t", code: 1044},
		{user: "ua", db: "a1", sql: "REPAIR TABLE b1.t", code: 1044},
		{user: "ua", db: "a1", sql: "RENAME TABLE b1.t TO a1.t", code: 1044},
		{user: "ua", db: "a1", sql: "ALTER TABLE t RENAME b1.t2", code: 1044},
		{user: "ua", db: "a1", sql: "CREATE TABLE x LIKE b1.t", code: 1044},
		{user: "ua", db: "a1", sql: "HANDLER b1.t OPEN", code: 1044},
		{user: "ua", db: "a1", sql: "SELECT NEXTVAL(b1.s)", code: 1044},
		{user: "ua", db: "a1", sql: "SELECT * FROM t INTO DUMPFILE '/tmp/y'", code: 1227},
		{user: "ua", db: "a1", sql: "SELECT LOAD_FILE('/etc/passwd')", code: 1227},
		{user: "ua", db: "a1", sql: "BINLOG 'abc'", code: 1227},
		{user: "ua", db: "a1", sql: "STOP SLAVE", code: 1227},
		{user: "ua", db: "a1", sql: "FLUSH TABLES WITH READ LOCK", code: 1227},
		{user: "ua", db: "a1", sql: "flush /*!40101 LOCAL */ tables", code: 1227},
		{user: "ua", db: "a1", sql: "START SLAVE", code: 1227},
		{user: "ua", db: "a1", sql: "START TRANSACTION"},
		{user: "ua", db: "a1", sql: "CHANGE MASTER TO master_host = 'x'", code: 1227},
		{user: "ua", db: "a1", sql: "CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (HOST 'x')", code: 1227},
		{user: "ua", db: "a1", sql: "CREATE USER x", code: 1227},
		{user: "ua", db: "a1", sql: "SET GLOBAL read_only = 1", code: 1227},
		{user: "ua", db: "a1", sql: "SET SESSION sql_mode = ''"},
		{user: "ua", db: "a1", sql: "CREATE TABLE f (id INT) ENGINE=FEDERATED CONNECTION='mysql://u:p@127.0.0.1:3306/b1/t'", code: 1227},
		{user: "ua", db: "a1", sql: "ALTER TABLE f ENGINE = CONNECT", code: 1227},
		{user: "ua", db: "a1", sql: "SELECT connection_id()"},
		{user: "ua", db: "a1", sql: "CREATE TABLE g (id INT) ENGINE=InnoDB"},
		{user: "ua", db: "a1", sql: "SELECT * FROM information_schema.processlist", code: 1142},
		{user: "ua", db: "a1", sql: "SELECT * FROM information_schema.innodb_trx", code: 1142},
		{user: "ua", db: "a1", sql: "SELECT * FROM information_schema.collations"},
		{user: "ua", db: "a1", sql: "SELECT table_name FROM information_schema.tables WHERE table_schema = 'b1'", rewrite: "IN ('information_schema','a1','a2')"},
		{user: "ua", db: "information_schema", sql: "SELECT * FROM SCHEMATA", rewrite: "`SCHEMA_NAME`"},
		{user: "ua", db: "a1", sql: "SELECT COUNT(*) FROM t JOIN information_schema.columns c ON c.table_name = 't'", rewrite: "AS `c`"},
		{user: "narrow", db: "a1", sql: "SELECT * FROM a2.t", code: 1044},
		{user: "narrow", db: "a2", sql: "SELECT * FROM t", code: 1044}, // a database taken away by a reload
		{user: "narrow", db: "a1", sql: "SELECT * FROM information_schema.tables", rewrite: "IN ('information_schema','a1')"},
		{user: "ua", db: "a1", sql: "SHOW DATABASES", show: true},
		{user: "ua", db: "a1", sql: "SHOW SCHEMAS LIKE 'a%'", show: true},
		{user: "ua", db: "a1", sql: "SHOW PROCEDURE STATUS", show: true},
		{user: "ro", db: "a1", sql: "SELECT * FROM t"},
		{user: "ro", db: "a1", sql: "INSERT INTO t VALUES (1)", code: 1142},
		{user: "ro", db: "a1", sql: "UPDATE t SET x = 1", code: 1142},
		{user: "ro", db: "a1", sql: "DELETE FROM a2.t", code: 1142},
		{user: "ro", db: "a1", sql: "CREATE TABLE x (id INT)", code: 1142},
		{user: "ro", db: "a1", sql: "DROP DATABASE a2", code: 1227},
		{user: "ro", db: "a1", sql: "PREPARE s FROM 'DELETE FROM t'", code: 1142},
		{user: "ro", db: "a1", sql: "SELECT 1; DELETE FROM t", code: 1142},
		{user: "ro", db: "a1", sql: "BEGIN"},
		{user: "ro", db: "a1", sql: "SET GLOBAL max_connections = 1", code: 1227},
		{user: "uo", db: "x", sql: "SELECT * FROM anything.t"},
		{user: "uo", db: "x", sql: "SELECT * FROM b1.t", code: 1044},
		{user: "uo", db: "x", sql: "SELECT * FROM a2.t", code: 1044},
		{user: "uo", db: "x", sql: "SELECT * FROM sys.x", code: 1044},
		{user: "uo", db: "x", sql: "SELECT * FROM performance_schema.threads", code: 1044},
		{user: "uo", db: "x", sql: "SELECT * FROM information_schema.tables", rewrite: "NOT IN ('a1','a2','b1','mysql','performance_schema','switchyard','sys')"},
	}
	for _, c := range cases {
		t.Run(c.user+" "+c.sql, func(t *testing.T) {
			v := policy(t, c.user).Check(c.sql, c.db)
			if c.code != 0 {
				if v.Err == nil || v.Err.Code != c.code {
					t.Fatalf("want error %d, got %+v", c.code, v)
				}
				return
			}
			if v.Err != nil {
				t.Fatalf("refused: %v", v.Err)
			}
			if c.rewrite != "" && !strings.Contains(v.SQL, c.rewrite) {
				t.Fatalf("rewrite %q lacks %q", v.SQL, c.rewrite)
			}
			if c.rewrite == "" && v.SQL != c.sql {
				t.Fatalf("rewritten unexpectedly: %q", v.SQL)
			}
			if (v.Show != nil) != c.show {
				t.Fatalf("show = %+v", v.Show)
			}
		})
	}
}

func TestCheckDB(t *testing.T) {
	p := policy(t, "ua")
	for db, ok := range map[string]bool{"a1": true, "a2": true, "A1": false, "b1": false, "mysql": false, "information_schema": true, "switchyard": false, "": true} {
		if e := p.CheckDB(db); (e == nil) != ok {
			t.Errorf("CheckDB(%q) = %v", db, e)
		} else if e != nil && e.Message != "Access denied for user 'ua'@'127.0.0.1' to database '"+db+"'" {
			t.Errorf("message %q", e.Message)
		}
	}
}
