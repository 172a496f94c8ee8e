// Filter conformance: CompileFilter against libpcap 1.10.
//
// For every expression of the corpus (internal/filtertest: the shared cases,
// testdata/filter/expressions.tsv and the generated ones) and every link type,
// testdata/filter/golden holds the program libpcap compiles, or the error
// with which it refuses the expression. TestFilterConformance runs libpcap's
// program and CompileFilter's over the packet corpus of the link type plus
// the edge packets of internal/filtertest, and requires the same verdict on
// every packet; where libpcap refuses an expression, CompileFilter must
// refuse it too.
//
// The expressions the compiler does not get right yet are listed in
// testdata/filter/known_failures.tsv: they are reported, not failed, and
// any other failure fails the test, as does a listed expression that
// passes (take it off the list). Rewrite the list from the current state
// with
//
//	PURECAP_UPDATE_KNOWN_FAILURES=1 go test -run TestFilterConformance .
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
	"sync"
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

	known := conformanceKnownFailures(t)
	update := os.Getenv(conformanceUpdateEnv) == "1"
	var mu sync.Mutex
	var failing []string // guarded by mu
	if update {
		t.Cleanup(func() {
			slices.Sort(failing)
			body := "# Filter expressions CompileFilter does not yet get right (LINKTYPE<TAB>expression).\n" +
				"# Written by " + conformanceUpdateEnv + "=1 go test -run TestFilterConformance .\n" +
				strings.Join(failing, "")
			if err := os.WriteFile(conformanceKnownPath, []byte(body), 0o644); err != nil {
				t.Error(err)
			}
		})
	}

	for _, f := range files {
		t.Run(f.LinkType, func(t *testing.T) {
			t.Parallel()
			lt := conformanceLinkType(t, f.LinkType)
			pkts, err := filtertest.Packets(shared, f.LinkType)
			if err != nil {
				t.Fatal(err)
			}
			var failed, knownFailed int
			for _, g := range f.Goldens {
				key := f.LinkType + "\t" + g.Expr
				msg := conformanceCheck(lt, g, pkts)
				switch {
				case msg != "" && update:
					mu.Lock()
					failing = append(failing, key+"\n")
					mu.Unlock()
				case msg != "" && known[key]:
					knownFailed++
				case msg != "":
					failed++
					t.Errorf("%s %q (%s): %s", f.LinkType, g.Expr, g.Source, msg)
				case known[key]:
					t.Errorf("%s %q now gets libpcap's verdicts: take it off %s", f.LinkType, g.Expr, conformanceKnownPath)
				}
			}
			t.Logf("%s: %d expressions over %d packets, %d fail, %d known failures", f.LinkType, len(f.Goldens), len(pkts), failed, knownFailed)
		})
	}
}

const (
	conformanceKnownPath = "testdata/filter/known_failures.tsv"
	conformanceUpdateEnv = "PURECAP_UPDATE_KNOWN_FAILURES"
)

// conformanceKnownFailures reads the list of expressions known to fail.
func conformanceKnownFailures(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(conformanceKnownPath)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	known := make(map[string]bool)
	for _, line := range strings.Split(string(data), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			known[line] = true
		}
	}
	return known
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
