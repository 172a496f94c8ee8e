package bpf

import (
	"encoding/binary"

	"golang.org/x/net/bpf"
)

// MaxSteps is the number of instructions Run executes for one packet before
// it gives up and rejects the packet. Programs with only forward jumps never
// come near it (they execute each instruction at most once, and the kernel
// takes at most 4096); it bounds programs with backward jumps, such as the
// ones libpcap generates for protochain, which loop once per protocol
// header.
const MaxSteps = 1 << 20

// Ancillary is the packet metadata the Linux kernel exposes to a classic
// program through loads at AncillaryOffset+n. The zero value describes a
// packet with no metadata: every datum reads as 0.
type Ancillary struct {
	// Protocol is the link-layer protocol, an ethertype in host byte
	// order such as 0x0800 (skb->protocol, SKF_AD_PROTOCOL).
	Protocol uint16
	// PktType is the packet type: PACKET_HOST (0), PACKET_BROADCAST (1),
	// PACKET_MULTICAST (2), PACKET_OTHERHOST (3) or PACKET_OUTGOING (4)
	// (SKF_AD_PKTTYPE).
	PktType uint8
	// IfIndex is the index of the interface the packet was seen on
	// (SKF_AD_IFINDEX).
	IfIndex int
	// HAType is the interface's hardware type, an ARPHRD_* value
	// (SKF_AD_HATYPE).
	HAType uint16
	// Mark is the packet's firewall mark (SKF_AD_MARK).
	Mark uint32
	// Queue is the queue the packet was received on (SKF_AD_QUEUE).
	Queue uint16
	// RXHash is the packet's flow hash (SKF_AD_RXHASH).
	RXHash uint32
	// CPU is the number of the CPU handling the packet (SKF_AD_CPU).
	CPU uint32
	// Random is the value a load of SKF_AD_RANDOM returns; a caller that
	// runs sampling filters supplies a fresh pseudo-random number for each
	// packet.
	Random uint32
	// VLANTCI is the tag control information of the VLAN tag the
	// interface removed from the packet (SKF_AD_VLAN_TAG).
	VLANTCI uint16
	// VLANPresent tells whether the interface removed a VLAN tag from the
	// packet (SKF_AD_VLAN_TAG_PRESENT).
	VLANPresent bool
	// VLANTPID is the protocol identifier (0x8100, 0x88a8, ...) of that
	// tag, in host byte order (SKF_AD_VLAN_TPID).
	VLANTPID uint16
	// NetworkOffset is where the network-layer header starts in the
	// packet. Loads at NetOffset+k read at NetworkOffset+k; they reject the
	// packet unless HasNetworkOffset is set.
	NetworkOffset    int
	HasNetworkOffset bool
}

// value returns ancillary datum n for a load made with the given A and X,
// and false for the data the kernel computes from state that is not
// available here (SKF_AD_NLATTR, SKF_AD_NLATTR_NEST, SKF_AD_PAY_OFFSET) and
// for numbers the kernel does not know.
func (anc *Ancillary) value(n, a, x uint32) (uint32, bool) {
	switch n {
	case AdProtocol:
		return uint32(anc.Protocol), true
	case AdPktType:
		return uint32(anc.PktType), true
	case AdIfIndex:
		return uint32(anc.IfIndex), true
	case AdMark:
		return anc.Mark, true
	case AdQueue:
		return uint32(anc.Queue), true
	case AdHAType:
		return uint32(anc.HAType), true
	case AdRXHash:
		return anc.RXHash, true
	case AdCPU:
		return anc.CPU, true
	case AdALUXorX:
		return a ^ x, true
	case AdVLANTag:
		return uint32(anc.VLANTCI), true
	case AdVLANTagPresent:
		if anc.VLANPresent {
			return 1, true
		}
		return 0, true
	case AdRandom:
		return anc.Random, true
	case AdVLANTPID:
		return uint32(anc.VLANTPID), true
	}
	return 0, false
}

// span returns the start in pkt of the size bytes a load at offset off
// reads, and false if they are not all in pkt. Offsets below 2^31 are plain
// packet offsets. With anc set, offsets from LinkOffset and NetOffset up
// (negative as int32) are relative to the link-layer header, which is where
// pkt starts, and to the network-layer header, as in the kernel. Other
// offsets reject.
func span(pkt []byte, off, size uint32, anc *Ancillary) (int, bool) {
	var start uint64
	switch {
	case off < 1<<31:
		start = uint64(off)
	case anc == nil:
		return 0, false
	case off >= NetOffset:
		if !anc.HasNetworkOffset || anc.NetworkOffset < 0 {
			return 0, false
		}
		start = uint64(anc.NetworkOffset) + uint64(off-NetOffset)
	case off >= LinkOffset:
		start = uint64(off - LinkOffset)
	default:
		return 0, false
	}
	if start+uint64(size) > uint64(len(pkt)) {
		return 0, false
	}
	return int(start), true
}

