package filtertest

import "strings"

// splitmix64 is a small pseudo-random generator whose sequence depends on
// nothing but its seed, so generated expressions stay the same across Go
// releases.
type splitmix64 uint64

func (s *splitmix64) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// intn returns a number in [0, n).
func (s *splitmix64) intn(n int) int { return int(s.next() % uint64(n)) }

func (s *splitmix64) pick(list []string) string { return list[s.intn(len(list))] }

// Primitives the generator combines. Some are themselves compound
// (qualifier inheritance, byte comparisons) because those are what users
// combine.
var (
	primitivesIP = []string{
		"ip", "ip6", "tcp", "udp", "icmp", "icmp6", "sctp", "igmp",
		"host 10.0.0.1", "src host 10.0.0.2", "dst host 192.168.1.10", "host 8.8.8.8",
		"host 2001:db8::1", "dst host 2001:db8::2", "src host fe80::1",
		"host 10.0.0.1 or 10.0.0.2", "src host 10.0.0.1 and dst host 10.0.0.2",
		"net 10.0.0.0/8", "src net 192.168", "dst net 172.16.0.0/12", "net 2001:db8::/32", "net 224.0.0.0/4",
		"port 80", "port 53", "src port 5353", "dst port 443", "tcp port 22", "udp port 53",
		"sctp port 80", "tcp port 80 or 443", "port (53 or 80)", "portrange 1000-2000", "tcp dst portrange 1-1023",
		"tcp[tcpflags] & tcp-syn != 0", "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn", "tcp[13] = 0x12",
		"tcp[tcpflags] & (tcp-fin|tcp-rst) != 0", "icmp[icmptype] = icmp-echo", "icmp[icmptype] != icmp-echoreply",
		"icmp6[icmp6type] = icmp6-echo", "ip[8] > 32", "ip[6:2] & 0x1fff != 0", "ip[0] & 0xf > 5",
		"udp[8:2] = 0x1234", "ip6[6] = 0", "len > 100", "len <= 64", "less 80", "greater 200",
		"ip multicast", "ip6 multicast", "ip broadcast", "proto 17", "ip proto 6", "ip6 proto 17", "proto \\tcp",
		"protochain 6", "ip6 protochain 17", "ah", "esp", "pim", "vrrp", "tcp[2:2] > 1023",
		"ip[2:2] - ((ip[0] & 0xf) << 2) > 40", "len - 14 > 0",
	}
	primitivesEthernet = []string{
		"ether host 00:11:22:33:44:55", "ether src 66:77:88:99:aa:bb", "ether dst ff:ff:ff:ff:ff:ff",
		"ether broadcast", "ether multicast", "broadcast", "multicast", "arp", "rarp", "arp host 10.0.0.1",
		"vlan", "vlan 100", "vlan 300", "mpls", "mpls 100", "pppoes", "pppoes 0x11", "pppoed",
		"stp", "llc", "ipx", "netbeui", "iso", "decnet", "atalk", "aarp", "ether proto 0x88cc",
		"ether[0] & 1 != 0", "ether[12:2] = 0x800",
	}
	primitivesCooked = []string{
		"inbound", "outbound", "arp", "rarp", "ether proto 0x0806", "llc", "stp", "ipx", "atalk",
		"arp host 10.0.0.1",
	}
	primitivesSLL2 = []string{"ifindex 3", "ifindex 1"}
)

// RandomExpressions returns n filter expressions for a link type of
// LinkTypes, combining primitives valid for it with and, or, not (in both
// spellings) and parentheses. The same arguments always give the same
// expressions; some of them libpcap refuses, and that is kept as a case.
func RandomExpressions(linkType string, seed uint64, n int) []string {
	prims := append([]string(nil), primitivesIP...)
	switch linkType {
	case "EN10MB":
		prims = append(prims, primitivesEthernet...)
	case "LINUX_SLL":
		prims = append(prims, primitivesCooked...)
	case "LINUX_SLL2":
		prims = append(prims, primitivesCooked...)
		prims = append(prims, primitivesSLL2...)
	}
	// Mix the link type into the seed so each gets its own sequence.
	for _, c := range linkType {
		seed = seed*31 + uint64(c)
	}
	rng := splitmix64(seed)
	seen := make(map[string]bool, n)
	out := make([]string, 0, n)
	for tries := 0; len(out) < n && tries < 100*n; tries++ {
		e := randomExpr(&rng, prims, 1+rng.intn(3))
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

// randomExpr builds an expression of up to depth levels of operators.
func randomExpr(rng *splitmix64, prims []string, depth int) string {
	if depth == 0 {
		p := rng.pick(prims)
		if rng.intn(5) == 0 {
			return rng.pick([]string{"not ", "!"}) + p
		}
		return p
	}
	left := randomExpr(rng, prims, rng.intn(depth))
	right := randomExpr(rng, prims, rng.intn(depth))
	op := rng.pick([]string{"and", "or", "and", "or", "&&", "||"})
	if rng.intn(3) == 0 {
		right = "(" + right + ")"
	}
	if rng.intn(4) == 0 {
		left = "(" + left + ")"
	}
	e := strings.Join([]string{left, op, right}, " ")
	if rng.intn(6) == 0 {
		e = rng.pick([]string{"not ", "!"}) + "(" + e + ")"
	}
	return e
}
