package filter

import (
	ibpf "github.com/purecap/pcap/internal/bpf"
	"golang.org/x/net/bpf"
)

// meta is the packet metadata ancillary loads see.
type meta struct {
	pktType uint32
	ifIndex uint32
}

// run executes a program on a packet with the interpreter of internal/bpf
// (libpcap's semantics: an out-of-bounds load rejects, len is the wire
// length, backward jumps run), with m as the kernel's packet metadata.
func run(prog []bpf.RawInstruction, pkt []byte, wireLen int, m meta) uint32 {
	return ibpf.Run(prog, pkt, wireLen, ibpf.Ancillary{PktType: uint8(m.pktType), IfIndex: int(m.ifIndex)})
}
