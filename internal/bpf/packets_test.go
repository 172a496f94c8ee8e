package bpf

import (
	"encoding/binary"
	"math/rand/v2"
)

// Packet builders for the tests: just enough of each header for filters to
// look at.

var (
	macA  = []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}
	macB  = []byte{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}
	macBC = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	macMC = []byte{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}
)

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// ether returns an Ethernet frame.
func ether(dst, src []byte, etype uint16, payload []byte) []byte {
	return cat(dst, src, be16(etype), payload)
}

// vlanTag returns an 802.1Q-style tag followed by the inner ethertype.
func vlanTag(tpid, tci, inner uint16) []byte {
	return cat(be16(tpid), be16(tci), be16(inner))
}

// ether8021Q returns an Ethernet frame with one VLAN tag.
func ether8021Q(vid uint16, inner uint16, payload []byte) []byte {
	return cat(macA, macB, vlanTag(0x8100, vid, inner), payload)
}

// ipv4 returns an IPv4 header (with options when ihl > 5) and payload.
func ipv4(proto uint8, src, dst [4]byte, ihl int, payload []byte) []byte {
	h := make([]byte, ihl*4)
	h[0] = 0x40 | byte(ihl)
	binary.BigEndian.PutUint16(h[2:], uint16(len(h)+len(payload)))
	h[8] = 64
	h[9] = proto
	copy(h[12:], src[:])
	copy(h[16:], dst[:])
	return append(h, payload...)
}

// ipv6 returns an IPv6 header and payload.
func ipv6(next uint8, src, dst [16]byte, payload []byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6] = next
	h[7] = 64
	copy(h[8:], src[:])
	copy(h[24:], dst[:])
	return append(h, payload...)
}

// ext6 returns an IPv6 extension header (hop-by-hop, routing, destination
// options) of 8*(1+hdrlen) bytes.
func ext6(next uint8, hdrlen uint8) []byte {
	h := make([]byte, 8*(1+int(hdrlen)))
	h[0] = next
	h[1] = hdrlen
	return h
}

// tcpSeg returns a TCP header (20 bytes) with payload.
func tcpSeg(sport, dport uint16, flags uint8, payload []byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	h[12] = 5 << 4
	h[13] = flags
	return append(h, payload...)
}

// udpDgram returns a UDP header with payload.
func udpDgram(sport, dport uint16, payload []byte) []byte {
	h := make([]byte, 8)
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint16(h[4:], uint16(8+len(payload)))
	return append(h, payload...)
}

// icmpMsg returns an ICMP (or ICMPv6) header.
func icmpMsg(typ, code uint8) []byte {
	return []byte{typ, code, 0, 0, 0, 1, 0, 1}
}

// arpPkt returns an Ethernet/IPv4 ARP request.
func arpPkt() []byte {
	return cat(be16(1), be16(0x0800), []byte{6, 4}, be16(1), macA, []byte{10, 0, 0, 1}, make([]byte, 6), []byte{10, 0, 0, 2})
}

// mplsLabel returns one MPLS label stack entry.
func mplsLabel(label uint32, bottom bool) []byte {
	v := label << 12
	if bottom {
		v |= 1 << 8
	}
	return be32(v | 64)
}

// sll returns a Linux cooked (v1) header.
func sll(pktType uint16, proto uint16) []byte {
	return cat(be16(pktType), be16(1), be16(6), macA, []byte{0, 0}, be16(proto))
}

// sll2 returns a Linux cooked v2 header.
func sll2(proto uint16, ifindex uint32, pktType uint8) []byte {
	return cat(be16(proto), be16(0), be32(ifindex), be16(1), []byte{pktType, 6}, macA, []byte{0, 0})
}

var (
	ip4A   = [4]byte{10, 0, 0, 1}
	ip4B   = [4]byte{192, 168, 1, 1}
	ip4C   = [4]byte{172, 16, 5, 4}
	ip4MC  = [4]byte{224, 0, 0, 1}
	ip6A   = [16]byte{0xfe, 0x80, 15: 1}
	ip6B   = [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 2}
	ip6MC  = [16]byte{0xff, 0x02, 15: 1}
	ip6Lo  = [16]byte{15: 1}
	httpGo = []byte("GET / HTTP/1.1\r\n")
)

