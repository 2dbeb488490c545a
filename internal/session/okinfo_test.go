package session

import "testing"

func TestOKInfoSum(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []string // info strings; "" = a single-row INSERT without one
		want  string
	}{
		{"updates", []string{"Rows matched: 2  Changed: 1  Warnings: 0", "Rows matched: 3  Changed: 3  Warnings: 1"}, "Rows matched: 5  Changed: 4  Warnings: 1"},
		{"records", []string{"Records: 2  Duplicates: 0  Warnings: 0", ""}, "Records: 3  Duplicates: 0  Warnings: 0"},
		{"single rows", []string{"", "", ""}, "Records: 3  Duplicates: 0  Warnings: 0"},
		{"one", []string{"Rows matched: 1  Changed: 1  Warnings: 0"}, "Rows matched: 1  Changed: 1  Warnings: 0"},
		{"mixed", []string{"Rows matched: 1  Changed: 1  Warnings: 0", "Records: 1  Duplicates: 0  Warnings: 0"}, ""},
	} {
		var o okInfo
		for _, s := range tc.steps {
			o.addStep("INSERT INTO t VALUES (1)", []byte(s), 1, 0)
		}
		if got := o.String(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}
