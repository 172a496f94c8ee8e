// TestFilterSize compares the size of CompileFilter's programs with
// libpcap's over the conformance goldens (see filter_conformance_test.go):
// at most 1.25 times for each expression and 1.05 times in all. The table
// is printed with
//
//	go test -run TestFilterSize -v .
//
// protochain is compiled into libpcap's loop, as libpcap compiles it; its
// expressions are also totalled apart.

package pcap

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/purecap/pcap/internal/filtertest"
)

func TestFilterSize(t *testing.T) {
	files := conformanceGoldens(t)
	type row struct {
		lt, expr     string
		ours, theirs int
	}
	var rows []row
	var ours, theirs, uncompiled int
	var chainOurs, chainTheirs, chains int
	var sharedOurs, sharedTheirs, shared int
	for _, f := range files {
		lt := conformanceLinkType(t, f.LinkType)
		for _, g := range f.Goldens {
			if g.Refused() {
				continue
			}
			prog, err := conformanceCompiler.Compile(lt, filtertest.Snaplen, g.Expr)
			if err != nil {
				uncompiled++
				continue
			}
			if g.Source == filtertest.SourceShared {
				sharedOurs += len(prog)
				sharedTheirs += len(g.Program)
				shared++
			}
			if strings.Contains(g.Expr, "protochain") {
				chainOurs += len(prog)
				chainTheirs += len(g.Program)
				chains++
			}
			rows = append(rows, row{f.LinkType, g.Expr, len(prog), len(g.Program)})
			ours += len(prog)
			theirs += len(g.Program)
		}
	}
	ratio := func(a, b int) float64 { return float64(a) / float64(max(b, 1)) }
	slices.SortStableFunc(rows, func(a, b row) int {
		ra, rb := ratio(a.ours, a.theirs), ratio(b.ours, b.theirs)
		switch {
		case ra > rb:
			return -1
		case ra < rb:
			return 1
		}
		return 0
	})
	var b strings.Builder
	fmt.Fprintf(&b, "\n%6s %6s %7s  %-10s %s\n", "ours", "libpcap", "ratio", "link type", "expression")
	over := 0
	for _, r := range rows {
		rr := ratio(r.ours, r.theirs)
		mark := ""
		if rr > conformanceSizeEach {
			mark = "  > target"
			over++
		}
		fmt.Fprintf(&b, "%6d %6d %7.2f  %-10s %s%s\n", r.ours, r.theirs, rr, r.lt, r.expr, mark)
	}
	fmt.Fprintf(&b, "%6d %6d %7.2f  total over %d expressions (%d not compiled, %d over %.2f×)\n",
		ours, theirs, ratio(ours, theirs), len(rows), uncompiled, over, conformanceSizeEach)
	fmt.Fprintf(&b, "%6d %6d %7.2f  of which protochain, over %d expressions\n",
		chainOurs, chainTheirs, ratio(chainOurs, chainTheirs), chains)
	fmt.Fprintf(&b, "%6d %6d %7.2f  of which ../shared/filter/expressions.tsv, %d expressions\n",
		sharedOurs, sharedTheirs, ratio(sharedOurs, sharedTheirs), shared)
	if testing.Verbose() {
		t.Log(b.String())
	}
	if over > 0 {
		t.Errorf("%d expressions compile to more than %.2f× libpcap's instructions", over, conformanceSizeEach)
	}
	if ratio(sharedOurs, sharedTheirs) > conformanceSizeTotal {
		t.Errorf("over the shared expressions %d instructions, %.3f× libpcap's %d (target %.2f×)",
			sharedOurs, ratio(sharedOurs, sharedTheirs), sharedTheirs, conformanceSizeTotal)
	}
	if ratio(ours, theirs) > conformanceSizeTotal {
		t.Errorf("in total %d instructions, %.3f× libpcap's %d (target %.2f×)", ours, ratio(ours, theirs), theirs, conformanceSizeTotal)
	}
}

// TestFilterProgramsRunInUserSpace requires NewBPFFromInstructions, the
// way into the user-space interpreter (savefiles, filters the kernel cannot
// run), to take every program CompileFilter gives over the conformance
// goldens, libpcap's loads at ancillary offsets the kernel does not know
// and protochain's backward jumps included.
func TestFilterProgramsRunInUserSpace(t *testing.T) {
	n := 0
	for _, f := range conformanceGoldens(t) {
		lt := conformanceLinkType(t, f.LinkType)
		for _, g := range f.Goldens {
			prog, err := conformanceCompiler.Compile(lt, filtertest.Snaplen, g.Expr)
			if err != nil {
				continue
			}
			if _, err := NewBPFFromInstructions(prog); err != nil {
				t.Errorf("%s %q: %v", f.LinkType, g.Expr, err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no program compiled")
	}
	// libpcap loads the packet type at an ancillary offset the kernel does
	// not know after pppoes on these link types; the load rejects.
	for _, lt := range []LinkType{LinkTypeLoop, LinkTypeNull, LinkTypeLinuxSLL} {
		if _, err := NewBPF(lt, 0, "pppoes or outbound"); err != nil {
			t.Errorf("%v: NewBPF(pppoes or outbound): %v", lt, err)
		}
	}
}
