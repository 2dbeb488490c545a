package globalcheck

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard-db/switchyard/internal/shard"
)

func b(s string) []byte { return []byte(s) }

func testTable() *table {
	return &table{DB: "shop", Name: "t_region", Cols: []column{
		{Name: "id", DataType: "bigint", ColumnType: "bigint(20) unsigned"},
		{Name: "code", DataType: "varchar", ColumnType: "varchar(10)"},
		{Name: "price", DataType: "decimal", ColumnType: "decimal(10,2)", Nullable: true, Precision: 10, Scale: 2},
		{Name: "doc", DataType: "text", ColumnType: "text", Nullable: true},
		{Name: "twice", DataType: "int", ColumnType: "int(11)", Nullable: true, Generated: true},
	}, Key: []int{0}}
}

func TestRowExpr(t *testing.T) {
	got := rowExpr(testTable().Cols)
	want := "CONCAT_WS('#',`id`,CAST(`code` AS BINARY),`price`,SHA1(`doc`),`twice`," +
		"COALESCE(LENGTH(`id`),-1),COALESCE(LENGTH(`code`),-1),COALESCE(LENGTH(`price`),-1),COALESCE(LENGTH(`doc`),-1),COALESCE(LENGTH(`twice`),-1))"
	if got != want {
		t.Fatalf("rowExpr:\n got %s\nwant %s", got, want)
	}
}

func TestQuoteIdent(t *testing.T) {
	if got := qualified("my`db", "t"); got != "`my``db`.`t`" {
		t.Fatal(got)
	}
}

