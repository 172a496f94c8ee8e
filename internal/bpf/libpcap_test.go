package bpf

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

// These tests compare the package with the installed libpcap itself: a
// small C driver, built at test time and linked with the system's
// libpcap.so, feeds it programs and packets. They are skipped where no C
// compiler or libpcap is present.

const oracleSource = `
#include <stdio.h>

struct bpf_insn { unsigned short code; unsigned char jt, jf; unsigned int k; };
struct bpf_program { unsigned int bf_len; struct bpf_insn *bf_insns; };
void bpf_dump(const struct bpf_program *, int);
unsigned int bpf_filter(const struct bpf_insn *, const unsigned char *, unsigned int, unsigned int);
int bpf_validate(const struct bpf_insn *, int);

#define MAXPKTS 8192
static struct bpf_insn prog[1 << 17];
static unsigned char pkts[MAXPKTS][1600];
static unsigned int plen[MAXPKTS], wlen[MAXPKTS];
static unsigned int npkts;

/*
 * Commands on stdin, answers on stdout:
 *   P count, then count times "wirelen caplen hexbytes": store packets
 *   D n, then n "code jt jf k" lines: bpf_dump(prog, 1), then "END"
 *   V n, then n lines: bpf_validate's result
 *   F n, then n lines: bpf_filter's result on every stored packet
 */
int main(void) {
	char cmd[4];
	unsigned int n, i, j;
	while (scanf("%3s %u", cmd, &n) == 2) {
		if (cmd[0] == 'P') {
			npkts = n;
			for (i = 0; i < n; i++) {
				if (scanf("%u %u", &wlen[i], &plen[i]) != 2) return 2;
				for (j = 0; j < plen[i]; j++)
					if (scanf("%2hhx", &pkts[i][j]) != 1) return 2;
			}
			continue;
		}
		for (i = 0; i < n; i++) {
			unsigned int c, jt, jf, k;
			if (scanf("%u %u %u %u", &c, &jt, &jf, &k) != 4) return 2;
			prog[i].code = c; prog[i].jt = jt; prog[i].jf = jf; prog[i].k = k;
		}
		if (cmd[0] == 'D') {
			struct bpf_program p = { n, prog };
			bpf_dump(&p, 1);
			printf("END\n");
		} else if (cmd[0] == 'V') {
			printf("%d\n", bpf_validate(prog, n));
		} else if (cmd[0] == 'F') {
			for (i = 0; i < npkts; i++)
				printf("%u ", bpf_filter(prog, pkts[i], wlen[i], plen[i]));
			printf("\n");
		}
		fflush(stdout);
	}
	return 0;
}
`

// oracle builds the driver, or skips the test.
func oracle(t *testing.T) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		if cc, err = exec.LookPath("gcc"); err != nil {
			t.Skip("no C compiler to build the libpcap driver")
		}
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "oracle.c")
	bin := filepath.Join(dir, "oracle")
	if err := os.WriteFile(src, []byte(oracleSource), 0o644); err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for _, lib := range []string{"-lpcap", "-l:libpcap.so.0.8", "-l:libpcap.so.1"} {
		out, err := exec.Command(cc, "-O1", "-o", bin, src, lib).CombinedOutput()
		if err == nil {
			return bin
		}
		lastErr = fmt.Errorf("%v: %s", err, out)
	}
	t.Skipf("cannot build against libpcap: %v", lastErr)
	return ""
}

// oracleRun feeds input to the driver and returns its output.
func oracleRun(t *testing.T, bin string, input string) string {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Stdin = strings.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("libpcap driver: %v: %s", err, stderr.String())
	}
	return string(out)
}

func writeProg(b *strings.Builder, cmd string, prog []bpf.RawInstruction) {
	fmt.Fprintf(b, "%s %d\n", cmd, len(prog))
	for _, ins := range prog {
		fmt.Fprintf(b, "%d %d %d %d\n", ins.Op, ins.Jt, ins.Jf, ins.K)
	}
}

func writePackets(b *strings.Builder, pkts [][]byte, wire []int) {
	fmt.Fprintf(b, "P %d\n", len(pkts))
	for i, p := range pkts {
		fmt.Fprintf(b, "%d %d %s\n", wire[i], len(p), hex.EncodeToString(p))
	}
}

// interestingK are constants that exercise the formatting and arithmetic
// edges.
var interestingK = []uint32{
	0, 1, 2, 3, 4, 7, 12, 14, 15, 16, 23, 31, 32, 33, 255, 256, 0x7fff, 0x8000, 0xffff, 0x10000,
	0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff,
	LinkOffset, LinkOffset + 14, NetOffset, NetOffset + 9,
	AncillaryOffset - 1, AncillaryOffset + skfADMax, AncillaryOffset + skfADMax - 1,
}

func init() {
	for n := uint32(0); n < skfADMax; n++ {
		interestingK = append(interestingK, AncillaryOffset+n)
	}
}

