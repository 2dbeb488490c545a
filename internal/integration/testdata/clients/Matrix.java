// Client matrix scenario for MariaDB Connector/J (useServerPrepStmts from
// MX_PS). Prints "cell: value" lines; see internal/integration/matrix_test.go.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.math.BigDecimal;
import java.sql.*;
import java.util.*;

public class Matrix {
    static final Map<String, String> E = System.getenv();
    static final String DB = E.get("MX_DB");

    interface Step { Object run() throws Exception; }

    static void out(String cell, Object v) { System.out.println(cell + ": " + v); System.out.flush(); }

    static void step(String cell, Step s) {
        try {
            out(cell, s.run());
        } catch (SQLException e) {
            System.out.println("# " + e);
            out(cell, "ERROR " + e.getErrorCode());
        } catch (Exception e) {
            System.out.println("# " + e);
            out(cell, "ERROR " + e);
        }
    }

    static String url(String db, boolean tls) {
        String u = "jdbc:mariadb://" + E.get("MX_HOST") + ":" + E.get("MX_PORT") + "/" + (db == null ? "" : db)
            + "?user=" + E.get("MX_USER") + "&password=" + E.get("MX_PASS")
            + "&useServerPrepStmts=" + ("1".equals(E.get("MX_PS")) ? "true" : "false");
        if (tls) u += "&useSsl=true&trustServerCertificate=true";
        return u;
    }

    static String fmt(Object v) {
        if (v == null) return "NULL";
        if (v instanceof byte[]) {
            StringBuilder b = new StringBuilder();
            for (byte x : (byte[]) v) b.append(String.format("%02x", x));
            return b.toString();
        }
        return v.toString();
    }

    static Connection c;

