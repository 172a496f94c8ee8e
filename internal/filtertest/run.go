package filtertest

import (
	"golang.org/x/net/bpf"

	ibpf "github.com/purecap/pcap/internal/bpf"
)

// RunPacket runs prog over p with internal/bpf's interpreter and returns
// what the program returns: 0 rejects the packet. With p.Aux set, the
// Linux ancillary loads read it (ibpf.Run); without, they reject the
// packet, as in libpcap's bpf_filter in user space (ibpf.RunPlain).
func RunPacket(prog []bpf.RawInstruction, p Packet) uint32 {
	if p.Aux == nil {
		return ibpf.RunPlain(prog, p.Data, p.WireLen)
	}
	return ibpf.Run(prog, p.Data, p.WireLen, *p.Aux)
}