// networkPayloads returns network-layer packets (IPv4 and IPv6) of many
// kinds, tagged with their ethertype.
func networkPayloads() []struct {
	etype uint16
	data  []byte
} {
	type p = struct {
		etype uint16
		data  []byte
	}
	var out []p
	v4 := func(b []byte) { out = append(out, p{0x0800, b}) }
	v6 := func(b []byte) { out = append(out, p{0x86dd, b}) }
	for _, ihl := range []int{5, 6, 15} {
		v4(ipv4(6, ip4A, ip4B, ihl, tcpSeg(12345, 80, 0x02, nil)))
		v4(ipv4(6, ip4B, ip4A, ihl, tcpSeg(80, 12345, 0x12, httpGo)))
		v4(ipv4(6, ip4C, ip4A, ihl, tcpSeg(22, 1024, 0x01, nil)))
		v4(ipv4(17, ip4A, ip4C, ihl, udpDgram(5353, 53, be32(0xdeadbeef))))
		v4(ipv4(17, ip4A, ip4MC, ihl, udpDgram(1500, 5050, make([]byte, 40))))
		v4(ipv4(1, ip4A, ip4B, ihl, icmpMsg(8, 0)))
		v4(ipv4(1, ip4B, ip4A, ihl, icmpMsg(0, 0)))
	}
	v4(ipv4(47, ip4A, ip4B, 5, make([]byte, 8)))
	v4(ipv4(132, ip4A, ip4B, 5, make([]byte, 12)))
	v4(ipv4(2, ip4A, ip4MC, 5, make([]byte, 8)))
	// A fragment: offset non-zero.
	frag := ipv4(6, ip4A, ip4B, 5, tcpSeg(1, 80, 0, nil))
	frag[6], frag[7] = 0x00, 0x10
	v4(frag)
	// protochain material: AH then TCP.
	ah := []byte{6, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0}
	v4(ipv4(51, ip4A, ip4B, 5, cat(ah, tcpSeg(1, 2, 0, nil))))
	v6(ipv6(6, ip6A, ip6B, tcpSeg(4000, 80, 0x02, nil)))
	v6(ipv6(17, ip6B, ip6A, udpDgram(53, 4000, nil)))
	v6(ipv6(58, ip6A, ip6MC, icmpMsg(128, 0)))
	v6(ipv6(17, ip6Lo, ip6Lo, udpDgram(1, 2, nil)))
	v6(ipv6(0, ip6A, ip6B, cat(ext6(43, 0), ext6(60, 1), ext6(6, 0), tcpSeg(1, 80, 0, nil))))
	v6(ipv6(0, ip6A, ip6B, cat(ext6(44, 0), ext6(58, 0), icmpMsg(128, 0))))
	v6(ipv6(51, ip6A, ip6B, cat(ah, udpDgram(1, 2, nil))))
	v6(ipv6(0, ip6A, ip6B, cat(ext6(59, 0))))
	return out
}

// samplePackets returns link-layer packets for the given link type
// ("EN10MB", "LINUX_SLL", "LINUX_SLL2", "RAW"), with truncated copies and
// random mutations drawn from rng.
func samplePackets(linkType string, rng *rand.Rand) [][]byte {
	var base [][]byte
	for _, n := range networkPayloads() {
		switch linkType {
		case "EN10MB":
			base = append(base,
				ether(macB, macA, n.etype, n.data),
				ether(macBC, macA, n.etype, n.data),
				ether(macMC, macA, n.etype, n.data),
				ether8021Q(100, n.etype, n.data),
				ether8021Q(10, 0x8100, cat(be16(20), be16(n.etype), n.data)),
				ether(macA, macB, 0x8847, cat(mplsLabel(100, true), n.data)),
				ether(macA, macB, 0x8847, cat(mplsLabel(1, false), mplsLabel(2, true), n.data)),
			)
			if n.etype == 0x0800 {
				base = append(base, ether(macA, macB, 0x8864,
					cat([]byte{0x11, 0}, be16(0x27), be16(uint16(len(n.data)+2)), be16(0x0021), n.data)))
			}
		case "LINUX_SLL":
			base = append(base, cat(sll(0, n.etype), n.data), cat(sll(4, n.etype), n.data))
		case "LINUX_SLL2":
			base = append(base, cat(sll2(n.etype, 3, 0), n.data), cat(sll2(n.etype, 1, 4), n.data))
		case "RAW":
			base = append(base, n.data)
		}
	}
	if linkType == "EN10MB" {
		base = append(base,
			ether(macBC, macA, 0x0806, arpPkt()),
			ether(macBC, macA, 0x8035, arpPkt()),
			ether(macA, macB, 0x88cc, make([]byte, 30)),
			ether(macA, macB, 0x6003, make([]byte, 30)),
			ether(macA, macB, 0x809b, make([]byte, 30)),
			ether(macA, macB, 0x8137, make([]byte, 30)),
			ether([]byte{0x01, 0x80, 0xc2, 0, 0, 0}, macA, 38, cat([]byte{0x42, 0x42, 0x03}, make([]byte, 35))),
			// Geneve over UDP 6081.
			ether(macA, macB, 0x0800, ipv4(17, ip4A, ip4B, 5, udpDgram(1, 6081, cat([]byte{0, 0}, be16(0x6558), make([]byte, 4), ether(macA, macB, 0x0800, ipv4(6, ip4A, ip4B, 5, tcpSeg(1, 80, 0, nil))))))),
		)
	}
	if linkType == "LINUX_SLL" || linkType == "LINUX_SLL2" {
		base = append(base, cat(sll(0, 0x0806), arpPkt()))
	}
	out := append([][]byte(nil), base...)
	for _, p := range base {
		// Truncations at interesting and random places.
		for _, n := range []int{0, 1, 13, 14, 15, 20, 23, 24, 34, 36, 38, 54, len(p) - 1} {
			if n >= 0 && n < len(p) {
				out = append(out, p[:n])
			}
		}
		// Random mutations.
		for range 3 {
			q := append([]byte(nil), p...)
			for range 1 + rng.IntN(4) {
				q[rng.IntN(len(q))] = byte(rng.Uint32())
			}
			out = append(out, q)
		}
	}
	return out
}
