package filter

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	ibpf "github.com/purecap/pcap/internal/bpf"
	"golang.org/x/net/bpf"
)

var linkTypeNames = map[string]uint32{
	"EN10MB": LinkTypeEthernet, "LINUX_SLL": LinkTypeLinuxSLL, "LINUX_SLL2": LinkTypeLinuxSLL2,
	"RAW": LinkTypeRaw, "NULL": LinkTypeNull, "LOOP": LinkTypeLoop,
}

func linkTypeName(lt uint32) string {
	for n, v := range linkTypeNames {
		if v == lt {
			return n
		}
	}
	return strconv.Itoa(int(lt))
}

// needTcpdump returns the path of tcpdump, or skips the test when it is
// missing outside CI.
func needTcpdump(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("tcpdump")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tcpdump is required in CI to compare with libpcap")
		}
		t.Skip("tcpdump not installed: skipping the comparison with libpcap (apt-get install tcpdump)")
	}
	return path
}

// libpcapProgram compiles expr with libpcap through tcpdump. A nil program
// with a nil error means libpcap refused the expression (msg says why).
func libpcapProgram(t testing.TB, tcpdump string, lt uint32, expr string, optimize bool) (prog []bpf.RawInstruction, msg string) {
	t.Helper()
	args := []string{"-y", linkTypeName(lt), "-ddd"}
	if !optimize {
		args = append(args, "-O")
	}
	cmd := exec.Command(tcpdump, append(args, "--", expr)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, strings.TrimSpace(stderr.String())
	}
	sc := bufio.NewScanner(&stdout)
	first := true
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if first {
			first = false
			continue
		}
		if len(f) != 4 {
			t.Fatalf("tcpdump output line %q", sc.Text())
		}
		var v [4]uint64
		for i := range f {
			n, err := strconv.ParseUint(f[i], 10, 32)
			if err != nil {
				t.Fatalf("tcpdump output line %q: %v", sc.Text(), err)
			}
			v[i] = n
		}
		prog = append(prog, bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
	}
	return prog, ""
}

type confCase struct {
	lt   uint32
	expr string
	src  string
}

// loadCases reads LINKTYPE<TAB>expression lines.
func loadCases(t testing.TB, path string) []confCase {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var cs []confCase
	for i, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, expr, ok := strings.Cut(line, "\t")
		lt, known := linkTypeNames[name]
		if !ok || !known {
			t.Fatalf("%s:%d: bad case %q", path, i+1, line)
		}
		cs = append(cs, confCase{lt, expr, fmt.Sprintf("%s:%d", filepath.Base(path), i+1)})
	}
	return cs
}

func allCases(t testing.TB) []confCase {
	cs := loadCases(t, filepath.Join("testdata", "conformance.tsv"))
	for _, dir := range corpusDirs() {
		if c := loadCases(t, filepath.Join(dir, "..", "expressions.tsv")); c != nil {
			cs = append(cs, c...)
			break
		}
	}
	return cs
}

var packetCache = map[uint32][]packet{}

func packetsFor(t testing.TB, lt uint32) []packet {
	if p, ok := packetCache[lt]; ok {
		return p
	}
	p := withTruncations(append(syntheticPackets(lt), sharedCorpus(t, lt)...))
	packetCache[lt] = p
	return p
}