func TestChunkSQLSingleKey(t *testing.T) {
	tb := testTable()
	q, args, err := tb.boundarySQL(keyRange{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if want := "SELECT `id` FROM `shop`.`t_region` ORDER BY `id` LIMIT 1 OFFSET 1000"; q != want {
		t.Fatalf("got %s", q)
	}
	if len(args) != 0 {
		t.Fatal(args)
	}
	q, args, err = tb.boundarySQL(keyRange{Lo: bound{b("18446744073709551615")}}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if want := "SELECT `id` FROM `shop`.`t_region` WHERE (`id` >= ?) ORDER BY `id` LIMIT 1 OFFSET 1000"; q != want {
		t.Fatalf("got %s", q)
	}
	// Unsigned keys travel as uint64, not as strings compared as doubles.
	if !reflect.DeepEqual(args, []any{uint64(18446744073709551615)}) {
		t.Fatalf("args %#v", args)
	}
	q, args, err = tb.checksumSQL(keyRange{Lo: bound{b("10")}, Hi: bound{b("20")}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(q, "SELECT COUNT(*), BIT_XOR(CAST(CONV(LEFT(SHA1(CONCAT_WS(") ||
		!strings.HasSuffix(q, " FROM `shop`.`t_region` WHERE (`id` >= ?) AND (`id` < ?)") {
		t.Fatalf("checksum SQL: %s", q)
	}
	if !reflect.DeepEqual(args, []any{uint64(10), uint64(20)}) {
		t.Fatalf("args %#v", args)
	}
	q, _, err = tb.rowHashSQL(keyRange{Hi: bound{b("20")}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(q, "SELECT `id`, SHA1(CONCAT_WS(") || !strings.HasSuffix(q, " WHERE (`id` < ?) ORDER BY `id` FOR UPDATE") {
		t.Fatalf("row hash SQL: %s", q)
	}
	if _, _, err := tb.where(keyRange{Lo: bound{b("x")}}); err == nil {
		t.Fatal("a non-integer bound of an integer key must fail")
	}
}

func TestChunkSQLCompositeKey(t *testing.T) {
	tb := &table{DB: "d", Name: "t", Cols: []column{
		{Name: "a", DataType: "varchar", ColumnType: "varchar(5)"},
		{Name: "b", DataType: "int", ColumnType: "int(11)"},
		{Name: "c", DataType: "decimal", ColumnType: "decimal(8,3)", Precision: 8, Scale: 3},
		{Name: "v", DataType: "blob", ColumnType: "blob", Nullable: true},
	}, Key: []int{0, 1, 2}}
	w, args, err := tb.where(keyRange{Lo: bound{b("x"), b("-5"), b("1.500")}, Hi: bound{b("y"), b("7"), b("0.000")}})
	if err != nil {
		t.Fatal(err)
	}
	want := " WHERE ((`a` > ?) OR (`a` = ? AND `b` > ?) OR (`a` = ? AND `b` = ? AND `c` >= CAST(? AS DECIMAL(8,3))))" +
		" AND ((`a` < ?) OR (`a` = ? AND `b` < ?) OR (`a` = ? AND `b` = ? AND `c` < CAST(? AS DECIMAL(8,3))))"
	if w != want {
		t.Fatalf("where:\n got %s\nwant %s", w, want)
	}
	wantArgs := []any{b("x"), b("x"), int64(-5), b("x"), int64(-5), b("1.500"), b("y"), b("y"), int64(7), b("y"), int64(7), b("0.000")}
	if !reflect.DeepEqual(args, wantArgs) {
		t.Fatalf("args %#v", args)
	}
	q, args, err := tb.selectRowsSQL([]bound{{b("x"), b("1"), b("2.000")}, {b("y"), b("2"), b("3.000")}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "SELECT `a`,`b`,`c`,`v` FROM `d`.`t` WHERE (`a` = ? AND `b` = ? AND `c` = CAST(? AS DECIMAL(8,3))) OR (`a` = ? AND `b` = ? AND `c` = CAST(? AS DECIMAL(8,3)))"; q != want {
		t.Fatalf("got %s", q)
	}
	if len(args) != 6 {
		t.Fatal(args)
	}
	q, _, _ = tb.deleteSQL([]bound{{b("it's"), b("1"), b("2.000")}}, true)
	if want := "DELETE FROM `d`.`t` WHERE (`a` = 'it''s' AND `b` = 1 AND `c` = 2.000)"; q != want {
		t.Fatalf("got %s", q)
	}
}

func TestReplaceAndDelete(t *testing.T) {
	tb := testTable()
	rows := [][][]byte{
		{b("1"), b("a'b"), nil, b("x\\y"), b("99")},
		{b("2"), b(""), b("3.50"), nil, nil},
	}
	q, args, err := tb.replaceSQL(rows, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := "REPLACE INTO `shop`.`t_region` (`id`,`code`,`price`,`doc`) VALUES (?,?,?,?),(?,?,?,?)"; q != want {
		t.Fatalf("got %s", q)
	}
	wantArgs := []any{uint64(1), b("a'b"), nil, b("x\\y"), uint64(2), b(""), b("3.50"), nil}
	if !reflect.DeepEqual(args, wantArgs) {
		t.Fatalf("args %#v", args)
	}
	q, _, _ = tb.replaceSQL(rows, true)
	if want := "REPLACE INTO `shop`.`t_region` (`id`,`code`,`price`,`doc`) VALUES (1,'a''b',NULL,X'785c79'),(2,'',3.50,NULL)"; q != want {
		t.Fatalf("got %s", q)
	}
	q, args, _ = tb.deleteSQL([]bound{{b("7")}, {b("9")}}, false)
	if want := "DELETE FROM `shop`.`t_region` WHERE `id` IN (?,?)"; q != want || !reflect.DeepEqual(args, []any{uint64(7), uint64(9)}) {
		t.Fatalf("got %s %v", q, args)
	}
}

func TestLiteralAndParam(t *testing.T) {
	bit := column{Name: "f", DataType: "bit", ColumnType: "bit(12)"}
	if got := literal(bit, []byte{0x01, 0x02}); got != "258" {
		t.Fatal(got)
	}
	if p, _ := param(bit, []byte{0x01, 0x02}); p != uint64(258) {
		t.Fatal(p)
	}
	s := column{Name: "s", DataType: "varchar"}
	for in, want := range map[string]string{"": "''", "o'k": "'o''k'", "a\nb": "X'610a62'", "\xff": "X'ff'", "héllo": "'héllo'"} {
		if got := literal(s, []byte(in)); got != want {
			t.Errorf("literal(%q) = %s, want %s", in, got, want)
		}
	}
	if got := literal(s, nil); got != "NULL" {
		t.Fatal(got)
	}
	i := column{Name: "i", DataType: "int", ColumnType: "int(11)"}
	if p, err := param(i, b("-42")); err != nil || p != int64(-42) {
		t.Fatal(p, err)
	}
	if p, err := param(i, nil); err != nil || p != nil {
		t.Fatal(p, err)
	}
}

func TestKeyString(t *testing.T) {
	if keyString([][]byte{b("a"), b("bc")}) == keyString([][]byte{b("ab"), b("c")}) {
		t.Fatal("keys collide")
	}
	if keyString([][]byte{b("")}) == keyString([][]byte{b(""), b("")}) {
		t.Fatal("keys collide")
	}
}

func TestDiffHashed(t *testing.T) {
	mk := func(kv ...string) *hashed {
		h := &hashed{hashes: map[string]string{}}
		for i := 0; i < len(kv); i += 2 {
			k := bound{b(kv[i])}
			h.keys = append(h.keys, k)
			h.hashes[keyString(k)] = kv[i+1]
		}
		return h
	}
	ref := mk("1", "h1", "2", "h2", "3", "h3", "4", "h4")
	other := mk("1", "h1", "3", "hX", "4", "h4", "5", "h5")
	d := diffHashed(ref, other)
	names := func(keys []bound) []string {
		var out []string
		for _, k := range keys {
			out = append(out, string(k[0]))
		}
		return out
	}
	if got := names(d.missing); !reflect.DeepEqual(got, []string{"2"}) {
		t.Errorf("missing %v", got)
	}
	if got := names(d.different); !reflect.DeepEqual(got, []string{"3"}) {
		t.Errorf("different %v", got)
	}
	if got := names(d.extra); !reflect.DeepEqual(got, []string{"5"}) {
		t.Errorf("extra %v", got)
	}
	if d.count() != 3 {
		t.Error(d.count())
	}
}

func TestChooseKey(t *testing.T) {
	cols := []column{
		{Name: "id", DataType: "int"},
		{Name: "email", DataType: "varchar"},
		{Name: "maybe", DataType: "varchar", Nullable: true},
		{Name: "f", DataType: "double"},
	}
	s := &schema{cols: cols}
	s.chooseKey([]*index{{name: "uk_email", unique: true, cols: []string{"email"}}, {name: "PRIMARY", unique: true, cols: []string{"id"}}})
	if !reflect.DeepEqual(s.key, []int{0}) || s.keyName != "primary key" {
		t.Fatalf("key %v %s", s.key, s.keyName)
	}
	s = &schema{cols: cols}
	s.chooseKey([]*index{{name: "uk_maybe", unique: true, cols: []string{"maybe"}}, {name: "uk_email", unique: true, cols: []string{"EMAIL"}}, {name: "k", cols: []string{"id"}}})
	if !reflect.DeepEqual(s.key, []int{1}) || s.keyName != "unique key uk_email" {
		t.Fatalf("key %v %s", s.key, s.keyName)
	}
	s = &schema{cols: cols}
	s.chooseKey([]*index{{name: "PRIMARY", unique: true, cols: []string{"f"}}})
	if s.key != nil || !strings.Contains(s.noKey, "double") {
		t.Fatalf("key %v %q", s.key, s.noKey)
	}
	s = &schema{cols: cols}
	s.chooseKey(nil)
	if s.key != nil || s.noKey != "the table has no primary key" {
		t.Fatalf("key %v %q", s.key, s.noKey)
	}
}

func TestSchemaDiff(t *testing.T) {
	a := &schema{cols: []column{{Name: "id", ColumnType: "int(11)"}, {Name: "v", ColumnType: "varchar(5)"}}, key: []int{0}}
	b := &schema{cols: []column{{Name: "id", ColumnType: "int(11)"}, {Name: "v", ColumnType: "varchar(5)"}}, key: []int{0}}
	if d := a.diff(b); d != "" {
		t.Fatal(d)
	}
	b.cols[1].ColumnType = "varchar(6)"
	if d := a.diff(b); !strings.Contains(d, "varchar(6)") {
		t.Fatal(d)
	}
	b.cols[1].ColumnType = "varchar(5)"
	b.key = []int{1}
	if d := a.diff(b); !strings.Contains(d, "key (v)") {
		t.Fatal(d)
	}
}

func TestCopyLabels(t *testing.T) {
	got := copyLabels([]shard.Target{{Slice: "s0", Database: "a"}, {Slice: "s1", Database: "a"}, {Slice: "s1", Database: "b"}})
	if want := []string{"s0", "s1/a", "s1/b"}; !reflect.DeepEqual(got, want) {
		t.Fatal(got)
	}
}

func TestValueAndExitCode(t *testing.T) {
	j, _ := json.Marshal([]Value{{B: nil}, {B: b("")}, {B: b("x")}, {B: []byte{0xff}}})
	if string(j) != `[null,"","x","0xff"]` {
		t.Fatal(string(j))
	}
	if s := (Value{}).String() + " " + (Value{B: b("")}).String(); s != "NULL ''" {
		t.Fatal(s)
	}
	for _, c := range []struct {
		r    Report
		want int
	}{{Report{}, 0}, {Report{Differences: true}, 1}, {Report{Differences: true, Errors: 1}, 2}} {
		if got := c.r.ExitCode(); got != c.want {
			t.Errorf("%+v: %d", c.r, got)
		}
	}
	var buf bytes.Buffer
	(&Report{Elapsed: "1ms"}).WriteText(&buf)
	if !strings.Contains(buf.String(), "no global tables") {
		t.Fatal(buf.String())
	}
}

func TestCommandUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Command(nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--config FILE is required") {
		t.Fatalf("%d %s", code, errb.String())
	}
	errb.Reset()
	if code := Command([]string{"--config", "/nonexistent.yaml"}, &out, &errb); code != 2 {
		t.Fatalf("%d %s", code, errb.String())
	}
	errb.Reset()
	if code := Command([]string{"--config", "x.yaml", "--chunk", "0"}, &out, &errb); code != 2 {
		t.Fatalf("%d %s", code, errb.String())
	}
	if _, err := Check(t.Context(), nil, Options{DryRun: true}); err == nil {
		t.Fatal("--dry-run without --repair-from must fail")
	}
	if _, err := Check(t.Context(), nil, Options{Namespace: "nope"}); err == nil {
		t.Fatal("unknown namespace must fail")
	}
	if _, err := Check(t.Context(), nil, Options{Table: "notqualified"}); err == nil {
		t.Fatal("table without db must fail")
	}
}
