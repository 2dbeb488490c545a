"""Client matrix scenario for the Django ORM (over mysqlclient): migrate,
create, atomic. Prints "cell: value" lines; see
internal/integration/matrix_test.go.
"""
import datetime
import decimal
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
E = os.environ
DB = E["MX_DB"]
mode = E["MX_MODE"]

import django  # noqa: E402
from django.conf import settings  # noqa: E402

opts = {"charset": "utf8mb4"}
if mode == "tls":
    opts["ssl"] = {"ca": E["MX_CA"]}
settings.configure(
    DATABASES={"default": {"ENGINE": "django.db.backends.mysql", "NAME": DB, "USER": E["MX_USER"], "PASSWORD": E["MX_PASS"],
                           "HOST": E["MX_HOST"], "PORT": E["MX_PORT"], "OPTIONS": opts}},
    INSTALLED_APPS=["mxapp"], USE_TZ=False, DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
)
django.setup()
from django.core.management import call_command  # noqa: E402
from django.db import IntegrityError, connection, transaction  # noqa: E402

from mxapp.models import Item  # noqa: E402


def out(cell, v):
    print(f"{cell}: {v}", flush=True)


def step(cell, fn):
    try:
        out(cell, fn())
    except Exception as e:  # noqa: BLE001
        print(f"# {type(e).__name__}: {e}", flush=True)
        out(cell, f"ERROR {e.args[0] if e.args else '?'}")


def select1():
    with connection.cursor() as c:
        c.execute("SELECT 1")
        return "ok" if c.fetchone()[0] == 1 else "bad"


if mode in ("tls", "connect"):
    step("connect", select1)
    sys.exit(0)

step("connect", select1)


def migrate():
    with connection.cursor() as c:
        c.execute("DROP TABLE IF EXISTS items")
        c.execute("DROP TABLE IF EXISTS django_migrations")
    call_command("migrate", "mxapp", verbosity=0)
    return "ok"


step("ddl", migrate)
obj = [None]


def create():
    obj[0] = Item.objects.create(name="alpha", price=decimal.Decimal("12.34"), at=datetime.datetime(2024, 1, 2, 3, 4, 5, 678901),
                                 doc={"k": [1, 2]}, data=b"\x00\x01\xff", note=None)
    return "ok"


step("insert_param", create)
out("lastrowid", "positive" if obj[0] is not None and obj[0].id and obj[0].id > 0 else "none")
step("select_param", lambda: Item.objects.get(id=obj[0].id).name)


def types():
    it = Item.objects.get(id=obj[0].id)
    return "|".join(["NULL" if v is None else bytes(v).hex() if isinstance(v, (bytes, memoryview)) else json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else str(v)
                     for v in (it.price, it.at, it.doc, it.data, it.note)])


step("types", types)
step("multi_insert", lambda: len(Item.objects.bulk_create([Item(id=i, name=f"n{i}") for i in range(101, 109)])))
step("order_limit", lambda: ",".join(str(i.id) for i in Item.objects.filter(id__range=(101, 108)).order_by("-name")[:3]))


def dup():
    try:
        with transaction.atomic():
            Item.objects.create(id=101, name="dup")
        return "no error"
    except IntegrityError as e:
        return str(e.args[0])


step("dup_1062", dup)


def txn():
    try:
        with transaction.atomic():
            Item.objects.create(id=201, name="t")
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    a = Item.objects.filter(id=201).count()
    with transaction.atomic():
        Item.objects.create(id=202, name="t")
    return f"{a},{Item.objects.filter(id=202).count()}"


step("txn", txn)


def autocommit_off():
    with transaction.atomic():
        Item.objects.create(id=203, name="a")
        Item.objects.create(id=204, name="a")
        inside = Item.objects.filter(id__in=[203, 204]).count()
    return f"{inside},{Item.objects.filter(id__in=[203, 204]).count()}"


step("autocommit_off", autocommit_off)
step("returning", lambda: ",".join(f"{i.id}:{i.name}" for i in [Item.objects.create(id=301, name="r1"), Item.objects.create(id=302, name="r2")]))
print("restart: now", flush=True)
sys.stdin.readline()


def reconnect():
    try:
        select1()
    except Exception as e:  # noqa: BLE001
        print(f"# old connection: {e}", flush=True)
        connection.close()
    return Item.objects.filter(id__range=(101, 108)).count()


step("reconnect", reconnect)