// Run executes the classic BPF program prog on a packet and returns what
// the program returns: the number of bytes to keep, 0 to reject. pkt holds
// the captured bytes, starting at the link-layer header, and wireLen is the
// length of the packet on the wire, which BPF_LEN loads read.
//
// The semantics are those of libpcap's bpf_filter, extended with the Linux
// kernel's special offsets:
//   - A, X and the scratch memory M[0..15] start at 0.
//   - A load that reaches outside the captured bytes ends the program with
//     0, as does an indexed load whose X+k overflows 32 bits.
//   - Absolute loads (ld, ldh, ldb) at AncillaryOffset+n read datum n from
//     anc, whatever the load's size, as the kernel does (libpcap itself emits
//     "ldb [vlan_tci]" for a 12-bit VLAN ID). Data not available here
//     (SKF_AD_NLATTR, SKF_AD_NLATTR_NEST, SKF_AD_PAY_OFFSET) and unknown
//     numbers reject; SKF_AD_ALU_XOR_X sets A to A^X.
//   - Loads at LinkOffset+k read pkt[k], and loads at NetOffset+k read
//     relative to anc.NetworkOffset.
//   - Division or modulo by zero, a constant or X, ends the program with 0.
//   - Shifts by 32 or more give 0.
//   - ja takes its K as a signed offset, so it can jump backwards.
//   - Jumping outside the program, running off its end, an unknown opcode,
//     a scratch index above 15, or executing more than MaxSteps
//     instructions ends the program with 0.
//
// Run does not allocate and never panics, whatever prog holds.
func Run(prog []bpf.RawInstruction, pkt []byte, wireLen int, anc Ancillary) uint32 {
	return run(prog, pkt, wireLen, &anc)
}

// RunPlain is Run without the Linux extensions, as libpcap's bpf_filter
// runs a program in user space on a packet without auxiliary data: every
// load at an offset of 2^31 or more (ancillary data, LinkOffset and
// NetOffset alike) ends the program with 0.
func RunPlain(prog []bpf.RawInstruction, pkt []byte, wireLen int) uint32 {
	return run(prog, pkt, wireLen, nil)
}

// run is Run with the Linux extensions optional: with a nil anc, as in
// libpcap's bpf_filter without auxiliary data, every load at an offset of
// 2^31 or more (ancillary data, SKF_LL_OFF and SKF_NET_OFF alike) rejects.
func run(prog []bpf.RawInstruction, pkt []byte, wireLen int, anc *Ancillary) uint32 {
	var (
		a, x uint32
		mem  [16]uint32
	)
	steps := 0
	for pc := 0; ; pc++ {
		if uint(pc) >= uint(len(prog)) {
			return 0
		}
		if steps++; steps > MaxSteps {
			return 0
		}
		ins := &prog[pc]
		k := ins.K
		switch ins.Op {
		case opRetK:
			return k
		case opRetA:
			return a

		case opLdW:
			if uint64(k)+4 <= uint64(len(pkt)) {
				a = binary.BigEndian.Uint32(pkt[k:])
				continue
			}
			v, ok := loadSlow(pkt, ins.Op, k, a, x, anc)
			if !ok {
				return 0
			}
			a = v
		case opLdH:
			if uint64(k)+2 <= uint64(len(pkt)) {
				a = uint32(binary.BigEndian.Uint16(pkt[k:]))
				continue
			}
			v, ok := loadSlow(pkt, ins.Op, k, a, x, anc)
			if !ok {
				return 0
			}
			a = v
		case opLdB:
			if uint64(k) < uint64(len(pkt)) {
				a = uint32(pkt[k])
				continue
			}
			v, ok := loadSlow(pkt, ins.Op, k, a, x, anc)
			if !ok {
				return 0
			}
			a = v
		case opLdIndW:
			if off := uint64(x) + uint64(k); off+4 <= uint64(len(pkt)) {
				a = binary.BigEndian.Uint32(pkt[off:])
				continue
			}
			v, ok := loadIndexedSlow(pkt, ins.Op, x, k, anc)
			if !ok {
				return 0
			}
			a = v
		case opLdIndH:
			if off := uint64(x) + uint64(k); off+2 <= uint64(len(pkt)) {
				a = uint32(binary.BigEndian.Uint16(pkt[off:]))
				continue
			}
			v, ok := loadIndexedSlow(pkt, ins.Op, x, k, anc)
			if !ok {
				return 0
			}
			a = v
		case opLdIndB:
			if off := uint64(x) + uint64(k); off < uint64(len(pkt)) {
				a = uint32(pkt[off])
				continue
			}
			v, ok := loadIndexedSlow(pkt, ins.Op, x, k, anc)
			if !ok {
				return 0
			}
			a = v
		case opLdxMsh:
			if uint64(k) < uint64(len(pkt)) {
				x = uint32(pkt[k]&0xf) << 2
				continue
			}
			i, ok := span(pkt, k, 1, anc)
			if !ok {
				return 0
			}
			x = uint32(pkt[i]&0xf) << 2
		case opLdLen:
			a = uint32(wireLen)
		case opLdxLen:
			x = uint32(wireLen)
		case opLdImm:
			a = k
		case opLdxImm:
			x = k
		case opLdMem:
			if k >= uint32(len(mem)) {
				return 0
			}
			a = mem[k]
		case opLdxMem:
			if k >= uint32(len(mem)) {
				return 0
			}
			x = mem[k]
		case opSt:
			if k >= uint32(len(mem)) {
				return 0
			}
			mem[k] = a
		case opStx:
			if k >= uint32(len(mem)) {
				return 0
			}
			mem[k] = x

		case opJa:
			pc += int(int32(k))
		case opJeqK:
			pc += branch(a == k, ins)
		case opJgtK:
			pc += branch(a > k, ins)
		case opJgeK:
			pc += branch(a >= k, ins)
		case opJsetK:
			pc += branch(a&k != 0, ins)
		case opJeqX:
			pc += branch(a == x, ins)
		case opJgtX:
			pc += branch(a > x, ins)
		case opJgeX:
			pc += branch(a >= x, ins)
		case opJsetX:
			pc += branch(a&x != 0, ins)

		case opAddK:
			a += k
		case opSubK:
			a -= k
		case opMulK:
			a *= k
		case opDivK:
			if k == 0 {
				return 0
			}
			a /= k
		case opModK:
			if k == 0 {
				return 0
			}
			a %= k
		case opAndK:
			a &= k
		case opOrK:
			a |= k
		case opXorK:
			a ^= k
		case opLshK:
			a = shl(a, k)
		case opRshK:
			a = shr(a, k)
		case opAddX:
			a += x
		case opSubX:
			a -= x
		case opMulX:
			a *= x
		case opDivX:
			if x == 0 {
				return 0
			}
			a /= x
		case opModX:
			if x == 0 {
				return 0
			}
			a %= x
		case opAndX:
			a &= x
		case opOrX:
			a |= x
		case opXorX:
			a ^= x
		case opLshX:
			a = shl(a, x)
		case opRshX:
			a = shr(a, x)
		case opNeg:
			a = -a

		case opTax:
			x = a
		case opTxa:
			a = x

		default:
			return 0
		}
	}
}

