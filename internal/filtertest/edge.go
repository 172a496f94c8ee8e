package filtertest

import (
	"fmt"
	"net/netip"
	"strings"

	ibpf "github.com/purecap/pcap/internal/bpf"
)

// Linux packet types (sll_pkttype, PACKET_*).
const (
	pktHost      = 0
	pktBroadcast = 1
	pktMulticast = 2
	pktOtherHost = 3
	pktOutgoing  = 4
)

// ARPHRD_ values for cooked headers.
const (
	arphrdEther    = 1
	arphrdLoopback = 772
	arphrdIPGRE    = 778
	arphrdNone     = 65534
)

// netPacket is a network-layer packet and the ethertype that announces it.
type netPacket struct {
	name  string
	etype uint16
	data  []byte
}

// networkPackets returns the edge cases above the link layer: every IP
// protocol the filter language names, IPv4 options and fragments, IPv6
// extension header chains, ARP and RARP.
func networkPackets() []netPacket {
	var ps []netPacket
	v4 := func(name string, b []byte) { ps = append(ps, netPacket{"ipv4-" + name, etherIPv4, b}) }
	v6 := func(name string, b []byte) { ps = append(ps, netPacket{"ipv6-" + name, etherIPv6, b}) }

	// TCP, one packet per flag and some port boundaries.
	v4("tcp-syn", ipv4("10.0.0.1", "10.0.0.2", protoTCP, tcp(40000, 80, tcpSYN, nil, nil)))
	v4("tcp-synack", ipv4("10.0.0.2", "10.0.0.1", protoTCP, tcp(80, 40000, tcpSYN|tcpACK, nil, nil)))
	for _, f := range []struct {
		name  string
		flags uint8
	}{
		{"fin", tcpFIN}, {"rst", tcpRST}, {"pshack", tcpPSH | tcpACK}, {"urg", tcpURG},
		{"ece", tcpECE}, {"cwr", tcpCWR}, {"finack", tcpFIN | tcpACK}, {"all", 0xff}, {"none", 0},
	} {
		v4("tcp-"+f.name, ipv4("192.168.1.10", "8.8.8.8", protoTCP, tcp(443, 50000, f.flags, nil, []byte("data"))))
	}
	v4("tcp-http-get", ipv4("10.0.0.1", "93.184.216.34", protoTCP, tcp(40001, 80, tcpPSH|tcpACK, nil, []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))))
	v4("tcp-options", ipv4("10.0.0.2", "10.0.0.1", protoTCP, tcp(22, 40002, tcpSYN, []byte{2, 4, 5, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7}, nil)))
	for _, p := range [][2]uint16{{0, 0}, {65535, 65535}, {1023, 1024}, {1024, 1023}, {2000, 1000}, {8080, 3306}} {
		v4(fmt.Sprintf("tcp-%d-%d", p[0], p[1]), ipv4("172.16.5.4", "10.1.2.3", protoTCP, tcp(p[0], p[1], tcpACK, nil, nil)))
	}
	v4("tcp-self", ipv4("10.0.0.1", "10.0.0.1", protoTCP, tcp(80, 80, tcpSYN, nil, nil)))
	v4("tcp-bulk", ipv4("10.0.0.2", "10.0.0.1", protoTCP, tcp(80, 40000, tcpACK, nil, make([]byte, 400))))
	v4("tcp-bgp", ipv4("10.0.0.1", "10.0.0.2", protoTCP, tcp(179, 40003, tcpPSH|tcpACK, nil, []byte{0xff, 0xff})))

	// UDP.
	v4("udp-dns", ipv4("10.0.0.1", "8.8.8.8", protoUDP, udp(5353, 53, []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0})))
	v4("udp-dhcp", ipv4("0.0.0.0", "255.255.255.255", protoUDP, udp(68, 67, make([]byte, 16))))
	v4("udp-subnet-bcast", ipv4("192.168.1.10", "192.168.1.255", protoUDP, udp(137, 137, []byte("nbns"))))
	v4("udp-mdns", ipv4("10.0.0.2", "224.0.0.251", protoUDP, udp(5353, 5353, []byte("mdns"))))
	v4("udp-ssdp", ipv4("10.0.0.2", "239.255.255.250", protoUDP, udp(1900, 1900, nil)))
	v4("udp-0", ipv4("1.1.1.1", "10.0.0.1", protoUDP, udp(0, 0, nil)))
	v4("udp-65535", ipv4("10.0.0.1", "1.1.1.1", protoUDP, udp(65535, 65535, []byte{0})))
	v4("udp-host-10", ipv4("0.0.0.10", "10.0.0.0", protoUDP, udp(1, 2, nil)))
	v4("udp-syslog", ipv4("10.255.255.255", "100.64.0.1", protoUDP, udp(514, 514, []byte("<13>x"))))

	// SCTP, ICMP, IGMP and the IP protocols with names.
	v4("sctp", ipv4("10.0.0.1", "10.0.0.2", protoSCTP, sctp(80, 9000)))
	v4("sctp-sip", ipv4("10.0.0.2", "10.0.0.1", protoSCTP, sctp(5060, 5060)))
	for _, tc := range [][2]uint8{{0, 0}, {3, 0}, {3, 1}, {3, 3}, {3, 4}, {4, 0}, {5, 1}, {8, 0}, {9, 0}, {10, 0},
		{11, 0}, {11, 1}, {12, 0}, {13, 0}, {14, 0}, {15, 0}, {16, 0}, {17, 0}, {18, 0}} {
		v4(fmt.Sprintf("icmp-%d-%d", tc[0], tc[1]), ipv4("10.0.0.2", "10.0.0.1", protoICMP, icmp(tc[0], tc[1], make([]byte, 8))))
	}
	v4("igmp-query", ip4{src: "10.0.0.1", dst: "224.0.0.1", proto: protoIGMP, ttl: 1, options: []byte{0x94, 4, 0, 0}}.build(igmp(0x11, "0.0.0.0")))
	v4("igmp-report", ipv4("10.0.0.2", "239.1.2.3", protoIGMP, igmp(0x16, "239.1.2.3")))
	v4("ah-tcp", ipv4("10.0.0.1", "10.0.0.2", protoAH, ah(protoTCP, tcp(1234, 22, tcpSYN, nil, nil))))
	v4("ah-udp", ipv4("10.0.0.1", "10.0.0.2", protoAH, ah(protoUDP, udp(53, 53, nil))))
	v4("esp", ipv4("10.0.0.2", "10.0.0.1", protoESP, cat(be32(0x1005), be32(1), make([]byte, 16))))
	v4("pim", ipv4("10.0.0.1", "224.0.0.13", protoPIM, []byte{0x20, 0, 0, 0, 0, 1, 0, 2, 0, 105}))
	v4("vrrp", ipv4("10.0.0.1", "224.0.0.18", protoVRRP, []byte{0x21, 1, 100, 1, 0, 1, 0, 0, 10, 0, 0, 254}))
	v4("gre", ipv4("10.0.0.1", "10.0.0.2", protoGRE, cat([]byte{0, 0, 8, 0}, ipv4("1.1.1.1", "2.2.2.2", protoTCP, tcp(1, 80, tcpSYN, nil, nil)))))
	v4("ipip", ipv4("10.0.0.1", "10.0.0.2", protoIPIP, ipv4("1.1.1.1", "2.2.2.2", protoUDP, udp(53, 53, nil))))
	v4("6in4", ipv4("10.0.0.1", "10.0.0.2", protoIPv6, ipv6("2001:db8::1", "2001:db8::2", protoTCP, tcp(1, 80, tcpSYN, nil, nil))))
	v4("igrp", ipv4("10.0.0.1", "10.0.0.2", protoIGRP, make([]byte, 12)))
	v4("proto-255", ipv4("10.0.0.1", "10.0.0.2", 255, make([]byte, 8)))
	v4("proto-0", ipv4("10.0.0.1", "10.0.0.2", 0, make([]byte, 8)))

	// Options, fragments and odd headers.
	v4("opts-nop", ip4{src: "10.0.0.1", dst: "10.0.0.2", proto: protoTCP, options: []byte{1, 1, 1, 0}}.build(tcp(1234, 80, tcpSYN, nil, nil)))
	rr := append([]byte{7, 39, 4}, make([]byte, 36)...)
	v4("opts-max", ip4{src: "10.0.0.2", dst: "10.0.0.1", proto: protoUDP, options: rr}.build(udp(53, 1053, []byte("answer"))))
	v4("opts-ra", ip4{src: "192.168.1.10", dst: "192.168.1.1", proto: protoTCP, options: []byte{0x94, 4, 0, 0, 1, 1, 1, 0}}.build(tcp(443, 1024, tcpACK, nil, nil)))
	v4("frag-first-tcp", ip4{src: "10.0.0.1", dst: "10.0.0.2", proto: protoTCP, id: 7, flags: 1}.build(tcp(40000, 80, tcpPSH|tcpACK, nil, make([]byte, 32))))
	v4("frag-middle", ip4{src: "10.0.0.1", dst: "10.0.0.2", proto: protoTCP, id: 7, flags: 1, fragOff: 185}.build(cat(be16(80), be16(80), make([]byte, 40))))
	v4("frag-last-udp", ip4{src: "10.0.0.1", dst: "10.0.0.2", proto: protoUDP, id: 8, fragOff: 370}.build(cat(be16(53), be16(53), make([]byte, 20))))
	v4("frag-first-udp", ip4{src: "10.0.0.1", dst: "10.0.0.2", proto: protoUDP, id: 8, flags: 1}.build(udp(53, 53, make([]byte, 24))))
	v4("frag-first-icmp", ip4{src: "10.0.0.2", dst: "10.0.0.1", proto: protoICMP, id: 9, flags: 1}.build(icmp(8, 0, make([]byte, 24))))
	v4("frag-middle-icmp", ip4{src: "10.0.0.2", dst: "10.0.0.1", proto: protoICMP, id: 9, fragOff: 4}.build(cat([]byte{8, 0}, make([]byte, 22))))
	v4("df-tcp", ip4{src: "10.0.0.1", dst: "10.0.0.2", proto: protoTCP, flags: 2}.build(tcp(40000, 443, tcpSYN, nil, nil)))
	v4("reserved-flag", ip4{src: "10.0.0.1", dst: "10.0.0.2", proto: protoUDP, flags: 4}.build(udp(53, 53, nil)))
	v4("ihl4", ip4{src: "10.0.0.1", dst: "10.0.0.2", proto: protoTCP, ihl: 4}.build(tcp(80, 80, tcpSYN, nil, nil)))
	v4("ihl6-no-opts", ip4{src: "10.0.0.1", dst: "10.0.0.2", proto: protoTCP, ihl: 6}.build(tcp(80, 80, tcpSYN, nil, nil)))
	v4("tos-ttl", ip4{src: "127.0.0.1", dst: "127.0.0.1", proto: protoUDP, tos: 0xb8, ttl: 1}.build(udp(123, 123, make([]byte, 48))))

	// IPv6.
	v6("tcp-syn", ipv6("2001:db8::1", "2001:db8::2", protoTCP, tcp(40000, 80, tcpSYN, nil, nil)))
	v6("tcp-synack", ipv6("2001:db8::2", "2001:db8::1", protoTCP, tcp(80, 40000, tcpSYN|tcpACK, nil, nil)))
	v6("tcp-rst", ipv6("2001:db8:1::10", "fd00::5", protoTCP, tcp(443, 1023, tcpRST, nil, nil)))
	v6("udp-dns", ipv6("2001:db8::2", "2001:db8::1", protoUDP, udp(53, 5353, []byte("answer"))))
	v6("udp-mdns", ipv6("fe80::1", "ff02::fb", protoUDP, udp(5353, 5353, []byte("q"))))
	v6("udp-loopback", ipv6("::1", "::1", protoUDP, udp(2000, 1000, nil)))
	v6("udp-unspecified", ipv6("::", "ff02::1:ff00:1", protoUDP, udp(546, 547, nil)))
	v6("udp-v4mapped", ipv6("::ffff:10.0.0.1", "::", protoUDP, udp(3000, 3000, nil)))
	hop1 := ipv6("fe80::2", "ff02::2", protoUDP, udp(521, 521, nil))
	hop1[7] = 1
	v6("udp-hoplimit1", hop1)
	v6("sctp", ipv6("2001:db8::1", "2001:db8::2", protoSCTP, sctp(80, 9000)))
	for _, tc := range [][2]uint8{{1, 0}, {1, 4}, {2, 0}, {3, 0}, {4, 0}, {128, 0}, {129, 0}, {130, 0}, {131, 0},
		{132, 0}, {133, 0}, {134, 0}, {135, 0}, {136, 0}, {137, 0}, {143, 0}, {8, 0}, {200, 0}, {255, 0}} {
		v6(fmt.Sprintf("icmp6-%d-%d", tc[0], tc[1]), ipv6("fe80::1", "ff02::1", protoICMPv6, icmp(tc[0], tc[1], make([]byte, 16))))
	}
	for typ := uint8(138); typ <= 153; typ++ {
		if typ == 143 {
			continue // above
		}
		v6(fmt.Sprintf("icmp6-%d-0", typ), ipv6("2001:db8::1", "2001:db8::2", protoICMPv6, icmp(typ, 0, make([]byte, 16))))
	}
	v6("hbh-tcp", ipv6("2001:db8::1", "2001:db8::2", protoHopOpts, ext6(protoTCP, 0, tcp(1111, 80, tcpSYN, nil, nil))))
	v6("hbh-icmp6", ipv6("fe80::1", "ff02::16", protoHopOpts, ext6(protoICMPv6, 0, icmp(143, 0, make([]byte, 8)))))
	v6("dstopts-udp", ipv6("2001:db8::1", "2001:db8::2", protoDstOpts, ext6(protoUDP, 1, udp(53, 53, nil))))
	v6("routing-tcp", ipv6("2001:db8::1", "2001:db8::2", protoRouting, routing6(protoTCP, tcp(2000, 443, tcpSYN, nil, nil))))
	v6("frag-first-tcp", ipv6("2001:db8::1", "2001:db8::2", protoFragment, frag6(protoTCP, 0, true, 1, tcp(80, 2000, tcpACK, nil, make([]byte, 16)))))
	v6("frag-middle-udp", ipv6("2001:db8::1", "2001:db8::2", protoFragment, frag6(protoUDP, 100, true, 2, cat(be16(53), be16(53), make([]byte, 16)))))
	v6("frag-icmp6", ipv6("fe80::1", "ff02::1", protoFragment, frag6(protoICMPv6, 0, false, 3, icmp(128, 0, nil))))
	v6("chain-tcp", ipv6("2001:db8::1", "2001:db8::2", protoHopOpts,
		ext6(protoDstOpts, 0, ext6(protoRouting, 0, routing6(protoFragment, frag6(protoTCP, 0, false, 4, tcp(22, 22, tcpSYN, nil, nil)))))))
	v6("ah-tcp", ipv6("2001:db8::1", "2001:db8::2", protoAH, ah(protoTCP, tcp(1234, 22, tcpSYN, nil, nil))))
	v6("hbh-ah-udp", ipv6("2001:db8::1", "2001:db8::2", protoHopOpts, ext6(protoAH, 0, ah(protoUDP, udp(53, 53, nil)))))
	v6("esp", ipv6("2001:db8::2", "2001:db8::1", protoESP, cat(be32(0x2005), be32(1), make([]byte, 16))))
	v6("no-next", ipv6("2001:db8::1", "2001:db8::2", protoNoNext, nil))
	v6("dstopts-icmp6", ipv6("fe80::2", "fe80::1", protoDstOpts, ext6(protoICMPv6, 0, icmp(129, 0, nil))))
	v6("pim", ipv6("fe80::1", "ff02::d", protoPIM, []byte{0x20, 0, 0, 0}))
	v6("vrrp", ipv6("fe80::1", "ff02::12", protoVRRP, make([]byte, 24)))
	v6("ipip6", ipv6("2001:db8::1", "2001:db8::2", protoIPIP, ipv4("1.1.1.1", "2.2.2.2", protoUDP, udp(53, 53, nil))))

	// Geneve (UDP port 6081) carrying Ethernet, over IPv4 and IPv6.
	inner := ether(macB, macA, etherIPv4, ipv4("10.9.0.1", "10.9.0.2", protoTCP, tcp(40000, 80, tcpSYN, nil, nil)))
	v4("geneve-vni1", ipv4("10.0.0.1", "10.0.0.2", protoUDP, udp(50000, 6081, geneve(1, inner))))
	v4("geneve-vni7", ipv4("10.0.0.2", "10.0.0.1", protoUDP, udp(50001, 6081, geneve(7, inner))))
	v6("geneve-vni1", ipv6("2001:db8::1", "2001:db8::2", protoUDP, udp(50000, 6081, geneve(1, inner))))
	// Geneve with options (the header length varies), carrying a bare IP
	// packet (no inner Ethernet header), with version 1, inside Geneve,
	// and carrying VLAN-tagged, ARP, IPv6, 802.3 and broadcast frames.
	opts := []byte{0x01, 0x02, 0x03, 0x01, 0xaa, 0xbb, 0xcc, 0xdd}
	v4("geneve-opts-vni5", ipv4("10.0.0.1", "10.0.0.2", protoUDP, udp(50002, 6081, geneveHdr(0, opts, 0x6558, 5, inner))))
	v4("geneve-ipv4-bare", ipv4("10.0.0.1", "10.0.0.2", protoUDP, udp(50003, 6081,
		geneveHdr(0, nil, etherIPv4, 1, ipv4("10.9.0.1", "10.9.0.2", protoTCP, tcp(40000, 80, tcpSYN, nil, nil))))))
	v4("geneve-opts-ipv6-bare", ipv4("10.0.0.1", "10.0.0.2", protoUDP, udp(50003, 6081,
		geneveHdr(0, opts[:4], etherIPv6, 1, ipv6("2001:db8:9::1", "2001:db8:9::2", protoUDP, udp(5353, 53, nil))))))
	v4("geneve-version1", ipv4("10.0.0.1", "10.0.0.2", protoUDP, udp(50004, 6081, geneveHdr(1, nil, 0x6558, 1, inner))))
	v4("geneve-in-geneve", ipv4("10.0.0.1", "10.0.0.2", protoUDP, udp(50005, 6081, geneve(2,
		ether(macB, macA, etherIPv4, ipv4("10.8.0.1", "10.8.0.2", protoUDP, udp(50006, 6081, geneve(1, inner))))))))
	v4("geneve-vlan100", ipv4("10.0.0.1", "10.0.0.2", protoUDP, udp(50007, 6081, geneve(1,
		ether(macB, macA, etherVLAN, vlanTag(0, false, 100, etherIPv4, ipv4("10.9.0.1", "10.9.0.2", protoTCP, tcp(40000, 80, tcpSYN, nil, nil))))))))
	v4("geneve-arp-bcast", ipv4("10.0.0.1", "10.0.0.2", protoUDP, udp(50008, 6081, geneve(3,
		ether(macBcast, macA, etherARP, arpPacket(1, macA, "10.9.0.1", [6]byte{}, "10.9.0.2"))))))
	v4("geneve-llc-stp", ipv4("10.0.0.1", "10.0.0.2", protoUDP, udp(50009, 6081, geneve(1,
		ether8023Frame(macSTP, macA, llc(0x42, 0x42, 0x03, stpBPDU()))))))
	v4("geneve-srcport", ipv4("10.0.0.1", "10.0.0.2", protoUDP, udp(6081, 50000, geneve(1, inner))))
	v4("geneve-frag-middle", ip4{src: "10.0.0.1", dst: "10.0.0.2", proto: protoUDP, id: 11, fragOff: 100}.build(udp(50000, 6081, geneve(1, inner))))
	v6("geneve-opts-ipv6-mcast", ipv6("2001:db8::1", "2001:db8::2", protoUDP, udp(50010, 6081, geneveHdr(0, opts, 0x6558, 0xffffff,
		ether(macMc6, macA, etherIPv6, ipv6("2001:db8:9::1", "ff02::fb", protoUDP, udp(5353, 5353, []byte("q"))))))))
	// Geneve carrying the link-layer protocols that follow it in filters.
	gnv := func(name string, frame []byte) {
		v4("geneve-"+name, ipv4("10.0.0.1", "10.0.0.2", protoUDP, udp(50011, 6081, geneve(1, frame))))
	}
	gnvTCP := ipv4("10.9.0.1", "10.9.0.2", protoTCP, tcp(40000, 80, tcpSYN, nil, nil))
	gnv("pppoes", ether(macB, macA, etherPPPoES, pppoeSession(0x11, 0x0021, gnvTCP)))
	gnv("mpls", ether(macB, macA, etherMPLS, mplsStack([]uint32{100}, true, gnvTCP)))
	gnv("decnet", ether(macB, macA, etherDECnet, cat(be16(8), []byte{0x02, 0x02, 0x04, 0x05, 0x28}, []byte{0, 0, 0})))
	gnv("llc-i", ether8023Frame(macB, macA, cat([]byte{0x04, 0x05, 0x02, 0x04}, make([]byte, 12))))
	gnv("isis-l1-lsp", ether8023Frame(macB, macA, llc(0xfe, 0xfe, 0x03, cat([]byte{0x83, 27, 1, 0, 18, 1, 0, 0}, make([]byte, 20)))))
	v6("geneve-hbh", ipv6("2001:db8::1", "2001:db8::2", protoHopOpts, ext6(protoUDP, 0, udp(50000, 6081, geneve(1, inner)))))

	// Address families meeting: IPv4 packets with addresses the tests name.
	for _, h := range [][2]string{{"10.0.0.1", "10.0.0.2"}, {"192.168.1.10", "8.8.8.8"}, {"172.31.255.255", "172.16.0.0"}, {"10.1.2.3", "10.255.0.1"}} {
		v4("udp-"+h[0]+"-"+h[1], ipv4(h[0], h[1], protoUDP, udp(40000, 8080, nil)))
	}

	// ARP and RARP.
	arp := func(name string, etype uint16, b []byte) { ps = append(ps, netPacket{name, etype, b}) }
	var zero [6]byte
	arp("arp-request", etherARP, arpPacket(1, macA, "10.0.0.1", zero, "10.0.0.2"))
	arp("arp-reply", etherARP, arpPacket(2, macB, "10.0.0.2", macA, "10.0.0.1"))
	arp("arp-gratuitous", etherARP, arpPacket(1, macA, "192.168.1.10", zero, "192.168.1.10"))
	arp("arp-probe", etherARP, arpPacket(1, macA, "0.0.0.0", zero, "8.8.8.8"))
	arp("rarp-request", etherRARP, arpPacket(3, macA, "0.0.0.0", macA, "0.0.0.0"))
	arp("rarp-reply", etherRARP, arpPacket(4, macB, "10.0.0.2", macA, "10.0.0.1"))
	arp("arp-short", etherARP, arpPacket(1, macA, "10.0.0.1", zero, "10.0.0.2")[:20])
	return ps
}

