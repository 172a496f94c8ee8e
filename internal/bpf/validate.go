package bpf

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// MaxInstructions is the longest classic program the Linux kernel accepts
// (BPF_MAXINSNS).
const MaxInstructions = 4096

// scratchWords is the number of scratch memory words, M[0] to M[15]
// (BPF_MEMWORDS).
const scratchWords = 16

// ValidationError tells why a program was rejected and, when one
// instruction is at fault, which.
type ValidationError struct {
	// Index is the index of the offending instruction, or -1 when the
	// fault lies with the program as a whole.
	Index int
	// Instruction is the offending instruction (zero when Index is -1).
	Instruction bpf.RawInstruction
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *ValidationError) Error() string {
	if e.Index < 0 {
		return "bpf: invalid program: " + e.Reason
	}
	return fmt.Sprintf("bpf: invalid program: instruction %d (%s): %s",
		e.Index, describe(e.Instruction, e.Index), e.Reason)
}

// ValidateKernel checks prog against the rules the Linux kernel applies
// when a classic program is attached to a socket (bpf_check_classic in
// net/core/filter.c), so that a program it accepts is not refused with
// EINVAL: 1 to 4096 instructions; only opcodes the kernel knows; no
// division or modulo by constant zero; no shift by a constant of 32 or
// more; scratch indices below 16; jumps forward and inside the program;
// absolute loads at or above AncillaryOffset only for known SKF_AD_*
// numbers; a return as the last instruction; and no scratch word read on a
// path that has not stored to it. The error is a *ValidationError.
func ValidateKernel(prog []bpf.RawInstruction) error {
	return validate(prog, true)
}

// ValidateInterpreter checks prog for running in Run rather than in the
// kernel. It applies ValidateKernel's rules except that the program may be
// longer than MaxInstructions, ja may jump backwards (libpcap compiles
// protochain into loops), shifts by constants of 32 or more are allowed
// (they give 0), scratch words may be read before they are written (they
// start at 0), and an absolute load may be at an ancillary offset the
// kernel does not know (it rejects the packet, as in libpcap's interpreter,
// where it is past the end of any packet: libpcap generates such loads for
// inbound and outbound after pppoes). These are the rules of libpcap's
// bpf_validate, except that bpf_validate also lets through opcodes its
// interpreter does not know. The error is a *ValidationError.
func ValidateInterpreter(prog []bpf.RawInstruction) error {
	return validate(prog, false)
}

func validate(prog []bpf.RawInstruction, kernel bool) error {
	n := len(prog)
	if n == 0 {
		return &ValidationError{Index: -1, Reason: "the program has no instructions"}
	}
	if kernel && n > MaxInstructions {
		return &ValidationError{Index: -1, Reason: fmt.Sprintf(
			"the program has %d instructions; the kernel takes at most %d", n, MaxInstructions)}
	}
	for pc := range prog {
		ins := prog[pc]
		bad := func(format string, args ...any) error {
			return &ValidationError{Index: pc, Instruction: ins, Reason: fmt.Sprintf(format, args...)}
		}
		if !knownOpcode(ins.Op) {
			return bad("unknown opcode 0x%x", ins.Op)
		}
		switch ins.Op {
		case opDivK:
			if ins.K == 0 {
				return bad("division by constant zero")
			}
		case opModK:
			if ins.K == 0 {
				return bad("modulo by constant zero")
			}
		case opLshK, opRshK:
			if kernel && ins.K >= 32 {
				return bad("shift by %d; the kernel takes constant shifts of 0 to 31 bits", ins.K)
			}
		case opLdMem, opLdxMem, opSt, opStx:
			if ins.K >= scratchWords {
				return bad("scratch memory index %d out of range (M[0] to M[%d])", ins.K, scratchWords-1)
			}
		case opJa:
			target := int64(pc) + 1 + int64(int32(ins.K))
			switch {
			case kernel && int32(ins.K) < 0:
				// The kernel reads K as unsigned, so this is a jump
				// far past the end for it.
				return bad("backward jump to %d; the kernel allows only forward jumps", target)
			case target < 0 || target >= int64(n):
				return bad("jump target %d is outside the program (%d instructions)", target, n)
			}
		case opJeqK, opJeqX, opJgtK, opJgtX, opJgeK, opJgeX, opJsetK, opJsetX:
			if t := pc + 1 + int(ins.Jt); t >= n {
				return bad("true branch target %d is past the end of the program (%d instructions)", t, n)
			}
			if t := pc + 1 + int(ins.Jf); t >= n {
				return bad("false branch target %d is past the end of the program (%d instructions)", t, n)
			}
		case opLdW, opLdH, opLdB:
			if kernel && ins.K >= AncillaryOffset && ancillaryName(ins.K) == "" {
				return bad("load at SKF_AD_OFF%+d, which is no ancillary datum the kernel knows",
					int32(ins.K-AncillaryOffset))
			}
		}
	}
	if last := prog[n-1]; last.Op != opRetK && last.Op != opRetA {
		return &ValidationError{Index: n - 1, Instruction: last,
			Reason: "the last instruction must be a return"}
	}
	if kernel {
		return checkScratchReads(prog)
	}
	return nil
}

