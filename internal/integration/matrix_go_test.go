package integration

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// goCells collects a Go scenario's cells like a script's output.
type goCells map[string]string

func (c goCells) step(cell string, fn func() (string, error)) {
	v, err := fn()
	if err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) {
			v = fmt.Sprintf("ERROR %d", me.Number)
		} else {
			v = "ERROR " + err.Error()
		}
		c["_log"] += fmt.Sprintf("# %s: %v\n", cell, err)
	}
	c[cell] = v
}

// goDSN is the go-sql-driver DSN of a target.
func goDSN(tg mxTarget, db, params string) string {
	return fmt.Sprintf("%s:%s@tcp(127.0.0.1:%s)/%s?%s", tg.user, tg.pass, tg.port, db, params)
}

const mxCreate = "CREATE TABLE items (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL," +
	" price DECIMAL(10,2) NULL, at DATETIME(6) NULL, doc JSON NULL, data BLOB NULL, note VARCHAR(20) NULL)"

func nullStr(v sql.NullString) string {
	if !v.Valid {
		return "NULL"
	}
	return v.String
}

// goSQLScenario is the matrix scenario for go-sql-driver/mysql.
func goSQLScenario(tg mxTarget, params string, restart func()) goCells {
	c := goCells{}
	ctx := context.Background()
	db, err := sql.Open("mysql", goDSN(tg, "", params))
	if err != nil {
		c["connect"] = "ERROR " + err.Error()
		return c
	}
	defer db.Close()
	var conn *sql.Conn
	c.step("connect", func() (string, error) {
		conn, err = db.Conn(ctx)
		if err != nil {
			return "", err
		}
		return "ok", conn.PingContext(ctx)
	})
	if conn == nil {
		return c
	}
	defer conn.Close()
	one := func(q string, args ...any) (string, error) {
		var s sql.NullString
		err := conn.QueryRowContext(ctx, q, args...).Scan(&s)
		return nullStr(s), err
	}
	c.step("use", func() (string, error) {
		if _, err := conn.ExecContext(ctx, "USE "+tg.db); err != nil {
			return "", err
		}
		d, err := one("SELECT DATABASE()")
		if d != tg.db {
			d = "wrong database " + d
		} else {
			d = "ok"
		}
		return d, err
	})
	c.step("ddl", func() (string, error) {
		for _, q := range []string{"DROP TABLE IF EXISTS items", mxCreate} {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return "", err
			}
		}
		return "ok", nil
	})
	var id int64
	c.step("insert_param", func() (string, error) {
		r, err := conn.ExecContext(ctx, "INSERT INTO items (name, price, at, doc, data, note) VALUES (?, ?, ?, ?, ?, ?)",
			"alpha", "12.34", "2024-01-02 03:04:05.678901", `{"k": [1, 2]}`, []byte{0, 1, 0xff}, nil)
		if err != nil {
			return "", err
		}
		id, err = r.LastInsertId()
		return "ok", err
	})
	if id > 0 {
		c["lastrowid"] = "positive"
	} else {
		c["lastrowid"] = fmt.Sprint(id)
	}
	c.step("select_param", func() (string, error) { return one("SELECT name FROM items WHERE id = ?", id) })
	c.step("types", func() (string, error) {
		var p, at, doc, note sql.NullString
		var data []byte
		err := conn.QueryRowContext(ctx, "SELECT price, at, doc, data, note FROM items WHERE id = ?", id).Scan(&p, &at, &doc, &data, &note)
		return strings.Join([]string{nullStr(p), nullStr(at), nullStr(doc), hex.EncodeToString(data), nullStr(note)}, "|"), err
	})
	c.step("prepared", func() (string, error) {
		st, err := conn.PrepareContext(ctx, "SELECT ? + 1, name FROM items WHERE id = ?")
		if err != nil {
			return "", err
		}
		defer st.Close()
		var out []string
		for i := 1; i <= 3; i++ {
			var v, n string
			if err := st.QueryRowContext(ctx, i, id).Scan(&v, &n); err != nil {
				return "", err
			}
			out = append(out, v+n)
		}
		return strings.Join(out, ","), nil
	})
	c.step("multi_insert", func() (string, error) {
		var ph []string
		var args []any
		for i := 101; i <= 108; i++ {
			ph = append(ph, "(?, ?)")
			args = append(args, i, fmt.Sprintf("n%d", i))
		}
		r, err := conn.ExecContext(ctx, "INSERT INTO items (id, name) VALUES "+strings.Join(ph, ", "), args...)
		if err != nil {
			return "", err
		}
		n, err := r.RowsAffected()
		return fmt.Sprint(n), err
	})
	c.step("order_limit", func() (string, error) {
		rows, err := conn.QueryContext(ctx, "SELECT id, name FROM items WHERE id BETWEEN ? AND ? ORDER BY name DESC LIMIT 3", 101, 108)
		if err != nil {
			return "", err
		}
		defer rows.Close()
		var ids []string
		for rows.Next() {
			var i, n string
			rows.Scan(&i, &n)
			ids = append(ids, i)
		}
		return strings.Join(ids, ","), rows.Err()
	})
	c.step("dup_1062", func() (string, error) {
		_, err := conn.ExecContext(ctx, "INSERT INTO items (id, name) VALUES (?, ?)", 101, "dup")
		var me *mysql.MySQLError
		if errors.As(err, &me) {
			return fmt.Sprint(me.Number), nil
		}
		return "no error", err
	})
	count := func(ids string) (string, error) { return one("SELECT COUNT(*) FROM items WHERE id IN (" + ids + ")") }
	c.step("txn", func() (string, error) {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return "", err
		}
		if _, err := tx.Exec("INSERT INTO items (id, name) VALUES (?, ?)", 201, "t"); err != nil {
			tx.Rollback()
			return "", err
		}
		tx.Rollback()
		a, err := count("201")
		if err != nil {
			return "", err
		}
		if tx, err = conn.BeginTx(ctx, nil); err != nil {
			return "", err
		}
		if _, err := tx.Exec("INSERT INTO items (id, name) VALUES (?, ?)", 202, "t"); err != nil {
			tx.Rollback()
			return "", err
		}
		if err := tx.Commit(); err != nil {
			return "", err
		}
		b, err := count("202")
		return a + "," + b, err
	})
	c.step("autocommit_off", func() (string, error) {
		defer conn.ExecContext(ctx, "SET autocommit = 1")
		defer conn.ExecContext(ctx, "ROLLBACK")
		for _, q := range []string{"SET autocommit = 0", "INSERT INTO items (id, name) VALUES (203, 'a')", "INSERT INTO items (id, name) VALUES (204, 'a')"} {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return "", err
			}
		}
		in, err := count("203,204")
		if err != nil {
			return "", err
		}
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
			return "", err
		}
		after, err := count("203,204")
		return in + "," + after, err
	})
	c.step("returning", func() (string, error) {
		rows, err := conn.QueryContext(ctx, "INSERT INTO items (id, name) VALUES (301, 'r1'), (302, 'r2') RETURNING id, name")
		if err != nil {
			return "", err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var i, n string
			rows.Scan(&i, &n)
			out = append(out, i+":"+n)
		}
		return strings.Join(out, ","), rows.Err()
	})
	c.step("pool", func() (string, error) {
		p, err := sql.Open("mysql", goDSN(tg, tg.db, params))
		if err != nil {
			return "", err
		}
		defer p.Close()
		p.SetMaxOpenConns(3)
		var mu sync.Mutex
		names := map[string]bool{}
		var wg sync.WaitGroup
		var firstErr error
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				var n string
				err := p.QueryRow("SELECT name FROM items WHERE id = ?", 101+i%8).Scan(&n)
				mu.Lock()
				defer mu.Unlock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				names[n] = true
			}(i)
		}
		wg.Wait()
		return fmt.Sprint(len(names)), firstErr
	})
	restart()
	c.step("reconnect", func() (string, error) {
		if err := conn.PingContext(ctx); err != nil {
			c["_log"] += fmt.Sprintf("# old connection: %v\n", err)
		}
		p, err := sql.Open("mysql", goDSN(tg, tg.db, params))
		if err != nil {
			return "", err
		}
		defer p.Close()
		var n string
		return n, p.QueryRow("SELECT COUNT(*) FROM items WHERE id BETWEEN 101 AND 108").Scan(&n)
	})
	return c
}