// frameDst returns the destination MAC address an Ethernet frame carrying
// p would have: broadcast, the IPv4 or IPv6 multicast mapping, or a host.
func frameDst(p netPacket) [6]byte {
	switch p.etype {
	case etherARP, etherRARP:
		if p.data[7] == 1 || p.data[7] == 3 {
			return macBcast
		}
	case etherIPv4:
		dst, _ := netip.AddrFromSlice(p.data[16:20])
		if dst.IsMulticast() {
			a := dst.As4()
			return mac(0x01, 0x00, 0x5e, a[1]&0x7f, a[2], a[3])
		}
		if a := dst.As4(); a[3] == 255 {
			return macBcast
		}
	case etherIPv6:
		if p.data[24] == 0xff {
			return mac(0x33, 0x33, p.data[36], p.data[37], p.data[38], p.data[39])
		}
	}
	return macB
}

// pktTypeOf returns the packet type a Linux host with address macB would
// give a frame sent to dst.
func pktTypeOf(dst [6]byte) uint8 {
	switch {
	case dst == macBcast:
		return pktBroadcast
	case dst[0]&1 != 0:
		return pktMulticast
	case dst == macB:
		return pktHost
	}
	return pktOtherHost
}

// EdgePackets returns packets built in Go for a link type of LinkTypes:
// the network-layer edge cases under that link type's header, the link
// layer's own cases (for Ethernet: VLAN tags, MPLS, PPPoE, LLC, the
// ethertypes of the older protocols; for cooked captures: every packet
// type), and truncated copies cut at every byte of the headers. Packets
// carry Aux metadata consistent with their headers. It returns nil for
// another link type.
func EdgePackets(linkType string) []Packet {
	switch linkType {
	case "EN10MB":
		return ethernetEdge()
	case "LINUX_SLL", "LINUX_SLL2":
		return cookedEdge(linkType == "LINUX_SLL2")
	case "RAW":
		return rawEdge()
	case "NULL", "LOOP":
		return loopbackEdge(linkType == "LOOP")
	}
	return nil
}

