package bpf

import (
	"testing"

	"golang.org/x/net/bpf"
)

func stmt(op uint16, k uint32) bpf.RawInstruction { return bpf.RawInstruction{Op: op, K: k} }

func jmp(op uint16, k uint32, jt, jf uint8) bpf.RawInstruction {
	return bpf.RawInstruction{Op: op, Jt: jt, Jf: jf, K: k}
}

// prog is a shorthand for building programs in tests.
func prog(ins ...bpf.RawInstruction) []bpf.RawInstruction { return ins }

// retA ends a test program by returning A.
var retA = stmt(opRetA, 0)

func TestRunALU(t *testing.T) {
	const big = 0xfffffff0
	tests := []struct {
		name             string
		op               uint16 // ALU opcode; K and X forms are both run
		a, operand, want uint32
	}{
		{"add", aluADD, 3, 4, 7},
		{"add wraps", aluADD, big, 0x20, 0x10},
		{"sub", aluSUB, 10, 3, 7},
		{"sub wraps", aluSUB, 3, 10, 0xfffffff9},
		{"mul", aluMUL, 6, 7, 42},
		{"mul wraps", aluMUL, 0x10000, 0x10000, 0},
		{"div", aluDIV, 42, 5, 8},
		{"div unsigned", aluDIV, 0xfffffffe, 2, 0x7fffffff},
		{"mod", aluMOD, 42, 5, 2},
		{"mod unsigned", aluMOD, 0xffffffff, 10, 5},
		{"and", aluAND, 0xf0f0, 0xff00, 0xf000},
		{"or", aluOR, 0xf0f0, 0x0f00, 0xfff0},
		{"xor", aluXOR, 0xf0f0, 0xff00, 0x0ff0},
		{"lsh", aluLSH, 1, 4, 16},
		{"lsh 31", aluLSH, 3, 31, 0x80000000},
		{"lsh 32", aluLSH, 1, 32, 0},
		{"lsh 33", aluLSH, 1, 33, 0},
		{"lsh huge", aluLSH, 1, 0xffffffff, 0},
		{"rsh", aluRSH, 0x80, 4, 8},
		{"rsh 31", aluRSH, 0x80000000, 31, 1},
		{"rsh 32", aluRSH, 0xffffffff, 32, 0},
		{"rsh huge", aluRSH, 0xffffffff, 0x80000000, 0},
	}
	for _, tt := range tests {
		for _, src := range []uint16{srcK, srcX} {
			p := prog(stmt(opLdImm, tt.a), stmt(opLdxImm, tt.operand), stmt(classALU|tt.op|src, tt.operand), retA)
			if got := Run(p, nil, 0, Ancillary{}); got != tt.want {
				t.Errorf("%s (src %#x): %#x op %#x = %#x, want %#x", tt.name, src, tt.a, tt.operand, got, tt.want)
			}
		}
	}
	for _, tt := range []struct{ a, want uint32 }{{0, 0}, {1, 0xffffffff}, {0x80000000, 0x80000000}, {5, 0xfffffffb}} {
		if got := Run(prog(stmt(opLdImm, tt.a), stmt(opNeg, 0), retA), nil, 0, Ancillary{}); got != tt.want {
			t.Errorf("neg %#x = %#x, want %#x", tt.a, got, tt.want)
		}
	}
}

func TestRunDivisionByZero(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    []bpf.RawInstruction
	}{
		{"div #0", prog(stmt(opLdImm, 5), stmt(opDivK, 0), stmt(opRetK, 1))},
		{"mod #0", prog(stmt(opLdImm, 5), stmt(opModK, 0), stmt(opRetK, 1))},
		{"div x=0", prog(stmt(opLdImm, 5), stmt(opLdxImm, 0), stmt(opDivX, 0), stmt(opRetK, 1))},
		{"mod x=0", prog(stmt(opLdImm, 5), stmt(opLdxImm, 0), stmt(opModX, 0), stmt(opRetK, 1))},
		// X is 0 though K is not.
		{"div x=0 k=3", prog(stmt(opLdImm, 5), stmt(opDivX, 3), stmt(opRetK, 1))},
	} {
		if got := Run(tt.p, nil, 0, Ancillary{}); got != 0 {
			t.Errorf("%s: Run = %d, want 0 (the program ends)", tt.name, got)
		}
	}
	// A non-zero X divides normally.
	if got := Run(prog(stmt(opLdImm, 9), stmt(opLdxImm, 3), stmt(opDivX, 0), retA), nil, 0, Ancillary{}); got != 3 {
		t.Errorf("9 / x(3) = %d", got)
	}
}

