package filtertest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Sources of expressions.
const (
	SourceShared  = "shared"  // ../shared/filter/expressions.tsv
	SourceProject = "project" // testdata/filter/expressions.tsv
	SourceRandom  = "random"  // RandomExpressions
)

// Expression is one case of the expression corpus: a filter expression to
// compile for a link type.
type Expression struct {
	Source   string // SourceShared, SourceProject or SourceRandom
	LinkType string // a name of LinkTypes, as tcpdump's -y takes it
	Expr     string
}

// LoadExpressions reads an expression list: lines of a link type name, a
// tab and an expression; blank lines and lines starting with # are skipped.
// Every expression gets the given source.
func LoadExpressions(path, source string) ([]Expression, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Expression
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		lt, expr, ok := strings.Cut(line, "\t")
		if !ok || strings.TrimSpace(expr) == "" {
			return nil, fmt.Errorf("%s:%d: want LINKTYPE<TAB>expression", path, n)
		}
		if _, known := LinkTypeNumber(lt); !known {
			return nil, fmt.Errorf("%s:%d: unknown link type %q", path, n, lt)
		}
		if strings.Contains(expr, "\t") {
			return nil, fmt.Errorf("%s:%d: tab in expression", path, n)
		}
		out = append(out, Expression{Source: source, LinkType: lt, Expr: expr})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// RandomSeed seeds RandomExpressions for the corpus.
const RandomSeed = 20240601

// randomCount is how many generated expressions the corpus has per link
// type.
var randomCount = map[string]int{
	"EN10MB":     160,
	"LINUX_SLL":  50,
	"LINUX_SLL2": 50,
	"RAW":        50,
	"NULL":       30,
	"LOOP":       30,
}

// Corpus returns the whole expression corpus: the shared list when
// sharedDir is not "", the project's list in projectDir, and the generated
// expressions. An expression listed again for the same link type is kept
// once, with the source that listed it first.
func Corpus(sharedDir, projectDir string) ([]Expression, error) {
	var all []Expression
	if sharedDir != "" {
		s, err := LoadExpressions(filepath.Join(sharedDir, "expressions.tsv"), SourceShared)
		if err != nil {
			return nil, err
		}
		all = append(all, s...)
	}
	p, err := LoadExpressions(filepath.Join(projectDir, "expressions.tsv"), SourceProject)
	if err != nil {
		return nil, err
	}
	all = append(all, p...)
	for _, lt := range LinkTypes {
		for _, e := range RandomExpressions(lt, RandomSeed, randomCount[lt]) {
			all = append(all, Expression{Source: SourceRandom, LinkType: lt, Expr: e})
		}
	}
	return dedupe(all), nil
}

func dedupe(es []Expression) []Expression {
	seen := make(map[[2]string]bool, len(es))
	out := es[:0:0]
	for _, e := range es {
		k := [2]string{e.LinkType, e.Expr}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out
}
