package bpf

import (
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

// decodeProgram turns fuzz bytes into instructions, 8 bytes each in the
// layout of struct sock_filter (little-endian here).
func decodeProgram(b []byte) []bpf.RawInstruction {
	p := make([]bpf.RawInstruction, 0, len(b)/8)
	for ; len(b) >= 8; b = b[8:] {
		p = append(p, bpf.RawInstruction{
			Op: binary.LittleEndian.Uint16(b),
			Jt: b[2],
			Jf: b[3],
			K:  binary.LittleEndian.Uint32(b[4:]),
		})
	}
	return p
}

func encodeProgram(p []bpf.RawInstruction) []byte {
	var b []byte
	for _, ins := range p {
		b = binary.LittleEndian.AppendUint16(b, ins.Op)
		b = append(b, ins.Jt, ins.Jf)
		b = binary.LittleEndian.AppendUint32(b, ins.K)
	}
	return b
}

func addFuzzSeeds(f *testing.F) {
	pkt := ether(macB, macA, 0x86dd, ipv6(0, ip6A, ip6B, cat(ext6(43, 0), ext6(6, 0), tcpSeg(1, 80, 0, nil))))
	for _, name := range []string{
		"EN10MB: tcp port 80", "EN10MB: protochain 6", "EN10MB -O: protochain 6",
		"lo: vlan 10", "EN10MB -O: ip[2:2] * ip[0] / ip[1] % ip[3] & ip[4] | ip[5] ^ ip[6] << ip[7] >> ip[8] > (-len) - 1",
	} {
		f.Add(encodeProgram(goldenProgram(f, name)), pkt, uint16(len(pkt)), uint8(0))
	}
	f.Add(encodeProgram(loopProgram(10)), []byte{}, uint16(0), uint8(1))
	f.Add(encodeProgram(prog(stmt(opJa, 0xffffffff))), []byte{1}, uint16(1), uint8(2))
	f.Add(encodeProgram(prog(stmt(opLdB, AncillaryOffset+AdVLANTag), stmt(opLdH, LinkOffset), stmt(opLdxMsh, NetOffset), stmt(opLdIndW, 0xfffffffc), retA)), pkt, uint16(9000), uint8(3))
}

// FuzzRun runs arbitrary programs on arbitrary packets: Run must neither
// panic nor hang, and the other functions must hold together on the same
// programs.
func FuzzRun(f *testing.F) {
	addFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, code, pkt []byte, wireLen uint16, flags uint8) {
		p := decodeProgram(code)
		anc := Ancillary{
			Protocol: 0x0800, PktType: flags & 7, IfIndex: int(flags), VLANTCI: uint16(flags) * 17,
			VLANPresent: flags&8 != 0, VLANTPID: 0x8100, NetworkOffset: int(flags >> 4), HasNetworkOffset: flags&0x40 != 0,
		}
		got := Run(p, pkt, int(wireLen), anc)
		// Without the Linux extensions the result can only differ by
		// rejecting.
		if plain := run(p, pkt, int(wireLen), nil); plain != 0 && plain != got {
			t.Fatalf("Run = %d, run without extensions = %d", got, plain)
		}

		kerr, ierr := ValidateKernel(p), ValidateInterpreter(p)
		if kerr == nil && ierr != nil {
			t.Fatalf("ValidateKernel accepts what ValidateInterpreter rejects: %v", ierr)
		}
		for _, err := range []error{kerr, ierr} {
			var verr *ValidationError
			if err != nil && (!errors.As(err, &verr) || verr.Index < -1 || verr.Index >= len(p)) {
				t.Fatalf("bad validation error %#v", err)
			}
		}
		if kerr == nil && !hasBackwardJump(p) && len(p) > MaxInstructions {
			t.Fatalf("ValidateKernel accepts %d instructions", len(p))
		}

		d := Disassemble(p)
		if n := strings.Count(d, "\n"); n != len(p) {
			t.Fatalf("Disassemble printed %d lines for %d instructions", n, len(p))
		}
		if back, err := ParseDecimal(DumpDecimal(p)); err != nil || !slices.Equal(back, p) {
			t.Fatalf("ParseDecimal(DumpDecimal(p)) = %v, %v", back, err)
		}
		if back, err := ParseC(DumpC(p)); err != nil || (len(p) > 0 && !slices.Equal(back, p)) {
			t.Fatalf("ParseC(DumpC(p)) = %v, %v", back, err)
		}
	})
}

// FuzzParseDecimal feeds arbitrary text to the -ddd parser.
func FuzzParseDecimal(f *testing.F) {
	f.Add("4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n")
	f.Add("1,6 0 0 65535")
	f.Add("2\n6 0 0 0\n")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseDecimal(s)
		if err != nil {
			return
		}
		back, err := ParseDecimal(DumpDecimal(p))
		if err != nil || !slices.Equal(back, p) {
			t.Fatalf("round trip of %q: %v, %v", s, back, err)
		}
	})
}

// FuzzParseC feeds arbitrary text to the -dd parser.
func FuzzParseC(f *testing.F) {
	f.Add("{ 0x28, 0, 0, 0x0000000c },\n{ 0x6, 0, 0, 0x00040000 },\n")
	f.Add("{40,0,0,012}")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseC(s)
		if err != nil {
			return
		}
		back, err := ParseC(DumpC(p))
		if err != nil || !slices.Equal(back, p) {
			t.Fatalf("round trip of %q: %v, %v", s, back, err)
		}
	})
}
