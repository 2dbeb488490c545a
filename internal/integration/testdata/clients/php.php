<?php
// Client matrix scenario for PHP: PDO (emulated prepares on or off) and
// mysqli. Prints "cell: value" lines; see internal/integration/matrix_test.go.
$E = getenv();
$driver = $E['MX_DRIVER'];
$ps = ($E['MX_PS'] ?? '0') === '1';
$DB = $E['MX_DB'];
mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);

function out($cell, $v) { echo "$cell: $v\n"; flush(); }
function step($cell, $fn) {
    try { out($cell, $fn()); }
    catch (Throwable $e) {
        echo "# " . get_class($e) . ": " . $e->getMessage() . "\n";
        $code = $e instanceof PDOException ? ($e->errorInfo[1] ?? $e->getCode()) : $e->getCode();
        out($cell, "ERROR $code");
    }
}

function open($db, $tls = false) {
    global $E, $driver, $ps;
    if ($driver === 'pdo') {
        $dsn = "mysql:host={$E['MX_HOST']};port={$E['MX_PORT']};charset=utf8mb4" . ($db ? ";dbname=$db" : '');
        $opt = [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::ATTR_EMULATE_PREPARES => !$ps];
        if ($tls) { $opt[PDO::MYSQL_ATTR_SSL_CA] = $E['MX_CA']; $opt[PDO::MYSQL_ATTR_SSL_VERIFY_SERVER_CERT] = false; }
        return new PDO($dsn, $E['MX_USER'], $E['MX_PASS'], $opt);
    }
    $m = mysqli_init();
    $flags = 0;
    if ($tls) { $m->ssl_set(null, null, $E['MX_CA'], null, null); $flags = MYSQLI_CLIENT_SSL_DONT_VERIFY_SERVER_CERT; }
    $m->real_connect($E['MX_HOST'], $E['MX_USER'], $E['MX_PASS'], $db ?: null, (int)$E['MX_PORT'], null, $flags);
    return $m;
}

// q runs sql with params (prepared for mysqli and PDO) and returns rows
// (numeric arrays) or, for writes, [affected, insert id].
function q($c, $sql, $args = []) {
    global $driver;
    if ($driver === 'pdo') {
        $st = $c->prepare($sql);
        foreach ($args as $i => $a) {
            $t = is_int($a) ? PDO::PARAM_INT : (is_null($a) ? PDO::PARAM_NULL : (is_array($a) ? PDO::PARAM_LOB : PDO::PARAM_STR));
            $st->bindValue($i + 1, is_array($a) ? $a[0] : $a, $t);
        }
        $st->execute();
        if ($st->columnCount() > 0) return $st->fetchAll(PDO::FETCH_NUM);
        return [$st->rowCount(), $c->lastInsertId()];
    }
    if (!$args) {
        $r = $c->query($sql);
        if ($r === true) return [$c->affected_rows, $c->insert_id];
        return $r->fetch_all(MYSQLI_NUM);
    }
    $st = $c->prepare($sql);
    $types = '';
    $vals = [];
    foreach ($args as $a) {
        $types .= is_int($a) ? 'i' : (is_array($a) ? 'b' : 's');
        $vals[] = is_array($a) ? null : $a;
    }
    $st->bind_param($types, ...$vals);
    foreach ($args as $i => $a) if (is_array($a)) $st->send_long_data($i, $a[0]);
    $st->execute();
    $r = $st->get_result();
    if ($r === false) return [$st->affected_rows, $st->insert_id];
    return $r->fetch_all(MYSQLI_NUM);
}
function x($c, $sql) { return q($c, $sql); }
function fmt($v) { return $v === null ? 'NULL' : (string)$v; }

