package filter

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ibpf "github.com/purecap/pcap/internal/bpf"
	"github.com/purecap/pcap/internal/filtertest"
	"golang.org/x/net/bpf"
)

var update = flag.Bool("update", false, "regenerate testdata/filter/live_vlan.tsv with tcpdump on a veth interface (needs root)")

// liveVLANFile holds libpcap's programs for a live Linux Ethernet handle.
var liveVLANFile = filepath.Join("..", "..", "testdata", "filter", "live_vlan.tsv")

// liveVLANExprs are the expressions of liveVLANFile: vlan in every
// position and combination, and what follows it at the offsets it moves.
var liveVLANExprs = []string{
	// No vlan: the options change nothing.
	"ip", "tcp port 80", "arp or ip6", "ether host 00:11:22:33:44:55", "pppoes and ip", "mpls 100 and udp",
	"protochain 6", "ip[9] = 17", "tcp[13] = 2",
	// One vlan.
	"vlan", "vlan 0", "vlan 1", "vlan 100", "vlan 4095", "vlan 5000", "not vlan", "not vlan 100",
	"vlan and ip", "vlan and ip6", "vlan and arp", "vlan and rarp", "vlan and not ip", "vlan and (ip or ip6)",
	"vlan 100 and ip host 10.0.0.1", "vlan and host 10.0.0.2", "vlan and src host 192.168.1.10",
	"vlan and net 10.0.0.0/8", "vlan and dst net 192.168", "vlan and ip6 net 2001:db8::/32",
	"vlan and ip6 host 2001:db8::1", "vlan and tcp port 80", "vlan 100 and udp port 9",
	"vlan and src port 1234", "vlan && tcp dst port 443", "vlan and portrange 1000-2000",
	"vlan and udp portrange 50-60", "vlan and sctp port 80", "vlan 100 and (tcp or udp)",
	"vlan and icmp", "vlan and icmp6", "vlan and igmp", "vlan and ip proto 17", "vlan and ip6 proto 58",
	"vlan and proto 6", "vlan and ether proto 0x800", "vlan and ether host 00:11:22:33:44:55",
	"vlan and ether src 66:77:88:99:aa:bb", "vlan and ether broadcast", "vlan and ether multicast",
	"vlan and ip broadcast", "vlan and ip multicast", "vlan and ip6 multicast",
	"vlan and len > 100", "vlan and less 80", "vlan and greater 120",
	"vlan and tcp[13] = 2", "vlan and tcp[tcpflags] & tcp-syn != 0", "vlan and ip[9] = 6",
	"vlan and ip[0] & 0xf > 5", "vlan and udp[2:2] = 9", "vlan and icmp[icmptype] = icmp-echo",
	"vlan and icmp6[0] = 128", "vlan and ip6[6] = 17", "vlan and ether[12:2] = 0x800",
	"vlan and ether[0] & 1 = 0", "vlan and ip[2:2] - 20 > 30", "vlan and tcp[0:2] + tcp[2:2] > 1000",
	"vlan and stp", "vlan and llc", "vlan and ipx", "vlan and iso", "vlan and netbeui", "vlan and atalk",
	"vlan and aarp", "vlan and decnet", "vlan and mpls", "vlan and mpls 100", "vlan 100 and mpls 200 and ip",
	"vlan and mpls and mpls 100 and udp port 9", "vlan and pppoed", "vlan and pppoes",
	"vlan and pppoes 0x11 and ip", "vlan and pppoes and tcp port 80", "vlan and pppoes and ip6 and udp",
	"vlan and pppoes and ether host 00:11:22:33:44:55",
	"vlan and protochain 6", "protochain 6 and vlan", "vlan and inbound", "vlan and outbound",
	"vlan and ifindex 1",
	// vlan elsewhere than first.
	"ip and vlan", "arp or vlan", "vlan or arp", "ip or vlan 100", "tcp port 80 or vlan",
	"ip or vlan and udp port 9", "not (vlan and ip)", "not vlan and ip", "(vlan 100 or vlan 200) and ip",
	"host 10.0.0.1 and vlan 100 and udp", "ether[0] = 0 and vlan", "mpls and vlan", "pppoes and vlan",
	// Several.
	"vlan and vlan", "vlan 100 and vlan 200", "vlan 10 and vlan 20", "vlan 100 or vlan 200",
	"vlan and vlan 200 and ip", "vlan 1 and vlan 2 and ip and udp port 9", "vlan and vlan and vlan",
	"vlan 100 and vlan 200 and tcp[13] = 2", "vlan and not vlan", "not vlan or vlan 100 and ip6",
	"vlan 100 and vlan 200 and mpls and ip",
}

