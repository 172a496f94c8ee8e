//go:build filterconformance

// Filter conformance: CompileFilter against libpcap 1.10.
//
// For every expression of the corpus (internal/filtertest: the shared cases,
// testdata/filter/expressions.tsv and the generated ones) and every link type,
// testdata/filter/golden holds the program libpcap compiles, or the error
// with which it refuses the expression. TestFilterConformance runs libpcap's
// program and CompileFilter's over the packet corpus of the link type plus
// the edge packets of internal/filtertest, and requires the same verdict on
// every packet; where libpcap refuses an expression, CompileFilter must
// refuse it too. TestFilterSize compares the sizes of the programs.
//
// The tests need CompileFilter, so they are built only with the
// filterconformance tag:
//
//	go test -tags filterconformance -run 'TestFilterConformance|TestFilterSize' -v .
//
// They need the shared cases beside the checkout (../shared/filter, or
// $PURECAP_SHARED_FILTER), and skip without them (fail with CI=true). Where
// tcpdump is installed, TestFilterConformance also checks that the goldens
// are what libpcap produces; when they are not, regenerate them with
//
//	go test ./internal/filtertest -run TestGenerateGoldens -update
//
// The programs run on the interpreter of internal/bpf (filtertest.RunPacket);
// conformanceMachine selects another (the package's own VM, for one).

package pcap

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	ibpf "github.com/purecap/pcap/internal/bpf"
	"github.com/purecap/pcap/internal/filtertest"
)

// exprCompiler compiles a filter expression for a link type.
type exprCompiler interface {
	Compile(lt LinkType, snaplen int, expr string) ([]bpf.RawInstruction, error)
}

// verdictMachine runs a classic BPF program over a packet and returns what
// the program returns: 0 rejects the packet.
type verdictMachine interface {
	Run(prog []bpf.RawInstruction, p filtertest.Packet) uint32
}

// exprCompilerFunc adapts a function to exprCompiler.
type exprCompilerFunc func(LinkType, int, string) ([]bpf.RawInstruction, error)

func (f exprCompilerFunc) Compile(lt LinkType, snaplen int, expr string) ([]bpf.RawInstruction, error) {
	return f(lt, snaplen, expr)
}

// verdictMachineFunc adapts a function to verdictMachine.
type verdictMachineFunc func([]bpf.RawInstruction, filtertest.Packet) uint32

func (f verdictMachineFunc) Run(prog []bpf.RawInstruction, p filtertest.Packet) uint32 {
	return f(prog, p)
}

var (
	// conformanceCompiler is the compiler under test.
	conformanceCompiler exprCompiler = exprCompilerFunc(CompileFilter)
	// conformanceMachine runs both libpcap's programs and ours: the
	// verdicts compared come from the same interpreter.
	conformanceMachine verdictMachine = verdictMachineFunc(filtertest.RunPacket)
)

// Size targets: our program may be at most this many times libpcap's, for
// each expression and over all expressions.
const (
	conformanceSizeEach  = 1.25
	conformanceSizeTotal = 1.05
)

// conformanceMaxPackets bounds the packets listed for one failing expression.
const conformanceMaxPackets = 5

func conformanceGoldens(t *testing.T) []filtertest.GoldenFile {
	t.Helper()
	dir, err := filtertest.GoldenDir()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filtertest.LoadGoldens(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no golden files in %s; make them with: go test ./internal/filtertest -run TestGenerateGoldens -update", dir)
	}
	return files
}

func conformanceLinkType(t *testing.T, name string) LinkType {
	t.Helper()
	n, ok := filtertest.LinkTypeNumber(name)
	if !ok {
		t.Fatalf("unknown link type %q", name)
	}
	return LinkType(n)
}

// TestFilterConformance requires CompileFilter to make, for every golden,
// a program with libpcap's verdict on every packet, or to refuse the
// expression where libpcap does.
func TestFilterConformance(t *testing.T) {
	shared := filtertest.RequireShared(t)
	files := conformanceGoldens(t)

	t.Run("goldens-current", func(t *testing.T) { conformanceGoldensCurrent(t, files) })

	for _, f := range files {
		t.Run(f.LinkType, func(t *testing.T) {
			t.Parallel()
			lt := conformanceLinkType(t, f.LinkType)
			pkts, err := filtertest.Packets(shared, f.LinkType)
			if err != nil {
				t.Fatal(err)
			}
			var failed int
			for _, g := range f.Goldens {
				if msg := conformanceCheck(lt, g, pkts); msg != "" {
					failed++
					t.Errorf("%s %q (%s): %s", f.LinkType, g.Expr, g.Source, msg)
				}
			}
			t.Logf("%s: %d expressions over %d packets, %d fail", f.LinkType, len(f.Goldens), len(pkts), failed)
		})
	}
}