$mode = $E['MX_MODE'];
if ($mode === 'tls' || $mode === 'connect') {
    step('connect', function () use ($DB, $mode) {
        $c = open($DB ?: null, $mode === 'tls');
        return x($c, 'SELECT 1')[0][0] == 1 ? 'ok' : 'bad';
    });
    exit(0);
}
$c = null;
step('connect', function () use (&$c) { $c = open(null); return 'ok'; });
step('use', function () use ($c, $DB) {
    x($c, "USE $DB");
    return x($c, 'SELECT DATABASE()')[0][0] === $DB ? 'ok' : 'wrong database';
});
step('ddl', function () use ($c) {
    x($c, 'DROP TABLE IF EXISTS items');
    x($c, 'CREATE TABLE items (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL,'
        . ' price DECIMAL(10,2) NULL, at DATETIME(6) NULL, doc JSON NULL, data BLOB NULL, note VARCHAR(20) NULL)');
    return 'ok';
});
$id = 0;
step('insert_param', function () use ($c, &$id) {
    $r = q($c, 'INSERT INTO items (name, price, at, doc, data, note) VALUES (?, ?, ?, ?, ?, ?)',
        ['alpha', '12.34', '2024-01-02 03:04:05.678901', '{"k": [1, 2]}', ["\x00\x01\xff"], null]);
    $id = (int)$r[1];
    return 'ok';
});
out('lastrowid', $id > 0 ? 'positive' : (string)$id);
step('select_param', function () use ($c, &$id) { return q($c, 'SELECT name FROM items WHERE id = ?', [$id])[0][0]; });
step('types', function () use ($c, &$id) {
    $r = q($c, 'SELECT price, at, doc, data, note FROM items WHERE id = ?', [$id])[0];
    $r[3] = $r[3] === null ? null : bin2hex($r[3]);
    return implode('|', array_map('fmt', $r)) . '|' . gettype($r[0]);
});
if ($ps) {
    step('prepared', function () use ($c, &$id) {
        $v = [];
        for ($i = 1; $i <= 3; $i++) { $r = q($c, 'SELECT ? + 1, name FROM items WHERE id = ?', [$i, $id])[0]; $v[] = $r[0] . $r[1]; }
        return implode(',', $v);
    });
}
step('multi_insert', function () use ($c) {
    $vals = [];
    for ($i = 101; $i <= 108; $i++) $vals[] = "($i, 'n$i')";
    return x($c, 'INSERT INTO items (id, name) VALUES ' . implode(', ', $vals))[0];
});
step('update_info', function () use ($c) {
    // mysqlnd reads the OK packet's info string (defect 2 of issue 11).
    x($c, "UPDATE items SET note = 'u' WHERE id BETWEEN 101 AND 108");
    return x($c, 'SELECT COUNT(*) FROM items WHERE note = \'u\'')[0][0];
});
step('order_limit', function () use ($c) {
    return implode(',', array_map(fn($r) => $r[0], q($c, 'SELECT id, name FROM items WHERE id BETWEEN ? AND ? ORDER BY name DESC LIMIT 3', [101, 108])));
});
step('dup_1062', function () use ($c) {
    try { q($c, 'INSERT INTO items (id, name) VALUES (?, ?)', [101, 'dup']); return 'no error'; }
    catch (PDOException $e) { return (string)$e->errorInfo[1]; }
    catch (mysqli_sql_exception $e) { return (string)$e->getCode(); }
});
$count = fn($ids) => x($c, "SELECT COUNT(*) FROM items WHERE id IN ($ids)")[0][0];
step('txn', function () use ($c, $count, $driver) {
    $driver === 'pdo' ? $c->beginTransaction() : $c->begin_transaction();
    x($c, "INSERT INTO items (id, name) VALUES (201, 't')");
    $c->rollBack();
    $a = $count('201');
    $driver === 'pdo' ? $c->beginTransaction() : $c->begin_transaction();
    x($c, "INSERT INTO items (id, name) VALUES (202, 't')");
    $c->commit();
    return "$a," . $count('202');
});
step('autocommit_off', function () use ($c, $count, $driver) {
    try {
        $driver === 'pdo' ? $c->setAttribute(PDO::ATTR_AUTOCOMMIT, false) : $c->autocommit(false);
        x($c, "INSERT INTO items (id, name) VALUES (203, 'a')");
        x($c, "INSERT INTO items (id, name) VALUES (204, 'a')");
        $inside = $count('203,204');
        x($c, 'COMMIT');
        return "$inside," . $count('203,204');
    } finally {
        try { x($c, 'ROLLBACK'); } catch (Throwable $e) {}
        $driver === 'pdo' ? $c->setAttribute(PDO::ATTR_AUTOCOMMIT, true) : $c->autocommit(true);
    }
});
step('returning', function () use ($c) {
    return implode(',', array_map(fn($r) => "$r[0]:$r[1]", x($c, "INSERT INTO items (id, name) VALUES (301, 'r1'), (302, 'r2') RETURNING id, name")));
});
step('pool', function () use ($DB) {
    $names = [];
    for ($i = 0; $i < 20; $i++) {
        $k = open($DB);
        $names[q($k, 'SELECT name FROM items WHERE id = ?', [101 + $i % 8])[0][0]] = 1;
        $k = null;
    }
    return count($names);
});
out('restart', 'now');
fgets(STDIN);
step('reconnect', function () use ($c, $DB) {
    try { x($c, 'SELECT 1'); } catch (Throwable $e) { echo "# old connection: " . $e->getMessage() . "\n"; }
    return x(open($DB), 'SELECT COUNT(*) FROM items WHERE id BETWEEN 101 AND 108')[0][0];
});
