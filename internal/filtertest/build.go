package filtertest

import (
	"encoding/binary"
	"net/netip"
)

// This file builds packets byte by byte, layer by layer: each function
// returns a header followed by the payload it is given. Fields the filters
// never look at (checksums of TCP and UDP, sequence numbers) are left zero
// or fixed.

// Ethertypes and IP protocol numbers the builders use.
const (
	etherIPv4     = 0x0800
	etherARP      = 0x0806
	etherRARP     = 0x8035
	etherIPv6     = 0x86dd
	etherVLAN     = 0x8100
	etherQinQ     = 0x88a8
	etherQinQOld  = 0x9100
	etherMPLS     = 0x8847
	etherMPLSMc   = 0x8848
	etherPPPoED   = 0x8863
	etherPPPoES   = 0x8864
	etherIPX      = 0x8137
	etherAtalk    = 0x809b
	etherAARP     = 0x80f3
	etherDECnet   = 0x6003
	etherLAT      = 0x6004
	etherSCA      = 0x6007
	etherMOPRC    = 0x6002
	etherMOPDL    = 0x6001
	etherLLDP     = 0x88cc
	ether8023     = 0x0001 // ETH_P_802_3 in cooked headers: Novell raw 802.3
	ether8022     = 0x0004 // ETH_P_802_2 in cooked headers: an LLC frame
	protoHopOpts  = 0
	protoICMP     = 1
	protoIGMP     = 2
	protoIPIP     = 4
	protoTCP      = 6
	protoIGRP     = 9
	protoUDP      = 17
	protoIPv6     = 41
	protoRouting  = 43
	protoFragment = 44
	protoGRE      = 47
	protoESP      = 50
	protoAH       = 51
	protoICMPv6   = 58
	protoNoNext   = 59
	protoDstOpts  = 60
	protoPIM      = 103
	protoVRRP     = 112
	protoSCTP     = 132
)

// TCP flag bits.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpPSH = 0x08
	tcpACK = 0x10
	tcpURG = 0x20
	tcpECE = 0x40
	tcpCWR = 0x80
)

