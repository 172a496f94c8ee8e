package bpf

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// mnemonic returns the operation name and operand libpcap's bpf_image
// prints for ins, the instruction at index n.
func mnemonic(ins bpf.RawInstruction, n int) (op, operand string) {
	k := ins.K
	sk := int32(k) // libpcap prints most constants with %d
	hex := func() string { return "#0x" + strconv.FormatUint(uint64(k), 16) }
	abs := func() string {
		if name := ancillaryName(k); name != "" {
			return "[" + name + "]"
		}
		return "[" + strconv.Itoa(int(sk)) + "]"
	}
	ind := func() string { return "[x + " + strconv.Itoa(int(sk)) + "]" }
	dec := func() string { return "#" + strconv.Itoa(int(sk)) }
	mem := func() string { return "M[" + strconv.Itoa(int(sk)) + "]" }

	switch ins.Op {
	case opRetK:
		return "ret", dec()
	case opRetA:
		return "ret", ""
	case opLdW:
		return "ld", abs()
	case opLdH:
		return "ldh", abs()
	case opLdB:
		return "ldb", abs()
	case opLdLen:
		return "ld", "#pktlen"
	case opLdIndW:
		return "ld", ind()
	case opLdIndH:
		return "ldh", ind()
	case opLdIndB:
		return "ldb", ind()
	case opLdImm:
		return "ld", hex()
	case opLdxImm:
		return "ldx", hex()
	case opLdxMsh:
		return "ldxb", "4*([" + strconv.Itoa(int(sk)) + "]&0xf)"
	case opLdMem:
		return "ld", mem()
	case opLdxMem:
		return "ldx", mem()
	case opSt:
		return "st", mem()
	case opStx:
		return "stx", mem()
	case opJa:
		// C computes n + 1 + k in unsigned arithmetic and prints it
		// with %d, so backward jumps come out right.
		return "ja", strconv.Itoa(int(int32(uint32(n) + 1 + k)))
	case opJgtK:
		return "jgt", hex()
	case opJgeK:
		return "jge", hex()
	case opJeqK:
		return "jeq", hex()
	case opJsetK:
		return "jset", hex()
	case opJgtX:
		return "jgt", "x"
	case opJgeX:
		return "jge", "x"
	case opJeqX:
		return "jeq", "x"
	case opJsetX:
		return "jset", "x"
	case opAddX:
		return "add", "x"
	case opSubX:
		return "sub", "x"
	case opMulX:
		return "mul", "x"
	case opDivX:
		return "div", "x"
	case opModX:
		return "mod", "x"
	case opAndX:
		return "and", "x"
	case opOrX:
		return "or", "x"
	case opXorX:
		return "xor", "x"
	case opLshX:
		return "lsh", "x"
	case opRshX:
		return "rsh", "x"
	case opAddK:
		return "add", dec()
	case opSubK:
		return "sub", dec()
	case opMulK:
		return "mul", dec()
	case opDivK:
		return "div", dec()
	case opModK:
		return "mod", dec()
	case opAndK:
		return "and", hex()
	case opOrK:
		return "or", hex()
	case opXorK:
		return "xor", hex()
	case opLshK:
		return "lsh", dec()
	case opRshK:
		return "rsh", dec()
	case opNeg:
		return "neg", ""
	case opTax:
		return "tax", ""
	case opTxa:
		return "txa", ""
	}
	// Unknown opcodes, and ldx #pktlen, which libpcap 1.10 does not name.
	return "unimp", "0x" + strconv.FormatUint(uint64(ins.Op), 16)
}

// isConditional tells whether libpcap prints ins with jt and jf targets:
// every jump-class opcode but ja, known or not.
func isConditional(op uint16) bool {
	return op&0x07 == classJMP && op&0xf0 != jmpJA
}

// Image returns the text libpcap's bpf_image gives ins, the instruction at
// index n of its program: the line tcpdump -d prints for it, without the
// newline. The format is libpcap 1.10's:
//
//	(000) ldh      [12]
//	(001) jeq      #0x86dd          jt 2	jf 8
//	(008) ret      #262144
//
// The operation name is padded to 8 columns and, for conditional jumps, the
// operand to 16, with a tab before "jf"; instructions without an operand
// (tax, txa, neg, ret a) keep the padding, so their line ends in spaces.
func Image(ins bpf.RawInstruction, n int) string {
	op, operand := mnemonic(ins, n)
	if isConditional(ins.Op) {
		return fmt.Sprintf("(%03d) %-8s %-16s jt %d\tjf %d",
			n, op, operand, n+1+int(ins.Jt), n+1+int(ins.Jf))
	}
	return fmt.Sprintf("(%03d) %-8s %s", n, op, operand)
}

// describe returns a compact rendering of ins, the instruction at index n,
// for error messages: "jeq #0x800 jt 2 jf 12".
func describe(ins bpf.RawInstruction, n int) string {
	op, operand := mnemonic(ins, n)
	s := op
	if operand != "" {
		s += " " + operand
	}
	if isConditional(ins.Op) {
		s += fmt.Sprintf(" jt %d jf %d", n+1+int(ins.Jt), n+1+int(ins.Jf))
	}
	return s
}