func TestRunLoads(t *testing.T) {
	pkt := []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x47, 0x08}
	tests := []struct {
		name string
		p    []bpf.RawInstruction
		want uint32
	}{
		{"ld [0]", prog(stmt(opLdW, 0), retA), 0x01020304},
		{"ld [4] last word", prog(stmt(opLdW, 4), retA), 0x05064708},
		{"ld [5] past end", prog(stmt(opLdW, 5), stmt(opRetK, 1)), 0},
		{"ldh [6] last half", prog(stmt(opLdH, 6), retA), 0x4708},
		{"ldh [7] past end", prog(stmt(opLdH, 7), stmt(opRetK, 1)), 0},
		{"ldb [7] last byte", prog(stmt(opLdB, 7), retA), 0x08},
		{"ldb [8] past end", prog(stmt(opLdB, 8), stmt(opRetK, 1)), 0},
		{"ldb [huge]", prog(stmt(opLdB, 0x7fffffff), stmt(opRetK, 1)), 0},
		{"ld [x + 1]", prog(stmt(opLdxImm, 3), stmt(opLdIndW, 1), retA), 0x05064708},
		{"ld [x + 2] past end", prog(stmt(opLdxImm, 3), stmt(opLdIndW, 2), stmt(opRetK, 1)), 0},
		{"ldh [x + 0]", prog(stmt(opLdxImm, 6), stmt(opLdIndH, 0), retA), 0x4708},
		{"ldb [x + 7]", prog(stmt(opLdIndB, 7), retA), 0x08},
		{"ldb [x + k] overflow", prog(stmt(opLdxImm, 0xffffffff), stmt(opLdIndB, 2), stmt(opRetK, 1)), 0},
		{"ldh [x + k] overflow", prog(stmt(opLdxImm, 2), stmt(opLdIndH, 0xffffffff), stmt(opRetK, 1)), 0},
		{"ldxb 4*([6]&0xf)", prog(stmt(opLdxMsh, 6), stmt(opTxa, 0), retA), 28},
		{"ldxb past end", prog(stmt(opLdxMsh, 8), stmt(opRetK, 1)), 0},
		{"ld #imm", prog(stmt(opLdImm, 0xdeadbeef), retA), 0xdeadbeef},
		{"ldx #imm, txa", prog(stmt(opLdxImm, 77), stmt(opTxa, 0), retA), 77},
		{"tax", prog(stmt(opLdImm, 9), stmt(opTax, 0), stmt(opLdImm, 0), stmt(opTxa, 0), retA), 9},
		{"registers start at 0", prog(stmt(opTxa, 0), stmt(opAddK, 1), retA), 1},
		{"ret #k", prog(stmt(opRetK, 0xffffffff)), 0xffffffff},
	}
	for _, tt := range tests {
		if got := Run(tt.p, pkt, 1000, Ancillary{}); got != tt.want {
			t.Errorf("%s: Run = %#x, want %#x", tt.name, got, tt.want)
		}
	}
}

