--- routed by key
SELECT * FROM t_user WHERE id = 5
;;
SELECT name FROM t_user WHERE id = 6 AND name LIKE 'a%'
;;
SELECT t_user.name FROM shop.t_user WHERE t_user.id = 7
;;
SELECT * FROM t_user u WHERE u.id IN (1, 5, 9)
;;
SELECT * FROM t_user WHERE id IN (1, 2)
;;
SELECT * FROM t_user WHERE id = 1 AND id = 2
;;
SELECT * FROM t_user WHERE id = -1
;;
SELECT * FROM t_user WHERE id = 'abc'
;;
SELECT * FROM t_order WHERE user_id = 3 ORDER BY id LIMIT 10
;;
SELECT * FROM t_event WHERE created = '2024-08-15 10:00:00'
;;
UPDATE t_user SET name = 'x' WHERE id = 10
;;
DELETE FROM t_user WHERE id = 11
;;
INSERT INTO t_user (id, name) VALUES (12, 'a')
;;
INSERT INTO t_user (id, name) VALUES (1, 'a'), (5, 'b')
;;
INSERT INTO t_user SET id = 13, name = 'c'
;;
REPLACE INTO t_order (id, user_id) VALUES (100, 3)
;;
--- global tables
SELECT * FROM t_region WHERE id = 1
;;
INSERT INTO t_region VALUES (1, 'north')
;;
--- DDL fan-out
CREATE TABLE t_user (id BIGINT PRIMARY KEY, name VARCHAR(20))
;;
ALTER TABLE t_user ADD COLUMN age INT
;;
TRUNCATE TABLE t_order
;;
CREATE INDEX idx_name ON t_user (name)
;;
DROP TABLE t_region
;;
--- refused (precise errors, never a wrong answer)
SELECT * FROM t_user
;;
SELECT COUNT(*) FROM t_user WHERE name = 'x'
;;
SELECT * FROM t_user WHERE id IN (1, 2, 3)
;;
SELECT * FROM t_user u JOIN t_order o ON u.id = o.user_id WHERE u.id = 1
;;
UPDATE t_user SET id = 5 WHERE id = 4
;;
INSERT INTO t_user (id, name) VALUES (1, 'a'), (2, 'b')
;;
INSERT INTO t_user (name) VALUES ('no key')
;;
INSERT INTO t_region VALUES (2, 'south')
;;
DELETE FROM t_user
;;
SELECT 1; SELECT * FROM t_user WHERE id = 1
;;
--- unlisted tables go to the default slice unchanged
SELECT * FROM t_plain WHERE id = 1
;;
--- scatter and merge
SELECT * FROM t_user
;;
SELECT * FROM t_user WHERE id IN (1, 2)
;;
SELECT * FROM t_user WHERE id = 1 OR id = 2
;;
SELECT * FROM t_user WHERE (id = 1 OR id IN (5, 9)) AND name = 'x'
;;
SELECT id, name FROM t_user ORDER BY name DESC, id LIMIT 5, 10
;;
SELECT * FROM t_user ORDER BY name LIMIT 3
;;
SELECT name FROM t_user ORDER BY id
;;
SELECT count(*) FROM t_user
;;
SELECT COUNT(*), SUM(id), MIN(name), MAX(id), AVG( id ) FROM t_user
;;
SELECT name, count(*) AS n FROM t_user GROUP BY name
;;
SELECT name, count(*) AS n FROM t_user GROUP BY name HAVING n > 1 AND max(id) < 100 ORDER BY n DESC LIMIT 2
;;
SELECT name, avg(id) FROM t_user GROUP BY 1 ORDER BY 1 DESC
;;
SELECT count(DISTINCT name), max(id) FROM t_user
;;
SELECT count(DISTINCT name), count(*) FROM t_user
;;
SELECT DISTINCT name FROM t_user ORDER BY name LIMIT 10
;;
SELECT name, GROUP_CONCAT(id SEPARATOR ';') FROM t_user GROUP BY name
;;
SELECT sum(id) + 1 FROM t_user
;;
SELECT name, count(*) FROM t_user GROUP BY name WITH ROLLUP
;;
SELECT u.name FROM t_user u WHERE u.name LIKE 'a%' ORDER BY u.id LIMIT 1
;;
--- EXPLAIN and DESCRIBE
EXPLAIN SELECT name, count(*) FROM t_user GROUP BY name
;;
EXPLAIN SELECT * FROM t_user WHERE id = 3
;;
DESCRIBE t_user
;;
--- joins and subqueries
SELECT u.name, o.amount FROM t_user u JOIN t_order o ON o.user_id = u.id WHERE u.id = 5
;;
SELECT u.name, o.amount FROM t_user u JOIN t_order o ON o.user_id = u.id WHERE o.user_id IN (1, 2)
;;
SELECT u.name, SUM(o.amount) AS total FROM t_user u JOIN t_order o ON o.user_id = u.id GROUP BY u.name ORDER BY total DESC LIMIT 3
;;
SELECT u.name, r.name FROM t_user u JOIN t_region r ON r.id = u.id WHERE u.id = 6
;;
SELECT * FROM t_user u JOIN t_order o ON o.amount = u.id
;;
SELECT * FROM t_user WHERE id IN (SELECT user_id FROM t_order WHERE amount > 10)
;;
SELECT * FROM t_user u, t_order o WHERE u.id = o.user_id AND u.id = 9
;;
SELECT * FROM t_user u JOIN t_event e ON e.created = u.id
;;
SELECT * FROM t_user u JOIN t_plain p ON p.id = u.id
;;
SELECT * FROM t_region r1 JOIN t_region r2 ON r1.id = r2.id
;;
--- range pruning
SELECT * FROM t_event WHERE created BETWEEN '2024-02-01' AND '2024-03-15'
;;
SELECT COUNT(*) FROM t_event WHERE created >= '2024-11-01'
;;
--- metadata
SHOW TABLES
;;
SHOW FULL TABLES FROM shop LIKE 't\_%'
;;
SHOW CREATE TABLE t_user
;;
SHOW COLUMNS FROM t_order
;;
SHOW INDEX FROM t_user
;;
SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'shop' AND table_name = 't_user'
;;
SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'shop' AND table_name = 't_order' ORDER BY ordinal_position
;;
--- writes over several tables, sequences
INSERT INTO t_user (id, name) VALUES (1, 'a'), (2, 'b'), (5, 'c')
;;
UPDATE t_user SET name = 'x' WHERE id IN (1, 2)
;;
UPDATE t_user SET name = 'x' WHERE name = 'y' LIMIT 1
;;
DELETE FROM t_order WHERE amount > 5
;;
UPDATE t_region SET name = 'n' WHERE id = 1
;;
INSERT INTO t_seq (name) VALUES ('a'), ('b'), ('c')
;;
INSERT INTO t_seq (id, name) VALUES (NULL, 'a'), (7, 'b')
;;
INSERT INTO t_seq SET name = 'z'
;;
--- qualified wildcards and aliases
SELECT t_user.* FROM t_user WHERE id = 1
;;
SELECT t_user.id, t_user.name FROM t_user t_user WHERE t_user.id = 2
;;
SELECT u.* FROM t_user u ORDER BY u.id LIMIT 2
;;
SELECT * FROM t_user ORDER BY 2 DESC, 1 LIMIT 3
;;
--- databases
CREATE DATABASE IF NOT EXISTS shop
;;
DROP DATABASE shop
;;
CREATE DATABASE other
;;
--- two-key inline tables (database key user_id, table key order_id)
SELECT * FROM t_ord WHERE user_id = 1 AND order_id = 3
;;
SELECT * FROM t_ord WHERE order_id = 3
;;
SELECT o.order_id, i.item FROM t_ord o JOIN t_ord_item i ON o.order_id = i.order_id
;;
SELECT o.order_id, i.item FROM t_ord o JOIN t_ord_item i ON o.order_id = i.order_id AND o.user_id = i.user_id WHERE o.user_id = 1
;;
SELECT o.order_id FROM t_ord o JOIN t_ord_item i USING (order_id, user_id) WHERE o.user_id = 1 AND o.order_id = 3
;;
SELECT o.order_id FROM t_ord o JOIN t_ord_item i USING (order_id) WHERE o.order_id = 3
;;
INSERT INTO t_ord (user_id, order_id, v) VALUES (1, 3, 'x'), (2, 3, 'y')
;;
SHOW DATABASES
;;
SHOW DATABASES LIKE 'sh%'
;;
--- subqueries and derived tables over one sharded table
SELECT (SELECT COUNT(*) FROM t_user) AS n
;;
SELECT * FROM (SELECT COUNT(*) c FROM t_user) d
;;
SELECT * FROM (SELECT * FROM t_user WHERE id = 3) d
;;
SELECT (SELECT name FROM t_user WHERE id = 5) AS n
;;
SELECT id FROM t_user WHERE name = @n
;;
SELECT @x := id FROM t_user WHERE id = 5
;;
SELECT id FROM t_user ORDER BY id LIMIT 5, 18446744073709551615
;;
--- global tables in queries over several shards
SELECT r.name, u.id FROM t_region r LEFT JOIN t_user u ON u.id = r.id
;;
SELECT u.id, r.name FROM t_user u JOIN t_region r ON r.id = u.id
;;
SELECT * FROM t_region r WHERE NOT EXISTS (SELECT 1 FROM t_user u WHERE u.id = r.id)
;;
SELECT * FROM t_region WHERE id IN (SELECT id FROM t_user)
;;
WITH x AS (SELECT COUNT(*) c FROM t_user) SELECT c FROM x
;;
SELECT name, AVG(id) * 2, IFNULL(SUM(id), 0), ROUND(AVG(id), 2), CASE WHEN COUNT(*) > 1 THEN 'many' ELSE 'one' END FROM t_user GROUP BY name
;;
SELECT COUNT(*) FROM t_user GROUP BY name HAVING name >= 0x41
;;
SELECT COUNT(*) FROM t_user GROUP BY name HAVING id > 1
;;
SELECT 'user is user', id FROM t_user
;;
SELECT name AS id, COUNT(*) FROM t_user GROUP BY id
