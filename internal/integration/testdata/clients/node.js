// Client matrix scenario for Node: mysql2 (query or execute) and mysql.
// Prints "cell: value" lines; see internal/integration/matrix_test.go.
'use strict';
const E = process.env;
const driver = E.MX_DRIVER;
const ps = E.MX_PS === '1';
const path = require('path');
const modDir = E.MX_NODE_MODULES || path.join(__dirname, 'node_modules');
const lib = driver === 'mysql2' ? require(path.join(modDir, 'mysql2')) : require(path.join(modDir, 'mysql'));
const DB = E.MX_DB;

const out = (cell, v) => console.log(`${cell}: ${v}`);
const errStr = (e) => { console.log(`# ${e.code} ${e.errno} ${e.message}`); return `ERROR ${e.errno || e.code}`; };

function config(db, tls) {
  const c = { host: E.MX_HOST, port: +E.MX_PORT, user: E.MX_USER, password: E.MX_PASS, supportBigNumbers: true, dateStrings: true };
  if (db) c.database = db;
  if (tls) c.ssl = { rejectUnauthorized: false };
  if (driver === 'mysql2') c.allowPublicKeyRetrieval = true; // caching_sha2 full authentication without TLS
  return c;
}

function open(db, tls) {
  const c = lib.createConnection(config(db, tls));
  c.on('error', () => {});
  return c;
}

function run(c, sql, args, prepared) {
  return new Promise((resolve, reject) => {
    const cb = (err, rows) => (err ? reject(err) : resolve(rows));
    if (prepared && driver === 'mysql2') c.execute(sql, args || [], cb);
    else c.query(sql, args || [], cb);
  });
}

async function step(cell, fn) {
  try { out(cell, await fn()); } catch (e) { out(cell, errStr(e)); }
}

function fmt(v) {
  if (v === null || v === undefined) return 'NULL';
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function readLine() {
  return new Promise((resolve) => {
    process.stdin.once('data', () => { process.stdin.pause(); resolve(); });
  });
}

async function main() {
  const mode = E.MX_MODE;
  if (mode === 'tls' || mode === 'connect') {
    await step('connect', async () => {
      const c = open(DB || null, mode === 'tls');
      const r = await run(c, 'SELECT 1 AS one');
      c.end();
      return r[0].one == 1 ? 'ok' : 'bad';
    });
    return;
  }
  const c = open(null, false);
  const q = (sql, args) => run(c, sql, args, ps);
  await step('connect', async () => { await run(c, 'SELECT 1'); return 'ok'; });
  await step('use', async () => {
    await run(c, 'USE ' + DB);
    const r = await run(c, 'SELECT DATABASE() AS d');
    return r[0].d === DB ? 'ok' : 'wrong database';
  });
  await step('ddl', async () => {
    await run(c, 'DROP TABLE IF EXISTS items');
    await run(c, 'CREATE TABLE items (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL,' +
      ' price DECIMAL(10,2) NULL, at DATETIME(6) NULL, doc JSON NULL, data BLOB NULL, note VARCHAR(20) NULL)');
    return 'ok';
  });
  let id = 0;
  await step('insert_param', async () => {
    const r = await q('INSERT INTO items (name, price, at, doc, data, note) VALUES (?, ?, ?, ?, ?, ?)',
      ['alpha', '12.34', '2024-01-02 03:04:05.678901', '{"k": [1, 2]}', Buffer.from([0, 1, 255]), null]);
    id = r.insertId;
    return 'ok';
  });
  out('lastrowid', id > 0 ? 'positive' : String(id));
  await step('select_param', async () => (await q('SELECT name FROM items WHERE id = ?', [id]))[0].name);
  await step('types', async () => {
    const r = (await q('SELECT price, at, doc, data, note FROM items WHERE id = ?', [id]))[0];
    return [r.price, r.at, r.doc, r.data, r.note].map(fmt).join('|') + '|doc:' + typeof r.doc;
  });
  if (ps) {
    await step('prepared', async () => {
      const names = [];
      for (const i of [1, 2, 3]) {
        const r = await q('SELECT ? + 1 AS v, name FROM items WHERE id = ?', [i, id]);
        names.push(`${r[0].v}${r[0].name}`);
      }
      return names.join(',');
    });
  }
  await step('multi_insert', async () => {
    const rows = [];
    for (let i = 101; i <= 108; i++) rows.push([i, 'n' + i]);
    const r = await run(c, 'INSERT INTO items (id, name) VALUES ?', [rows]);
    return r.affectedRows;
  });
  await step('order_limit', async () =>
    (await q('SELECT id, name FROM items WHERE id BETWEEN ? AND ? ORDER BY name DESC LIMIT 3', [101, 108])).map((r) => r.id).join(','));
  await step('dup_1062', async () => {
    try { await q('INSERT INTO items (id, name) VALUES (?, ?)', [101, 'dup']); return 'no error'; } catch (e) { return String(e.errno); }
  });
  const count = async (ids) => (await run(c, `SELECT COUNT(*) AS n FROM items WHERE id IN (${ids.join(',')})`))[0].n;
  await step('txn', async () => {
    await run(c, 'BEGIN');
    await q('INSERT INTO items (id, name) VALUES (?, ?)', [201, 't']);
    await run(c, 'ROLLBACK');
    const a = await count([201]);
    await new Promise((res, rej) => c.beginTransaction((e) => (e ? rej(e) : res())));
    await q('INSERT INTO items (id, name) VALUES (?, ?)', [202, 't']);
    await new Promise((res, rej) => c.commit((e) => (e ? rej(e) : res())));
    return `${a},${await count([202])}`;
  });
  await step('autocommit_off', async () => {
    try {
      await run(c, 'SET autocommit = 0');
      await q('INSERT INTO items (id, name) VALUES (?, ?)', [203, 'a']);
      await q('INSERT INTO items (id, name) VALUES (?, ?)', [204, 'a']);
      const inside = await count([203, 204]);
      await run(c, 'COMMIT');
      return `${inside},${await count([203, 204])}`;
    } finally {
      await run(c, 'ROLLBACK').catch(() => {});
      await run(c, 'SET autocommit = 1').catch(() => {});
    }
  });
  await step('returning', async () =>
    (await q("INSERT INTO items (id, name) VALUES (301, 'r1'), (302, 'r2') RETURNING id, name")).map((r) => `${r.id}:${r.name}`).join(','));
  await step('pool', async () => {
    const pool = lib.createPool({ ...config(DB, false), connectionLimit: 3 });
    const names = new Set();
    await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const r = await new Promise((res, rej) => {
        const cb = (e, rows) => (e ? rej(e) : res(rows));
        if (ps && driver === 'mysql2') pool.execute('SELECT name FROM items WHERE id = ?', [101 + (i % 8)], cb);
        else pool.query('SELECT name FROM items WHERE id = ?', [101 + (i % 8)], cb);
      });
      names.add(r[0].name);
    }));
    await new Promise((res) => pool.end(res));
    return names.size;
  });
  console.log('restart: now');
  await readLine();
  await step('reconnect', async () => {
    try { await run(c, 'SELECT 1'); } catch (e) { console.log(`# old connection: ${e.code}`); }
    const d = open(DB, false);
    const r = await run(d, 'SELECT COUNT(*) AS n FROM items WHERE id BETWEEN 101 AND 108');
    d.end();
    return r[0].n;
  });
  c.destroy();
}

main().then(() => process.exit(0), (e) => { console.log(`# fatal ${e.stack}`); process.exit(1); });