// conformanceCheck checks one golden and returns what is wrong, or "".
func conformanceCheck(lt LinkType, g filtertest.Golden, pkts []filtertest.Packet) string {
	prog, err := conformanceCompiler.Compile(lt, filtertest.Snaplen, g.Expr)
	if g.Refused() {
		if err == nil {
			return fmt.Sprintf("libpcap refuses it (%s), CompileFilter compiles %d instructions", g.Err, len(prog))
		}
		return ""
	}
	if err != nil {
		return fmt.Sprintf("CompileFilter: %v; libpcap compiles %d instructions", err, len(g.Program))
	}
	if err := ibpf.ValidateInterpreter(prog); err != nil {
		return fmt.Sprintf("invalid program: %v\n%s", err, conformanceDisassemble(prog))
	}
	if len(prog) > maxKernelInsns && len(g.Program) <= maxKernelInsns {
		return fmt.Sprintf("%d instructions, over the kernel's %d (libpcap: %d)", len(prog), maxKernelInsns, len(g.Program))
	}
	var bad []string
	n := 0
	for _, p := range pkts {
		want := conformanceMachine.Run(g.Program, p)
		got := conformanceMachine.Run(prog, p)
		if want == got {
			continue
		}
		n++
		if len(bad) < conformanceMaxPackets {
			bad = append(bad, fmt.Sprintf("\t%s (caplen %d, wire %d): libpcap returns %d, ours %d\n\t\t%s",
				p.Name, len(p.Data), p.WireLen, want, got, conformanceHex(p.Data, 64)))
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d packets get another verdict:\n%s\n\tlibpcap's program:\n%s\n\tours:\n%s",
		n, len(pkts), strings.Join(bad, "\n"), conformanceDisassemble(g.Program), conformanceDisassemble(prog))
}

// conformanceGoldensCurrent recompiles goldens with the installed tcpdump: one in
// ten, or all with FILTERTEST_FULL=1.
func conformanceGoldensCurrent(t *testing.T, files []filtertest.GoldenFile) {
	version, err := filtertest.TcpdumpVersion()
	if err != nil {
		t.Skip(err)
	}
	var all []filtertest.Golden
	for _, f := range files {
		if f.Version != version {
			t.Skipf("goldens of %s were made with %q, tcpdump here is %q: regenerate them to compare", f.LinkType, f.Version, version)
		}
		all = append(all, f.Goldens...)
	}
	every := 10
	if os.Getenv(filtertest.FullEnv) == "1" {
		every = 1
	}
	mismatches, err := filtertest.CheckGoldens(context.Background(), all, every, 2*runtime.GOMAXPROCS(0))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mismatches {
		t.Error(m)
	}
	if len(mismatches) > 0 {
		t.Log("the goldens are stale: go test ./internal/filtertest -run TestGenerateGoldens -update")
	}
}

// TestFilterSize compares the number of instructions of our programs with
// libpcap's, expression by expression and in total, and prints the table.
// Targets: at most 1.25 times libpcap's for each expression, 1.05 times in
// total.
func TestFilterSize(t *testing.T) {
	files := conformanceGoldens(t)
	type row struct {
		lt, expr     string
		ours, theirs int
	}
	var rows []row
	var ours, theirs, uncompiled int
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
	t.Log(b.String())
	if over > 0 {
		t.Errorf("%d expressions compile to more than %.2f× libpcap's instructions", over, conformanceSizeEach)
	}
	if ratio(ours, theirs) > conformanceSizeTotal {
		t.Errorf("in total %d instructions, %.3f× libpcap's %d (target %.2f×)", ours, ratio(ours, theirs), theirs, conformanceSizeTotal)
	}
}

// conformanceDisassemble lists a program as tcpdump -d does, indented for
// failure messages.
func conformanceDisassemble(prog []bpf.RawInstruction) string {
	return "\t\t" + strings.ReplaceAll(strings.TrimSuffix(ibpf.Disassemble(prog), "\n"), "\n", "\n\t\t") + "\n"
}

// conformanceHex returns the first n bytes of b in hex.
func conformanceHex(b []byte, n int) string {
	if len(b) <= n {
		return hex.EncodeToString(b)
	}
	return hex.EncodeToString(b[:n]) + "…"
}
