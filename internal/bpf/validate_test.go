package bpf

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

func TestValidateAccepts(t *testing.T) {
	long := make([]bpf.RawInstruction, MaxInstructions)
	for i := range long {
		long[i] = stmt(opAddK, 1)
	}
	long[len(long)-1] = retA
	for _, tt := range []struct {
		name string
		p    []bpf.RawInstruction
	}{
		{"ret", prog(stmt(opRetK, 0))},
		{"ret a", prog(retA)},
		{"4096 instructions", long},
		{"every ancillary datum", func() []bpf.RawInstruction {
			var p []bpf.RawInstruction
			for n := uint32(0); n < skfADMax; n += 4 {
				p = append(p, stmt(opLdW, AncillaryOffset+n), stmt(opLdH, AncillaryOffset+n), stmt(opLdB, AncillaryOffset+n))
			}
			return append(p, retA)
		}()},
		{"link and network offsets", prog(stmt(opLdB, LinkOffset), stmt(opLdH, NetOffset+20), stmt(opLdW, AncillaryOffset-4), retA)},
		{"ldx #pktlen", prog(stmt(opLdxLen, 0), retA)},
		{"shift by 31", prog(stmt(opLshK, 31), stmt(opRshK, 31), retA)},
		{"div and mod by constants", prog(stmt(opDivK, 3), stmt(opModK, 0xffffffff), retA)},
		{"div by x", prog(stmt(opDivX, 0), stmt(opModX, 0), retA)},
		{"jumps to the last instruction", prog(jmp(opJeqK, 0, 2, 2), stmt(opJa, 1), stmt(opJa, 0), retA)},
		{"scratch stored on both paths", prog(
			jmp(opJeqK, 0, 0, 2),
			stmt(opSt, 3), stmt(opJa, 1),
			stmt(opStx, 3),
			stmt(opLdMem, 3), retA)},
		{"M[15]", prog(stmt(opSt, 15), stmt(opLdxMem, 15), retA)},
	} {
		if err := ValidateKernel(tt.p); err != nil {
			t.Errorf("%s: ValidateKernel: %v", tt.name, err)
		}
		if err := ValidateInterpreter(tt.p); err != nil {
			t.Errorf("%s: ValidateInterpreter: %v", tt.name, err)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	long := make([]bpf.RawInstruction, MaxInstructions+1)
	for i := range long {
		long[i] = retA
	}
	tests := []struct {
		name string
		p    []bpf.RawInstruction
		// index of the offending instruction, -1 for the whole program
		index int
		// substring of the reason
		reason string
		// whether ValidateInterpreter accepts the program
		interpOK bool
	}{
		{"empty", nil, -1, "no instructions", false},
		{"too long", long, -1, "4097 instructions", true},
		{"unknown opcode", prog(stmt(0x07|0x10, 0), retA), 0, "unknown opcode 0x17", false},
		{"opcode with high bits", prog(stmt(opLdImm|0x100, 0), retA), 0, "unknown opcode 0x100", false},
		{"ret x", prog(stmt(classRET|srcX, 0)), 0, "unknown opcode 0xe", false},
		{"ld msh", prog(stmt(classLD|sizeB|modeMSH, 0), retA), 0, "unknown opcode 0xb0", false},
		{"div #0", prog(stmt(opLdImm, 1), stmt(opDivK, 0), retA), 1, "division by constant zero", false},
		{"mod #0", prog(stmt(opModK, 0), retA), 0, "modulo by constant zero", false},
		{"lsh #32", prog(stmt(opLshK, 32), retA), 0, "shift by 32", true},
		{"rsh #0xffffffff", prog(stmt(opRshK, 0xffffffff), retA), 0, "shift by 4294967295", true},
		{"ld M[16]", prog(stmt(opLdMem, 16), retA), 0, "scratch memory index 16", false},
		{"ldx M[-1]", prog(stmt(opLdxMem, 0xffffffff), retA), 0, "scratch memory index 4294967295", false},
		{"st M[16]", prog(stmt(opSt, 16), retA), 0, "scratch memory index 16", false},
		{"stx M[100]", prog(stmt(opStx, 100), retA), 0, "scratch memory index 100", false},
		{"ja past the end", prog(stmt(opJa, 1), retA), 0, "jump target 2", false},
		{"ja to itself", prog(stmt(opJa, 0xffffffff), retA), 0, "forward", true},
		{"ja backward", prog(stmt(opLdImm, 0), stmt(opJa, 0xfffffffe), retA), 1, "forward", true},
		{"ja before the start", prog(stmt(opLdImm, 0), stmt(opJa, 0xfffffffd), retA), 1, "backward jump to -1", false},
		{"jt past the end", prog(jmp(opJeqK, 0, 1, 0), retA), 0, "true branch target 2", false},
		{"jf past the end", prog(jmp(opJsetX, 0, 0, 255), retA), 0, "false branch target 256", false},
		// The interpreter takes these, as libpcap's bpf_validate does, and
		// rejects the packet when it gets there (TestRunUnknownAncillary).
		{"unknown ancillary", prog(stmt(opLdW, AncillaryOffset+1), retA), 0, "SKF_AD_OFF+1", true},
		{"ancillary past SKF_AD_MAX", prog(stmt(opLdB, AncillaryOffset+skfADMax), retA), 0, "SKF_AD_OFF+64", true},
		{"ancillary at -1", prog(stmt(opLdH, 0xffffffff), retA), 0, "SKF_AD_OFF+4095", true},
		{"last is not a return", prog(retA, stmt(opLdImm, 0)), 1, "last instruction must be a return", false},
		{"last is a jump", prog(jmp(opJeqK, 0, 0, 0)), 0, "past the end", false},
		{"scratch read before any store", prog(stmt(opLdMem, 0), retA), 0, "M[0] is read on a path", true},
		{"scratch stored on one path only", prog(
			jmp(opJeqK, 0, 0, 2),
			stmt(opSt, 3), stmt(opJa, 0),
			stmt(opLdxMem, 3), retA), 3, "M[3] is read on a path", true},
		{"scratch stored in another word", prog(stmt(opSt, 2), stmt(opLdMem, 3), retA), 1, "M[3]", true},
	}
	for _, tt := range tests {
		err := ValidateKernel(tt.p)
		var verr *ValidationError
		if !errors.As(err, &verr) {
			t.Errorf("%s: ValidateKernel = %v, want a *ValidationError", tt.name, err)
			continue
		}
		if verr.Index != tt.index || !strings.Contains(verr.Reason, tt.reason) {
			t.Errorf("%s: ValidateKernel = %v (index %d), want index %d and a reason with %q", tt.name, err, verr.Index, tt.index, tt.reason)
		}
		if verr.Index >= 0 && verr.Instruction != tt.p[verr.Index] {
			t.Errorf("%s: error names instruction %+v, want %+v", tt.name, verr.Instruction, tt.p[verr.Index])
		}
		if err := ValidateInterpreter(tt.p); (err == nil) != tt.interpOK {
			t.Errorf("%s: ValidateInterpreter = %v, want ok=%v", tt.name, err, tt.interpOK)
		}
	}
}

func TestValidationErrorText(t *testing.T) {
	err := ValidateKernel(prog(stmt(opLdH, 12), jmp(opJeqK, 0x800, 0, 7), retA))
	want := "bpf: invalid program: instruction 1 (jeq #0x800 jt 2 jf 9): false branch target 9 is past the end of the program (3 instructions)"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	err = ValidateInterpreter(prog(stmt(opLdImm, 0), stmt(opJa, 0xfffffffd), retA))
	want = "bpf: invalid program: instruction 1 (ja -1): jump target -1 is outside the program (3 instructions)"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	err = ValidateKernel(nil)
	if want := "bpf: invalid program: the program has no instructions"; err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	err = ValidateKernel(prog(stmt(opRetK, 0), stmt(0xffff, 0)))
	if want := "bpf: invalid program: instruction 1 (unimp 0xffff): unknown opcode 0xffff"; err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

// The interpreter mode allows the programs libpcap runs in user space.
func TestValidateInterpreterProtochain(t *testing.T) {
	p := goldenProgram(t, "EN10MB: ip6 protochain 58")
	if err := ValidateInterpreter(p); err != nil {
		t.Errorf("ValidateInterpreter: %v", err)
	}
	err := ValidateKernel(p)
	var verr *ValidationError
	if !errors.As(err, &verr) || p[verr.Index].Op != opJa {
		t.Errorf("ValidateKernel = %v, want the backward ja", err)
	}
}

// TestRunUnknownAncillary checks that a load at an ancillary offset the
// kernel does not know rejects the packet, with or without metadata, as
// libpcap's interpreter rejects a load past the end of the packet.
func TestRunUnknownAncillary(t *testing.T) {
	pkt := make([]byte, 64)
	for _, k := range []uint32{AncillaryOffset + 1, AncillaryOffset + skfADMax, 0xffffffff} {
		p := prog(stmt(opLdImm, 1), stmt(opLdH, k), stmt(opRetK, 100))
		if err := ValidateInterpreter(p); err != nil {
			t.Fatalf("%#x: %v", k, err)
		}
		if v := Run(p, pkt, len(pkt), Ancillary{PktType: 4, IfIndex: 2}); v != 0 {
			t.Errorf("load at %#x with metadata: Run = %d, want 0", k, v)
		}
		if v := RunPlain(p, pkt, len(pkt)); v != 0 {
			t.Errorf("load at %#x: RunPlain = %d, want 0", k, v)
		}
	}
}