// goConnect logs in (TLS or not) and runs SELECT 1.
func goConnect(tg mxTarget, params string) goCells {
	c := goCells{}
	c.step("connect", func() (string, error) {
		db, err := sql.Open("mysql", goDSN(tg, tg.db, params))
		if err != nil {
			return "", err
		}
		defer db.Close()
		var one int
		return "ok", db.QueryRow("SELECT 1").Scan(&one)
	})
	return c
}

// gormItem is the GORM model of the matrix table.
type gormItem struct {
	ID    int64      `gorm:"primaryKey;autoIncrement"`
	Name  string     `gorm:"type:varchar(40);not null"`
	Price *string    `gorm:"type:decimal(10,2)"`
	At    *time.Time `gorm:"type:datetime(6)"`
	Doc   *string    `gorm:"type:json"`
	Data  []byte     `gorm:"type:blob"`
	Note  *string    `gorm:"type:varchar(20)"`
}

func (gormItem) TableName() string { return "items" }

// gormScenario is the matrix scenario for GORM with default settings.
func gormScenario(tg mxTarget, restart func()) goCells {
	c := goCells{}
	dsn := goDSN(tg, tg.db, "parseTime=true&loc=UTC")
	var db *gorm.DB
	c.step("connect", func() (string, error) {
		var err error
		db, err = gorm.Open(gormmysql.Open(dsn), &gorm.Config{Logger: logger.Discard})
		return "ok", err
	})
	if db == nil {
		return c
	}
	if s, err := db.DB(); err == nil {
		defer s.Close()
		s.SetMaxOpenConns(3)
	}
	c.step("ddl", func() (string, error) {
		if err := db.Migrator().DropTable(&gormItem{}); err != nil {
			return "", err
		}
		return "ok", db.AutoMigrate(&gormItem{})
	})
	price, doc := "12.34", `{"k": [1, 2]}`
	at := time.Date(2024, 1, 2, 3, 4, 5, 678901000, time.UTC)
	it := gormItem{Name: "alpha", Price: &price, At: &at, Doc: &doc, Data: []byte{0, 1, 0xff}}
	c.step("insert_param", func() (string, error) { return "ok", db.Create(&it).Error })
	if it.ID > 0 {
		c["lastrowid"] = "positive"
	} else {
		c["lastrowid"] = fmt.Sprint(it.ID)
	}
	c.step("select_param", func() (string, error) {
		var got gormItem
		err := db.First(&got, it.ID).Error
		return got.Name, err
	})
	c.step("types", func() (string, error) {
		var g gormItem
		err := db.First(&g, it.ID).Error
		s := func(p *string) string {
			if p == nil {
				return "NULL"
			}
			return *p
		}
		t := "NULL"
		if g.At != nil {
			t = g.At.UTC().Format("2006-01-02 15:04:05.000000")
		}
		return strings.Join([]string{s(g.Price), t, s(g.Doc), hex.EncodeToString(g.Data), s(g.Note)}, "|"), err
	})
	c.step("multi_insert", func() (string, error) {
		var items []gormItem
		for i := int64(101); i <= 108; i++ {
			items = append(items, gormItem{ID: i, Name: fmt.Sprintf("n%d", i)})
		}
		r := db.Create(&items)
		return fmt.Sprint(r.RowsAffected), r.Error
	})
	c.step("order_limit", func() (string, error) {
		var items []gormItem
		err := db.Where("id BETWEEN ? AND ?", 101, 108).Order("name DESC").Limit(3).Find(&items).Error
		var ids []string
		for _, x := range items {
			ids = append(ids, fmt.Sprint(x.ID))
		}
		return strings.Join(ids, ","), err
	})
	c.step("dup_1062", func() (string, error) {
		err := db.Create(&gormItem{ID: 101, Name: "dup"}).Error
		var me *mysql.MySQLError
		if errors.As(err, &me) {
			return fmt.Sprint(me.Number), nil
		}
		return "no error", err
	})
	count := func(tx *gorm.DB, ids ...int) (string, error) {
		var n int64
		err := tx.Model(&gormItem{}).Where("id IN ?", ids).Count(&n).Error
		return fmt.Sprint(n), err
	}
	c.step("txn", func() (string, error) {
		db.Transaction(func(tx *gorm.DB) error {
			tx.Create(&gormItem{ID: 201, Name: "t"})
			return errors.New("roll back")
		})
		a, err := count(db, 201)
		if err != nil {
			return "", err
		}
		if err := db.Transaction(func(tx *gorm.DB) error { return tx.Create(&gormItem{ID: 202, Name: "t"}).Error }); err != nil {
			return "", err
		}
		b, err := count(db, 202)
		return a + "," + b, err
	})
	c.step("autocommit_off", func() (string, error) {
		tx := db.Begin()
		defer tx.Rollback()
		for _, id := range []int64{203, 204} {
			if err := tx.Create(&gormItem{ID: id, Name: "a"}).Error; err != nil {
				return "", err
			}
		}
		in, err := count(tx, 203, 204)
		if err != nil {
			return "", err
		}
		if err := tx.Commit().Error; err != nil {
			return "", err
		}
		after, err := count(db, 203, 204)
		return in + "," + after, err
	})
	c.step("pool", func() (string, error) {
		var mu sync.Mutex
		names := map[string]bool{}
		var wg sync.WaitGroup
		var firstErr error
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				var g gormItem
				err := db.First(&g, 101+i%8).Error
				mu.Lock()
				defer mu.Unlock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				names[g.Name] = true
			}(i)
		}
		wg.Wait()
		return fmt.Sprint(len(names)), firstErr
	})
	restart()
	c.step("reconnect", func() (string, error) {
		var n int64
		err := db.Model(&gormItem{}).Where("id BETWEEN ? AND ?", 101, 108).Count(&n).Error
		if err != nil {
			// database/sql retries a dead pooled connection once; a
			// second attempt gets a fresh one.
			err = db.Model(&gormItem{}).Where("id BETWEEN ? AND ?", 101, 108).Count(&n).Error
		}
		return fmt.Sprint(n), err
	})
	return c
}

