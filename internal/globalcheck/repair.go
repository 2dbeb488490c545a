package globalcheck

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"
)

// sessionSQL are the settings repair sessions run with; dry runs print them
// first so that the printed statements do the same.
const sessionSQL = "SET time_zone = '+00:00', sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION', foreign_key_checks = 0"

// repair makes every copy that differs in r equal to the reference there.
// diffs are the differences leafDiff found (nil or empty: none).
func (tc *tableCheck) repair(ctx context.Context, r keyRange, diffs []*rowDiff) error {
	rp := tc.rep.Repair
	rp.Ranges++
	if tc.c.opts.DryRun {
		for i, d := range diffs {
			if d != nil && d.count() > 0 {
				if err := tc.dryRun(ctx, i, r, d); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for attempt := 0; ; attempt++ {
		err := tc.repairOnce(ctx, r, diffs)
		if err == nil {
			break
		}
		if attempt == 0 && retryable(err) {
			continue
		}
		return err
	}
	sums, err := tc.checksums(ctx, r)
	if err != nil {
		return err
	}
	if !sumsEqual(sums) {
		rp.StillDiffering++
	}
	return nil
}

// retryable reports lock wait timeouts and deadlocks.
func retryable(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1205 || me.Number == 1213)
}

// repairOnce reads the reference's rows of r from one snapshot and rewrites
// each differing copy's rows of r in one transaction that first locks them.
func (tc *tableCheck) repairOnce(ctx context.Context, r keyRange, diffs []*rowDiff) error {
	ref := tc.copies[tc.ref]
	refTx, err := ref.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("copy %s: %w", ref.rep.Name, err)
	}
	defer refTx.Rollback()
	refH, err := tc.readHashes(ctx, refTx, ref, r, false)
	if err != nil {
		return err
	}
	for i, d := range diffs {
		if d == nil || d.count() == 0 {
			continue
		}
		if err := tc.repairCopy(ctx, i, r, refTx, refH); err != nil {
			return fmt.Errorf("copy %s: repairing %s: %w", tc.copies[i].rep.Name, r, err)
		}
	}
	return nil
}

func (tc *tableCheck) repairCopy(ctx context.Context, i int, r keyRange, refTx *sql.Tx, refH *hashed) error {
	cp, ref := tc.copies[i], tc.copies[tc.ref]
	tx, err := cp.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	h, err := tc.readHashes(ctx, tx, cp, r, true)
	if err != nil {
		return err
	}
	d := diffHashed(refH, h)
	var deleted, replaced, collateral int64
	stmts := 0
	for keys := d.extra; len(keys) > 0; {
		n := min(len(keys), batchRows)
		s, args, err := cp.t.deleteSQL(keys[:n], false)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s, args...)
		if err != nil {
			return err
		}
		stmts++
		a, _ := res.RowsAffected()
		deleted += a
		keys = keys[n:]
	}
	isDifferent := make(map[string]bool, len(d.different))
	for _, k := range d.different {
		isDifferent[keyString(k)] = true
	}
	keys := append(append([]bound{}, d.missing...), d.different...)
	err = tc.refRowBatches(ctx, refTx, keys, func(rows [][][]byte) error {
		s, args, err := cp.t.replaceSQL(rows, false)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s, args...)
		if err != nil {
			return err
		}
		stmts++
		a, _ := res.RowsAffected()
		// REPLACE counts a deleted and an inserted row for every row it
		// overwrote: more than that removed rows conflicting on other
		// unique keys.
		want := int64(0)
		for _, row := range rows {
			want++
			if isDifferent[keyString(rowKey(ref.t, row))] {
				want++
			}
		}
		replaced += int64(len(rows))
		if a > want {
			collateral += a - want
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	cp.rep.Deleted += deleted
	cp.rep.Replaced += replaced
	cp.rep.Collateral += collateral
	tc.rep.Repair.Statements += stmts
	return nil
}

// rowKey extracts the key values of a whole row.
func rowKey(t *table, row [][]byte) bound {
	k := make(bound, len(t.Key))
	for j, ci := range t.Key {
		k[j] = row[ci]
	}
	return k
}

// refRowBatches reads the reference's rows with the given keys and passes
// them to f in batches bounded in rows and bytes.
func (tc *tableCheck) refRowBatches(ctx context.Context, q querier, keys []bound, f func(rows [][][]byte) error) error {
	ref := tc.copies[tc.ref]
	for len(keys) > 0 {
		n := min(len(keys), batchRows)
		rows, err := tc.fetchRows(ctx, q, ref, keys[:n])
		if err != nil {
			return err
		}
		var batch [][][]byte
		size := 0
		for _, k := range keys[:n] {
			row := rows[keyString(k)]
			if row == nil {
				continue // gone from the reference since
			}
			rs := 0
			for _, v := range row {
				rs += len(v) + 8
			}
			if len(batch) > 0 && size+rs > batchBytes {
				if err := f(batch); err != nil {
					return err
				}
				batch, size = nil, 0
			}
			batch = append(batch, row)
			size += rs
		}
		if len(batch) > 0 {
			if err := f(batch); err != nil {
				return err
			}
		}
		keys = keys[n:]
	}
	return nil
}

// dryRun prints the statements that would make copy i equal to the
// reference in r.
func (tc *tableCheck) dryRun(ctx context.Context, i int, r keyRange, d *rowDiff) error {
	cp, ref := tc.copies[i], tc.copies[tc.ref]
	w := tc.c.opts.Statements
	fmt.Fprintf(w, "-- %s: copy %s on %s (%s), key range %s: make equal to %s\n",
		tc.rep.Table, cp.rep.Name, cp.rep.Addr, cp.t.ref(), r, ref.rep.Name)
	fmt.Fprintf(w, "%s;\nSTART TRANSACTION;\n", sessionSQL)
	for keys := d.extra; len(keys) > 0; {
		n := min(len(keys), batchRows)
		s, _, _ := cp.t.deleteSQL(keys[:n], true)
		fmt.Fprintf(w, "%s;\n", s)
		tc.rep.Repair.Statements++
		cp.rep.Deleted += int64(n)
		keys = keys[n:]
	}
	keys := append(append([]bound{}, d.missing...), d.different...)
	err := tc.refRowBatches(ctx, ref.db, keys, func(rows [][][]byte) error {
		s, _, err := cp.t.replaceSQL(rows, true)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s;\n", s)
		tc.rep.Repair.Statements++
		cp.rep.Replaced += int64(len(rows))
		return nil
	})
	fmt.Fprintf(w, "COMMIT;\n")
	return err
}
