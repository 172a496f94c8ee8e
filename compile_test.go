package pcap

import (
	"strings"
	"testing"
)

func TestCompileFilterBasics(t *testing.T) {
	prog, err := CompileFilter(LinkTypeEthernet, 0, "ip")
	if err != nil {
		t.Fatal(err)
	}
	want := "(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 3\n(002) ret      #262144\n(003) ret      #0\n"
	if got := FormatBPF(prog, BPFText); got != want {
		t.Errorf("ip on EN10MB:\n%s\nwant (as tcpdump -d prints it):\n%s", got, want)
	}
	if _, err := CompileFilter(LinkTypeEthernet, 0, "port 70000"); err == nil || !strings.Contains(err.Error(), "70000") {
		t.Errorf("port 70000: got %v, want an error naming the port", err)
	}
}

func TestBPFMatches(t *testing.T) {
	b, err := NewBPF(LinkTypeEthernet, 0, "ip")
	if err != nil {
		t.Fatal(err)
	}
	ipv4 := make([]byte, 34)
	ipv4[12], ipv4[13], ipv4[14] = 0x08, 0x00, 0x45
	arp := make([]byte, 42)
	arp[12], arp[13] = 0x08, 0x06
	if !b.Matches(CaptureInfo{CaptureLength: len(ipv4), Length: len(ipv4)}, ipv4) {
		t.Error("ip rejects an IPv4 frame")
	}
	if b.Matches(CaptureInfo{CaptureLength: len(arp), Length: len(arp)}, arp) {
		t.Error("ip accepts an ARP frame")
	}
	if b.Matches(CaptureInfo{CaptureLength: 10, Length: 60}, ipv4[:10]) {
		t.Error("ip accepts a frame cut before its ethertype")
	}
	if allocs := testing.AllocsPerRun(100, func() { b.Matches(CaptureInfo{Length: len(ipv4)}, ipv4) }); allocs != 0 {
		t.Errorf("Matches allocates %v times per call", allocs)
	}
}
