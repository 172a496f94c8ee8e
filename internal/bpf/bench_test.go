package bpf

import "testing"

// BenchmarkRunTCPPort80 runs tcpdump's "tcp port 80" on a TCP segment to
// port 80 with 512 bytes of payload.
func BenchmarkRunTCPPort80(b *testing.B) {
	pkt := ether(macB, macA, 0x0800, ipv4(6, ip4A, ip4B, 5, tcpSeg(40000, 80, 0x18, make([]byte, 512))))
	if Run(tcpPort80, pkt, len(pkt), Ancillary{}) == 0 {
		b.Fatal("the packet does not match")
	}
	b.ReportAllocs()
	for b.Loop() {
		Run(tcpPort80, pkt, len(pkt), Ancillary{})
	}
}

// BenchmarkRunTCPPort80Miss runs it on a UDP datagram, which it rejects
// early.
func BenchmarkRunTCPPort80Miss(b *testing.B) {
	pkt := ether(macB, macA, 0x0800, ipv4(17, ip4A, ip4B, 5, udpDgram(5353, 53, make([]byte, 64))))
	b.ReportAllocs()
	for b.Loop() {
		Run(tcpPort80, pkt, len(pkt), Ancillary{})
	}
}

// BenchmarkRunProtochain runs "protochain 6", with its backward jumps, on
// an IPv6 packet with three extension headers.
func BenchmarkRunProtochain(b *testing.B) {
	p := goldenProgram(b, "EN10MB: protochain 6")
	pkt := ether(macB, macA, 0x86dd, ipv6(0, ip6A, ip6B, cat(ext6(43, 0), ext6(60, 2), ext6(6, 0), tcpSeg(1, 80, 0, nil))))
	if Run(p, pkt, len(pkt), Ancillary{}) == 0 {
		b.Fatal("the packet does not match")
	}
	b.ReportAllocs()
	for b.Loop() {
		Run(p, pkt, len(pkt), Ancillary{})
	}
}

// BenchmarkRunLiveVLAN runs the "vlan 10" program libpcap compiles for a
// live interface, which reads ancillary data.
func BenchmarkRunLiveVLAN(b *testing.B) {
	p := goldenProgram(b, "lo: vlan 10")
	pkt := ether(macB, macA, 0x0800, ipv4(6, ip4A, ip4B, 5, tcpSeg(1, 80, 2, nil)))
	anc := Ancillary{VLANPresent: true, VLANTCI: 10, VLANTPID: 0x8100}
	b.ReportAllocs()
	for b.Loop() {
		Run(p, pkt, len(pkt), anc)
	}
}