// edgeSet collects packets and names them.
type edgeSet struct {
	pkts []Packet
}

func (s *edgeSet) add(name string, data []byte, aux *ibpf.Ancillary) {
	s.pkts = append(s.pkts, Packet{Name: name, Data: data, WireLen: len(data), Aux: aux})
}

// cuts adds the frame captured with every length in [from, to), the
// length on the wire staying the full one.
func (s *edgeSet) cuts(name string, frame []byte, from, to int, aux *ibpf.Ancillary) {
	to = min(to, len(frame))
	for n := from; n < to; n++ {
		s.pkts = append(s.pkts, Packet{Name: fmt.Sprintf("%s/cut%d", name, n), Data: frame[:n:n], WireLen: len(frame), Aux: aux})
	}
}

func ethernetEdge() []Packet {
	var s edgeSet
	ethAux := func(dst [6]byte, etype uint16, i int) *ibpf.Ancillary {
		a := &ibpf.Ancillary{Protocol: etype, PktType: pktTypeOf(dst), IfIndex: 1 + i%3}
		if i%4 == 3 {
			a.PktType = pktOutgoing
		}
		return a
	}
	for i, p := range networkPackets() {
		dst := frameDst(p)
		s.add("eth/"+p.name, ether(dst, macA, p.etype, p.data), ethAux(dst, p.etype, i))
	}
	add := func(name string, dst [6]byte, etype uint16, payload []byte) {
		s.add("eth/"+name, ether(dst, macA, etype, payload), ethAux(dst, etype, len(s.pkts)))
	}
	tcp80 := ipv4("10.0.0.1", "10.0.0.2", protoTCP, tcp(40000, 80, tcpSYN, nil, nil))
	udp53 := ipv4("192.168.1.10", "8.8.8.8", protoUDP, udp(5353, 53, nil))
	udp6 := ipv6("2001:db8::1", "2001:db8::2", protoUDP, udp(5353, 53, nil))
	arpReq := arpPacket(1, macA, "10.0.0.1", [6]byte{}, "10.0.0.2")

	// Ethernet addresses.
	add("unicast-self-src", macA, etherIPv4, tcp80)
	s.add("eth/from-local", ether(macB, macLocal, etherIPv4, udp53), nil)
	add("bcast-ipv4-unicast", macBcast, etherIPv4, tcp80)
	add("mcast-ipv6", macMc6, etherIPv6, udp6)
	add("mcast-ipv4", macMc4, etherIPv4, udp53)

	// Frames padded to the Ethernet minimum: the IP length is less than
	// the frame's.
	s.add("eth/ipv4-tcp80-padded", pad(ether(macB, macA, etherIPv4, tcp80), 60), ethAux(macB, etherIPv4, 0))
	s.add("eth/arp-padded", pad(ether(macBcast, macA, etherARP, arpReq), 60), ethAux(macBcast, etherARP, 1))
	// The largest IPv4 packet, with a trailer after it.
	big := ipv4("10.0.0.1", "10.0.0.2", protoUDP, udp(40000, 9, make([]byte, 65535-28)))
	s.add("eth/ipv4-udp-max", pad(ether(macB, macA, etherIPv4, big), 14+65535+16), nil)
	// Frames that are not VLAN-tagged but carry an IP packet 4 bytes later:
	// what a program reads after "not vlan" (every later offset shifts).
	add("shifted4-ipv4-tcp80", macB, 0x88b5, cat([]byte{0, 0}, be16(etherIPv4), tcp80))
	add("shifted4-ipv6-udp53", macB, 0x88b5, cat([]byte{0, 0}, be16(etherIPv6), udp6))
	add("type-0xffff", macB, 0xffff, make([]byte, 46))

	// VLAN tags: TPIDs 0x8100, 0x88a8, 0x9100, alone and stacked.
	vlan := func(name string, outer uint16, inner []byte) { add(name, macB, outer, inner) }
	vlan("vlan100-tcp80", etherVLAN, vlanTag(5, false, 100, etherIPv4, tcp80))
	vlan("vlan100-ipv6", etherVLAN, vlanTag(0, false, 100, etherIPv6, udp6))
	vlan("vlan100-arp", etherVLAN, vlanTag(0, false, 100, etherARP, arpReq))
	vlan("vlan0-udp53", etherVLAN, vlanTag(3, false, 0, etherIPv4, udp53))
	vlan("vlan4095-tcp80", etherVLAN, vlanTag(7, true, 4095, etherIPv4, tcp80))
	vlan("vlan1-dei-udp53", etherVLAN, vlanTag(0, true, 1, etherIPv4, udp53))
	vlan("vlan200-mpls", etherVLAN, vlanTag(0, false, 200, etherMPLS, mplsStack([]uint32{100}, true, tcp80)))
	vlan("vlan300-pppoes", etherVLAN, vlanTag(0, false, 300, etherPPPoES, pppoeSession(0x11, 0x0021, tcp80)))
	add("vlan100-dhcp-bcast", macBcast, etherVLAN, vlanTag(0, false, 100, etherIPv4, ipv4("0.0.0.0", "255.255.255.255", protoUDP, udp(68, 67, make([]byte, 16)))))
	vlan("vlan100-llc-stp", etherVLAN, vlanTag(0, false, 100, 38, llc(0x42, 0x42, 0x03, stpBPDU())))
	dn := cat(be16(8), []byte{0x02, 0x02, 0x04, 0x05, 0x28}, []byte{0, 0, 0})
	vlan("vlan100-decnet", etherVLAN, vlanTag(0, false, 100, etherDECnet, dn))
	llcI := cat([]byte{0x04, 0x05, 0x02, 0x04}, make([]byte, 12))
	vlan("vlan100-llc-i", etherVLAN, vlanTag(0, false, 100, uint16(len(llcI)), llcI))
	csnp := llc(0xfe, 0xfe, 0x03, cat([]byte{0x83, 33, 1, 0, 24, 1, 0, 0}, make([]byte, 24)))
	vlan("vlan100-isis-csnp", etherVLAN, vlanTag(0, false, 100, uint16(len(csnp)), csnp))
	vlan("vlan100-geneve", etherVLAN, vlanTag(0, false, 100, etherIPv4, ipv4("10.0.0.1", "10.0.0.2", protoUDP, udp(50000, 6081,
		geneve(1, ether(macB, macA, etherIPv4, ipv4("10.9.0.1", "10.9.0.2", protoTCP, tcp(40000, 80, tcpSYN, nil, nil))))))))
	vlan("qinq-88a8-200-100-tcp80", etherQinQ, vlanTag(0, false, 200, etherVLAN, vlanTag(0, false, 100, etherIPv4, tcp80)))
	vlan("qinq-9100-300-100-ipv6", etherQinQOld, vlanTag(0, false, 300, etherVLAN, vlanTag(0, false, 100, etherIPv6, udp6)))
	vlan("qinq-8100-100-300-tcp80", etherVLAN, vlanTag(0, false, 100, etherVLAN, vlanTag(0, false, 300, etherIPv4, tcp80)))
	vlan("qinq-8100-200-300-udp53", etherVLAN, vlanTag(0, false, 200, etherVLAN, vlanTag(0, false, 300, etherIPv4, udp53)))
	vlan("single-88a8-100-tcp80", etherQinQ, vlanTag(0, false, 100, etherIPv4, tcp80))
	vlan("single-9100-100-udp53", etherQinQOld, vlanTag(0, false, 100, etherIPv4, udp53))
	vlan("triple-88a8-8100-8100-udp53", etherQinQ, vlanTag(0, false, 10, etherVLAN, vlanTag(0, false, 100, etherVLAN, vlanTag(0, false, 300, etherIPv4, udp53))))
	vlan("qinq-88a8-100-arp", etherQinQ, vlanTag(0, false, 100, etherVLAN, vlanTag(0, false, 200, etherARP, arpReq)))

	// MPLS label stacks.
	add("mpls-100-tcp80", macB, etherMPLS, mplsStack([]uint32{100}, true, tcp80))
	add("mpls-16-100-udp53", macB, etherMPLS, mplsStack([]uint32{16, 100}, true, udp53))
	add("mpls-1048575-16-100-tcp80", macB, etherMPLS, mplsStack([]uint32{1048575, 16, 100}, true, tcp80))
	add("mpls-100-100-100-udp53", macB, etherMPLS, mplsStack([]uint32{100, 100, 100}, true, udp53))
	add("mpls-100-udp53", macB, etherMPLS, mplsStack([]uint32{100}, true, udp53))
	add("mpls-16-100-tcp80", macB, etherMPLS, mplsStack([]uint32{16, 100}, true, tcp80))
	add("mpls-200-ipv6", macB, etherMPLS, mplsStack([]uint32{200}, true, udp6))
	add("mpls-0-tcp80", macB, etherMPLS, mplsStack([]uint32{0}, true, tcp80))
	add("mpls-no-bos", macB, etherMPLS, mplsStack([]uint32{100, 200}, false, tcp80))
	add("mpls-100-geneve", macB, etherMPLS, mplsStack([]uint32{100}, true, ipv4("10.0.0.1", "10.0.0.2", protoUDP, udp(50000, 6081,
		geneve(1, ether(macB, macA, etherIPv4, tcp80))))))
	add("mpls-multicast-300", macB, etherMPLSMc, mplsStack([]uint32{300}, true, udp53))

	// PPPoE.
	add("pppoed-padi", macBcast, etherPPPoED, pppoeDiscovery(0x09, 0))
	add("pppoed-pado", macA, etherPPPoED, pppoeDiscovery(0x07, 0))
	add("pppoes-11-tcp80", macB, etherPPPoES, pppoeSession(0x11, 0x0021, tcp80))
	add("pppoes-22-ipv6", macB, etherPPPoES, pppoeSession(0x22, 0x0057, udp6))
	add("pppoes-11-lcp", macB, etherPPPoES, pppoeSession(0x11, 0xc021, []byte{1, 1, 0, 4}))
	add("pppoes-11-mpls", macB, etherPPPoES, pppoeSession(0x11, 0x0281, mplsStack([]uint32{100}, true, tcp80)))
	add("pppoes-in-pppoes", macB, etherPPPoES, pppoeSession(0x11, etherPPPoES, pppoeSession(0x22, 0x0021, tcp80)))
	add("pppoes-ffff-udp53", macB, etherPPPoES, pppoeSession(0xffff, 0x0021, udp53))

	// LLC: STP, SNAP, IPX, NetBEUI, OSI, and every kind of control field.
	dot3 := func(name string, dst [6]byte, payload []byte) {
		s.add("eth/"+name, ether8023Frame(dst, macA, payload), ethAux(dst, ether8022, len(s.pkts)))
	}
	dot3("stp", macSTP, llc(0x42, 0x42, 0x03, stpBPDU()))
	dot3("snap-ipv4-tcp80", macB, snap(0, etherIPv4, tcp80))
	dot3("snap-atalk", macB, snap(0x080007, etherAtalk, make([]byte, 20)))
	dot3("snap-aarp", macB, snap(0, etherAARP, make([]byte, 28)))
	dot3("snap-ipx", macB, snap(0, etherIPX, make([]byte, 30)))
	dot3("llc-ipx", macB, llc(0xe0, 0xe0, 0x03, make([]byte, 30)))
	dot3("novell-raw-ipx", macB, cat([]byte{0xff, 0xff}, make([]byte, 28)))
	dot3("netbeui", macB, llc(0xf0, 0xf0, 0x03, []byte("netbeui-frame")))
	dot3("iso-clnp", macB, llc(0xfe, 0xfe, 0x03, cat([]byte{0x81}, make([]byte, 20))))
	dot3("iso-esis", macB, llc(0xfe, 0xfe, 0x03, cat([]byte{0x82}, make([]byte, 20))))
	for _, pdu := range []uint8{15, 16, 17, 18, 20, 24, 25, 26, 27} {
		// IS-IS: discriminator, header length, version, id length, PDU type.
		dot3(fmt.Sprintf("isis-%d", pdu), macB, llc(0xfe, 0xfe, 0x03, cat([]byte{0x83, 27, 1, 0, pdu, 1, 0, 0}, make([]byte, 20))))
	}
	for _, c := range []struct {
		name string
		ctrl []byte
	}{
		{"i", []byte{0x00, 0x00}}, {"i-odd", []byte{0x02, 0x04}}, {"rr", []byte{0x01, 0x00}}, {"rnr", []byte{0x05, 0x00}},
		{"rej", []byte{0x09, 0x00}}, {"ui", []byte{0x03}}, {"ua", []byte{0x63}}, {"disc", []byte{0x43}},
		{"dm", []byte{0x0f}}, {"sabme", []byte{0x6f}}, {"test", []byte{0xe3}}, {"xid", []byte{0xaf}}, {"frmr", []byte{0x87}},
		{"ui-pf", []byte{0x13}}, {"xid-pf", []byte{0xbf}},
	} {
		dot3("llc-"+c.name, macB, cat([]byte{0x04, 0x05}, c.ctrl, make([]byte, 12)))
	}
	s.add("eth/dot3-len1500", ether(macB, macA, 1500, make([]byte, 46)), nil)
	s.add("eth/type-0x05dd", ether(macB, macA, 0x05dd, make([]byte, 46)), nil)
	s.add("eth/type-0x0600", ether(macB, macA, 0x0600, make([]byte, 46)), nil)

	// Ethertypes of the older protocols.
	add("ipx", macB, etherIPX, make([]byte, 30))
	add("atalk", macB, etherAtalk, make([]byte, 20))
	add("aarp", macBcast, etherAARP, make([]byte, 28))
	add("lat", macB, etherLAT, make([]byte, 20))
	add("sca", macB, etherSCA, make([]byte, 20))
	add("moprc", macB, etherMOPRC, make([]byte, 20))
	add("mopdl", macB, etherMOPDL, make([]byte, 20))
	add("lldp", mac(0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e), etherLLDP, make([]byte, 40))
	// DECnet: node 1.2 is 0x0402, stored little-endian.
	dn12, dn105 := []byte{0x02, 0x04}, []byte{0x05, 0x28}
	add("decnet-short", macB, etherDECnet, cat(be16(8), []byte{0x02}, dn12, dn105, []byte{0, 0, 0}))
	add("decnet-short-padded", macB, etherDECnet, cat(be16(9), []byte{0x81, 0x02}, dn105, dn12, []byte{0, 0, 0}))
	add("decnet-long", macB, etherDECnet, cat(be16(24), []byte{0x06, 0, 0}, []byte{0xaa, 0, 4, 0}, dn12, []byte{0, 0},
		[]byte{0xaa, 0, 4, 0}, dn105, []byte{0, 0, 0, 0, 0, 0}))
	add("decnet-short-63.1023-0.1", macB, etherDECnet, cat(be16(8), []byte{0x02, 0xff, 0xff, 0x01, 0x00}, []byte{0, 0, 0}))
	// 1.1024 is what "decnet host 1.1024" makes of 1.0: the node number
	// overflows into the area.
	add("decnet-short-2.0-1.0", macB, etherDECnet, cat(be16(8), []byte{0x02, 0x00, 0x08, 0x00, 0x04}, []byte{0, 0, 0}))
	// Two pad bytes, and flags with more bits than the format: the
	// filters look at neither.
	add("decnet-short-self", macB, etherDECnet, cat(be16(8), []byte{0x02}, dn12, dn12, []byte{0, 0, 0}))
	add("decnet-short-0.0", macB, etherDECnet, cat(be16(8), []byte{0x02}, []byte{0, 0}, dn12, []byte{0, 0, 0}))
	add("decnet-short-pad2", macB, etherDECnet, cat(be16(10), []byte{0x82, 0, 0x02}, dn12, dn105, []byte{0, 0, 0}))
	add("decnet-short-flags", macB, etherDECnet, cat(be16(8), []byte{0x8a}, dn105, dn12, []byte{0, 0, 0}))
	add("decnet-long-padded", macB, etherDECnet, cat(be16(25), []byte{0x81, 0x06, 0, 0}, []byte{0xaa, 0, 4, 0}, dn105, []byte{0, 0},
		[]byte{0xaa, 0, 4, 0}, dn12, []byte{0, 0, 0, 0, 0, 0}))

	// Runts.
	s.add("eth/empty", nil, nil)
	s.add("eth/one-byte", []byte{0xff}, nil)
	s.add("eth/header-only-ipv4", ether(macB, macA, etherIPv4, nil), nil)
	s.add("eth/header-only-ipv6", ether(macB, macA, etherIPv6, nil), nil)

	// Truncated captures, cut at every byte of the headers.
	s.cuts("eth/ipv4-tcp80", ether(macB, macA, etherIPv4, tcp80), 0, 56, nil)
	s.cuts("eth/ipv6-udp53", ether(macB, macA, etherIPv6, udp6), 12, 64, nil)
	s.cuts("eth/vlan100-tcp80", ether(macB, macA, etherVLAN, vlanTag(0, false, 100, etherIPv4, tcp80)), 12, 60, nil)
	s.cuts("eth/qinq-tcp80", ether(macB, macA, etherQinQ, vlanTag(0, false, 200, etherVLAN, vlanTag(0, false, 100, etherIPv4, tcp80))), 16, 64, nil)
	hbh := ipv6("2001:db8::1", "2001:db8::2", protoHopOpts, ext6(protoTCP, 0, tcp(1111, 80, tcpSYN, nil, nil)))
	s.cuts("eth/ipv6-hbh-tcp80", ether(macB, macA, etherIPv6, hbh), 54, 84, nil)
	frag := ipv6("2001:db8::1", "2001:db8::2", protoFragment, frag6(protoTCP, 0, true, 1, tcp(80, 2000, tcpACK, nil, nil)))
	s.cuts("eth/ipv6-frag-tcp80", ether(macB, macA, etherIPv6, frag), 54, 84, nil)
	opts := ip4{src: "10.0.0.1", dst: "10.0.0.2", proto: protoTCP, options: []byte{1, 1, 1, 0}}.build(tcp(1234, 80, tcpSYN, nil, nil))
	s.cuts("eth/ipv4-opts-tcp80", ether(macB, macA, etherIPv4, opts), 34, 60, nil)
	s.cuts("eth/mpls-udp53", ether(macB, macA, etherMPLS, mplsStack([]uint32{16, 100}, true, udp53)), 14, 52, nil)
	s.cuts("eth/pppoes-tcp80", ether(macB, macA, etherPPPoES, pppoeSession(0x11, 0x0021, tcp80)), 14, 64, nil)
	s.cuts("eth/arp", ether(macBcast, macA, etherARP, arpReq), 14, 42, nil)
	s.cuts("eth/stp", ether8023Frame(macSTP, macA, llc(0x42, 0x42, 0x03, stpBPDU())), 12, 20, nil)
	geneveOpts := ipv4("10.0.0.1", "10.0.0.2", protoUDP, udp(50002, 6081, geneveHdr(0, []byte{1, 2, 3, 1, 0, 0, 0, 0}, 0x6558, 5,
		ether(macB, macA, etherIPv4, tcp80))))
	s.cuts("eth/geneve-opts-tcp80", ether(macB, macA, etherIPv4, geneveOpts), 34, 104, nil)
	s.cuts("eth/icmp-echo", ether(macB, macA, etherIPv4, ipv4("10.0.0.2", "10.0.0.1", protoICMP, icmp(8, 0, nil))), 34, 42, nil)
	return s.pkts
}