// liveVLANOptimizerBugs are the expressions for which libpcap's optimizer
// changes the verdict of its own live program on whole packets; the
// verdicts of its unoptimized program are the reference there. libpcap
// 1.10.3's optimizer does two things wrong with the code of the first
// vlan:
//   - For "ip or vlan and udp port 9", it adds the 4 bytes of an in-band
//     tag to the offsets before it tests whether the kernel took the tag
//     out: for a packet whose tag the kernel took out and which is not
//     IPv4, "udp port 9" then reads 4 bytes too far.
//   - For "vlan N" after other tests, the jump it makes to the load of the
//     tag from SKF_AD_VLAN_TAG lands one instruction too far, past the
//     load: for a packet whose tag the kernel took out, the program
//     compares the 1 it loaded from SKF_AD_VLAN_TAG_PRESENT with N.
var liveVLANOptimizerBugs = map[string]bool{
	"ip or vlan and udp port 9": true,
	"(!(icmp6[icmp6type] = icmp6-echo and ether dst ff:ff:ff:ff:ff:ff)) or vlan 100": true,
	"(not (!sctp and (ip6 multicast))) or vlan 100":                                  true,
}

// liveVLANCases returns liveVLANExprs and seeded random combinations of
// primitives, each with a vlan.
func liveVLANCases() []string {
	cs := append([]string(nil), liveVLANExprs...)
	seen := map[string]bool{}
	for _, c := range cs {
		seen[c] = true
	}
	for i, r := range filtertest.RandomExpressions("EN10MB", 0x766c616e, 60) {
		switch {
		case strings.Contains(r, "vlan"):
		case i%2 == 0:
			r = "vlan and (" + r + ")"
		default:
			r = "(" + r + ") or vlan 100"
		}
		if !seen[r] {
			seen[r] = true
			cs = append(cs, r)
		}
	}
	return cs
}

// liveGolden is libpcap's result for one expression on a live handle.
type liveGolden struct {
	expr       string
	opt, plain []bpf.RawInstruction // optimized and unoptimized; nil if refused
	err        string
}

func formatProg(prog []bpf.RawInstruction) string {
	return strings.ReplaceAll(strings.TrimSuffix(ibpf.DumpDecimal(prog), "\n"), "\n", ",")
}

func writeLiveGoldens(w io.Writer, version string, gs []liveGolden) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "# libpcap's programs for a live Linux Ethernet handle (tcpdump -i VETH -ddd EXPR, then with -O), snaplen 262144.")
	fmt.Fprintln(bw, "# Made by: go test ./internal/filter -run TestLiveVLANGoldens -update (as root, with tcpdump)")
	fmt.Fprintln(bw, "# Fields: expression, optimized program, unoptimized program (-ddd, lines joined by commas);")
	fmt.Fprintln(bw, "# or expression, \"error\", libpcap's message.")
	fmt.Fprintf(bw, "# version: %s\n", version)
	for _, g := range gs {
		if g.opt == nil {
			fmt.Fprintf(bw, "%s\terror\t%s\n", g.expr, g.err)
			continue
		}
		fmt.Fprintf(bw, "%s\t%s\t%s\n", g.expr, formatProg(g.opt), formatProg(g.plain))
	}
	return bw.Flush()
}

func readLiveGoldens(t testing.TB) []liveGolden {
	t.Helper()
	b, err := os.ReadFile(liveVLANFile)
	if err != nil {
		t.Fatal(err)
	}
	var gs []liveGolden
	for i, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("%s:%d: %d fields", liveVLANFile, i+1, len(f))
		}
		g := liveGolden{expr: f[0]}
		if f[1] == "error" {
			g.err = f[2]
		} else {
			if g.opt, err = ibpf.ParseDecimal(f[1]); err != nil {
				t.Fatalf("%s:%d: %v", liveVLANFile, i+1, err)
			}
			if g.plain, err = ibpf.ParseDecimal(f[2]); err != nil {
				t.Fatalf("%s:%d: %v", liveVLANFile, i+1, err)
			}
		}
		gs = append(gs, g)
	}
	return gs
}

