package inline

import "testing"

// FuzzParse feeds arbitrary templates through every entry point: nothing may
// panic, and evaluation must stay within MaxExpansion.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"ds_${user_id % 2}",
		"t_order_$->{order_id % 4}",
		"t_${(id / 4) % 8}",
		"t_${Math.abs(code.hashCode()) % 16}",
		"t_${Math.floorMod(id, -3)}_${id.intdiv(2)}",
		"ds_${0..1}.t_order_${0..3}",
		"${['online', 'offline']}_table${1..3}",
		"db0.t_order${0..1},db1.t_order${2..4}",
		"${'a' + id + \"b\"}",
		"t${3..<1}",
		"${-2147483648 * -1}",
		"${",
		"$->{}",
		"${[1,[2]]}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if names, err := ExpandList(src); err == nil && len(names) > MaxExpansion {
			t.Fatalf("ExpandList(%q) returned %d names", src, len(names))
		}
		tpl, err := Parse(src)
		if err != nil {
			return
		}
		_ = tpl.Columns()
		_, _ = tpl.Outputs(1024)
		if names, err := tpl.Expand(); err == nil && len(names) > MaxExpansion {
			t.Fatalf("Expand(%q) returned %d names", src, len(names))
		}
		for _, a := range []Arg{IntArg(0), IntArg(-1), IntArg(1 << 40), IntArg(-1 << 63), StrArg(""), StrArg("abc")} {
			_, _ = tpl.Eval(nil, a)
		}
	})
}