// cookedProtocols are the packets of cookedEdge besides the network-layer
// ones: the protocols a cooked header names.
func cookedProtocols() []netPacket {
	tcp80 := ipv4("10.0.0.1", "10.0.0.2", protoTCP, tcp(40000, 80, tcpSYN, nil, nil))
	return []netPacket{
		{"llc-stp", ether8022, llc(0x42, 0x42, 0x03, stpBPDU())},
		{"llc-snap-ipv4", ether8022, snap(0, etherIPv4, tcp80)},
		{"llc-ipx", ether8022, llc(0xe0, 0xe0, 0x03, make([]byte, 30))},
		{"llc-netbeui", ether8022, llc(0xf0, 0xf0, 0x03, make([]byte, 12))},
		{"llc-iso-isis", ether8022, llc(0xfe, 0xfe, 0x03, cat([]byte{0x83, 27, 1, 0, 15, 1, 0, 0}, make([]byte, 20)))},
		{"llc-snap-atalk", ether8022, snap(0x080007, etherAtalk, make([]byte, 20))},
		{"llc-ui", ether8022, llc(0x04, 0x05, 0x03, make([]byte, 12))},
		{"llc-rr", ether8022, cat([]byte{0x04, 0x05, 0x01, 0x00}, make([]byte, 12))},
		{"novell-raw", ether8023, cat([]byte{0xff, 0xff}, make([]byte, 28))},
		{"vlan100-tcp80", etherVLAN, vlanTag(0, false, 100, etherIPv4, tcp80)},
		{"mpls-100-tcp80", etherMPLS, mplsStack([]uint32{100}, true, tcp80)},
		{"pppoes-tcp80", etherPPPoES, pppoeSession(0x11, 0x0021, tcp80)},
		{"pppoed", etherPPPoED, pppoeDiscovery(0x09, 0)},
		{"ipx", etherIPX, make([]byte, 30)},
		{"atalk", etherAtalk, make([]byte, 20)},
		{"aarp", etherAARP, make([]byte, 28)},
		{"decnet", etherDECnet, cat(be16(8), []byte{0x02, 0x02, 0x04, 0x05, 0x28}, []byte{0, 0, 0})},
		{"lat", etherLAT, make([]byte, 20)},
		{"lldp", etherLLDP, make([]byte, 20)},
		{"eth-p-all", 0x0003, make([]byte, 20)},
		{"moprc", etherMOPRC, make([]byte, 20)},
		{"mopdl", etherMOPDL, make([]byte, 20)},
		{"sca", etherSCA, make([]byte, 20)},
		{"llc-dsap1", ether8022, llc(0x01, 0x01, 0x03, make([]byte, 12))},
		// libpcap tests the SAPs of LLC filters against the protocol
		// field of an SLL2 header: packets whose protocol is a SAP.
		{"proto-sap-stp", 0x0042, stpBPDU()},
		{"proto-sap-ipx", 0x00e0, make([]byte, 30)},
		{"proto-sap-netbeui", 0x00f0, make([]byte, 12)},
		{"proto-sap-iso-isis-l1-iih", 0x00fe, cat([]byte{0x83, 27, 1, 0, 15, 1, 0, 0}, make([]byte, 20))},
		{"proto-sap-iso-isis-l2-lsp", 0x00fe, cat([]byte{0x83, 27, 1, 0, 20, 1, 0, 0}, make([]byte, 20))},
		{"proto-sap-iso-isis-l2-psnp", 0x00fe, cat([]byte{0x83, 17, 1, 0, 27, 1, 0, 0}, make([]byte, 20))},
		{"proto-sap-iso-clnp", 0x00fe, cat([]byte{0x81}, make([]byte, 20))},
		{"proto-sap-iso-esis", 0x00fe, cat([]byte{0x82}, make([]byte, 20))},
	}
}