// goClients runs the Go drivers of the matrix in-process.
func (e *mxEnv) goClients(t *testing.T) {
	type goClient struct {
		name     string
		params   string
		gorm     bool
		prepared bool
	}
	for _, gc := range []goClient{
		{name: "go-sql-driver interpolateParams=false", params: "interpolateParams=false", prepared: true},
		{name: "go-sql-driver interpolateParams=true", params: "interpolateParams=true", prepared: true},
		{name: "GORM", gorm: true},
	} {
		t.Run(gc.name, func(t *testing.T) {
			by := map[string]map[string]string{}
			for _, tg := range e.targets {
				restart := func() {
					if tg.name == "direct" {
						e.killDirect(t)
					} else {
						e.restart(t)
					}
				}
				if gc.gorm {
					by[tg.name] = gormScenario(tg, restart)
				} else {
					by[tg.name] = goSQLScenario(tg, gc.params, restart)
				}
			}
			for _, tg := range e.targets[1:] {
				by[tg.name]["tls"] = goConnect(tg, gc.params+"&tls=skip-verify")["connect"]
				sha := tg
				sha.port, sha.db, sha.user, sha.pass = e.sha2Port, "", plainUser, plainPass
				by[tg.name]["caching_sha2"] = goConnect(sha, gc.params)["connect"]
			}
			e.compare(t, gc.name, by, gc.prepared)
		})
	}
}