// TestLiveVLANGoldensComplete requires a golden for every expression.
func TestLiveVLANGoldensComplete(t *testing.T) {
	have := map[string]bool{}
	for _, g := range readLiveGoldens(t) {
		have[g.expr] = true
	}
	for _, e := range liveVLANCases() {
		if !have[e] {
			t.Errorf("no golden for %q: regenerate %s (go test ./internal/filter -run TestLiveVLANGoldens -update, as root)", e, liveVLANFile)
		}
	}
}

// kernelView is a packet as a live Linux socket filter sees it: its data,
// and the VLAN tag the kernel may have taken out of it.
type kernelView struct {
	data    []byte
	wireLen int
	anc     ibpf.Ancillary
	whole   bool // not truncated
}

// vlanTag is an 802.1Q header: its TPID and TCI.
type vlanTag struct{ tpid, tci uint16 }

// liveVLANPayloads are the link-layer payloads, with their ethertypes (an
// 802.3 length for LLC frames).
func liveVLANPayloads() []l3 {
	tcp80 := ipv4Pkt("10.0.0.1", "10.0.0.2", 6, 0, 5, tcpSeg(1234, 80, 0x02))
	return []l3{
		{etherIP, tcp80},
		{etherIP, ipv4Pkt("10.0.0.2", "10.0.0.1", 6, 0, 5, tcpSeg(80, 1234, 0x12))},
		{etherIP, ipv4Pkt("192.168.1.10", "10.0.0.2", 6, 0, 5, tcpSeg(40000, 443, 0x10))},
		{etherIP, ipv4Pkt("10.0.0.1", "192.168.1.10", 17, 0, 5, udpDgram(53, 9, 4))},
		{etherIP, ipv4Pkt("172.16.5.4", "10.0.0.1", 17, 0, 5, udpDgram(1500, 55, 40))},
		{etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 6, 0, 6, tcpSeg(1234, 80, 0x02))},
		{etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 6, 0, 7, tcpSeg(9, 80, 0x02))},
		{etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 6, 0x0010, 5, tcpSeg(1234, 80, 0x02))},
		{etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 17, 0x2000, 5, udpDgram(9, 9, 0))},
		{etherIP, ipv4Pkt("10.0.0.2", "10.0.0.1", 1, 0, 5, icmpMsg(8, 0))},
		{etherIP, ipv4Pkt("10.0.0.2", "10.0.0.1", 1, 0, 5, icmpMsg(0, 0))},
		{etherIP, ipv4Pkt("10.0.0.1", "224.0.0.1", 2, 0, 5, []byte{0x11, 0, 0, 0, 0, 0, 0, 0})},
		{etherIP, ipv4Pkt("10.0.0.1", "255.255.255.255", 17, 0, 5, udpDgram(68, 67, 100))},
		{etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 132, 0, 5, cat(be16(80), be16(2000), make([]byte, 8)))},
		{etherIPv6, ipv6Pkt("2001:db8::1", "2001:db8::2", 6, tcpSeg(1234, 443, 0x02))},
		{etherIPv6, ipv6Pkt("2001:db9::5", "2001:db8::1", 17, udpDgram(9, 53, 3))},
		{etherIPv6, ipv6Pkt("fe80::1", "ff02::1", 58, icmpMsg(128, 0))},
		{etherIPv6, ipv6Pkt("2001:db8::1", "2001:db8::2", 44, cat([]byte{17, 0, 0, 0}, be32(1), udpDgram(9, 1000, 0)))},
		{etherIPv6, ipv6Pkt("2001:db8::1", "2001:db8::2", 0, cat([]byte{6, 0, 1, 4, 0, 0, 0, 0}, tcpSeg(22, 80, 2)))},
		{etherARP, arpPkt(1, "10.0.0.1", "10.0.0.2")},
		{etherARP, arpPkt(2, "10.0.0.2", "192.168.1.10")},
		{etherRARP, arpPkt(3, "8.8.8.8", "10.0.0.1")},
		{etherMPLS, cat(be32(100<<12|0x100|64), tcp80)},
		{etherMPLS, cat(be32(200<<12|64), be32(100<<12|0x100|64), ipv4Pkt("10.0.0.1", "10.0.0.2", 17, 0, 5, udpDgram(9, 53, 1)))},
		{etherMPLS, cat(be32(100<<12|0x100|64), ipv4Pkt("10.0.0.2", "10.0.0.1", 17, 0, 5, udpDgram(9, 9, 1)))},
		{etherMPLS, cat(be32(200<<12|0x100|64), tcp80)},
		{etherMPLS, cat(be32(200<<12|0x100|64), ipv6Pkt("2001:db8::1", "2001:db8::2", 17, udpDgram(9, 9, 1)))},
		{etherPPPoES, cat([]byte{0x11, 0}, be16(0x11), be16(len(tcp80)+2), be16(0x21), tcp80)},
		{etherPPPoES, cat([]byte{0x11, 0}, be16(0x22), be16(50), be16(0x57), ipv6Pkt("2001:db8::1", "2001:db8::2", 17, udpDgram(53, 53, 2)))},
		{etherPPPoED, make([]byte, 20)},
		{38, cat([]byte{0x42, 0x42, 0x03}, make([]byte, 35))},
		{40, cat([]byte{0xe0, 0xe0, 0x03}, make([]byte, 37))},
		{40, cat([]byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x81, 0x37}, make([]byte, 32))},
		{40, cat([]byte{0xfe, 0xfe, 0x03, 0x81}, make([]byte, 36))},
		{40, cat([]byte{0xf0, 0xf0, 0x03}, make([]byte, 37))},
		{40, cat([]byte{0xaa, 0xaa, 0x03, 0x08, 0x00, 0x07, 0x80, 0x9b}, make([]byte, 32))},
		{40, cat([]byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x80, 0xf3}, make([]byte, 32))},
		{etherIPX, make([]byte, 30)},
		{etherDECnet, make([]byte, 30)},
	}
}