// cookedEdge returns the edge packets of LINUX_SLL or LINUX_SLL2: each
// network-layer packet and each protocol of cookedProtocols under a cooked
// header, with the five packet types in turn, then the main protocols with
// every packet type and several hardware types, and truncated copies.
func cookedEdge(v2 bool) []Packet {
	var s edgeSet
	prefix := "sll/"
	if v2 {
		prefix = "sll2/"
	}
	header := func(pkttype uint8, hatype uint16, ifindex uint32, proto uint16, payload []byte) []byte {
		if v2 {
			return sll2(proto, ifindex, hatype, pkttype, macA, payload)
		}
		return sll(uint16(pkttype), hatype, macA, proto, payload)
	}
	add := func(name string, pkttype uint8, hatype uint16, ifindex uint32, proto uint16, payload []byte) {
		aux := &ibpf.Ancillary{Protocol: proto, PktType: pkttype, IfIndex: int(ifindex)}
		s.add(prefix+name, header(pkttype, hatype, ifindex, proto, payload), aux)
	}
	all := append(networkPackets(), cookedProtocols()...)
	for i, p := range all {
		pt := uint8(i % 5)
		add(fmt.Sprintf("%s/%s", p.name, pktTypeName(pt)), pt, arphrdEther, uint32(1+i%4), p.etype, p.data)
	}
	for _, p := range all {
		switch p.name {
		case "ipv4-tcp-syn", "ipv6-udp-dns", "arp-request", "llc-stp":
		default:
			continue
		}
		for pt := uint8(0); pt <= pktOutgoing; pt++ {
			for _, ha := range []uint16{arphrdEther, arphrdLoopback, arphrdIPGRE, arphrdNone} {
				add(fmt.Sprintf("%s/%s/hatype%d", p.name, pktTypeName(pt), ha), pt, ha, 3, p.etype, p.data)
			}
		}
	}
	tcp80 := networkPackets()[0]
	add("ipv4-tcp80/ifindex-max", pktHost, arphrdEther, 0xffffffff, etherIPv4, tcp80.data)
	s.add(prefix+"empty", nil, nil)
	s.cuts(prefix+"ipv4-tcp80", header(pktHost, arphrdEther, 2, etherIPv4, tcp80.data), 0, 60, &ibpf.Ancillary{Protocol: etherIPv4, IfIndex: 2})
	udp6 := ipv6("2001:db8::1", "2001:db8::2", protoUDP, udp(5353, 53, nil))
	s.cuts(prefix+"ipv6-udp53", header(pktOutgoing, arphrdEther, 2, etherIPv6, udp6), 0, 70, &ibpf.Ancillary{Protocol: etherIPv6, PktType: pktOutgoing, IfIndex: 2})
	return s.pkts
}