// MAC addresses of the edge packets: the same as the shared corpus uses.
var (
	macA     = mac(0x00, 0x11, 0x22, 0x33, 0x44, 0x55)
	macB     = mac(0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb)
	macBcast = mac(0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	macMc4   = mac(0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb)
	macMc6   = mac(0x33, 0x33, 0x00, 0x00, 0x00, 0x01)
	macSTP   = mac(0x01, 0x80, 0xc2, 0x00, 0x00, 0x00)
	macLocal = mac(0x02, 0x00, 0x00, 0x00, 0x00, 0x01)
)

func mac(b ...byte) [6]byte { return [6]byte(b) }

func cat(parts ...[]byte) []byte {
	var n int
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func addr4(s string) []byte {
	a := netip.MustParseAddr(s).As4()
	return a[:]
}

func addr16(s string) []byte {
	a := netip.MustParseAddr(s).As16()
	return a[:]
}

// ether builds an Ethernet II header (or 802.3, for a type ≤ 1500).
func ether(dst, src [6]byte, typ uint16, payload []byte) []byte {
	return cat(dst[:], src[:], be16(typ), payload)
}

// ether8023Frame builds an 802.3 frame whose type field is the payload length.
func ether8023Frame(dst, src [6]byte, payload []byte) []byte {
	return ether(dst, src, uint16(len(payload)), payload)
}

// vlanTag builds the part of a tagged frame that follows a TPID: the TCI,
// then the inner ethertype.
func vlanTag(pcp uint8, dei bool, vid uint16, inner uint16, payload []byte) []byte {
	tci := uint16(pcp)<<13 | vid&0x0fff
	if dei {
		tci |= 0x1000
	}
	return cat(be16(tci), be16(inner), payload)
}

// mplsStack builds MPLS label stack entries, the last with bottom of stack
// set when bos is true.
func mplsStack(labels []uint32, bos bool, payload []byte) []byte {
	var out []byte
	for i, l := range labels {
		e := l<<12 | 64 // TTL 64
		if bos && i == len(labels)-1 {
			e |= 1 << 8
		}
		out = append(out, be32(e)...)
	}
	return cat(out, payload)
}

// pppoeSession builds a PPPoE session header and a PPP protocol field.
func pppoeSession(sid, pppProto uint16, payload []byte) []byte {
	return cat([]byte{0x11, 0x00}, be16(sid), be16(uint16(len(payload)+2)), be16(pppProto), payload)
}

// pppoeDiscovery builds a PPPoE discovery packet with a Service-Name tag.
func pppoeDiscovery(code uint8, sid uint16) []byte {
	tags := []byte{0x01, 0x01, 0x00, 0x00}
	return cat([]byte{0x11, code}, be16(sid), be16(uint16(len(tags))), tags)
}

// arpPacket builds an Ethernet/IPv4 ARP or RARP packet.
func arpPacket(op uint16, sha [6]byte, spa string, tha [6]byte, tpa string) []byte {
	return cat(be16(1), be16(etherIPv4), []byte{6, 4}, be16(op), sha[:], addr4(spa), tha[:], addr4(tpa))
}

// llc builds an 802.2 LLC header with a one-byte control field.
func llc(dsap, ssap, ctrl uint8, payload []byte) []byte {
	return cat([]byte{dsap, ssap, ctrl}, payload)
}

// snap builds an LLC SNAP header.
func snap(oui uint32, typ uint16, payload []byte) []byte {
	return cat([]byte{0xaa, 0xaa, 0x03, byte(oui >> 16), byte(oui >> 8), byte(oui)}, be16(typ), payload)
}

// stpBPDU is a configuration BPDU.
func stpBPDU() []byte {
	b := make([]byte, 35)
	b[4] = 0x00 // flags
	copy(b[5:], []byte{0x80, 0x00, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55})
	return b
}

// ip4 describes an IPv4 header.
type ip4 struct {
	src, dst string
	proto    uint8
	tos      uint8
	id       uint16
	flags    uint8  // 3 bits: reserved, DF, MF
	fragOff  uint16 // in units of 8 bytes
	ttl      uint8
	options  []byte // padded to a multiple of 4 bytes
	// ihl, when not 0, overrides the header length field (in words)
	// without changing the bytes written.
	ihl uint8
}

// build returns the header followed by payload, with a correct header
// checksum.
func (h ip4) build(payload []byte) []byte {
	opts := h.options
	for len(opts)%4 != 0 {
		opts = append(opts[:len(opts):len(opts)], 0)
	}
	hl := 20 + len(opts)
	ihl := uint8(hl / 4)
	if h.ihl != 0 {
		ihl = h.ihl
	}
	ttl := h.ttl
	if ttl == 0 {
		ttl = 64
	}
	b := make([]byte, hl, hl+len(payload))
	b[0] = 0x40 | ihl&0xf
	b[1] = h.tos
	binary.BigEndian.PutUint16(b[2:], uint16(hl+len(payload)))
	binary.BigEndian.PutUint16(b[4:], h.id)
	binary.BigEndian.PutUint16(b[6:], uint16(h.flags)<<13|h.fragOff&0x1fff)
	b[8] = ttl
	b[9] = h.proto
	copy(b[12:], addr4(h.src))
	copy(b[16:], addr4(h.dst))
	copy(b[20:], opts)
	binary.BigEndian.PutUint16(b[10:], checksum(b))
	return append(b, payload...)
}

func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// ipv4 builds a plain IPv4 packet.
func ipv4(src, dst string, proto uint8, payload []byte) []byte {
	return ip4{src: src, dst: dst, proto: proto}.build(payload)
}

// ipv6 builds an IPv6 header; nh is the next header of the payload.
func ipv6(src, dst string, nh uint8, payload []byte) []byte {
	b := make([]byte, 40, 40+len(payload))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	b[6] = nh
	b[7] = 64
	copy(b[8:], addr16(src))
	copy(b[24:], addr16(dst))
	return append(b, payload...)
}

// ext6 builds an IPv6 hop-by-hop or destination options header of 8·(n+1)
// bytes (padded with PadN), followed by payload.
func ext6(nh uint8, n uint8, payload []byte) []byte {
	b := make([]byte, 8*(int(n)+1))
	b[0] = nh
	b[1] = n
	b[2] = 1 // PadN
	b[3] = byte(len(b) - 4)
	return cat(b, payload)
}

// routing6 builds a type 0 routing header with one address.
func routing6(nh uint8, payload []byte) []byte {
	b := make([]byte, 24)
	b[0] = nh
	b[1] = 2
	b[2] = 0 // type 0
	b[3] = 1 // segments left
	copy(b[8:], addr16("2001:db8::99"))
	return cat(b, payload)
}

// frag6 builds an IPv6 fragment header.
func frag6(nh uint8, off uint16, more bool, id uint32, payload []byte) []byte {
	v := off << 3
	if more {
		v |= 1
	}
	return cat([]byte{nh, 0}, be16(v), be32(id), payload)
}

// ah builds an IPsec authentication header with a 12-byte ICV.
func ah(nh uint8, payload []byte) []byte {
	return cat([]byte{nh, 4, 0, 0}, be32(0x100), be32(1), make([]byte, 12), payload)
}

// tcp builds a TCP header with extra option bytes (a multiple of 4).
func tcp(sport, dport uint16, flags uint8, options []byte, payload []byte) []byte {
	b := make([]byte, 20+len(options))
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint32(b[4:], 1000)
	if flags&tcpACK != 0 {
		binary.BigEndian.PutUint32(b[8:], 2000)
	}
	b[12] = byte(len(b)/4) << 4
	b[13] = flags
	binary.BigEndian.PutUint16(b[14:], 65535)
	copy(b[20:], options)
	return cat(b, payload)
}

// udp builds a UDP header.
func udp(sport, dport uint16, payload []byte) []byte {
	return cat(be16(sport), be16(dport), be16(uint16(8+len(payload))), be16(0), payload)
}

// sctp builds an SCTP common header and an empty DATA chunk.
func sctp(sport, dport uint16) []byte {
	return cat(be16(sport), be16(dport), be32(0x01020304), be32(0), []byte{0, 3, 0, 4})
}

// icmp builds an ICMP or ICMPv6 message with 8 bytes of body.
func icmp(typ, code uint8, body []byte) []byte {
	return cat([]byte{typ, code, 0, 0}, be32(0x00010001), body)
}

// igmp builds an IGMPv2 message.
func igmp(typ uint8, group string) []byte {
	return cat([]byte{typ, 100, 0, 0}, addr4(group))
}

// sll builds a Linux cooked (v1) header.
func sll(pkttype, hatype uint16, addr [6]byte, proto uint16, payload []byte) []byte {
	return cat(be16(pkttype), be16(hatype), be16(6), addr[:], []byte{0, 0}, be16(proto), payload)
}

// sll2 builds a Linux cooked v2 header.
func sll2(proto uint16, ifindex uint32, hatype uint16, pkttype uint8, addr [6]byte, payload []byte) []byte {
	return cat(be16(proto), be16(0), be32(ifindex), be16(hatype), []byte{pkttype, 6}, addr[:], []byte{0, 0}, payload)
}

// geneve builds a Geneve header with a VNI, carrying an Ethernet frame.
func geneve(vni uint32, frame []byte) []byte {
	return cat([]byte{0, 0}, be16(0x6558), be32(vni<<8), frame)
}

// geneveHdr builds a Geneve header of the given version with options (a
// multiple of 4 bytes), protocol type and VNI, followed by payload.
func geneveHdr(version uint8, opts []byte, proto uint16, vni uint32, payload []byte) []byte {
	return cat([]byte{version<<6 | uint8(len(opts)/4), 0}, be16(proto), be32(vni<<8), opts, payload)
}

// pad extends a frame with zero bytes to n bytes.
func pad(b []byte, n int) []byte {
	if len(b) >= n {
		return b
	}
	return append(b[:len(b):len(b)], make([]byte, n-len(b))...)
}