func TestRunLenIsWireLength(t *testing.T) {
	pkt := make([]byte, 64)
	if got := Run(prog(stmt(opLdLen, 0), retA), pkt, 1514, Ancillary{}); got != 1514 {
		t.Errorf("ld #pktlen = %d, want the wire length 1514", got)
	}
	if got := Run(prog(stmt(opLdxLen, 0), stmt(opTxa, 0), retA), pkt, 9000, Ancillary{}); got != 9000 {
		t.Errorf("ldx #pktlen = %d, want the wire length 9000", got)
	}
	// tcpdump's "len > 100" on a 64-byte capture of a 1514-byte packet.
	p := mustParseC(t, "{ 0x80, 0, 0, 0x00000000 },\n{ 0x25, 0, 1, 0x00000064 },\n{ 0x6, 0, 0, 0x00040000 },\n{ 0x6, 0, 0, 0x00000000 },\n")
	if got := Run(p, pkt, 1514, Ancillary{}); got != 262144 {
		t.Errorf("len > 100 on a long packet captured short: %d", got)
	}
	if got := Run(p, pkt, 64, Ancillary{}); got != 0 {
		t.Errorf("len > 100 on a 64-byte packet: %d", got)
	}
}

func mustParseC(t *testing.T, s string) []bpf.RawInstruction {
	t.Helper()
	p, err := ParseC(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// An out-of-bounds load ends the whole program with 0, even inside one
// branch of an "or" whose other branch matches: libpcap's semantics.
func TestRunOutOfBoundsInOrBranch(t *testing.T) {
	// ether[100] = 1 or ether[0] = 0
	p := prog(
		stmt(opLdB, 100),
		jmp(opJeqK, 1, 2, 0),
		stmt(opLdB, 0),
		jmp(opJeqK, 0, 0, 1),
		stmt(opRetK, 262144),
		stmt(opRetK, 0),
	)
	short := make([]byte, 60)
	if got := Run(p, short, 60, Ancillary{}); got != 0 {
		t.Errorf("short packet: Run = %d, want 0 though ether[0] = 0", got)
	}
	long := make([]byte, 120)
	if got := Run(p, long, 120, Ancillary{}); got != 262144 {
		t.Errorf("long packet: Run = %d, want 262144", got)
	}
	// The same with a tcpdump program: the TCP payload word read past the
	// end of a SYN without payload rejects it.
	syn := ether(macB, macA, 0x0800, ipv4(6, ip4A, ip4B, 5, tcpSeg(1, 80, 2, nil)))
	get := ether(macB, macA, 0x0800, ipv4(6, ip4A, ip4B, 5, tcpSeg(1, 80, 2, httpGo)))
	gp := goldenProgram(t, "EN10MB: tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420")
	if got := Run(gp, syn, len(syn), Ancillary{}); got != 0 {
		t.Errorf("HTTP GET filter on a bare SYN: %d", got)
	}
	if got := Run(gp, get, len(get), Ancillary{}); got == 0 {
		t.Errorf("HTTP GET filter on a GET: rejected")
	}
}

func TestRunScratchMemory(t *testing.T) {
	p := prog(
		stmt(opLdImm, 11), stmt(opSt, 0),
		stmt(opLdxImm, 22), stmt(opStx, 15),
		stmt(opLdImm, 0), stmt(opLdxImm, 0),
		stmt(opLdMem, 15), stmt(opLdxMem, 0), // A = 22, X = 11
		stmt(opSubX, 0),                    // 11
		stmt(opLdxMem, 7), stmt(opAddX, 0), // M[7] starts at 0
		retA,
	)
	if got := Run(p, nil, 0, Ancillary{}); got != 11 {
		t.Errorf("Run = %d, want 11", got)
	}
	for _, op := range []uint16{opLdMem, opLdxMem, opSt, opStx} {
		if got := Run(prog(stmt(op, 16), stmt(opRetK, 1)), nil, 0, Ancillary{}); got != 0 {
			t.Errorf("op %#x with M[16]: Run = %d, want 0", op, got)
		}
	}
}

func TestRunJumps(t *testing.T) {
	tests := []struct {
		op        uint16
		a, x, k   uint32
		wantTaken bool
	}{
		{opJeqK, 5, 0, 5, true}, {opJeqK, 5, 0, 6, false},
		{opJgtK, 6, 0, 5, true}, {opJgtK, 5, 0, 5, false}, {opJgtK, 0xffffffff, 0, 1, true},
		{opJgeK, 5, 0, 5, true}, {opJgeK, 4, 0, 5, false},
		{opJsetK, 6, 0, 2, true}, {opJsetK, 5, 0, 2, false},
		{opJeqX, 5, 5, 0, true}, {opJeqX, 5, 6, 5, false},
		{opJgtX, 6, 5, 0, true}, {opJgtX, 5, 5, 0, false},
		{opJgeX, 5, 5, 0, true}, {opJgeX, 4, 5, 9, false},
		{opJsetX, 6, 2, 0, true}, {opJsetX, 5, 2, 0xff, false},
	}
	for _, tt := range tests {
		p := prog(
			stmt(opLdImm, tt.a), stmt(opLdxImm, tt.x),
			jmp(tt.op, tt.k, 2, 1),
			stmt(opRetK, 100), // skipped
			stmt(opRetK, 2),   // false
			stmt(opRetK, 1),   // true
		)
		want := uint32(2)
		if tt.wantTaken {
			want = 1
		}
		if got := Run(p, nil, 0, Ancillary{}); got != want {
			t.Errorf("op %#x A=%d X=%d K=%d: Run = %d, want %d", tt.op, tt.a, tt.x, tt.k, got, want)
		}
	}
	// ja skips forward.
	if got := Run(prog(stmt(opJa, 1), stmt(opRetK, 1), stmt(opRetK, 2)), nil, 0, Ancillary{}); got != 2 {
		t.Errorf("ja 1: Run = %d, want 2", got)
	}
}

func TestRunBackwardJump(t *testing.T) {
	// Count A up to 10 with a backward ja.
	p := prog(
		stmt(opLdImm, 0),       // 0
		stmt(opAddK, 1),        // 1
		jmp(opJgeK, 10, 1, 0),  // 2
		stmt(opJa, 0xfffffffd), // 3: ja 1
		retA,                   // 4
	)
	if got := Run(p, nil, 0, Ancillary{}); got != 10 {
		t.Errorf("loop: Run = %d, want 10", got)
	}
	if err := ValidateInterpreter(p); err != nil {
		t.Errorf("ValidateInterpreter: %v", err)
	}
	if err := ValidateKernel(p); err == nil {
		t.Errorf("ValidateKernel accepts a backward jump")
	}
}

// loopProgram returns a program that executes exactly 3n+1 instructions.
func loopProgram(n uint32) []bpf.RawInstruction {
	return prog(
		stmt(opLdImm, 0),       // once
		stmt(opAddK, 1),        // n times
		jmp(opJgeK, n, 1, 0),   // n times
		stmt(opJa, 0xfffffffd), // n-1 times
		retA,                   // once
	)
}

func TestRunBudget(t *testing.T) {
	n := uint32((MaxSteps - 1) / 3)
	if 3*n+1 != MaxSteps {
		t.Fatalf("MaxSteps %d is not 3n+1", MaxSteps)
	}
	if got := Run(loopProgram(n), nil, 0, Ancillary{}); got != n {
		t.Errorf("a program of exactly MaxSteps steps: Run = %d, want %d", got, n)
	}
	if got := Run(loopProgram(n+1), nil, 0, Ancillary{}); got != 0 {
		t.Errorf("a program of more than MaxSteps steps: Run = %d, want 0", got)
	}
	// ja to itself: an infinite loop.
	if got := Run(prog(stmt(opJa, 0xffffffff), stmt(opRetK, 1)), nil, 0, Ancillary{}); got != 0 {
		t.Errorf("ja to itself: Run = %d, want 0", got)
	}
	// A loop through a conditional jump's zero offsets and a ja.
	p := prog(stmt(opLdB, 0), jmp(opJeqK, 1, 0, 0), stmt(opJa, 0xfffffffd), stmt(opRetK, 1))
	if got := Run(p, []byte{1}, 1, Ancillary{}); got != 0 {
		t.Errorf("endless loop: Run = %d, want 0", got)
	}
}

func TestRunOffTheEnd(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    []bpf.RawInstruction
	}{
		{"empty", nil},
		{"no return", prog(stmt(opLdImm, 1))},
		{"jt past the end", prog(jmp(opJeqK, 0, 5, 0), stmt(opRetK, 1))},
		{"jf past the end", prog(jmp(opJeqK, 1, 0, 200), stmt(opRetK, 1))},
		{"ja past the end", prog(stmt(opJa, 1), stmt(opRetK, 1))},
		{"ja far past the end", prog(stmt(opJa, 0x7fffffff), stmt(opRetK, 1))},
		{"ja before the start", prog(stmt(opRetK, 1), stmt(opJa, 0xfffffffd), stmt(opRetK, 1))[1:]},
		{"ja to most negative", prog(stmt(opJa, 0x80000000), stmt(opRetK, 1))},
		{"unknown opcode", prog(stmt(0x07|0x10, 0), stmt(opRetK, 1))},
		{"ret with stray bits", prog(stmt(opRetK|0x100, 1))},
		{"ret x", prog(stmt(classRET|srcX, 1))},
		{"ld msh (only ldx has it)", prog(stmt(classLD|sizeB|modeMSH, 0), stmt(opRetK, 1))},
	} {
		if got := Run(tt.p, []byte{1, 2, 3, 4}, 4, Ancillary{}); got != 0 {
			t.Errorf("%s: Run = %d, want 0", tt.name, got)
		}
	}
}

func TestRunAncillary(t *testing.T) {
	anc := Ancillary{
		Protocol: 0x86dd, PktType: 4, IfIndex: 7, HAType: 772, Mark: 0xabcdef01,
		Queue: 3, RXHash: 0x12345678, CPU: 1, Random: 42,
		VLANTCI: 0x3064, VLANPresent: true, VLANTPID: 0x88a8,
	}
	tests := []struct {
		n    uint32
		want uint32
	}{
		{AdProtocol, 0x86dd}, {AdPktType, 4}, {AdIfIndex, 7}, {AdHAType, 772},
		{AdMark, 0xabcdef01}, {AdQueue, 3}, {AdRXHash, 0x12345678}, {AdCPU, 1},
		{AdRandom, 42}, {AdVLANTag, 0x3064}, {AdVLANTagPresent, 1}, {AdVLANTPID, 0x88a8},
	}
	for _, tt := range tests {
		// The size of the load does not matter: ldb [vlan_tci] gives the
		// whole TCI, as in the kernel.
		for _, op := range []uint16{opLdW, opLdH, opLdB} {
			p := prog(stmt(op, AncillaryOffset+tt.n), retA)
			if got := Run(p, nil, 0, anc); got != tt.want {
				t.Errorf("%s: Run = %#x, want %#x", describe(p[0], 0), got, tt.want)
			}
			if got := RunPlain(p, nil, 0); got != 0 {
				t.Errorf("%s without Linux extensions: RunPlain = %#x, want 0", describe(p[0], 0), got)
			}
		}
	}
	if got := Run(prog(stmt(opLdB, AncillaryOffset+AdVLANTagPresent), retA), nil, 0, Ancillary{}); got != 0 {
		t.Errorf("vlanp without a tag = %d", got)
	}
	// xor_x is an operation, not a load.
	p := prog(stmt(opLdImm, 0xff00), stmt(opLdxImm, 0x0ff0), stmt(opLdW, AncillaryOffset+AdALUXorX), retA)
	if got := Run(p, nil, 0, anc); got != 0xf0f0 {
		t.Errorf("ld [xor_x] = %#x, want A^X = 0xf0f0", got)
	}
	// Data not available here, unknown numbers and indexed loads of
	// ancillary offsets reject.
	for _, ins := range []bpf.RawInstruction{
		stmt(opLdW, AncillaryOffset+AdNlAttr), stmt(opLdW, AncillaryOffset+AdNlAttrNest),
		stmt(opLdW, AncillaryOffset+AdPayOffset), stmt(opLdW, AncillaryOffset+1),
		stmt(opLdH, AncillaryOffset+skfADMax), stmt(opLdB, 0xffffffff),
		stmt(opLdIndW, AncillaryOffset+AdProtocol), stmt(opLdxMsh, AncillaryOffset+AdProtocol),
	} {
		if got := Run(prog(ins, stmt(opRetK, 1)), make([]byte, 100), 100, anc); got != 0 {
			t.Errorf("%s: Run = %d, want 0", describe(ins, 0), got)
		}
	}
}

// The programs libpcap compiles for a live Linux interface read the VLAN
// tag and packet type from the ancillary data.
func TestRunLivePrograms(t *testing.T) {
	plain := ether(macB, macA, 0x0800, ipv4(6, ip4A, ip4B, 5, tcpSeg(1, 80, 2, nil)))
	tagged := ether8021Q(10, 0x0800, ipv4(6, ip4A, ip4B, 5, tcpSeg(1, 80, 2, nil)))
	vlan10 := goldenProgram(t, "lo: vlan 10")
	for _, tt := range []struct {
		name string
		pkt  []byte
		anc  Ancillary
		want bool
	}{
		{"tag removed, vid 10", plain, Ancillary{VLANPresent: true, VLANTCI: 10, VLANTPID: 0x8100}, true},
		{"tag removed, vid 10 priority 5", plain, Ancillary{VLANPresent: true, VLANTCI: 5<<13 | 10}, true},
		{"tag removed, vid 266 (low byte 10)", plain, Ancillary{VLANPresent: true, VLANTCI: 266}, false},
		{"tag removed, vid 11", plain, Ancillary{VLANPresent: true, VLANTCI: 11}, false},
		{"tag inline, vid 10", tagged, Ancillary{}, true},
		{"no tag", plain, Ancillary{}, false},
	} {
		if got := Run(vlan10, tt.pkt, len(tt.pkt), tt.anc) != 0; got != tt.want {
			t.Errorf("vlan 10, %s: accepted = %v, want %v", tt.name, got, tt.want)
		}
	}
	inbound := goldenProgram(t, "lo: inbound")
	outbound := goldenProgram(t, "lo: outbound")
	for pt := uint8(0); pt <= 4; pt++ {
		anc := Ancillary{PktType: pt}
		in, out := Run(inbound, plain, len(plain), anc) != 0, Run(outbound, plain, len(plain), anc) != 0
		if in != (pt != 4) || out != (pt == 4) {
			t.Errorf("pkttype %d: inbound %v, outbound %v", pt, in, out)
		}
	}
	ifindex := goldenProgram(t, "lo: ifindex 1")
	if Run(ifindex, plain, len(plain), Ancillary{IfIndex: 1}) == 0 || Run(ifindex, plain, len(plain), Ancillary{IfIndex: 2}) != 0 {
		t.Errorf("ifindex 1 does not select interface 1")
	}
}

func TestRunSpecialOffsets(t *testing.T) {
	pkt := ether(macB, macA, 0x0800, ipv4(17, ip4A, ip4B, 5, udpDgram(1, 53, nil)))
	anc := Ancillary{NetworkOffset: 14, HasNetworkOffset: true}
	tests := []struct {
		name string
		p    []bpf.RawInstruction
		anc  Ancillary
		want uint32
	}{
		{"ldh [ll+12]", prog(stmt(opLdH, LinkOffset+12), retA), Ancillary{}, 0x0800},
		{"ldb [net+9]", prog(stmt(opLdB, NetOffset+9), retA), anc, 17},
		{"ldb [net+9] unknown network offset", prog(stmt(opLdB, NetOffset+9), stmt(opRetK, 1)), Ancillary{}, 0},
		{"ldb [net+9] negative network offset", prog(stmt(opLdB, NetOffset+9), stmt(opRetK, 1)), Ancillary{NetworkOffset: -1, HasNetworkOffset: true}, 0},
		{"ld [net+n] past the end", prog(stmt(opLdW, NetOffset+uint32(len(pkt)-14-3)), stmt(opRetK, 1)), anc, 0},
		{"ld [ll+n] past the end", prog(stmt(opLdW, LinkOffset+uint32(len(pkt)-3)), stmt(opRetK, 1)), anc, 0},
		{"ldh [x + ll]", prog(stmt(opLdxImm, 12), stmt(opLdIndH, LinkOffset), retA), Ancillary{}, 0x0800},
		{"ld [x + ll]", prog(stmt(opLdxImm, 12), stmt(opLdIndW, LinkOffset), retA), Ancillary{}, 0x08004500},
		{"ldb [x + net]", prog(stmt(opLdxImm, 9), stmt(opLdIndB, NetOffset), retA), anc, 17},
		{"ld [ll+12]", prog(stmt(opLdW, LinkOffset+12), retA), Ancillary{}, 0x08004500},
		{"ldxb 4*([net]&0xf)", prog(stmt(opLdxMsh, NetOffset), stmt(opTxa, 0), retA), anc, 20},
		{"below SKF_LL_OFF", prog(stmt(opLdB, LinkOffset-1), stmt(opRetK, 1)), anc, 0},
		{"0x80000000", prog(stmt(opLdB, 0x80000000), stmt(opRetK, 1)), anc, 0},
	}
	for _, tt := range tests {
		if got := Run(tt.p, pkt, len(pkt), tt.anc); got != tt.want {
			t.Errorf("%s: Run = %#x, want %#x", tt.name, got, tt.want)
		}
		if tt.want != 0 {
			if got := run(tt.p, pkt, len(pkt), nil); got != 0 {
				t.Errorf("%s without Linux extensions: run = %#x, want 0", tt.name, got)
			}
		}
	}
}

// goldenProgram returns the program tcpdump compiled for a case of the
// golden file.
func goldenProgram(t testing.TB, name string) []bpf.RawInstruction {
	t.Helper()
	goldenOnce.Do(func() { goldenCache = readGoldenFile() })
	o, ok := goldenCache[name]
	if !ok {
		t.Fatalf("no case %q in the golden file", name)
	}
	p, err := ParseDecimal(o.ddd)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

// TestRunTcpdumpPrograms checks what tcpdump's programs accept.
func TestRunTcpdumpPrograms(t *testing.T) {
	tcp80 := ether(macB, macA, 0x0800, ipv4(6, ip4A, ip4B, 5, tcpSeg(40000, 80, 2, nil)))
	tcp80opts := ether(macB, macA, 0x0800, ipv4(6, ip4A, ip4B, 15, tcpSeg(80, 40000, 2, nil)))
	udp53 := ether(macB, macA, 0x0800, ipv4(17, ip4A, ip4B, 5, udpDgram(5353, 53, nil)))
	tcp6 := ether(macB, macA, 0x86dd, ipv6(6, ip6A, ip6B, tcpSeg(1, 80, 2, nil)))
	tcp6ext := ether(macB, macA, 0x86dd, ipv6(0, ip6A, ip6B, cat(ext6(43, 0), ext6(60, 2), ext6(6, 0), tcpSeg(1, 80, 0, nil))))
	udp6ext := ether(macB, macA, 0x86dd, ipv6(0, ip6A, ip6B, cat(ext6(60, 0), ext6(17, 0), udpDgram(1, 2, nil))))
	ahTCP := ether(macB, macA, 0x0800, ipv4(51, ip4A, ip4B, 5, cat([]byte{6, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0}, tcpSeg(1, 2, 0, nil))))
	vlanTCP := ether8021Q(100, 0x0800, ipv4(6, ip4A, ip4B, 5, tcpSeg(1, 80, 2, nil)))
	mpls := ether(macA, macB, 0x8847, cat(mplsLabel(100, true), ipv4(6, ip4A, ip4B, 5, tcpSeg(1, 80, 2, nil))))
	rawTCP := ipv4(6, ip4A, ip4B, 5, tcpSeg(1, 80, 2, nil))
	sllTCP := cat(sll(4, 0x0800), rawTCP)
	sll2TCP := cat(sll2(0x0800, 3, 0), rawTCP)
	tests := []struct {
		name string
		pkt  []byte
		want bool
	}{
		{"EN10MB: tcp port 80", tcp80, true},
		{"EN10MB: tcp port 80", tcp80opts, true},
		{"EN10MB: tcp port 80", tcp80[:len(tcp80)-20], false},
		{"EN10MB: tcp port 80", udp53, false},
		{"EN10MB: tcp port 80", tcp6, true},
		{"EN10MB: udp port 53", udp53, true},
		{"EN10MB: ip6 and tcp", tcp6, true},
		{"EN10MB: ip6 and tcp", tcp80, false},
		{"EN10MB: protochain 6", tcp6ext, true},
		{"EN10MB: protochain 6", udp6ext, false},
		{"EN10MB: protochain 6", ahTCP, true},
		{"EN10MB: protochain 6", tcp80, true},
		{"EN10MB: ip6 protochain 58", tcp6ext, false},
		{"EN10MB -O: protochain 6", tcp6ext, true},
		{"EN10MB -O: protochain 6", udp6ext, false},
		{"EN10MB: vlan 100", vlanTCP, true},
		{"EN10MB: vlan 100", tcp80, false},
		{"EN10MB: vlan and tcp port 80", vlanTCP, true},
		{"EN10MB: mpls 100", mpls, true},
		{"EN10MB: mpls and ip", mpls, true},
		{"EN10MB: mpls 100", tcp80, false},
		{"EN10MB: portrange 1000-2000", ether(macB, macA, 0x0800, ipv4(17, ip4A, ip4B, 5, udpDgram(1500, 9, nil))), true},
		{"EN10MB: portrange 1000-2000", udp53, false},
		{"EN10MB: net 10.0.0.0/8", tcp80, true},
		{"EN10MB: dst net 172.16.0.0/12", tcp80, false},
		{"EN10MB: ether broadcast", ether(macBC, macA, 0x0806, arpPkt()), true},
		{"EN10MB: ether multicast", ether(macMC, macA, 0x0800, rawTCP), true},
		{"EN10MB: ether multicast", tcp80, false},
		{"EN10MB: icmp[icmptype] == icmp-echo", ether(macB, macA, 0x0800, ipv4(1, ip4A, ip4B, 5, icmpMsg(8, 0))), true},
		{"EN10MB: icmp[icmptype] == icmp-echo", ether(macB, macA, 0x0800, ipv4(1, ip4A, ip4B, 5, icmpMsg(0, 0))), false},
		{"EN10MB: ip[2:2] > 100", ether(macB, macA, 0x0800, ipv4(17, ip4A, ip4B, 5, udpDgram(1, 2, make([]byte, 80)))), true},
		{"EN10MB: ip[2:2] > 100", udp53, false},
		{"RAW: tcp port 80", rawTCP, true},
		{"LINUX_SLL: tcp port 80", sllTCP, true},
		{"LINUX_SLL: outbound", sllTCP, true},
		{"LINUX_SLL: inbound", sllTCP, false},
		{"LINUX_SLL2: tcp port 80", sll2TCP, true},
		{"LINUX_SLL2: ifindex 3", sll2TCP, true},
	}
	for _, tt := range tests {
		p := goldenProgram(t, tt.name)
		if got := Run(p, tt.pkt, len(tt.pkt), Ancillary{}) != 0; got != tt.want {
			t.Errorf("%s on % x: accepted = %v, want %v", tt.name, tt.pkt, got, tt.want)
		}
	}
}

func TestRunDoesNotAllocate(t *testing.T) {
	p := goldenProgram(t, "EN10MB: protochain 6")
	pkt := ether(macB, macA, 0x86dd, ipv6(0, ip6A, ip6B, cat(ext6(43, 0), ext6(60, 2), ext6(6, 0), tcpSeg(1, 80, 0, nil))))
	anc := Ancillary{VLANPresent: true}
	if n := testing.AllocsPerRun(100, func() { Run(p, pkt, len(pkt), anc) }); n != 0 {
		t.Errorf("Run allocates %v times per call", n)
	}
}