func pktTypeName(pt uint8) string {
	return [...]string{"host", "broadcast", "multicast", "otherhost", "outgoing"}[pt]
}

// rawEdge returns the edge packets of RAW: the IPv4 and IPv6 packets with
// no link-layer header, packets that are neither, and truncated copies.
func rawEdge() []Packet {
	var s edgeSet
	for i, p := range networkPackets() {
		if p.etype != etherIPv4 && p.etype != etherIPv6 {
			continue
		}
		s.add("raw/"+p.name, p.data, rawAux(p.etype, i))
	}
	for _, v := range []byte{0x00, 0x15, 0x55, 0x75, 0xf5} {
		b := ipv4("10.0.0.1", "10.0.0.2", protoTCP, tcp(40000, 80, tcpSYN, nil, nil))
		b[0] = v
		s.add(fmt.Sprintf("raw/version-byte-%#02x", v), b, nil)
	}
	s.add("raw/empty", nil, nil)
	tcp80 := networkPackets()[0].data
	s.cuts("raw/ipv4-tcp80", tcp80, 0, 42, nil)
	udp6 := ipv6("2001:db8::1", "2001:db8::2", protoHopOpts, ext6(protoUDP, 0, udp(5353, 53, nil)))
	s.cuts("raw/ipv6-hbh-udp53", udp6, 0, 58, nil)
	return s.pkts
}

