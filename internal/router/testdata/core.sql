--- Golden cases for router.Analyze / router.Decide.
--- Cases are separated by lines containing only ";;". Lines starting with
--- "--- " are section notes for the reader (copied into core.golden, never
--- sent to the parser). A case that is empty after removing notes is the
--- empty query. Regenerate core.golden: go test ./internal/router -update
--- === plain and complex SELECT ===
SELECT 1
;;
SELECT * FROM t WHERE id = 1
;;
select c from sbtest1 where id=10
;;
SELECT 1 FROM DUAL
;;
SELECT a.id, b.name
FROM a
JOIN b ON b.a_id = a.id
LEFT JOIN c ON c.b_id = b.id
WHERE a.x > 10
ORDER BY a.id
LIMIT 10
;;
SELECT * FROM t WHERE id IN (SELECT t_id FROM u WHERE u.x = 1)
;;
SELECT * FROM (SELECT id, COUNT(*) AS n FROM t GROUP BY id) AS d WHERE d.n > 1
;;
SELECT id FROM a UNION SELECT id FROM b
;;
SELECT id FROM a UNION ALL SELECT id FROM b ORDER BY id LIMIT 5
;;
(SELECT id FROM a) EXCEPT (SELECT id FROM b)
;;
WITH recent AS (SELECT * FROM orders WHERE created > NOW() - INTERVAL 1 DAY)
SELECT customer_id, COUNT(*) FROM recent GROUP BY customer_id
;;
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 10) SELECT n FROM seq
;;
SELECT id, ROW_NUMBER() OVER (PARTITION BY grp ORDER BY ts) AS rn FROM events
;;
SELECT id, SUM(amount) OVER w FROM payments WINDOW w AS (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
;;
SELECT NOW(), UUID(), SLEEP(0)
;;
TABLE t
;;
SELECT @@session.sql_mode, @@autocommit
;;
SELECT @@IDENTITY
;;
SELECT @@last_insert_id
;;
SELECT CONNECTION_ID()
;;
SELECT NEXTVAL(seq1)
;;
--- === locking reads ===
SELECT * FROM t WHERE id = 1 FOR UPDATE
;;
SELECT * FROM t WHERE id = 1 LOCK IN SHARE MODE
;;
SELECT * FROM t WHERE id = 1 FOR SHARE
;;
SELECT * FROM t WHERE id = 1 FOR UPDATE NOWAIT
;;
SELECT * FROM t WHERE id = 1 FOR UPDATE SKIP LOCKED
;;
WITH c AS (SELECT * FROM t) SELECT * FROM c FOR UPDATE
;;
(SELECT id FROM a FOR UPDATE) UNION (SELECT id FROM b)
;;
SELECT id FROM a UNION SELECT id FROM b FOR UPDATE
;;
SELECT * FROM t WHERE id IN (SELECT id FROM u FOR UPDATE)
;;
--- === SELECT INTO ===
SELECT c INTO @v FROM t WHERE id = 1
;;
SELECT c FROM t WHERE id = 1 INTO @v
;;
SELECT * FROM t INTO OUTFILE '/tmp/t.csv'
;;
SELECT * FROM t INTO DUMPFILE '/tmp/t.bin'
;;
--- === SQL_CALC_FOUND_ROWS, FOUND_ROWS(), ROW_COUNT() ===
SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 10
;;
SELECT SQL_CALC_FOUND_ROWS id FROM a UNION SELECT id FROM b LIMIT 10
;;
SELECT FOUND_ROWS()
;;
SELECT ROW_COUNT()
;;
--- ROW_COUNT() inside another statement: a pooled connection does not know it
SELECT ROW_COUNT() + 0, id FROM t
;;
INSERT INTO audit (n) VALUES (ROW_COUNT())
;;
--- in one multi-statement query, the previous statement ran on the same connection
UPDATE t SET a = 1; SELECT ROW_COUNT()
;;
--- === user variables ===
SELECT @x := 1
;;
SELECT @rn := @rn + 1 AS rn, id FROM t
;;
SELECT @x
;;
SELECT * FROM t WHERE id = @id
;;
--- === named locks ===
SELECT GET_LOCK('job', 10)
;;
SELECT RELEASE_LOCK('job')
;;
SELECT IS_FREE_LOCK('job')
;;
SELECT IS_USED_LOCK('job')
;;
SELECT RELEASE_ALL_LOCKS()
;;
SELECT * FROM t WHERE GET_LOCK(CONCAT('t', id), 0) = 1
;;
--- === LAST_INSERT_ID() ===
SELECT LAST_INSERT_ID()
;;
select last_insert_id()
;;
SELECT LAST_INSERT_ID() AS id
;;
SELECT last_insert_id() id
;;
SELECT LAST_INSERT_ID()  ;
;;
SELECT LAST_INSERT_ID() FROM DUAL
;;
SELECT LAST_INSERT_ID() LIMIT 0
;;
SELECT LAST_INSERT_ID(), 1
;;
SELECT LAST_INSERT_ID(42)
;;
SELECT * FROM t WHERE id = LAST_INSERT_ID()
;;
INSERT INTO child (parent_id, v) VALUES (LAST_INSERT_ID(), 'x')
;;
/*+ replica */ SELECT LAST_INSERT_ID()
;;
--- === routing hints ===
/*master*/ SELECT * FROM t WHERE id = 1
;;
/* master */ SELECT * FROM t
;;
/*MASTER*/ SELECT * FROM t
;;
SELECT /*+ primary */ * FROM t
;;
/*+ replica */ SELECT * FROM t
;;
/*+ slave */ SELECT * FROM t
;;
SELECT /*+ replica */ * FROM t
;;
SELECT /*+ MAX_EXECUTION_TIME(10) */ * FROM t
;;
SELECT /*+ replica MAX_EXECUTION_TIME(10) */ * FROM t
;;
/* app=web */ /*+ replica */ SELECT * FROM t
;;
-- leading line comment
/*+ replica */ SELECT * FROM t
;;
SELECT * FROM t /*+ replica */
;;
/*+ replica */ SELECT * FROM t WHERE id = 1 FOR UPDATE
;;
/*+ replica */ SELECT @x := 1
;;
/*+ replica */ DELETE FROM t WHERE id = 1
;;
UPDATE /*+ replica */ t SET c = 1 WHERE id = 1
;;
/*+ replica */ SELECT 1; DELETE FROM t
;;
/*+ replica */ START TRANSACTION READ ONLY
;;
/*master*/ START TRANSACTION READ ONLY
;;
/*+ primary */ SET @a = 1
;;
--- === versioned comments ===
/*!40101 SET NAMES utf8 */
;;
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */
;;
/*!40014 SET FOREIGN_KEY_CHECKS=0 */
;;
SELECT /*!40001 SQL_NO_CACHE */ * FROM t
;;
--- === INSERT / REPLACE / UPDATE / DELETE ===
INSERT INTO t (a, b) VALUES (1, 2), (3, 4)
;;
INSERT INTO t SET a = 1, b = 2
;;
INSERT IGNORE INTO t (a) VALUES (1)
;;
INSERT INTO t (a, b) VALUES (1, 2) ON DUPLICATE KEY UPDATE b = VALUES(b) + 1
;;
INSERT INTO archive SELECT * FROM t WHERE created < '2020-01-01'
;;
INSERT INTO t (a) VALUES (@v)
;;
REPLACE INTO t (a, b) VALUES (1, 2)
;;
UPDATE t SET c = c + 1 WHERE id = 1
;;
UPDATE a JOIN b ON a.id = b.a_id SET a.x = b.y WHERE b.z = 1
;;
UPDATE t SET c = (@old := c) + 1 WHERE id = 1
;;
DELETE FROM t WHERE id = 1
;;
DELETE a, b FROM a JOIN b ON a.id = b.a_id WHERE a.x = 1
;;
DELETE FROM t ORDER BY id LIMIT 100
;;
WITH old AS (SELECT id FROM t WHERE x < 5) DELETE FROM t WHERE id IN (SELECT id FROM old)
;;
--- === SET ===
SET sql_mode = 'STRICT_TRANS_TABLES'
;;
SET SESSION wait_timeout = 100
;;
SET @@session.time_zone = '+00:00'
;;
SET @@time_zone = 'UTC'
;;
SET LOCAL sql_safe_updates = 1
;;
SET GLOBAL max_connections = 1000
;;
SET @@global.read_only = 1
;;
SET @a = 1
;;
SET @a := 1, @b = 'x'
;;
SET NAMES utf8mb4
;;
SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci
;;
SET CHARACTER SET utf8
;;
SET CHARSET latin1
;;
SET TRANSACTION ISOLATION LEVEL READ COMMITTED
;;
SET TRANSACTION READ ONLY
;;
SET TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE
;;
SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ
;;
SET SESSION TRANSACTION READ ONLY
;;
SET GLOBAL TRANSACTION ISOLATION LEVEL READ COMMITTED
;;
SET autocommit = 0
;;
SET autocommit = 1
;;
SET @a = 1, sql_mode = ''
;;
SET sql_mode = @saved_mode
;;
SET ROLE ALL
;;
SET PASSWORD = 'secret'
;;
--- === USE ===
USE shop
;;
use `order-db`
;;
--- === transactions ===
BEGIN
;;
BEGIN WORK
;;
START TRANSACTION
;;
START TRANSACTION READ ONLY
;;
START TRANSACTION READ WRITE
;;
START TRANSACTION WITH CONSISTENT SNAPSHOT
;;
START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY
;;
COMMIT
;;
COMMIT AND CHAIN
;;
ROLLBACK
;;
ROLLBACK WORK
;;
SAVEPOINT sp1
;;
ROLLBACK TO SAVEPOINT sp1
;;
ROLLBACK TO sp1
;;
RELEASE SAVEPOINT sp1
;;
XA START 'x'
;;
XA END 'x'
;;
XA COMMIT 'x'
;;
--- === DDL ===
CREATE TABLE t2 (id INT PRIMARY KEY, c VARCHAR(10))
;;
CREATE TABLE IF NOT EXISTS t3 LIKE t2
;;
CREATE TABLE t4 AS SELECT * FROM t
;;
CREATE TEMPORARY TABLE tmp (id INT)
;;
CREATE TEMPORARY TABLE tmp2 AS SELECT id FROM t
;;
DROP TEMPORARY TABLE tmp
;;
DROP TEMPORARY TABLE IF EXISTS tmp
;;
ALTER TABLE t ADD COLUMN d INT
;;
DROP TABLE t2
;;
TRUNCATE TABLE t
;;
TRUNCATE t
;;
CREATE INDEX idx_c ON t (c)
;;
DROP INDEX idx_c ON t
;;
CREATE DATABASE shop2
;;
DROP DATABASE shop2
;;
RENAME TABLE t TO t_old, t_new TO t
;;
CREATE VIEW v AS SELECT id FROM t
;;
CREATE OR REPLACE VIEW v AS SELECT id, c FROM t
;;
CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.c = 1
;;
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.c = 1 */
;;
CREATE PROCEDURE p() BEGIN SELECT 1; END
;;
ANALYZE TABLE t
;;
--- === SHOW / DESCRIBE / EXPLAIN ===
SHOW TABLES
;;
SHOW DATABASES
;;
SHOW CREATE TABLE t
;;
SHOW VARIABLES LIKE 'max%'
;;
SHOW SESSION STATUS
;;
SHOW WARNINGS
;;
SHOW PROCESSLIST
;;
SHOW FULL COLUMNS FROM t
;;
DESCRIBE t
;;
DESC t
;;
EXPLAIN SELECT * FROM t WHERE id = 1
;;
EXPLAIN FORMAT=JSON SELECT * FROM t
;;
EXPLAIN ANALYZE SELECT * FROM t
;;
EXPLAIN DELETE FROM t WHERE id = 1
;;
--- === table locks ===
LOCK TABLES t READ
;;
LOCK TABLES t WRITE, u READ
;;
LOCK TABLE t READ LOCAL
;;
UNLOCK TABLES
;;
UNLOCK TABLE
;;
FLUSH TABLES WITH READ LOCK
;;
FLUSH TABLES t WITH READ LOCK
;;
LOCK INSTANCE FOR BACKUP
;;
--- === text prepared statements ===
PREPARE s1 FROM 'SELECT * FROM t WHERE id = ?'
;;
PREPARE s2 FROM @sql
;;
EXECUTE s1 USING @id
;;
EXECUTE s1
;;
DEALLOCATE PREPARE s1
;;
DROP PREPARE s1
;;
--- === LOAD DATA ===
LOAD DATA INFILE '/var/lib/mysql-files/t.csv' INTO TABLE t FIELDS TERMINATED BY ','
;;
LOAD DATA LOCAL INFILE '/home/me/t.csv' INTO TABLE t
;;
--- === KILL ===
KILL 5
;;
KILL QUERY 7
;;
KILL CONNECTION 9
;;
KILL 18446744073709551615
;;
KILL 5 + 0
;;
KILL CONNECTION_ID()
;;
KILL QUERY CONNECTION_ID()
;;
--- === CALL / DO / HANDLER ===
CALL refresh_stats()
;;
CALL p(@out)
;;
DO 1
;;
DO SLEEP(1)
;;
DO GET_LOCK('x', 1)
;;
DO @a := 5
;;
HANDLER t OPEN
;;
--- === multi-statements ===
SELECT 1; SELECT 2
;;
SET @a=1; SELECT @a
;;
SELECT 1;
SELECT 2;
;;
BEGIN; UPDATE t SET c = 1 WHERE id = 1; COMMIT
;;
START TRANSACTION READ ONLY; SELECT * FROM t
;;
SELECT 1; LOCK TABLES t WRITE
;;
SELECT 1; PREPARE s FROM 'SELECT 1'
;;
LOCK TABLES t WRITE; UNLOCK TABLES
;;
USE a; USE b
;;
SELECT 1; KILL 5
;;
SELECT 1; LOAD DATA LOCAL INFILE 'x' INTO TABLE t
;;
SELECT 'a;b'; SELECT "c;d"
;;
--- === MariaDB-only / syntax the TiDB parser rejects ===
INSERT INTO t (a) VALUES (1) RETURNING id
;;
DELETE FROM t WHERE id = 1 RETURNING *
;;
SELECT * FROM t FOR SYSTEM_TIME AS OF TIMESTAMP '2024-01-01 00:00:00'
;;
SET STATEMENT max_statement_time=1 FOR SELECT 1
;;
SELECT 1 FROM t WHERE id = 1 FOR UPDATE WAIT 5
;;
--- === empty, comments, garbage ===
;;
;
;;
/* just a comment */
;;
-- just a line comment
;;
# hash comment
;;
hello world
;;
SELEKT * FROM t
;;
SELECT * FROM
;;
/* unterminated comment SELECT 1
;;
)(*&^%
;;
--- read consistency (answered by the proxy)
;;
SET SESSION switchyard_read_consistency = 'session'
;;
SET aurora_replica_read_consistency = 'global'
;;
SET GLOBAL switchyard_read_consistency = 'session'
;;
SET switchyard_read_consistency = 'session', autocommit = 0
;;
SELECT @@switchyard_read_consistency