// knownOpcode tells whether op is one of the opcodes the kernel accepts in
// a classic program (chk_code_allowed).
func knownOpcode(op uint16) bool {
	switch op {
	case opLdW, opLdH, opLdB, opLdLen, opLdIndW, opLdIndH, opLdIndB,
		opLdImm, opLdMem, opLdxImm, opLdxMem, opLdxLen, opLdxMsh,
		opSt, opStx,
		opAddK, opSubK, opMulK, opDivK, opOrK, opAndK, opLshK, opRshK, opModK, opXorK,
		opAddX, opSubX, opMulX, opDivX, opOrX, opAndX, opLshX, opRshX, opModX, opXorX,
		opNeg,
		opJa, opJeqK, opJgtK, opJgeK, opJsetK, opJeqX, opJgtX, opJgeX, opJsetX,
		opRetK, opRetA,
		opTax, opTxa:
		return true
	}
	return false
}

// checkScratchReads applies the kernel's rule that a scratch word is read
// only after every path to the read has stored to it (check_load_and_stores
// in net/core/filter.c): a forward scan carries the set of words written,
// and each jump narrows the set known at its targets to what holds on the
// jumping path. prog must have passed the other kernel checks, so all jumps
// are forward and inside it.
func checkScratchReads(prog []bpf.RawInstruction) error {
	// valid[i] is the set of words written on every jump into i so far.
	valid := make([]uint16, len(prog))
	for i := range valid {
		valid[i] = 0xffff
	}
	var written uint16
	for pc, ins := range prog {
		written &= valid[pc]
		switch ins.Op {
		case opSt, opStx:
			written |= 1 << ins.K
		case opLdMem, opLdxMem:
			if written&(1<<ins.K) == 0 {
				return &ValidationError{Index: pc, Instruction: ins, Reason: fmt.Sprintf(
					"M[%d] is read on a path that has not stored to it", ins.K)}
			}
		case opJa:
			valid[pc+1+int(ins.K)] &= written
			written = 0xffff
		case opJeqK, opJeqX, opJgtK, opJgtX, opJgeK, opJgeX, opJsetK, opJsetX:
			valid[pc+1+int(ins.Jt)] &= written
			valid[pc+1+int(ins.Jf)] &= written
			written = 0xffff
		}
	}
	return nil
}

// HasBackwardJump reports whether prog has a ja that jumps backwards, as
// libpcap's protochain loop does. The kernel refuses such a program; Run
// executes it.
func HasBackwardJump(prog []bpf.RawInstruction) bool {
	for _, ins := range prog {
		if ins.Op == opJa && int32(ins.K) < 0 {
			return true
		}
	}
	return false
}
