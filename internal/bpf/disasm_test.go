package bpf

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

// Expected lines follow libpcap 1.10's bpf_image formats; the libpcap and
// tcpdump tests check the same against the real thing where it is
// installed.
func TestImage(t *testing.T) {
	tests := []struct {
		ins  bpf.RawInstruction
		n    int
		want string
	}{
		{stmt(opLdH, 12), 0, "(000) ldh      [12]"},
		{jmp(opJeqK, 0x86dd, 0, 6), 1, "(001) jeq      #0x86dd          jt 2\tjf 8"},
		{stmt(opLdW, 26), 2, "(002) ld       [26]"},
		{stmt(opLdB, 23), 3, "(003) ldb      [23]"},
		{stmt(opLdW, 0xffffffff), 3, "(003) ld       [-1]"},
		{stmt(opLdLen, 0), 4, "(004) ld       #pktlen"},
		{stmt(opLdxLen, 0), 4, "(004) unimp    0x81"},
		{stmt(opLdIndW, 2), 5, "(005) ld       [x + 2]"},
		{stmt(opLdIndH, 14), 5, "(005) ldh      [x + 14]"},
		{stmt(opLdIndB, 0xfffffffe), 5, "(005) ldb      [x + -2]"},
		{stmt(opLdImm, 0x800), 6, "(006) ld       #0x800"},
		{stmt(opLdxImm, 40), 6, "(006) ldx      #0x28"},
		{stmt(opLdxMsh, 14), 7, "(007) ldxb     4*([14]&0xf)"},
		{stmt(opLdMem, 1), 8, "(008) ld       M[1]"},
		{stmt(opLdxMem, 15), 8, "(008) ldx      M[15]"},
		{stmt(opSt, 0), 8, "(008) st       M[0]"},
		{stmt(opStx, 16), 8, "(008) stx      M[16]"},
		{stmt(opSt, 0xffffffff), 8, "(008) st       M[-1]"},
		{stmt(opJa, 12), 9, "(009) ja       22"},
		{stmt(opJa, 0xfffffff0), 19, "(019) ja       4"},
		{stmt(opJa, 0xfffffff0), 0, "(000) ja       -15"},
		{jmp(opJgtK, 100, 0, 1), 10, "(010) jgt      #0x64            jt 11\tjf 12"},
		{jmp(opJgeK, 0xffffffff, 255, 255), 10, "(010) jge      #0xffffffff      jt 266\tjf 266"},
		{jmp(opJsetK, 0x1fff, 6, 0), 12, "(012) jset     #0x1fff          jt 19\tjf 13"},
		{jmp(opJeqX, 0, 0, 1), 13, "(013) jeq      x                jt 14\tjf 15"},
		{jmp(opJgtX, 0, 0, 1), 13, "(013) jgt      x                jt 14\tjf 15"},
		{jmp(opJgeX, 0, 0, 1), 13, "(013) jge      x                jt 14\tjf 15"},
		{jmp(opJsetX, 0, 0, 1), 13, "(013) jset     x                jt 14\tjf 15"},
		{stmt(opAddX, 0), 14, "(014) add      x"},
		{stmt(opSubX, 0), 14, "(014) sub      x"},
		{stmt(opMulX, 0), 14, "(014) mul      x"},
		{stmt(opDivX, 0), 14, "(014) div      x"},
		{stmt(opModX, 0), 14, "(014) mod      x"},
		{stmt(opAndX, 0), 14, "(014) and      x"},
		{stmt(opOrX, 0), 14, "(014) or       x"},
		{stmt(opXorX, 0), 14, "(014) xor      x"},
		{stmt(opLshX, 0), 14, "(014) lsh      x"},
		{stmt(opRshX, 0), 14, "(014) rsh      x"},
		{stmt(opAddK, 1), 15, "(015) add      #1"},
		{stmt(opSubK, 0xffffffff), 15, "(015) sub      #-1"},
		{stmt(opMulK, 4), 15, "(015) mul      #4"},
		{stmt(opDivK, 3), 15, "(015) div      #3"},
		{stmt(opModK, 7), 15, "(015) mod      #7"},
		{stmt(opAndK, 0xf0), 15, "(015) and      #0xf0"},
		{stmt(opOrK, 3), 15, "(015) or       #0x3"},
		{stmt(opXorK, 5), 15, "(015) xor      #0x5"},
		{stmt(opLshK, 2), 15, "(015) lsh      #2"},
		{stmt(opRshK, 1), 15, "(015) rsh      #1"},
		{stmt(opNeg, 0), 16, "(016) neg      "},
		{stmt(opTax, 0), 16, "(016) tax      "},
		{stmt(opTxa, 0), 16, "(016) txa      "},
		{stmt(opRetA, 0), 17, "(017) ret      "},
		{stmt(opRetK, 262144), 18, "(018) ret      #262144"},
		{stmt(opRetK, 0xffffffff), 18, "(018) ret      #-1"},
		{stmt(opRetK, 0), 1234, "(1234) ret      #0"},
		// Ancillary loads, named as libpcap names them.
		{stmt(opLdH, AncillaryOffset+AdProtocol), 0, "(000) ldh      [proto]"},
		{stmt(opLdH, AncillaryOffset+AdPktType), 0, "(000) ldh      [type]"},
		{stmt(opLdW, AncillaryOffset+AdIfIndex), 0, "(000) ld       [ifidx]"},
		{stmt(opLdW, AncillaryOffset+AdNlAttr), 0, "(000) ld       [nla]"},
		{stmt(opLdW, AncillaryOffset+AdNlAttrNest), 0, "(000) ld       [nlan]"},
		{stmt(opLdW, AncillaryOffset+AdMark), 0, "(000) ld       [mark]"},
		{stmt(opLdW, AncillaryOffset+AdQueue), 0, "(000) ld       [queue]"},
		{stmt(opLdW, AncillaryOffset+AdHAType), 0, "(000) ld       [hatype]"},
		{stmt(opLdW, AncillaryOffset+AdRXHash), 0, "(000) ld       [rxhash]"},
		{stmt(opLdW, AncillaryOffset+AdCPU), 0, "(000) ld       [cpu]"},
		{stmt(opLdW, AncillaryOffset+AdALUXorX), 0, "(000) ld       [xor_x]"},
		{stmt(opLdB, AncillaryOffset+AdVLANTag), 0, "(000) ldb      [vlan_tci]"},
		{stmt(opLdB, AncillaryOffset+AdVLANTagPresent), 0, "(000) ldb      [vlanp]"},
		{stmt(opLdW, AncillaryOffset+AdPayOffset), 0, "(000) ld       [poff]"},
		{stmt(opLdW, AncillaryOffset+AdRandom), 0, "(000) ld       [random]"},
		{stmt(opLdH, AncillaryOffset+AdVLANTPID), 0, "(000) ldh      [vlan_tpid]"},
		{stmt(opLdW, AncillaryOffset+1), 0, "(000) ld       [-4095]"},
		{stmt(opLdW, AncillaryOffset+skfADMax), 0, "(000) ld       [-4032]"},
		{stmt(opLdW, LinkOffset), 0, "(000) ld       [-2097152]"},
		// Indexed and MSH loads never get ancillary names.
		{stmt(opLdIndH, AncillaryOffset), 0, "(000) ldh      [x + -4096]"},
		{stmt(opLdxMsh, AncillaryOffset), 0, "(000) ldxb     4*([-4096]&0xf)"},
		// Unknown opcodes; jump-class ones still print targets.
		{stmt(0x17, 0), 0, "(000) unimp    0x17"},
		{stmt(0xffff, 0), 0, "(000) unimp    0xffff"},
		{jmp(0x55, 0, 1, 2), 0, "(000) unimp    0x55             jt 2\tjf 3"},
		{jmp(0x105, 0, 1, 2), 0, "(000) unimp    0x105"},
	}
	for _, tt := range tests {
		if got := Image(tt.ins, tt.n); got != tt.want {
			t.Errorf("Image(%+v, %d)\ngot  %q\nwant %q", tt.ins, tt.n, got, tt.want)
		}
	}
}

