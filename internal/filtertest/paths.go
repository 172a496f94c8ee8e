package filtertest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// modulePath is the module whose root ModuleRoot looks for.
const modulePath = "github.com/purecap/pcap"

// SharedEnv names an environment variable that, when set, gives the
// directory holding the shared filter cases (expressions.tsv and corpus/)
// instead of ../shared/filter beside the module root.
const SharedEnv = "PURECAP_SHARED_FILTER"

// FullEnv names an environment variable that, set to 1, makes the tests
// that start tcpdump for a sample of the goldens check every golden.
const FullEnv = "FILTERTEST_FULL"

// LinkTypes lists the link types the corpus covers, by the names tcpdump's
// -y option takes, in the order tests report them.
var LinkTypes = []string{"EN10MB", "LINUX_SLL", "LINUX_SLL2", "RAW", "NULL", "LOOP"}

// linkTypeNumbers maps tcpdump's link type names to LINKTYPE_ values.
var linkTypeNumbers = map[string]uint32{
	"NULL":       0,
	"EN10MB":     1,
	"RAW":        101,
	"LOOP":       108,
	"LINUX_SLL":  113,
	"LINUX_SLL2": 276,
}

// LinkTypeNumber returns the LINKTYPE_ value of a link type name of
// LinkTypes.
func LinkTypeNumber(name string) (uint32, bool) {
	n, ok := linkTypeNumbers[name]
	return n, ok
}

// ModuleRoot returns the root directory of the module, found by walking up
// from the working directory to the go.mod that declares it.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if declaresModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above the working directory", modulePath)
		}
		dir = parent
	}
}

func declaresModule(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "module" {
			return f[1] == modulePath
		}
	}
	return false
}

// ProjectDir returns testdata/filter under the module root: the project's
// expression list and the golden files.
func ProjectDir() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "testdata", "filter"), nil
}

// GoldenDir returns the directory of the golden files.
func GoldenDir() (string, error) {
	dir, err := ProjectDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "golden"), nil
}

// ErrNoShared reports that the shared filter cases are not there.
var ErrNoShared = errors.New("shared filter cases not found")

// SharedDir returns the directory of the shared filter cases: $SharedEnv
// when set, else ../shared/filter beside the module root. It returns an
// error wrapping ErrNoShared when the directory has no expressions.tsv.
func SharedDir() (string, error) {
	dir := os.Getenv(SharedEnv)
	if dir == "" {
		root, err := ModuleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(filepath.Dir(root), "shared", "filter")
	}
	if _, err := os.Stat(filepath.Join(dir, "expressions.tsv")); err != nil {
		return "", fmt.Errorf("%w: no %s (set %s to their directory)", ErrNoShared, filepath.Join(dir, "expressions.tsv"), SharedEnv)
	}
	return dir, nil
}

// RequireShared returns SharedDir, or skips the test when the shared cases
// are missing; with CI=true, where they must be present, it fails instead.
func RequireShared(tb testing.TB) string {
	tb.Helper()
	dir, err := SharedDir()
	if err == nil {
		return dir
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%v — CI=true, so the test may not skip", err)
	}
	tb.Skip(err)
	return ""
}