// liveVLANTagStacks are the tags a frame carries, outermost first.
func liveVLANTagStacks() [][]vlanTag {
	stacks := [][]vlanTag{nil}
	for _, tpid := range []uint16{etherVLAN, etherQinQ, etherQinQOld} {
		for _, tci := range []uint16{0, 1, 10, 100, 200, 4095, 0xe064, 0x1064, 0x20c8} {
			stacks = append(stacks, []vlanTag{{tpid, tci}})
		}
	}
	for _, outer := range []vlanTag{{etherQinQ, 100}, {etherVLAN, 10}, {etherVLAN, 1}, {etherQinQ, 0x2064}} {
		for _, inner := range []uint16{200, 20, 2, 100} {
			stacks = append(stacks, []vlanTag{outer, {etherVLAN, inner}})
		}
	}
	stacks = append(stacks,
		[]vlanTag{{etherQinQ, 1}, {etherVLAN, 2}, {etherVLAN, 3}},
		[]vlanTag{{etherVLAN, 100}, {etherVLAN, 200}, {etherVLAN, 300}},
	)
	return stacks
}

// liveVLANViews returns the packets as a live socket filter sees them:
// every payload under every tag stack, with the outer tag taken out into
// the ancillary data (as the kernel does) and left in the data (as for a
// tag the kernel does not take out), and some truncated.
func liveVLANViews() []kernelView {
	const src = "66:77:88:99:aa:bb"
	dsts := []string{"00:11:22:33:44:55", "ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:fb"}
	var views []kernelView
	add := func(data []byte, anc ibpf.Ancillary) {
		anc.PktType = []uint8{0, 4, 1}[len(views)%3]
		anc.IfIndex = len(views) % 3
		views = append(views, kernelView{data: data, wireLen: len(data), anc: anc, whole: true})
	}
	for i, p := range liveVLANPayloads() {
		dst := dsts[i%len(dsts)]
		for _, stack := range liveVLANTagStacks() {
			frame := func(tags []vlanTag) []byte {
				b := cat(mac(dst), mac(src))
				for _, t := range tags {
					b = cat(b, be16(int(t.tpid)), be16(int(t.tci)))
				}
				return cat(b, be16(p.etype), p.data)
			}
			add(frame(stack), ibpf.Ancillary{})
			if len(stack) > 0 {
				out := stack[0]
				add(frame(stack[1:]), ibpf.Ancillary{VLANPresent: true, VLANTCI: out.tci, VLANTPID: out.tpid})
			}
		}
	}
	n := len(views)
	for i := 0; i < n; i += 7 {
		v := views[i]
		for _, c := range []int{0, 6, 12, 13, 14, 16, 17, 18, 20, 22, 24, 26, 30, 34, 38, 42, 46, 50, 54, 58} {
			if c < len(v.data) {
				views = append(views, kernelView{data: v.data[:c], wireLen: v.wireLen, anc: v.anc})
			}
		}
	}
	return views
}

