// Package bpf holds the classic BPF tooling shared by the filter compiler and
// the capture library: an interpreter with libpcap's bpf_filter semantics
// plus the Linux ancillary loads, a validator implementing the kernel's
// checks, and a disassembler and parser for the formats tcpdump prints with
// -d, -dd and -ddd.
//
// Programs are slices of golang.org/x/net/bpf.RawInstruction, whose layout
// matches the kernel's struct sock_filter.
//
// The interpreter, Run, follows libpcap's bpf_filter and adds the kernel's
// ancillary loads, so it also runs the programs libpcap compiles for a live
// Linux interface, which read the VLAN tag and packet type that way;
// RunPlain leaves the kernel's loads out, as bpf_filter does for a packet
// without auxiliary data. ValidateKernel applies the checks the
// kernel makes before it attaches a program (so a program that passes is not
// refused with EINVAL); ValidateInterpreter the looser ones a program must
// pass to run in Run, which include backward jumps. Disassemble, DumpC and
// DumpDecimal print programs exactly as tcpdump 4.99 with libpcap 1.10 does
// with -d, -dd and -ddd; ParseDecimal and ParseC read the last two back.
package bpf