var tcpPort80 = []bpf.RawInstruction{
	{Op: 0x28, K: 12}, {Op: 0x15, Jf: 6, K: 0x86dd}, {Op: 0x30, K: 20}, {Op: 0x15, Jf: 15, K: 6},
	{Op: 0x28, K: 54}, {Op: 0x15, Jt: 12, K: 80}, {Op: 0x28, K: 56}, {Op: 0x15, Jt: 10, Jf: 11, K: 80},
	{Op: 0x15, Jf: 10, K: 0x800}, {Op: 0x30, K: 23}, {Op: 0x15, Jf: 8, K: 6}, {Op: 0x28, K: 20},
	{Op: 0x45, Jt: 6, K: 0x1fff}, {Op: 0xb1, K: 14}, {Op: 0x48, K: 14}, {Op: 0x15, Jt: 2, K: 80},
	{Op: 0x48, K: 16}, {Op: 0x15, Jf: 1, K: 80}, {Op: 0x6, K: 262144}, {Op: 0x6, K: 0},
}

func TestDumpFormats(t *testing.T) {
	p := tcpPort80[:4]
	if got, want := Disassemble(p), "(000) ldh      [12]\n(001) jeq      #0x86dd          jt 2\tjf 8\n(002) ldb      [20]\n(003) jeq      #0x6             jt 4\tjf 19\n"; got != want {
		t.Errorf("Disassemble:\ngot  %q\nwant %q", got, want)
	}
	if got, want := DumpC(p), "{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 6, 0x000086dd },\n{ 0x30, 0, 0, 0x00000014 },\n{ 0x15, 0, 15, 0x00000006 },\n"; got != want {
		t.Errorf("DumpC:\ngot  %q\nwant %q", got, want)
	}
	if got, want := DumpDecimal(p), "4\n40 0 0 12\n21 0 6 34525\n48 0 0 20\n21 0 15 6\n"; got != want {
		t.Errorf("DumpDecimal:\ngot  %q\nwant %q", got, want)
	}
	if got := DumpC(prog(stmt(0xffff, 0xffffffff))); got != "{ 0xffff, 0, 0, 0xffffffff },\n" {
		t.Errorf("DumpC of extremes: %q", got)
	}
	if got := Disassemble(nil) + DumpC(nil); got != "" {
		t.Errorf("empty program: %q", got)
	}
	if got := DumpDecimal(nil); got != "0\n" {
		t.Errorf("DumpDecimal(nil) = %q", got)
	}
}

