package filter

import (
	"encoding/binary"
	"net/netip"
)

func be16(v int) []byte    { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func ip4(s string) []byte { a := netip.MustParseAddr(s).As4(); return a[:] }
func ip6(s string) []byte { a := netip.MustParseAddr(s).As16(); return a[:] }

func mac(s string) []byte {
	var m [6]byte
	n, mm := matchMAC(s)
	if n == 0 {
		panic(s)
	}
	m = mm
	return m[:]
}

// ipv4Pkt builds an IPv4 header (with ihl words of header) and payload.
func ipv4Pkt(src, dst string, proto int, fragField int, ihl int, payload []byte) []byte {
	h := make([]byte, ihl*4)
	h[0] = 0x40 | byte(ihl)
	binary.BigEndian.PutUint16(h[2:], uint16(len(h)+len(payload)))
	binary.BigEndian.PutUint16(h[6:], uint16(fragField))
	h[8] = 64
	h[9] = byte(proto)
	copy(h[12:], ip4(src))
	copy(h[16:], ip4(dst))
	return cat(h, payload)
}

func ipv6Pkt(src, dst string, nh int, payload []byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6] = byte(nh)
	h[7] = 64
	copy(h[8:], ip6(src))
	copy(h[24:], ip6(dst))
	return cat(h, payload)
}

func tcpSeg(sp, dp int, flags byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h, uint16(sp))
	binary.BigEndian.PutUint16(h[2:], uint16(dp))
	h[12] = 0x50
	h[13] = flags
	return h
}

func udpDgram(sp, dp int, n int) []byte {
	return cat(be16(sp), be16(dp), be16(8+n), be16(0), make([]byte, n))
}

func icmpMsg(typ, code byte) []byte { return []byte{typ, code, 0, 0, 0, 1, 0, 1} }

func arpPkt(op int, sip, tip string) []byte {
	return cat(be16(1), be16(0x800), []byte{6, 4}, be16(op), mac("00:11:22:33:44:55"), ip4(sip), make([]byte, 6), ip4(tip))
}

func etherFrame(dst, src string, typ int, payload []byte) []byte {
	return cat(mac(dst), mac(src), be16(typ), payload)
}

// l3 is a network-layer packet and its ethertype.
type l3 struct {
	etype int
	data  []byte
}

