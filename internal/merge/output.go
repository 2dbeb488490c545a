package merge

// onFolded takes one folded row (a physical row when the plan does not
// group) through Output, Having, DISTINCT, the sort and Offset/Limit.
func (m *merger) onFolded(row []byte, fs []field, g *group) error {
	orow, ofs := row, fs
	m.env.prow, m.env.pfield, m.env.g = row, fs, g
	if !m.identity {
		b := m.obuf[:0]
		ofs = m.ofields[:0]
		m.env.row, m.env.fields, m.env.specs = row, fs, m.specs
		for _, n := range m.outputs {
			var f field
			if n.op == nCol {
				src := fs[n.i]
				b, f = appendCol(b, row[src.start:src.end], src.null)
			} else {
				v, err := n.eval(&m.env)
				if err != nil {
					return err
				}
				b, f = appendVal(b, v, &n.t)
			}
			ofs = append(ofs, f)
		}
		m.obuf, m.ofields = b, ofs
		orow = b
	}
	if m.having != nil {
		m.env.row, m.env.fields, m.env.specs = orow, ofs, m.outSpecs
		v, err := m.having.eval(&m.env)
		if err != nil {
			return err
		}
		if v.k == vNull || !truth(v) {
			return nil
		}
	}
	if m.seen != nil {
		key := m.keyBuf[:0]
		for i := 0; i < m.visible; i++ {
			f := ofs[i]
			key = m.outSpecs[i].appendKeyCol(key, orow[f.start:f.end], f.null)
		}
		m.keyBuf = key
		if _, dup := m.seen[string(key)]; dup {
			return nil
		}
		if err := m.bud.take(1, int64(len(key))+rowOverhead); err != nil {
			return err
		}
		m.seen[string(key)] = struct{}{}
	}
	if m.sort != nil {
		return m.sort.add(orow, ofs)
	}
	return m.out(orow, ofs)
}

// out applies Offset/Limit and emits the visible columns of a row. It
// returns errStop once Limit rows went out.
func (m *merger) out(row []byte, fs []field) error {
	if m.skip > 0 {
		m.skip--
		return nil
	}
	if m.p.Limit >= 0 && m.emitted >= m.p.Limit {
		return errStop
	}
	if err := m.emit(row[:prefixEnd(fs, m.visible)]); err != nil {
		return err
	}
	m.emitted++
	if m.p.Limit >= 0 && m.emitted >= m.p.Limit {
		return errStop
	}
	return nil
}