// loadSlow performs an absolute load that is not wholly inside pkt: an
// ancillary load, a load at a special offset, or one that rejects.
func loadSlow(pkt []byte, op uint16, k, a, x uint32, anc *Ancillary) (uint32, bool) {
	if k >= AncillaryOffset {
		if anc == nil {
			return 0, false
		}
		return anc.value(k-AncillaryOffset, a, x)
	}
	return loadSized(pkt, op, k, anc)
}

// loadIndexedSlow performs an indexed load that is not wholly inside pkt:
// one at a special offset, or one that rejects. An X+k that overflows 32
// bits rejects, as in libpcap's interpreter.
func loadIndexedSlow(pkt []byte, op uint16, x, k uint32, anc *Ancillary) (uint32, bool) {
	sum := uint64(x) + uint64(k)
	if sum > 0xffffffff {
		return 0, false
	}
	return loadSized(pkt, op, uint32(sum), anc)
}

// loadSized performs the packet load of a ld/ldh/ldb (absolute or indexed)
// at offset off.
func loadSized(pkt []byte, op uint16, off uint32, anc *Ancillary) (uint32, bool) {
	switch op & 0x18 {
	case sizeW:
		i, ok := span(pkt, off, 4, anc)
		if !ok {
			return 0, false
		}
		return binary.BigEndian.Uint32(pkt[i:]), true
	case sizeH:
		i, ok := span(pkt, off, 2, anc)
		if !ok {
			return 0, false
		}
		return uint32(binary.BigEndian.Uint16(pkt[i:])), true
	default:
		i, ok := span(pkt, off, 1, anc)
		if !ok {
			return 0, false
		}
		return uint32(pkt[i]), true
	}
}

// branch returns how many instructions a conditional jump skips.
func branch(cond bool, ins *bpf.RawInstruction) int {
	if cond {
		return int(ins.Jt)
	}
	return int(ins.Jf)
}

// shl shifts a left by n bits, giving 0 when n is 32 or more, as libpcap's
// interpreter (for X) and optimizer (for constants) do.
func shl(a, n uint32) uint32 {
	if n >= 32 {
		return 0
	}
	return a << n
}

// shr shifts a right by n bits, giving 0 when n is 32 or more.
func shr(a, n uint32) uint32 {
	if n >= 32 {
		return 0
	}
	return a >> n
}