// networkPackets covers the protocols and fields filters test.
func networkPackets() []l3 {
	var ps []l3
	hosts := []string{"10.0.0.1", "10.0.0.2", "192.168.1.10", "192.168.1.255", "172.16.5.4", "8.8.8.8", "224.0.0.251", "255.255.255.255", "0.0.0.0"}
	ports := []int{0, 22, 53, 67, 68, 80, 443, 999, 1000, 1023, 1500, 2000, 2001, 8080, 65535}
	for i, s := range hosts {
		d := hosts[(i+3)%len(hosts)]
		for j, p := range ports {
			q := ports[(j+5)%len(ports)]
			flags := []byte{0x02, 0x12, 0x10, 0x18, 0x01, 0x04, 0x11, 0xc2, 0x20}[j%9]
			ps = append(ps,
				l3{etherIP, ipv4Pkt(s, d, 6, 0, 5, tcpSeg(p, q, flags))},
				l3{etherIP, ipv4Pkt(d, s, 17, 0, 5, udpDgram(q, p, j))},
				l3{etherIP, ipv4Pkt(s, d, 132, 0, 5, cat(be16(p), be16(q), make([]byte, 8)))},
			)
		}
	}
	// Options, fragments, ICMP, IGMP, others.
	ps = append(ps,
		l3{etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 6, 0, 7, tcpSeg(1234, 80, 2))},
		l3{etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 6, 0x2000, 5, tcpSeg(80, 443, 2))},
		l3{etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 6, 0x0010, 5, tcpSeg(80, 443, 2))},
		l3{etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 17, 0x2010, 5, udpDgram(53, 53, 4))},
		l3{etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 17, 0x4000, 5, udpDgram(53, 9, 4))},
		l3{etherIP, ipv4Pkt("10.0.0.1", "224.0.0.1", 2, 0, 5, []byte{0x11, 0, 0, 0, 0, 0, 0, 0})},
		l3{etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 47, 0, 5, make([]byte, 8))},
		l3{etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 50, 0, 5, make([]byte, 16))},
		l3{etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 51, 0, 5, make([]byte, 16))},
		l3{etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 103, 0, 5, make([]byte, 8))},
		l3{etherIP, ipv4Pkt("10.0.0.1", "224.0.0.18", 112, 0, 5, make([]byte, 8))},
		l3{etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 6, 0, 5, nil)},
	)
	for _, tc := range [][2]byte{{8, 0}, {0, 0}, {3, 3}, {3, 1}, {11, 0}, {5, 1}, {13, 0}} {
		ps = append(ps, l3{etherIP, ipv4Pkt("10.0.0.2", "10.0.0.1", 1, 0, 5, icmpMsg(tc[0], tc[1]))})
	}
	h6 := []string{"2001:db8::1", "2001:db8::2", "fe80::1", "ff02::1", "2001:db9::5", "::1"}
	for i, s := range h6 {
		d := h6[(i+1)%len(h6)]
		for j, p := range []int{22, 53, 80, 443, 1000, 1500, 2000, 8080} {
			q := []int{40000, 80, 53, 1023, 2001, 5}[j%6]
			ps = append(ps,
				l3{etherIPv6, ipv6Pkt(s, d, 6, tcpSeg(p, q, 0x12))},
				l3{etherIPv6, ipv6Pkt(d, s, 17, udpDgram(q, p, 3))},
				l3{etherIPv6, ipv6Pkt(s, d, 132, cat(be16(p), be16(q), make([]byte, 8)))},
			)
		}
	}
	for _, t := range []byte{128, 129, 135, 134, 1, 136} {
		ps = append(ps, l3{etherIPv6, ipv6Pkt("fe80::1", "ff02::1", 58, icmpMsg(t, 0))})
	}
	ps = append(ps,
		l3{etherIPv6, ipv6Pkt("2001:db8::1", "2001:db8::2", 44, cat([]byte{6, 0, 0, 0}, be32(1), tcpSeg(80, 81, 2)))},
		l3{etherIPv6, ipv6Pkt("2001:db8::1", "2001:db8::2", 44, cat([]byte{17, 0, 0, 0}, be32(1), udpDgram(53, 53, 0)))},
		l3{etherIPv6, ipv6Pkt("2001:db8::1", "2001:db8::2", 0, cat([]byte{6, 0, 1, 4, 0, 0, 0, 0}, tcpSeg(22, 80, 2)))},
		l3{etherIPv6, ipv6Pkt("2001:db8::1", "2001:db8::2", 44, cat([]byte{58, 0, 0, 0}, be32(1), icmpMsg(128, 0)))},
		l3{etherARP, arpPkt(1, "10.0.0.1", "10.0.0.2")},
		l3{etherARP, arpPkt(2, "10.0.0.2", "192.168.1.10")},
		l3{etherRARP, arpPkt(3, "8.8.8.8", "10.0.0.1")},
		l3{0x88cc, make([]byte, 30)},
		l3{0x6003, make([]byte, 30)},
		l3{0x809b, make([]byte, 30)},
	)
	return ps
}

