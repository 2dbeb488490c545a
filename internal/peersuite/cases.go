package peersuite

import (
	"encoding/xml"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Case types (directories under cases/).
const (
	DQL = "dql"
	DML = "dml"
	DDL = "ddl"
	DAL = "dal"
)

// TestCase is one <test-case> of an e2e-<type>*.xml file.
type TestCase struct {
	// File is the case file, relative to the suite's cases/ directory.
	File string
	// Type is DQL, DML, DDL or DAL (the case directory).
	Type string
	// SQL is the statement under test (it may hold several, ;-separated).
	SQL string
	// DBTypes and ScenarioTypes are the comma lists; empty means all.
	DBTypes, ScenarioTypes []string
	// Adapters is "jdbc", "proxy" or both; empty means both.
	Adapters []string
	// SkipBatch keeps a DML case out of the batch run.
	SkipBatch bool
	Smoke     bool
	// Assertions are the executions; a case without any never runs.
	Assertions []Assertion
}

// Assertion is one execution of a test case.
type Assertion struct {
	// Parameters is the raw parameters attribute.
	Parameters string
	// ExpectedDataSourceName names the reference database (DQL).
	ExpectedDataSourceName string
	// ExpectedDataFile is the expected dataset file name (DML, DDL, DAL).
	ExpectedDataFile string
	// ExpectedGeneratedKeyDataFile is the expected generated keys (DML).
	ExpectedGeneratedKeyDataFile string
	// InitialSQL, AssertionSQL and DestroySQL are the optional
	// child elements' sql attributes ("" when absent).
	InitialSQL, AssertionSQL, DestroySQL string
	// AffectedTable is initial-sql's affected-table (DDL).
	AffectedTable string
}

type xmlCases struct {
	Cases []xmlCase `xml:"test-case"`
}

type xmlCase struct {
	SQL           string         `xml:"sql,attr"`
	DBTypes       string         `xml:"db-types,attr"`
	ScenarioTypes string         `xml:"scenario-types,attr"`
	Adapters      string         `xml:"adapters,attr"`
	SkipBatch     string         `xml:"skip-batch,attr"`
	Smoke         string         `xml:"smoke,attr"`
	Assertions    []xmlAssertion `xml:"assertion"`
}

type xmlAssertion struct {
	Parameters                   string      `xml:"parameters,attr"`
	ExpectedDataSourceName       string      `xml:"expected-data-source-name,attr"`
	ExpectedDataFile             string      `xml:"expected-data-file,attr"`
	ExpectedGeneratedKeyDataFile string      `xml:"expected-generated-key-data-file,attr"`
	InitialSQL                   *xmlSQLElem `xml:"initial-sql"`
	AssertionSQL                 *xmlSQLElem `xml:"assertion-sql"`
	DestroySQL                   *xmlSQLElem `xml:"destroy-sql"`
}

type xmlSQLElem struct {
	SQL           string `xml:"sql,attr"`
	AffectedTable string `xml:"affected-table,attr"`
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ParseCases reads one case file. rel is recorded as TestCase.File.
func ParseCases(data []byte, typ, rel string) ([]TestCase, error) {
	var x xmlCases
	if err := xml.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("peersuite: %s: %w", rel, err)
	}
	out := make([]TestCase, 0, len(x.Cases))
	for _, c := range x.Cases {
		tc := TestCase{
			File:          rel,
			Type:          typ,
			SQL:           c.SQL,
			DBTypes:       splitList(c.DBTypes),
			ScenarioTypes: splitList(c.ScenarioTypes),
			Adapters:      splitList(c.Adapters),
			SkipBatch:     strings.EqualFold(c.SkipBatch, "true"),
			Smoke:         strings.EqualFold(c.Smoke, "true"),
		}
		for _, a := range c.Assertions {
			as := Assertion{
				Parameters:                   a.Parameters,
				ExpectedDataSourceName:       a.ExpectedDataSourceName,
				ExpectedDataFile:             a.ExpectedDataFile,
				ExpectedGeneratedKeyDataFile: a.ExpectedGeneratedKeyDataFile,
			}
			if a.InitialSQL != nil {
				as.InitialSQL, as.AffectedTable = a.InitialSQL.SQL, a.InitialSQL.AffectedTable
			}
			if a.AssertionSQL != nil {
				as.AssertionSQL = a.AssertionSQL.SQL
			}
			if a.DestroySQL != nil {
				as.DestroySQL = a.DestroySQL.SQL
			}
			tc.Assertions = append(tc.Assertions, as)
		}
		out = append(out, tc)
	}
	return out, nil
}

// LoadCases reads every case file of a type: any e2e-<type>*.xml under
// cases/<type>/, nested directories included, in path order.
func LoadCases(suite, typ string) ([]TestCase, error) {
	base := filepath.Join(suite, "cases")
	var files []string
	err := filepath.WalkDir(filepath.Join(base, typ), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), "e2e-"+typ) && strings.HasSuffix(d.Name(), ".xml") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("peersuite: %w", err)
	}
	sort.Strings(files)
	var out []TestCase
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("peersuite: %w", err)
		}
		rel, _ := filepath.Rel(base, f)
		cs, err := ParseCases(data, typ, filepath.ToSlash(rel))
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// RunsOn reports whether the case runs for a scenario and database type
// (an empty list means all).
func (c *TestCase) RunsOn(scenario, dbType string) bool {
	if len(c.DBTypes) > 0 && !containsFold(c.DBTypes, dbType) {
		return false
	}
	if len(c.ScenarioTypes) > 0 {
		found := false
		for _, s := range c.ScenarioTypes {
			if s == scenario {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// ProxyEligible reports whether the case runs through a proxy upstream
// (cases restricted to adapters="jdbc" do not).
func (c *TestCase) ProxyEligible() bool {
	return len(c.Adapters) == 0 || containsFold(c.Adapters, "proxy")
}

// Select returns the MySQL cases of a scenario that run through a proxy and
// have at least one assertion, in file order.
func Select(cases []TestCase, scenario string) []TestCase {
	var out []TestCase
	for _, c := range cases {
		if c.RunsOn(scenario, "MySQL") && c.ProxyEligible() && len(c.Assertions) > 0 {
			out = append(out, c)
		}
	}
	return out
}

// ExpectedFile resolves an assertion's expected-data-file (README 6.4):
// under cases/<type>/, the first existing of
// dataset/<scenario>/<mode>/<dbtype>/<file>, dataset/<scenario>/<dbtype>/<file>,
// dataset/<scenario>/<mode>/<file>, dataset/<scenario>/<file>, dataset/<file>.
// mode is "standalone" or "cluster"; dbType is "mysql".
func ExpectedFile(suite, typ, scenario, mode, dbType, file string) (string, error) {
	base := filepath.Join(suite, "cases", typ, "dataset")
	cands := []string{
		filepath.Join(base, scenario, mode, dbType, file),
		filepath.Join(base, scenario, dbType, file),
		filepath.Join(base, scenario, mode, file),
		filepath.Join(base, scenario, file),
		filepath.Join(base, file),
	}
	for _, c := range cands {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, nil
		}
	}
	return "", fmt.Errorf("peersuite: expected file %s for scenario %s not found (tried %s)", file, scenario, strings.Join(cands, ", "))
}