    static long count(String ids) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT COUNT(*) FROM items WHERE id IN (" + ids + ")")) {
            r.next();
            return r.getLong(1);
        }
    }

    static void exec(String sql) throws SQLException {
        try (Statement s = c.createStatement()) { s.execute(sql); }
    }

    public static void main(String[] args) throws Exception {
        String mode = E.get("MX_MODE");
        if (mode.equals("tls") || mode.equals("connect")) {
            step("connect", () -> {
                String db = DB == null || DB.isEmpty() ? null : DB;
                try (Connection x = DriverManager.getConnection(url(db, mode.equals("tls")) + "&allowPublicKeyRetrieval=true");
                     Statement s = x.createStatement(); ResultSet r = s.executeQuery("SELECT 1")) {
                    r.next();
                    return r.getInt(1) == 1 ? "ok" : "bad";
                }
            });
            return;
        }
        step("connect", () -> { c = DriverManager.getConnection(url(null, false)); return "ok"; });
        step("use", () -> {
            exec("USE " + DB);
            try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT DATABASE()")) {
                r.next();
                return DB.equals(r.getString(1)) ? "ok" : "wrong database";
            }
        });
        step("ddl", () -> {
            exec("DROP TABLE IF EXISTS items");
            exec("CREATE TABLE items (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL,"
                + " price DECIMAL(10,2) NULL, at DATETIME(6) NULL, doc JSON NULL, data BLOB NULL, note VARCHAR(20) NULL)");
            return "ok";
        });
        long[] id = {0};
        step("insert_param", () -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO items (name, price, at, doc, data, note) VALUES (?, ?, ?, ?, ?, ?)",
                    Statement.RETURN_GENERATED_KEYS)) {
                p.setString(1, "alpha");
                p.setBigDecimal(2, new BigDecimal("12.34"));
                p.setTimestamp(3, Timestamp.valueOf("2024-01-02 03:04:05.678901"));
                p.setString(4, "{\"k\": [1, 2]}");
                p.setBytes(5, new byte[] {0, 1, (byte) 255});
                p.setNull(6, Types.VARCHAR);
                p.executeUpdate();
                try (ResultSet k = p.getGeneratedKeys()) {
                    if (k.next()) id[0] = k.getLong(1);
                }
            }
            return "ok";
        });
        out("lastrowid", id[0] > 0 ? "positive" : String.valueOf(id[0]));
        step("select_param", () -> {
            try (PreparedStatement p = c.prepareStatement("SELECT name FROM items WHERE id = ?")) {
                p.setLong(1, id[0]);
                try (ResultSet r = p.executeQuery()) { r.next(); return r.getString(1); }
            }
        });
        step("types", () -> {
            try (PreparedStatement p = c.prepareStatement("SELECT price, at, doc, data, note FROM items WHERE id = ?")) {
                p.setLong(1, id[0]);
                try (ResultSet r = p.executeQuery()) {
                    r.next();
                    List<String> v = new ArrayList<>();
                    for (int i = 1; i <= 5; i++) v.add(fmt(r.getObject(i)));
                    return String.join("|", v);
                }
            }
        });
        if ("1".equals(E.get("MX_PS"))) {
            step("prepared", () -> {
                List<String> v = new ArrayList<>();
                try (PreparedStatement p = c.prepareStatement("SELECT ? + 1, name FROM items WHERE id = ?")) {
                    for (int i = 1; i <= 3; i++) {
                        p.setInt(1, i);
                        p.setLong(2, id[0]);
                        try (ResultSet r = p.executeQuery()) { r.next(); v.add(r.getString(1) + r.getString(2)); }
                    }
                }
                return String.join(",", v);
            });
        }
        step("multi_insert", () -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO items (id, name) VALUES (?, ?)")) {
                for (int i = 101; i <= 108; i++) { p.setInt(1, i); p.setString(2, "n" + i); p.addBatch(); }
                int n = 0;
                for (int x : p.executeBatch()) n += x;
                return n;
            }
        });
        step("order_limit", () -> {
            List<String> v = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT id, name FROM items WHERE id BETWEEN ? AND ? ORDER BY name DESC LIMIT 3")) {
                p.setInt(1, 101);
                p.setInt(2, 108);
                try (ResultSet r = p.executeQuery()) { while (r.next()) v.add(r.getString(1)); }
            }
            return String.join(",", v);
        });
        step("dup_1062", () -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO items (id, name) VALUES (?, ?)")) {
                p.setInt(1, 101);
                p.setString(2, "dup");
                p.executeUpdate();
                return "no error";
            } catch (SQLException e) {
                return String.valueOf(e.getErrorCode());
            }
        });
        step("txn", () -> {
            exec("BEGIN");
            exec("INSERT INTO items (id, name) VALUES (201, 't')");
            exec("ROLLBACK");
            long a = count("201");
            exec("START TRANSACTION");
            exec("INSERT INTO items (id, name) VALUES (202, 't')");
            exec("COMMIT");
            return a + "," + count("202");
        });
        step("autocommit_off", () -> {
            try {
                c.setAutoCommit(false);
                exec("INSERT INTO items (id, name) VALUES (203, 'a')");
                exec("INSERT INTO items (id, name) VALUES (204, 'a')");
                long inside = count("203,204");
                c.commit();
                return inside + "," + count("203,204");
            } finally {
                try { c.rollback(); } catch (SQLException e) { /* already ended */ }
                c.setAutoCommit(true);
            }
        });
        step("returning", () -> {
            List<String> v = new ArrayList<>();
            try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("INSERT INTO items (id, name) VALUES (301, 'r1'), (302, 'r2') RETURNING id, name")) {
                while (r.next()) v.add(r.getString(1) + ":" + r.getString(2));
            }
            return String.join(",", v);
        });
        step("pool", () -> {
            Set<String> names = new HashSet<>();
            for (int i = 0; i < 20; i++) {
                try (Connection x = DriverManager.getConnection(url(DB, false) + "&pool=true&maxPoolSize=3&poolName=mx" + E.get("MX_TARGET"));
                     PreparedStatement p = x.prepareStatement("SELECT name FROM items WHERE id = ?")) {
                    p.setInt(1, 101 + i % 8);
                    try (ResultSet r = p.executeQuery()) { r.next(); names.add(r.getString(1)); }
                }
            }
            return names.size();
        });
        out("restart", "now");
        new BufferedReader(new InputStreamReader(System.in)).readLine();
        step("reconnect", () -> {
            try { exec("SELECT 1"); } catch (SQLException e) { System.out.println("# old connection: " + e.getErrorCode()); }
            try (Connection x = DriverManager.getConnection(url(DB, false));
                 Statement s = x.createStatement(); ResultSet r = s.executeQuery("SELECT COUNT(*) FROM items WHERE id BETWEEN 101 AND 108")) {
                r.next();
                return r.getLong(1);
            }
        });
        System.exit(0);
    }
}