// TestImageMatchesLibpcap checks Image against libpcap's bpf_image for
// every 16-bit opcode, with many constants and at many indices.
func TestImageMatchesLibpcap(t *testing.T) {
	bin := oracle(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var prog []bpf.RawInstruction
	// Every opcode, with random fields.
	for op := 0; op < 1<<16; op++ {
		prog = append(prog, bpf.RawInstruction{Op: uint16(op), Jt: uint8(rng.Uint32()), Jf: uint8(rng.Uint32()), K: rng.Uint32()})
	}
	// Every known opcode with every interesting constant.
	for op := range 256 {
		if !knownOpcode(uint16(op)) && op != 0x81 {
			continue
		}
		for _, k := range interestingK {
			prog = append(prog, bpf.RawInstruction{Op: uint16(op), Jt: uint8(rng.Uint32()), Jf: 255, K: k})
			// Near the start, so jumps go backwards past index 0.
			prog[rng.IntN(50)] = bpf.RawInstruction{Op: uint16(op), K: k, Jt: 0, Jf: 1}
		}
	}
	var in strings.Builder
	writeProg(&in, "D", prog)
	out := oracleRun(t, bin, in.String())
	want, ok := strings.CutSuffix(out, "END\n")
	if !ok {
		t.Fatalf("driver output does not end with END")
	}
	got := Disassemble(prog)
	if got == want {
		return
	}
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	errs := 0
	for i := range min(len(wl), len(gl)) {
		if wl[i] != gl[i] {
			t.Errorf("instruction %d %+v:\nlibpcap %q\nImage   %q", i, prog[i], wl[i], gl[i])
			if errs++; errs > 20 {
				t.Fatal("too many differences")
			}
		}
	}
	if len(wl) != len(gl) {
		t.Errorf("libpcap printed %d lines, Disassemble %d", len(wl), len(gl))
	}
}

// randomProgram returns a random program of known opcodes, biased towards
// ones that pass validation and do something with the packet.
func randomProgram(rng *rand.Rand) []bpf.RawInstruction {
	ops := []uint16{
		opLdW, opLdH, opLdB, opLdLen, opLdIndW, opLdIndH, opLdIndB,
		opLdImm, opLdMem, opLdxImm, opLdxMem, opLdxLen, opLdxMsh, opSt, opStx,
		opAddK, opSubK, opMulK, opDivK, opOrK, opAndK, opLshK, opRshK, opModK, opXorK,
		opAddX, opSubX, opMulX, opDivX, opOrX, opAndX, opLshX, opRshX, opModX, opXorX,
		opNeg, opJa, opJeqK, opJgtK, opJgeK, opJsetK, opJeqX, opJgtX, opJgeX, opJsetX,
		opRetK, opRetA, opTax, opTxa,
	}
	n := 1 + rng.IntN(30)
	prog := make([]bpf.RawInstruction, n)
	for i := range prog {
		op := ops[rng.IntN(len(ops))]
		if i == n-1 {
			op = []uint16{opRetK, opRetA}[rng.IntN(2)]
		}
		var k uint32
		switch r := rng.IntN(10); {
		case r < 5:
			k = uint32(rng.IntN(70))
		case r < 8:
			k = interestingK[rng.IntN(len(interestingK))]
		default:
			k = rng.Uint32()
		}
		switch op {
		case opLdMem, opLdxMem, opSt, opStx:
			k = uint32(rng.IntN(17))
		case opJa:
			k = uint32(rng.IntN(max(1, n-i)))
		case opLshK, opRshK:
			k = uint32(rng.IntN(34))
		case opLdxImm:
			if rng.IntN(2) == 0 {
				k = uint32(rng.IntN(70))
			}
		}
		prog[i] = bpf.RawInstruction{Op: op, K: k, Jt: uint8(rng.IntN(max(1, n-i))), Jf: uint8(rng.IntN(max(1, n-i)))}
	}
	return prog
}

func randomPackets(rng *rand.Rand, count int) ([][]byte, []int) {
	var pkts [][]byte
	var wire []int
	for range count {
		p := make([]byte, rng.IntN(90))
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		if rng.IntN(4) == 0 && len(p) > 0 {
			p[rng.IntN(len(p))] = 0x45
		}
		pkts = append(pkts, p)
		wire = append(wire, len(p)+rng.IntN(3)*rng.IntN(1000))
	}
	return pkts, wire
}

// TestRunMatchesLibpcap runs random valid programs on random packets in
// both this interpreter (without the Linux extensions) and libpcap's
// bpf_filter, and checks the validators against bpf_validate.
func TestRunMatchesLibpcap(t *testing.T) {
	bin := oracle(t)
	rng := rand.New(rand.NewPCG(3, 4))
	pkts, wire := randomPackets(rng, 64)
	const nprog = 6000
	var (
		in    strings.Builder
		progs [][]bpf.RawInstruction
		runs  []bool // whether progs[i] was also given to bpf_filter
	)
	writePackets(&in, pkts, wire)
	for len(progs) < nprog {
		prog := randomProgram(rng)
		progs = append(progs, prog)
		writeProg(&in, "V", prog)
		// bpf_filter is safe only on programs that validate, read no
		// scratch word before writing it (libpcap 1.10 leaves them
		// uninitialized) and do no constant shift of 32 or more
		// (undefined in C): ValidateKernel checks all three.
		ok := ValidateKernel(prog) == nil
		runs = append(runs, ok)
		if ok {
			writeProg(&in, "F", prog)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(oracleRun(t, bin, in.String())))
	sc.Buffer(nil, 1<<20)
	next := func() string {
		if !sc.Scan() {
			t.Fatalf("driver output ended early")
		}
		return sc.Text()
	}
	ran, accepted := 0, 0
	for i, prog := range progs {
		libValid := next() == "1"
		interpValid := ValidateInterpreter(prog) == nil
		// libpcap's validator lets any absolute load through; the
		// kernel's and this package's refuse unknown ancillary offsets.
		unknownAnc := slices.ContainsFunc(prog, func(ins bpf.RawInstruction) bool {
			return (ins.Op == opLdW || ins.Op == opLdH || ins.Op == opLdB) &&
				ins.K >= AncillaryOffset && ancillaryName(ins.K) == ""
		})
		if interpValid != libValid && !(unknownAnc && libValid) {
			t.Errorf("program %d: bpf_validate says %v, ValidateInterpreter says %v\n%s", i, libValid, ValidateInterpreter(prog), Disassemble(prog))
		}
		if runs[i] && !libValid {
			t.Errorf("program %d: ValidateKernel accepts what bpf_validate rejects\n%s", i, Disassemble(prog))
		}
		if !runs[i] {
			continue
		}
		ran++
		want := strings.Fields(next())
		if len(want) != len(pkts) {
			t.Fatalf("program %d: %d results for %d packets", i, len(want), len(pkts))
		}
		for j, p := range pkts {
			w, _ := strconv.ParseUint(want[j], 10, 32)
			got := run(prog, p, wire[j], nil)
			if uint64(got) != w {
				t.Fatalf("program %d, packet %d (% x, wire %d): bpf_filter %d, run %d\n%s", i, j, p, wire[j], w, got, Disassemble(prog))
			}
			if got != 0 {
				accepted++
			}
		}
	}
	t.Logf("%d programs validated, %d runs compared, %d accepted", ran, ran*len(pkts), accepted)
	if ran < nprog/10 {
		t.Errorf("only %d of %d random programs were valid", ran, nprog)
	}
}

// TestTcpdumpProgramsMatchLibpcap runs the golden programs on realistic
// packets in this interpreter and in libpcap's bpf_filter.
func TestTcpdumpProgramsMatchLibpcap(t *testing.T) {
	bin := oracle(t)
	g := readGolden(t)
	rng := rand.New(rand.NewPCG(5, 6))
	byLink := map[string][]tcpdumpCase{}
	for _, c := range tcpdumpCases() {
		if c.linkType != "lo" {
			byLink[c.linkType] = append(byLink[c.linkType], c)
		}
	}
	for _, lt := range slices.Sorted(func(yield func(string) bool) {
		for k := range byLink {
			if !yield(k) {
				return
			}
		}
	}) {
		pkts := samplePackets(lt, rng)
		wire := make([]int, len(pkts))
		for i, p := range pkts {
			wire[i] = len(p) + rng.IntN(2)*rng.IntN(200)
		}
		if len(pkts) > 8192 {
			t.Fatalf("%d packets: more than the driver holds", len(pkts))
		}
		var in strings.Builder
		writePackets(&in, pkts, wire)
		var progs [][]bpf.RawInstruction
		var names []string
		for _, c := range byLink[lt] {
			prog, err := ParseDecimal(g.cases[c.String()].ddd)
			if err != nil {
				t.Fatalf("%s: %v", c, err)
			}
			progs = append(progs, prog)
			names = append(names, c.String())
			writeProg(&in, "F", prog)
		}
		lines := strings.Split(strings.TrimSuffix(oracleRun(t, bin, in.String()), "\n"), "\n")
		if len(lines) != len(progs) {
			t.Fatalf("%s: %d result lines for %d programs", lt, len(lines), len(progs))
		}
		matching := 0
		for i, prog := range progs {
			want := strings.Fields(lines[i])
			acc := 0
			for j, p := range pkts {
				got := run(prog, p, wire[j], nil)
				if strconv.FormatUint(uint64(got), 10) != want[j] {
					t.Errorf("%s on packet % x (wire %d): bpf_filter %s, run %d", names[i], p, wire[j], want[j], got)
				}
				// Without Linux metadata, Run agrees too.
				if r := Run(prog, p, wire[j], Ancillary{}); r != got {
					t.Errorf("%s on packet % x: Run %d, run without extensions %d", names[i], p, r, got)
				}
				if got != 0 {
					acc++
				}
			}
			if acc > 0 {
				matching++
			}
		}
		// Most filters match some sample packet (a few, such as
		// "ip[2:2] > 0x7fffffff", match none).
		t.Logf("%s: %d programs on %d packets; %d programs matched some packet", lt, len(progs), len(pkts), matching)
		if matching < len(progs)*2/3 {
			t.Errorf("%s: only %d of %d programs matched any sample packet", lt, matching, len(progs))
		}
	}
}