func rawAux(etype uint16, i int) *ibpf.Ancillary {
	a := &ibpf.Ancillary{Protocol: etype, IfIndex: 1 + i%3}
	if i%3 == 2 {
		a.PktType = pktOutgoing
	}
	return a
}

// loopbackEdge returns the edge packets of NULL (address family in host
// byte order, little endian here) or LOOP (network byte order): the IP
// packets under AF_INET and AF_INET6, IPv6 under the BSD values of
// AF_INET6, families in the wrong byte order, and truncated copies.
func loopbackEdge(loop bool) []Packet {
	var s edgeSet
	prefix, family, wrong := "null/", le32, be32
	if loop {
		prefix, family, wrong = "loop/", be32, le32
	}
	for i, p := range networkPackets() {
		var af uint32
		switch p.etype {
		case etherIPv4:
			af = 2
		case etherIPv6:
			af = 10
		default:
			continue
		}
		s.add(prefix+p.name, cat(family(af), p.data), rawAux(p.etype, i))
	}
	tcp6 := ipv6("2001:db8::1", "2001:db8::2", protoTCP, tcp(40000, 80, tcpSYN, nil, nil))
	tcp4 := networkPackets()[0].data
	for _, af := range []uint32{24, 28, 30} {
		s.add(fmt.Sprintf("%sipv6-af%d", prefix, af), cat(family(af), tcp6), nil)
	}
	s.add(prefix+"ipv4-wrong-order", cat(wrong(2), tcp4), nil)
	s.add(prefix+"ipv6-wrong-order", cat(wrong(10), tcp6), nil)
	s.add(prefix+"af-unix", cat(family(1), []byte("local")), nil)
	s.add(prefix+"empty", nil, nil)
	s.cuts(prefix+"ipv4-tcp80", cat(family(2), tcp4), 0, 46, nil)
	s.cuts(prefix+"ipv6-tcp80", cat(family(10), tcp6), 0, 66, nil)
	return s.pkts
}

