"""Client matrix scenario for Python DB-API drivers (PyMySQL, mysqlclient).

Prints "cell: value" lines; see internal/integration/matrix_test.go.
"""
import importlib
import json
import os
import sys

E = os.environ
drv = importlib.import_module(E["MX_DRIVER"])
DB = E["MX_DB"]


def out(cell, value):
    print(f"{cell}: {value}", flush=True)


def err(e):
    code = e.args[0] if getattr(e, "args", None) else "?"
    print(f"# {type(e).__name__}: {e}", flush=True)
    return f"ERROR {code}"


def connect(db=None, tls=False):
    kw = dict(host=E["MX_HOST"], port=int(E["MX_PORT"]), user=E["MX_USER"], charset="utf8mb4")
    if E["MX_DRIVER"] == "pymysql":
        kw["password"] = E["MX_PASS"]
        if db:
            kw["database"] = db
        if tls:
            kw["ssl"] = {"ca": E["MX_CA"], "check_hostname": False}
            kw["ssl_verify_cert"] = False
    else:
        kw["passwd"] = E["MX_PASS"]
        if db:
            kw["db"] = db
        if tls:
            kw["ssl"] = {"ca": E["MX_CA"]}
    return drv.connect(**kw)


def step(cell, fn):
    try:
        out(cell, fn())
    except Exception as e:  # noqa: BLE001 - every failure is a cell value
        out(cell, err(e))


mode = E["MX_MODE"]
if mode in ("tls", "connect"):
    def login():
        c = connect(E["MX_DB"] or None, tls=(mode == "tls"))
        cur = c.cursor()
        cur.execute("SELECT 1")
        return "ok" if cur.fetchone()[0] == 1 else "bad"
    step("connect", login)
    sys.exit(0)

conn = None


def do_connect():
    global conn
    conn = connect()
    return "ok"


step("connect", do_connect)
cur = conn.cursor()


def q(sql, args=None):
    cur.execute(sql, args)
    return cur


def use():
    q("USE " + DB)
    return "ok" if q("SELECT DATABASE()").fetchone()[0] == DB else "wrong database"


step("use", use)
step("ddl", lambda: (q("DROP TABLE IF EXISTS items"), q(
    "CREATE TABLE items (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL,"
    " price DECIMAL(10,2) NULL, at DATETIME(6) NULL, doc JSON NULL, data BLOB NULL, note VARCHAR(20) NULL)"), "ok")[2])
conn.commit()
import datetime  # noqa: E402
import decimal  # noqa: E402

rid = [0]


def insert():
    q("INSERT INTO items (name, price, at, doc, data, note) VALUES (%s, %s, %s, %s, %s, %s)",
      ("alpha", decimal.Decimal("12.34"), datetime.datetime(2024, 1, 2, 3, 4, 5, 678901), '{"k": [1, 2]}', b"\x00\x01\xff", None))
    conn.commit()
    rid[0] = cur.lastrowid
    return "ok"


step("insert_param", insert)
out("lastrowid", "positive" if rid[0] and rid[0] > 0 else repr(rid[0]))
step("select_param", lambda: q("SELECT name FROM items WHERE id = %s", (rid[0],)).fetchone()[0])


def fmt(v):
    if v is None:
        return "NULL"
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return str(v)


step("types", lambda: "|".join(fmt(v) for v in q("SELECT price, at, doc, data, note FROM items WHERE id = %s", (rid[0],)).fetchone()))


def multi():
    cur.executemany("INSERT INTO items (id, name) VALUES (%s, %s)", [(i, f"n{i}") for i in range(101, 109)])
    conn.commit()
    return cur.rowcount


step("multi_insert", multi)
step("order_limit", lambda: ",".join(str(r[0]) for r in q(
    "SELECT id, name FROM items WHERE id BETWEEN 101 AND 108 ORDER BY name DESC LIMIT 3").fetchall()))


def dup():
    try:
        q("INSERT INTO items (id, name) VALUES (101, 'dup')")
        conn.commit()
        return "no error"
    except drv.IntegrityError as e:
        conn.rollback()
        return str(e.args[0])


step("dup_1062", dup)


def count(ids):
    return q("SELECT COUNT(*) FROM items WHERE id IN (%s)" % ",".join(str(i) for i in ids)).fetchone()[0]


def txn():
    conn.autocommit(True)
    q("BEGIN")
    q("INSERT INTO items (id, name) VALUES (201, 't')")
    q("ROLLBACK")
    a = count([201])
    q("BEGIN")
    q("INSERT INTO items (id, name) VALUES (202, 't')")
    q("COMMIT")
    return f"{a},{count([202])}"


step("txn", txn)


def autocommit_off():
    try:
        conn.autocommit(False)
        q("INSERT INTO items (id, name) VALUES (203, 'a')")
        q("INSERT INTO items (id, name) VALUES (204, 'a')")
        inside = count([203, 204])
        conn.commit()
        return f"{inside},{count([203, 204])}"
    finally:
        try:
            conn.rollback()
        except Exception:  # noqa: BLE001
            pass
        conn.autocommit(True)


step("autocommit_off", autocommit_off)
step("returning", lambda: ",".join(f"{r[0]}:{r[1]}" for r in q(
    "INSERT INTO items (id, name) VALUES (301, 'r1'), (302, 'r2') RETURNING id, name").fetchall()))


def pool():
    names = set()
    for i in range(20):
        names.add(q("SELECT name FROM items WHERE id = %s", (101 + i % 8,)).fetchone()[0])
    return len(names)


step("pool", pool)
print("restart: now", flush=True)
sys.stdin.readline()


def reconnect():
    try:
        q("SELECT 1")
    except Exception as e:  # noqa: BLE001
        print(f"# old connection: {e}", flush=True)
    c = connect(DB)
    k = c.cursor()
    k.execute("SELECT COUNT(*) FROM items WHERE id BETWEEN 101 AND 108")
    return k.fetchone()[0]


step("reconnect", reconnect)