// cliRun runs the mariadb client against a target; it returns the output
// and exit error.
func cliRun(tg mxTarget, db string, extra []string, input string) (string, error) {
	args := []string{"--no-defaults", "-h127.0.0.1", "-P" + tg.port, "-u" + tg.user, "-p" + tg.pass, "--batch", "--skip-ssl"}
	args = append(args, extra...)
	if db != "" {
		args = append(args, db)
	}
	cmd := exec.Command("mariadb", args...)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// cliErr turns a client error output into "ERROR <code>".
var cliErrRe = regexp.MustCompile(`ERROR (\d+) \(`)

func cliCell(out string, err error) string {
	if m := cliErrRe.FindStringSubmatch(out); m != nil {
		return "ERROR " + m[1]
	}
	if err != nil {
		return "ERROR " + err.Error()
	}
	return strings.TrimSpace(out)
}

// statusLines keeps the lines of the client's status command that must be
// the same through the proxy (connection ids, ports, users, uptime and
// counters differ by nature).
var statusKeep = regexp.MustCompile(`^(Server:|Server version:|Protocol version:|Connection:|Server characterset:|Db\s+characterset:|Client characterset:|Conn\.\s+characterset:|SSL:|Current database:|Using delimiter:)`)

// toolCells runs the mariadb CLI and the mariadb-dump round trip.
func (e *mxEnv) toolCells(t *testing.T) {
	t.Run("mariadb CLI", func(t *testing.T) {
		for _, tool := range []string{"mariadb", "mariadb-dump"} {
			if _, err := exec.LookPath(tool); err != nil {
				t.Skipf("%s is not installed here", tool)
			}
		}
		by := map[string]map[string]string{}
		for _, tg := range e.targets {
			c := map[string]string{}
			run := func(cell string, extra []string, in string) {
				out, err := cliRun(tg, tg.db, extra, in)
				c[cell] = cliCell(out, err)
				c["_log"] += fmt.Sprintf("# %s:\n%s", cell, out)
			}
			out, err := cliRun(tg, "", nil, "SELECT 1;")
			c["connect"] = cliCell(out, err)
			out, err = cliRun(tg, "", nil, "USE "+tg.db+";\nSELECT DATABASE() = '"+tg.db+"' AS same;")
			c["use"] = cliCell(out, err)
			if tg.name != "direct" {
				tls := tg
				out, err = cliRun(tls, tg.db, []string{"--ssl"}, "SELECT 'ok';")
				c["tls"] = strings.TrimPrefix(cliCell(out, err), "ok\n")
				sha := tg
				sha.port, sha.user, sha.pass = e.sha2Port, plainUser, plainPass
				out, err = cliRun(sha, "", nil, "SELECT 'ok';")
				c["caching_sha2"] = strings.TrimPrefix(cliCell(out, err), "ok\n")
			}
			run("ddl", nil, "DROP TABLE IF EXISTS items;\n"+mxCreate+";\n"+
				"DROP TABLE IF EXISTS notes;\nCREATE TABLE notes (id INT PRIMARY KEY, txt VARCHAR(20) NOT NULL DEFAULT '' COMMENT 'note');\nSELECT 'ok';")
			run("multi_insert", nil, `INSERT INTO items (id, name, price, at, doc, data, note) VALUES
 (1, 'alpha', 12.34, '2024-01-02 03:04:05.678901', '{"k": [1, 2]}', x'0001ff', NULL),
 (2, 'beta', NULL, NULL, NULL, NULL, ''), (3, 'gamma', -1.5, '1999-12-31 23:59:59.000001', '[]', x'', 'x'), (4, 'delta', 0, NULL, '{}', NULL, NULL);
INSERT INTO notes VALUES (1, ''), (2, 'two');
SELECT ROW_COUNT();`)
			run("types", nil, "SELECT id, name, price, at, doc, HEX(data), note FROM items ORDER BY id;")
			run("update_info", []string{"-vv"}, "UPDATE items SET note = 'u' WHERE id <= 4;")
			run("order_limit", nil, "SELECT id FROM items ORDER BY name DESC LIMIT 2;")
			run("dup_1062", nil, "INSERT INTO items (id, name) VALUES (1, 'dup');")
			run("txn", nil, "BEGIN; INSERT INTO items (id, name) VALUES (201, 't'); ROLLBACK; SELECT COUNT(*) FROM items WHERE id = 201;")
			run("autocommit_off", nil, "SET autocommit = 0; INSERT INTO items (id, name) VALUES (203, 'a'); INSERT INTO items (id, name) VALUES (204, 'a'); SELECT COUNT(*) FROM items WHERE id IN (203, 204); COMMIT; SET autocommit = 1; SELECT COUNT(*) FROM items WHERE id IN (203, 204);")
			run("returning", nil, "INSERT INTO items (id, name) VALUES (301, 'r1'), (302, 'r2') RETURNING id, name;")
			out, err = cliRun(tg, tg.db, nil, "\\s\n")
			var keep []string
			for _, l := range strings.Split(out, "\n") {
				if statusKeep.MatchString(l) {
					keep = append(keep, strings.Join(strings.Fields(l), " "))
				}
			}
			c["status"] = strings.ReplaceAll(strings.Join(keep, "; "), tg.db, "DB")
			if err != nil {
				c["status"] = "ERROR " + err.Error()
			}
			c["_log"] += "# status:\n" + out
			c["dump_default"], c["dump_single_tx"] = e.dumpRoundTrip(t, tg)
			by[tg.name] = c
		}
		e.compare(t, "mariadb CLI / mariadb-dump", by, false)
	})
}

// dumpRoundTrip dumps the target's database with default options and with
// --single-transaction, restores each dump into a fresh database of slice
// s2 and compares every table with the source.
func (e *mxEnv) dumpRoundTrip(t *testing.T, tg mxTarget) (dflt, single string) {
	s2 := e.h.topo.Slices[2].Primary
	root := e.h.rootDB(s2, "")
	restore := mxTarget{port: fmt.Sprint(s2.Port), user: e.h.topo.RootUser, pass: e.h.topo.RootPassword}
	round := func(opts ...string) string {
		args := append([]string{"--no-defaults", "-h127.0.0.1", "-P" + tg.port, "-u" + tg.user, "-p" + tg.pass, "--skip-ssl"}, opts...)
		args = append(args, tg.db)
		out, err := exec.Command("mariadb-dump", args...).CombinedOutput()
		if err != nil {
			if m := cliErrRe.FindStringSubmatch(string(out)); m != nil {
				return "ERROR " + m[1]
			}
			if m := regexp.MustCompile(`Got error: (\d+):`).FindStringSubmatch(string(out)); m != nil {
				return "ERROR " + m[1]
			}
			return "ERROR " + err.Error() + ": " + firstLine(string(out))
		}
		mustExec(t, root, "DROP DATABASE IF EXISTS mx_restore", "CREATE DATABASE mx_restore")
		defer root.Exec("DROP DATABASE IF EXISTS mx_restore")
		if o, err := cliRun(restore, "mx_restore", nil, string(out)); err != nil {
			return "restore failed: " + o
		}
		for _, table := range []string{"items", "notes"} {
			q := "SELECT * FROM " + table + " ORDER BY id"
			src, _ := cliRun(tg, tg.db, nil, q+";")
			dst, _ := cliRun(restore, "mx_restore", nil, q+";")
			if src != dst {
				return fmt.Sprintf("table %s differs after the round trip:\n%s\nvs\n%s", table, src, dst)
			}
		}
		return "ok"
	}
	return round(), round("--single-transaction")
}

// firstLine is the first line of s.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