// Packets returns the packets filters are judged on for a link type: the
// shared corpus of that link type when sharedDir is not "" (RAW's for NULL
// and LOOP, under their header), then EdgePackets.
func Packets(sharedDir, linkType string) ([]Packet, error) {
	var pkts []Packet
	if sharedDir != "" {
		c, err := corpusPackets(sharedDir, linkType)
		if err != nil {
			return nil, err
		}
		pkts = c
	}
	return append(pkts, EdgePackets(linkType)...), nil
}

// corpusPackets reads the shared corpus of a link type.
func corpusPackets(sharedDir, linkType string) ([]Packet, error) {
	file := strings.ToLower(linkType) + ".pcap"
	var header func(p []byte) []byte
	switch linkType {
	case "NULL", "LOOP":
		file = "raw.pcap"
		order := le32
		if linkType == "LOOP" {
			order = be32
		}
		header = func(p []byte) []byte {
			af := uint32(2)
			if len(p) > 0 && p[0]>>4 == 6 {
				af = 10
			}
			return order(af)
		}
	}
	path := sharedDir + "/corpus/" + file
	lt, pkts, err := ReadPcapFile(path)
	if err != nil {
		return nil, err
	}
	want, _ := LinkTypeNumber(linkType)
	if header != nil {
		want, _ = LinkTypeNumber("RAW")
	}
	if lt != want {
		return nil, fmt.Errorf("%s: link type %d, want %d", path, lt, want)
	}
	for i := range pkts {
		pkts[i].Name = fmt.Sprintf("%s#%d", file, i)
		if header != nil {
			h := header(pkts[i].Data)
			pkts[i].Data = cat(h, pkts[i].Data)
			pkts[i].WireLen += len(h)
		}
	}
	return pkts, nil
}