// ethernetOnly are frames only Ethernet can carry: VLAN, MPLS, PPPoE, LLC.
func ethernetOnly() [][]byte {
	const a, b = "00:11:22:33:44:55", "66:77:88:99:aa:bb"
	tcp80 := ipv4Pkt("10.0.0.1", "10.0.0.2", 6, 0, 5, tcpSeg(1234, 80, 2))
	udp53 := ipv6Pkt("2001:db8::1", "2001:db8::2", 17, udpDgram(53, 53, 2))
	var fs [][]byte
	for _, tpid := range []int{0x8100, 0x88a8, 0x9100} {
		for _, vid := range []int{100, 300, 0x1064} {
			fs = append(fs,
				etherFrame(a, b, tpid, cat(be16(vid), be16(0x800), tcp80)),
				etherFrame(a, b, tpid, cat(be16(vid), be16(0x86dd), udp53)),
				etherFrame(a, b, tpid, cat(be16(vid), be16(0x8100), be16(300), be16(0x800), tcp80)),
				etherFrame(a, b, tpid, cat(be16(vid), be16(0x806), arpPkt(1, "10.0.0.1", "10.0.0.2"))),
			)
		}
	}
	for _, label := range []uint32{100, 200} {
		fs = append(fs,
			etherFrame(a, b, 0x8847, cat(be32(label<<12|0x100|64), tcp80)),
			etherFrame(a, b, 0x8847, cat(be32(label<<12|64), be32(100<<12|0x100|64), ipv4Pkt("10.0.0.1", "10.0.0.2", 17, 0, 5, udpDgram(9, 53, 1)))),
			etherFrame(a, b, 0x8847, cat(be32(label<<12|0x100|64), udp53)),
		)
	}
	for _, sess := range []int{0x11, 0x22} {
		fs = append(fs,
			etherFrame(a, b, 0x8864, cat([]byte{0x11, 0}, be16(sess), be16(len(tcp80)+2), be16(0x21), tcp80)),
			etherFrame(a, b, 0x8864, cat([]byte{0x11, 0}, be16(sess), be16(len(udp53)+2), be16(0x57), udp53)),
		)
	}
	fs = append(fs,
		etherFrame(a, b, 0x8863, make([]byte, 20)),
		etherFrame("01:80:c2:00:00:00", b, 38, cat([]byte{0x42, 0x42, 0x03}, make([]byte, 35))),
		etherFrame(a, b, 40, cat([]byte{0xe0, 0xe0, 0x03}, make([]byte, 37))),
		etherFrame(a, b, 40, cat([]byte{0xff, 0xff}, make([]byte, 38))),
		etherFrame(a, b, 40, cat([]byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x81, 0x37}, make([]byte, 32))),
		etherFrame(a, b, 40, cat([]byte{0xfe, 0xfe, 0x03, 0x81}, make([]byte, 36))),
		etherFrame(a, b, 40, cat([]byte{0xfe, 0xfe, 0x03, 0x82}, make([]byte, 36))),
		etherFrame(a, b, 40, cat([]byte{0xf0, 0xf0, 0x03}, make([]byte, 37))),
		etherFrame(a, b, 40, cat([]byte{0xaa, 0xaa, 0x03, 0x08, 0x00, 0x07, 0x80, 0x9b}, make([]byte, 32))),
		etherFrame(a, b, 0x8137, make([]byte, 30)),
	)
	return fs
}

// syntheticPackets frames the network packets for a link type.
func syntheticPackets(linkType uint32) []packet {
	var out []packet
	add := func(b []byte, m meta) { out = append(out, packet{data: b, wireLen: len(b), meta: m}) }
	macs := [][2]string{
		{"00:11:22:33:44:55", "66:77:88:99:aa:bb"},
		{"ff:ff:ff:ff:ff:ff", "00:11:22:33:44:55"},
		{"01:00:5e:00:00:fb", "02:00:00:00:00:01"},
		{"66:77:88:99:aa:bb", "00:11:22:33:44:55"},
	}
	for i, p := range networkPackets() {
		m := meta{pktType: []uint32{0, 4, 1, 2, 3}[i%5], ifIndex: uint32(i % 4)}
		switch linkType {
		case LinkTypeEthernet:
			mm := macs[i%len(macs)]
			add(etherFrame(mm[0], mm[1], p.etype, p.data), m)
		case LinkTypeLinuxSLL:
			add(cat(be16(int(m.pktType)), be16(1), be16(6), mac(macs[i%4][1]), []byte{0, 0}, be16(p.etype), p.data), m)
		case LinkTypeLinuxSLL2:
			add(cat(be16(p.etype), be16(0), be32(m.ifIndex), be16(1), []byte{byte(m.pktType), 6}, mac(macs[i%4][1]), []byte{0, 0}, p.data), m)
		case LinkTypeRaw:
			if p.etype == etherIP || p.etype == etherIPv6 {
				add(p.data, m)
			}
		case LinkTypeNull, LinkTypeLoop:
			af := map[int]uint32{etherIP: 2, etherIPv6: 10}[p.etype]
			if af == 0 {
				af = 99
			}
			if linkType == LinkTypeNull {
				add(cat(binary.NativeEndian.AppendUint32(nil, af), p.data), m)
			} else {
				add(cat(be32(af), p.data), m)
			}
		}
	}
	switch linkType {
	case LinkTypeEthernet:
		for _, f := range ethernetOnly() {
			add(f, meta{})
		}
	case LinkTypeLinuxSLL:
		add(cat(be16(0), be16(1), be16(6), make([]byte, 8), be16(4), []byte{0x42, 0x42, 0x03}, make([]byte, 35)), meta{})
		add(cat(be16(0), be16(1), be16(6), make([]byte, 8), be16(4), []byte{0xe0, 0xe0, 0x03}, make([]byte, 35)), meta{})
		add(cat(be16(0), be16(1), be16(6), make([]byte, 8), be16(1), []byte{0xff, 0xff}, make([]byte, 35)), meta{})
	}
	return out
}