// TestConformance compiles every case with libpcap (through tcpdump) and
// with Compile, and requires the same verdict on every test packet, or a
// refusal by both.
func TestConformance(t *testing.T) {
	tcpdump := needTcpdump(t)
	cases := allCases(t)
	if len(cases) == 0 {
		t.Fatal("no conformance cases")
	}
	for _, c := range cases {
		name := linkTypeName(c.lt) + "/" + c.expr
		t.Run(name, func(t *testing.T) {
			want, msg := libpcapProgram(t, tcpdump, c.lt, c.expr, true)
			got, err := Compile(c.lt, 0, c.expr)
			if want == nil {
				if err == nil {
					t.Fatalf("%s: libpcap refuses (%s) but Compile accepts:\n%s", c.src, msg, disasm(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: Compile: %v (libpcap accepts)", c.src, err)
			}
			checkProgram(t, got)
			checkUnrolled(t, c.lt, c.expr, got)
			if ibpf.HasBackwardJump(want) && !slices.Equal(got, want) {
				// libpcap does not optimize a program with protochain,
				// so the loop is laid out exactly as its is.
				t.Errorf("%s: not libpcap's program:\n%s\nlibpcap:\n%s", c.src, disasm(got), disasm(want))
			}
			plain, _ := libpcapProgram(t, tcpdump, c.lt, c.expr, false)
			compareVerdicts(t, c.lt, c.expr, want, plain, got)
		})
	}
}

// compareVerdicts requires on every packet the verdict of libpcap's
// optimized program (want). Its unoptimized program (plain) differs on
// packets too short for a load the optimizer removed; those are counted in
// the log.
func compareVerdicts(t *testing.T, lt uint32, expr string, want, plain, got []bpf.RawInstruction) {
	t.Helper()
	pkts := packetsFor(t, lt)
	accepted, differ, differWhole := 0, 0, 0
	for i, p := range pkts {
		w := run(want, p.data, p.wireLen, p.meta)
		u := run(plain, p.data, p.wireLen, p.meta)
		g := run(got, p.data, p.wireLen, p.meta)
		if w != 0 {
			accepted++
		}
		if (w != 0) != (u != 0) {
			differ++
			if len(p.data) == p.wireLen {
				differWhole++
			}
		}
		if (w != 0) != (g != 0) || (g != 0 && g != DefaultSnaplen) {
			t.Fatalf("%q packet %d (len %d/%d % x): libpcap returns %d (unoptimized %d), Compile %d\nlibpcap:\n%s\nours:\n%s",
				expr, i, len(p.data), p.wireLen, p.data[:min(len(p.data), 64)], w, u, g, disasm(want), disasm(got))
		}
	}
	t.Logf("%d/%d packets accepted (%d where libpcap's optimizer changes the verdict, %d of them untruncated); %d instructions (libpcap %d, unoptimized %d)",
		accepted, len(pkts), differ, differWhole, len(got), len(want), len(plain))
}

// checkProgram requires a program Compile may return (see validProgram).
func checkProgram(t testing.TB, prog []bpf.RawInstruction) {
	t.Helper()
	if err := validProgram(prog); err != nil {
		t.Fatalf("%v\n%s", err, disasm(prog))
	}
}

// validProgram checks a program of Compile's: at most 4096 instructions,
// one the interpreter takes (ValidateInterpreter, the way into it for
// savefiles and user-space filters), jumps in range and forward (but for
// libpcap's protochain loop, whose ja goes back), scratch slots in range, a
// return at the end.
func validProgram(prog []bpf.RawInstruction) error {
	if len(prog) == 0 || len(prog) > MaxInstructions {
		return fmt.Errorf("program has %d instructions", len(prog))
	}
	if err := ibpf.ValidateInterpreter(prog); err != nil {
		return err
	}
	if prog[len(prog)-1].Op&0x07 != clsRET {
		return fmt.Errorf("program does not end in a return")
	}
	for i, ins := range prog {
		switch ins.Op & 0x07 {
		case clsJMP:
			if ins.Op&0xf0 == opJA {
				if t := int64(i) + 1 + int64(int32(ins.K)); t < 0 || t >= int64(len(prog)) {
					return fmt.Errorf("%d: ja out of range", i)
				}
			} else if i+1+int(ins.Jt) >= len(prog) || i+1+int(ins.Jf) >= len(prog) {
				return fmt.Errorf("%d: jump out of range", i)
			}
		case clsST, clsLD, clsLDX:
			if (ins.Op&0x07 == clsST || ins.Op&0xe0 == modeMEM) && ins.K >= memWords {
				return fmt.Errorf("%d: scratch slot %d", i, ins.K)
			}
		}
	}
	return nil
}

// checkUnrolled compiles expr with Options.Unroll and requires a program
// the kernel takes, the same as prog (Compile's) when that one has no
// loop, and otherwise one with prog's verdict on every test packet (none
// has a chain of more than protochainDepth headers).
func checkUnrolled(t testing.TB, lt uint32, expr string, prog []bpf.RawInstruction) {
	t.Helper()
	unrolled, err := CompileWith(lt, 0, expr, Options{Unroll: true})
	if err != nil {
		t.Fatalf("Compile takes %q, but not with Unroll: %v", expr, err)
	}
	if err := ibpf.ValidateKernel(unrolled); err != nil && !bogusAncillary(unrolled) {
		t.Fatalf("Unroll %q: %v\n%s", expr, err, disasm(unrolled))
	}
	if !ibpf.HasBackwardJump(prog) {
		if !slices.Equal(prog, unrolled) {
			t.Fatalf("%q: Unroll changes a program without a loop\n%s\nunrolled:\n%s", expr, disasm(prog), disasm(unrolled))
		}
		return
	}
	for i, p := range packetsFor(t, lt) {
		if w, g := run(prog, p.data, p.wireLen, p.meta), run(unrolled, p.data, p.wireLen, p.meta); w != g {
			t.Fatalf("%q packet %d (% x): the loop returns %d, unrolled %d\n%s", expr, i, p.data[:min(len(p.data), 64)], w, g, disasm(unrolled))
		}
	}
}

func disasm(prog []bpf.RawInstruction) string {
	var sb strings.Builder
	for i, ins := range prog {
		fmt.Fprintf(&sb, "(%03d) op=%#04x jt=%d jf=%d k=%#x", i, ins.Op, ins.Jt, ins.Jf, ins.K)
		if d := ins.Disassemble(); d != nil {
			if s, ok := d.(fmt.Stringer); ok {
				fmt.Fprintf(&sb, "  %s", s)
			}
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

func execLookTcpdump() (string, error) { return exec.LookPath("tcpdump") }

// bogusAncillary reports whether prog loads from the ancillary area at an
// offset the kernel does not know, as libpcap's programs do for
// inbound/outbound after pppoes.
func bogusAncillary(prog []bpf.RawInstruction) bool {
	for _, ins := range prog {
		if ins.Op&0x07 == clsLD && ins.Op&0xe0 == modeABS && ins.K >= ancillaryBase &&
			ins.K != ancillaryBase+adPktType && ins.K != ancillaryBase+adIfIndex {
			return true
		}
	}
	return false
}
