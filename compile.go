package pcap

import (
	"fmt"

	ibpf "github.com/purecap/pcap/internal/bpf"
	"github.com/purecap/pcap/internal/filter"
	"golang.org/x/net/bpf"
)

// maxKernelInsns is the kernel's limit on a classic BPF program (BPF_MAXINSNS).
const maxKernelInsns = 4096

// CompileFilter compiles a filter expression in the pcap-filter(7) language,
// such as "tcp port 80 and not host 10.0.0.1", into a classic BPF program
// for packets of the given link type, with libpcap's semantics: the program
// pcap_compile gives on a handle of that link type from pcap_open_dead,
// which `tcpdump -y LINKTYPE -d EXPR` prints. The program returns snaplen
// (DefaultSnaplen when snaplen <= 0) for a packet it accepts and 0 for one it
// rejects; an empty expression accepts every packet.
//
// protochain compiles into libpcap's loop over the IPv6 extension headers,
// whose ja jumps backwards: the kernel refuses such a program, so SetBPF
// does too, but the user-space interpreter (NewBPFFromInstructions) runs it
// and SetFilter puts a form with forward jumps only in the kernel. No other
// expression gives a backward jump.
//
// An expression libpcap refuses is refused too, with an error that gives the
// position in the expression and what was expected there.
func CompileFilter(linkType LinkType, snaplen int, expr string) ([]bpf.RawInstruction, error) {
	return filter.Compile(uint32(linkType), snaplen, expr)
}

// BPF is a filter program run in user space, on packets read from a
// savefile or anywhere else, as gopacket's pcap.BPF is.
type BPF struct {
	prog      []bpf.RawInstruction
	ancillary bool // the program asks the kernel's ancillary data
}

// NewBPF compiles expr for packets of linkType (see CompileFilter).
func NewBPF(linkType LinkType, snaplen int, expr string) (*BPF, error) {
	prog, err := CompileFilter(linkType, snaplen, expr)
	if err != nil {
		return nil, err
	}
	return NewBPFFromInstructions(prog)
}

// NewBPFFromInstructions wraps a program written or compiled elsewhere,
// after checking that it is well formed. Unlike the kernel, the user-space
// interpreter also runs programs with backward jumps or more than 4096
// instructions.
func NewBPFFromInstructions(prog []bpf.RawInstruction) (*BPF, error) {
	if err := ibpf.ValidateInterpreter(prog); err != nil {
		return nil, err
	}
	b := &BPF{prog: append([]bpf.RawInstruction(nil), prog...)}
	for _, ins := range prog {
		if ins.Op&0x07 == 0x00 && ins.Op&0xe0 == 0x20 && ins.K >= ibpf.AncillaryOffset {
			b.ancillary = true // an absolute load from the ancillary area
		}
	}
	return b, nil
}

// Instructions returns the program.
func (b *BPF) Instructions() []bpf.RawInstruction {
	return append([]bpf.RawInstruction(nil), b.prog...)
}

// Matches reports whether the program accepts the packet: data as
// captured, ci.Length its length on the wire. A program that reads the
// kernel's ancillary data (packet type, interface index, VLAN tag) gets it
// from ci. It allocates nothing.
func (b *BPF) Matches(ci CaptureInfo, data []byte) bool {
	if b.ancillary {
		tag := ci.VLAN()
		return ibpf.Run(b.prog, data, ci.Length, ibpf.Ancillary{
			PktType:     uint8(ci.PacketType()),
			IfIndex:     ci.InterfaceIndex,
			VLANTCI:     tag.TCI,
			VLANPresent: tag.Present,
			VLANTPID:    tag.TPID,
		}) != 0
	}
	return ibpf.RunPlain(b.prog, data, ci.Length) != 0
}

// String returns the program as `tcpdump -d` prints it.
func (b *BPF) String() string { return FormatBPF(b.prog, BPFText) }

// BPFFormat is a way of printing a program, one of tcpdump's.
type BPFFormat int

const (
	// BPFText is readable assembly, as `tcpdump -d` prints it.
	BPFText BPFFormat = iota
	// BPFC is a C array initializer, as `tcpdump -dd` prints it.
	BPFC
	// BPFDecimal is the instruction count then one instruction a line in
	// decimal, as `tcpdump -ddd` prints it.
	BPFDecimal
)

// FormatBPF prints a program exactly as tcpdump does in the given format,
// so that it can be compared with libpcap's by eye or with diff.
func FormatBPF(prog []bpf.RawInstruction, format BPFFormat) string {
	switch format {
	case BPFText:
		return ibpf.Disassemble(prog)
	case BPFC:
		return ibpf.DumpC(prog)
	case BPFDecimal:
		return ibpf.DumpDecimal(prog)
	}
	panic(fmt.Sprintf("pcap: unknown BPF format %d", format))
}
