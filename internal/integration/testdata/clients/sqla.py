"""Client matrix scenario for the SQLAlchemy ORM (over PyMySQL).

Prints "cell: value" lines; see internal/integration/matrix_test.go.
"""
import datetime
import decimal
import json
import os
import sys

from sqlalchemy import JSON, BigInteger, Column, LargeBinary, Numeric, String, create_engine, func, text
from sqlalchemy.dialects.mysql import DATETIME
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, declarative_base

E = os.environ
DB = E["MX_DB"]
Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(BigInteger, primary_key=True, autoincrement=True)
    name = Column(String(40), nullable=False)
    price = Column(Numeric(10, 2))
    at = Column(DATETIME(fsp=6))
    doc = Column(JSON)
    data = Column(LargeBinary)
    note = Column(String(20))


def out(cell, v):
    print(f"{cell}: {v}", flush=True)


def step(cell, fn):
    try:
        out(cell, fn())
    except Exception as e:  # noqa: BLE001
        orig = getattr(e, "orig", e)
        print(f"# {type(e).__name__}: {e}", flush=True)
        out(cell, f"ERROR {orig.args[0] if orig.args else '?'}")


def url(db, tls=False):
    u = f"mysql+pymysql://{E['MX_USER']}:{E['MX_PASS']}@{E['MX_HOST']}:{E['MX_PORT']}/{db or ''}?charset=utf8mb4"
    return u


mode = E["MX_MODE"]
if mode in ("tls", "connect"):
    args = {"ssl": {"ca": E["MX_CA"], "check_hostname": False}, "ssl_verify_cert": False} if mode == "tls" else {}

    def login():
        eng = create_engine(url(DB), connect_args=args)
        with eng.connect() as c:
            return "ok" if c.execute(text("SELECT 1")).scalar() == 1 else "bad"
    step("connect", login)
    sys.exit(0)

engine = create_engine(url(DB), pool_size=3, max_overflow=0, pool_pre_ping=True, pool_timeout=5, echo_pool=os.environ.get("MX_DEBUG"))


def scalar(sql):
    with engine.connect() as c:
        return c.execute(text(sql)).scalar()


def get(fn):
    with Session(engine) as s:
        return fn(s)


step("connect", lambda: scalar("SELECT 1") and "ok")
step("use", lambda: "ok" if scalar("SELECT DATABASE()") == DB else "wrong database")


def ddl():
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    return "ok"


step("ddl", ddl)
rid = [0]


def insert():
    with Session(engine) as s:
        it = Item(name="alpha", price=decimal.Decimal("12.34"), at=datetime.datetime(2024, 1, 2, 3, 4, 5, 678901),
                  doc={"k": [1, 2]}, data=b"\x00\x01\xff", note=None)
        s.add(it)
        s.commit()
        rid[0] = it.id
    return "ok"


step("insert_param", insert)
out("lastrowid", "positive" if rid[0] and rid[0] > 0 else repr(rid[0]))
step("select_param", lambda: get(lambda s: s.get(Item, rid[0]).name))


def types():
    with Session(engine) as s:
        it = s.get(Item, rid[0])
    return "|".join(["NULL" if v is None else v.hex() if isinstance(v, bytes) else json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else str(v)
                     for v in (it.price, it.at, it.doc, it.data, it.note)])


step("types", types)


def multi():
    with Session(engine) as s:
        s.add_all([Item(id=i, name=f"n{i}") for i in range(101, 109)])
        s.commit()
    return 8


step("multi_insert", multi)
step("order_limit", lambda: get(lambda s: ",".join(str(i.id) for i in s.query(Item).filter(Item.id.between(101, 108)).order_by(Item.name.desc()).limit(3))))


def dup():
    with Session(engine) as s:
        s.add(Item(id=101, name="dup"))
        try:
            s.commit()
            return "no error"
        except IntegrityError as e:
            return str(e.orig.args[0])


step("dup_1062", dup)


def count(s, ids):
    return s.query(func.count(Item.id)).filter(Item.id.in_(ids)).scalar()


def txn():
    with Session(engine) as s:
        s.add(Item(id=201, name="t"))
        s.flush()
        s.rollback()
        a = count(s, [201])
        s.commit()
    with Session(engine) as s, s.begin():
        s.add(Item(id=202, name="t"))
    return f"{a},{get(lambda s: count(s, [202]))}"


step("txn", txn)


def autocommit_off():
    with Session(engine) as s:
        s.add(Item(id=203, name="a"))
        s.add(Item(id=204, name="a"))
        s.flush()
        inside = count(s, [203, 204])
        s.commit()
        return f"{inside},{count(s, [203, 204])}"


step("autocommit_off", autocommit_off)


def pool():
    names = set()
    for i in range(20):
        with Session(engine) as s:
            names.add(s.get(Item, 101 + i % 8).name)
    return len(names)


step("pool", pool)
# Query.count() wraps the query in a derived table.
step("orm_count", lambda: get(lambda s: s.query(Item).filter(Item.id.between(101, 108)).count()))
print("restart: now", flush=True)
sys.stdin.readline()
step("reconnect", lambda: get(lambda s: s.query(func.count(Item.id)).filter(Item.id.between(101, 108)).scalar()))