// TestLiveVLANVerdicts runs libpcap's live programs (liveVLANFile) and
// those CompileWith generates with LinuxVLAN over packets as the kernel's
// filter sees them, and requires the same verdicts: on every packet those
// of libpcap's unoptimized program, and on every untruncated packet those
// of its optimized one too (its optimizer may move a load across a test,
// which changes the verdict on a packet too short for the load), but for
// liveVLANOptimizerBugs.
func TestLiveVLANVerdicts(t *testing.T) {
	views := liveVLANViews()
	for _, g := range readLiveGoldens(t) {
		got, err := CompileWith(LinkTypeEthernet, 0, g.expr, Options{LinuxVLAN: true, Unroll: true})
		if g.opt == nil {
			if err == nil && g.err == "expression rejects all packets" {
				// libpcap's optimizer follows the offsets through the
				// scratch slots that hold their variable parts; the
				// program must reject every packet all the same.
				for i, v := range views {
					if ibpf.Run(got, v.data, v.wireLen, v.anc) != 0 {
						t.Errorf("%q: libpcap refuses it (%s), CompileWith accepts it and packet %d:\n%s", g.expr, g.err, i, disasm(got))
						break
					}
				}
				t.Logf("%q: libpcap finds it rejects every packet, CompileWith does not", g.expr)
				continue
			}
			if err == nil {
				t.Errorf("%q: libpcap refuses it (%s), CompileWith accepts it:\n%s", g.expr, g.err, disasm(got))
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: CompileWith: %v (libpcap accepts it)", g.expr, err)
			continue
		}
		if err := validProgram(got); err != nil {
			t.Errorf("%q: %v\n%s", g.expr, err, disasm(got))
			continue
		}
		if err := ibpf.ValidateKernel(got); err != nil {
			t.Errorf("%q: the kernel would refuse the program: %v\n%s", g.expr, err, disasm(got))
			continue
		}
		accepted, optDiffers := 0, 0
		for i, v := range views {
			u := ibpf.Run(g.plain, v.data, v.wireLen, v.anc) != 0
			w := ibpf.Run(g.opt, v.data, v.wireLen, v.anc) != 0
			r := ibpf.Run(got, v.data, v.wireLen, v.anc)
			if r != 0 && r != DefaultSnaplen {
				t.Fatalf("%q returns %d", g.expr, r)
			}
			if v.whole && w != (r != 0) && u == (r != 0) {
				optDiffers++
			}
			if u != (r != 0) || (v.whole && w != (r != 0) && !liveVLANOptimizerBugs[g.expr]) {
				t.Errorf("%q packet %d (vlan present %v tci %#x tpid %#x, %d bytes % x): libpcap accepts: %v (optimized %v), CompileWith: %v\nlibpcap:\n%s\nours:\n%s",
					g.expr, i, v.anc.VLANPresent, v.anc.VLANTCI, v.anc.VLANTPID, len(v.data), v.data[:min(len(v.data), 48)],
					u, w, r != 0, disasm(g.plain), disasm(got))
				break
			}
			if u {
				accepted++
			}
		}
		t.Logf("%q: %d/%d packets accepted; %d instructions (libpcap %d)", g.expr, accepted, len(views), len(got), len(g.opt))
		if optDiffers > 0 {
			t.Logf("%q: libpcap's optimized program differs from its unoptimized one on %d whole packets", g.expr, optDiffers)
		}
	}
}

// TestLiveVLANOffline requires CompileWith without options to be Compile.
func TestLiveVLANOffline(t *testing.T) {
	for _, e := range liveVLANCases() {
		a, errA := Compile(LinkTypeEthernet, 0, e)
		b, errB := CompileWith(LinkTypeEthernet, 0, e, Options{})
		if (errA == nil) != (errB == nil) || fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("%q: Compile and CompileWith differ", e)
		}
	}
}

// TestLiveVLANOtherLinkTypes requires LinuxVLAN to change nothing on link
// types without VLAN support.
func TestLiveVLANOtherLinkTypes(t *testing.T) {
	for _, lt := range []uint32{LinkTypeLinuxSLL, LinkTypeLinuxSLL2, LinkTypeRaw, LinkTypeNull} {
		for _, e := range []string{"vlan", "vlan 100 and ip", "ip and tcp port 80", "udp[2:2] = 9"} {
			a, errA := Compile(lt, 0, e)
			b, errB := CompileWith(lt, 0, e, Options{LinuxVLAN: true, Unroll: true})
			if (errA == nil) != (errB == nil) || fmt.Sprint(a) != fmt.Sprint(b) {
				t.Errorf("%s %q: LinuxVLAN changes the result: %v, %v", linkTypeName(lt), e, errA, errB)
			}
		}
	}
}
