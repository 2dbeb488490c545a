// Package peersuite reads Apache ShardingSphere's SQL end-to-end test data
// (the MySQL subset kept in shared/peer-suites/shardingsphere-e2e, see its
// README.md) so that the same cases can be run through Switchyard and
// checked the way the upstream harness checks them: case files, parameters
// and their literal form, datasets, init SQL, and result comparison against
// a plain reference database.
//
// The package does not talk to a database except through the small helpers
// in exec.go, which take a *sql.DB; everything else is pure and unit-tested.
package peersuite

import (
	"fmt"
	"os"
	"path/filepath"
)

// SuiteDir is the directory name of the suite under a peer-suites root.
const SuiteDir = "shardingsphere-e2e"

// EnvVar may name the peer-suites root (the directory holding
// shardingsphere-e2e) or the suite directory itself.
const EnvVar = "SWITCHYARD_PEER_SUITES"

// Scenarios are the three scenarios of this subset.
var Scenarios = []string{"db", "tbl", "dbtbl_with_readwrite_splitting"}

// Locate finds the suite: $SWITCHYARD_PEER_SUITES (the root or the suite
// itself), else <repoRoot>/../shared/peer-suites/shardingsphere-e2e. It
// returns the directory and whether it exists, with the paths it tried.
func Locate(repoRoot string) (dir string, tried []string, ok bool) {
	var cands []string
	if env := os.Getenv(EnvVar); env != "" {
		cands = append(cands, filepath.Join(env, SuiteDir), env)
	}
	cands = append(cands, filepath.Join(repoRoot, "..", "shared", "peer-suites", SuiteDir))
	for _, c := range cands {
		c = filepath.Clean(c)
		tried = append(tried, c)
		if st, err := os.Stat(filepath.Join(c, "cases")); err == nil && st.IsDir() {
			return c, tried, true
		}
	}
	return "", tried, false
}

// Scenario is the file layout of one scenario.
type Scenario struct {
	Name string
	Dir  string // <suite>/env/scenario/<name>
}

// OpenScenario returns the scenario's layout after checking it exists.
func OpenScenario(suite, name string) (*Scenario, error) {
	s := &Scenario{Name: name, Dir: filepath.Join(suite, "env", "scenario", name)}
	if _, err := os.Stat(s.Dir); err != nil {
		return nil, fmt.Errorf("peersuite: scenario %s: %w", name, err)
	}
	return s, nil
}

// ProxyRuleFile is the ShardingSphere-Proxy rule file for MySQL
// (database-<name>.yaml; the dbtbl scenario spells it with hyphens).
func (s *Scenario) ProxyRuleFile() (string, error) {
	m, err := filepath.Glob(filepath.Join(s.Dir, "proxy", "conf", "mysql", "database-*.yaml"))
	if err != nil || len(m) == 0 {
		return "", fmt.Errorf("peersuite: scenario %s has no proxy/conf/mysql/database-*.yaml", s.Name)
	}
	if len(m) > 1 {
		return "", fmt.Errorf("peersuite: scenario %s has several rule files: %v", s.Name, m)
	}
	return m[0], nil
}

// ActualInitSQL is the script creating the physical databases and tables.
func (s *Scenario) ActualInitSQL() string {
	return filepath.Join(s.Dir, "data", "actual", "init-sql", "mysql", "50-scenario-actual-init.sql")
}

// ExpectedInitSQL is the script creating the reference databases.
func (s *Scenario) ExpectedInitSQL() string {
	return filepath.Join(s.Dir, "data", "expected", "init-sql", "mysql", "60-scenario-expected-init.sql")
}

// ActualDatasetFile holds the seed rows of the physical tables.
func (s *Scenario) ActualDatasetFile() string {
	return filepath.Join(s.Dir, "data", "actual", "dataset.xml")
}

// ExpectedDatasetFile holds the rows of the reference databases.
func (s *Scenario) ExpectedDatasetFile() string {
	return filepath.Join(s.Dir, "data", "expected", "dataset.xml")
}

// ActualDatabasesFile lists the physical databases.
func (s *Scenario) ActualDatabasesFile() string {
	return filepath.Join(s.Dir, "data", "actual", "databases.xml")
}

// ExpectedDatabasesFile lists the reference databases.
func (s *Scenario) ExpectedDatabasesFile() string {
	return filepath.Join(s.Dir, "data", "expected", "databases.xml")
}

// ReferenceDatabase returns the reference database a DQL assertion is
// checked against (README 6.3): the only one when there is one, else the
// named one, else the first.
func ReferenceDatabase(refs []string, expectedDataSourceName string) (string, error) {
	switch {
	case len(refs) == 0:
		return "", fmt.Errorf("peersuite: no reference database")
	case len(refs) == 1:
		return refs[0], nil
	case expectedDataSourceName == "":
		return refs[0], nil
	}
	for _, r := range refs {
		if r == expectedDataSourceName {
			return r, nil
		}
	}
	return "", fmt.Errorf("peersuite: expected-data-source-name %q is not a reference database (%v)", expectedDataSourceName, refs)
}