// Disassemble returns prog as tcpdump -d prints it: the Image of each
// instruction, each followed by a newline.
func Disassemble(prog []bpf.RawInstruction) string {
	var b strings.Builder
	for i, ins := range prog {
		b.WriteString(Image(ins, i))
		b.WriteByte('\n')
	}
	return b.String()
}

// DumpC returns prog as tcpdump -dd prints it, a C array initializer
// body: one "{ 0x28, 0, 0, 0x0000000c }," line per instruction.
func DumpC(prog []bpf.RawInstruction) string {
	var b strings.Builder
	for _, ins := range prog {
		fmt.Fprintf(&b, "{ 0x%x, %d, %d, 0x%08x },\n", ins.Op, ins.Jt, ins.Jf, ins.K)
	}
	return b.String()
}

// DumpDecimal returns prog as tcpdump -ddd prints it: the instruction
// count on the first line, then one "40 0 0 12" line (opcode, jt, jf, k in
// decimal) per instruction. ParseDecimal reads it back.
func DumpDecimal(prog []bpf.RawInstruction) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", len(prog))
	for _, ins := range prog {
		fmt.Fprintf(&b, "%d %d %d %d\n", ins.Op, ins.Jt, ins.Jf, ins.K)
	}
	return b.String()
}

// ParseDecimal reads a program in the format of tcpdump -ddd (see
// DumpDecimal). Fields may be separated by any white space, blank lines
// are ignored, and a comma may stand for the line breaks (as in iptables'
// "--bytecode" argument); the number of instructions must match the count.
func ParseDecimal(s string) ([]bpf.RawInstruction, error) {
	lines := splitRecords(s)
	if len(lines) == 0 {
		return nil, fmt.Errorf("bpf: no instruction count")
	}
	count, err := strconv.ParseUint(strings.TrimSpace(lines[0].text), 10, 31)
	if err != nil {
		return nil, fmt.Errorf("bpf: line %d: bad instruction count %q", lines[0].line, lines[0].text)
	}
	if got := uint64(len(lines) - 1); got != count {
		return nil, fmt.Errorf("bpf: the count says %d instructions but %d follow", count, got)
	}
	prog := make([]bpf.RawInstruction, 0, count)
	for _, l := range lines[1:] {
		f := strings.Fields(l.text)
		if len(f) != 4 {
			return nil, fmt.Errorf("bpf: line %d: want 4 numbers (opcode jt jf k), got %q", l.line, l.text)
		}
		ins, err := parseFields(f, 10)
		if err != nil {
			return nil, fmt.Errorf("bpf: line %d: %v", l.line, err)
		}
		prog = append(prog, ins)
	}
	return prog, nil
}

// ParseC reads a program in the format of tcpdump -dd (see DumpC): one
// "{ code, jt, jf, k }," initializer per line, numbers in C notation
// (decimal, 0x hexadecimal or 0 octal). Blank lines are ignored.
func ParseC(s string) ([]bpf.RawInstruction, error) {
	var prog []bpf.RawInstruction
	for i, l := range strings.Split(s, "\n") {
		line := i + 1
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		body, ok := strings.CutPrefix(t, "{")
		if ok {
			body = strings.TrimSuffix(body, ",")
			body, ok = strings.CutSuffix(strings.TrimSpace(body), "}")
		}
		if !ok {
			return nil, fmt.Errorf("bpf: line %d: want { code, jt, jf, k }, got %q", line, t)
		}
		f := strings.Split(body, ",")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		if len(f) != 4 {
			return nil, fmt.Errorf("bpf: line %d: want 4 numbers (code, jt, jf, k), got %q", line, t)
		}
		ins, err := parseFields(f, 0)
		if err != nil {
			return nil, fmt.Errorf("bpf: line %d: %v", line, err)
		}
		prog = append(prog, ins)
	}
	return prog, nil
}

// parseFields converts the four numbers of an instruction, in the given
// base (0 for C notation).
func parseFields(f []string, base int) (bpf.RawInstruction, error) {
	var v [4]uint64
	for i, bits := range [4]int{16, 8, 8, 32} {
		n, err := strconv.ParseUint(f[i], base, bits)
		if err != nil {
			name := [4]string{"opcode", "jt", "jf", "k"}[i]
			return bpf.RawInstruction{}, fmt.Errorf("bad %s %q (want an unsigned %d-bit number)", name, f[i], bits)
		}
		v[i] = n
	}
	return bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])}, nil
}

// record is one non-blank line (or comma-separated part of a line) of
// ParseDecimal's input.
type record struct {
	line int
	text string
}

func splitRecords(s string) []record {
	var out []record
	for i, l := range strings.Split(s, "\n") {
		for _, part := range strings.Split(l, ",") {
			if t := strings.TrimSpace(part); t != "" {
				out = append(out, record{line: i + 1, text: t})
			}
		}
	}
	return out
}