func TestParseRoundTrip(t *testing.T) {
	p := append(slices.Clone(tcpPort80), stmt(0xffff, 0xffffffff), jmp(opJeqK, 0, 255, 255))
	got, err := ParseDecimal(DumpDecimal(p))
	if err != nil || !slices.Equal(got, p) {
		t.Errorf("ParseDecimal(DumpDecimal(p)) = %v, %v", got, err)
	}
	got, err = ParseC(DumpC(p))
	if err != nil || !slices.Equal(got, p) {
		t.Errorf("ParseC(DumpC(p)) = %v, %v", got, err)
	}
}

func TestParseDecimal(t *testing.T) {
	want := prog(stmt(0x28, 12), jmp(0x15, 0x800, 0, 1), stmt(6, 262144), stmt(6, 0))
	for _, in := range []string{
		"4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n",
		"4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0",               // no final newline
		"\n  4\n\n40\t0 0  12\r\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n\n", // blank lines, tabs, CRLF
		"4,40 0 0 12,21 0 1 2048,6 0 0 262144,6 0 0 0",                   // iptables --bytecode
		"4,40 0 0 12,21 0 1 2048,6 0 0 262144,6 0 0 0,\n",
	} {
		got, err := ParseDecimal(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseDecimal(%q) = %v, %v", in, got, err)
		}
	}
	for _, tt := range []struct{ in, err string }{
		{"", "no instruction count"},
		{"  \n\n", "no instruction count"},
		{"x\n6 0 0 0\n", "bad instruction count"},
		{"-1\n", "bad instruction count"},
		{"2\n6 0 0 0\n", "count says 2 instructions but 1 follow"},
		{"1\n6 0 0 0\n6 0 0 0\n", "count says 1 instructions but 2 follow"},
		{"1\n6 0 0\n", "line 2: want 4 numbers"},
		{"1\n6 0 0 0 0\n", "line 2: want 4 numbers"},
		{"1\n65536 0 0 0\n", "line 2: bad opcode \"65536\""},
		{"1\n6 256 0 0\n", "bad jt \"256\""},
		{"1\n6 0 -1 0\n", "bad jf \"-1\""},
		{"1\n6 0 0 4294967296\n", "bad k \"4294967296\""},
		{"1\n6 0 0 0x10\n", "bad k \"0x10\""},
	} {
		_, err := ParseDecimal(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("ParseDecimal(%q) error = %v, want one with %q", tt.in, err, tt.err)
		}
	}
}

func TestParseC(t *testing.T) {
	want := prog(stmt(0x28, 12), jmp(0x15, 0x800, 0, 1), stmt(6, 262144), stmt(6, 0))
	for _, in := range []string{
		"{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 1, 0x00000800 },\n{ 0x6, 0, 0, 0x00040000 },\n{ 0x6, 0, 0, 0x00000000 },\n",
		"{40,0,0,12},\n\n  {0x15, 0, 1, 2048}\n{ 06, 0, 0, 262144 },\n{ 0x6, 0, 0, 0 }",
	} {
		got, err := ParseC(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseC(%q) = %v, %v", in, got, err)
		}
	}
	if got, err := ParseC(""); err != nil || len(got) != 0 {
		t.Errorf("ParseC(\"\") = %v, %v", got, err)
	}
	for _, tt := range []struct{ in, err string }{
		{"0x28, 0, 0, 12\n", "line 1: want { code, jt, jf, k }"},
		{"{ 0x28, 0, 0, 12\n", "line 1: want { code, jt, jf, k }"},
		{"{ 0x6, 0, 0, 0 },\n{ 0x28, 0, 0 },\n", "line 2: want 4 numbers"},
		{"{ 0x10000, 0, 0, 0 },\n", "bad opcode"},
		{"{ 0x6, 0x100, 0, 0 },\n", "bad jt"},
		{"{ 0x6, 0, 0, 0x100000000 },\n", "bad k"},
		{"{ 0x6, 0, 0, zz },\n", "bad k \"zz\""},
	} {
		_, err := ParseC(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("ParseC(%q) error = %v, want one with %q", tt.in, err, tt.err)
		}
	}
}
