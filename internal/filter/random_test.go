package filter

import (
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"
)

// primitives are the building blocks of the random expressions.
var primitives = []string{
	"ip", "ip6", "arp", "rarp", "tcp", "udp", "sctp", "icmp", "icmp6", "igmp", "pim", "ah", "esp", "vrrp",
	"stp", "llc", "ipx", "iso", "netbeui", "decnet", "atalk",
	"host 10.0.0.1", "src host 10.0.0.2", "dst host 192.168.1.10", "src or dst host 8.8.8.8",
	"src and dst host 10.0.0.1", "ip host 10.0.0.1", "arp host 10.0.0.1", "rarp dst host 10.0.0.1",
	"net 10.0.0.0/8", "net 192.168", "dst net 172.16.0.0 mask 255.240.0.0", "src net 10",
	"host 2001:db8::1", "ip6 src host fe80::1", "net 2001:db8::/32", "dst net ff02::/16",
	"port 80", "port 53", "tcp port 443", "udp dst port 53", "sctp src port 80", "src port 22",
	"portrange 1000-2000", "tcp dst portrange 1-1023", "udp portrange 60-70",
	"ether host 00:11:22:33:44:55", "ether src 66:77:88:99:aa:bb", "ether dst ff:ff:ff:ff:ff:ff",
	"ether proto 0x88cc", "ether proto \\arp", "proto 17", "ip proto 6", "ip6 proto \\udp", "proto \\icmp",
	"broadcast", "multicast", "ip multicast", "ip6 multicast", "ip broadcast",
	"less 64", "greater 100", "len > 60", "len <= 54",
	"ip[0] & 0xf != 5", "ip[6:2] & 0x1fff = 0", "tcp[13] & 2 != 0", "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn",
	"udp[0:2] = 53", "icmp[icmptype] = icmp-echo", "icmp6[icmp6type] = icmp6-echo", "ip6[6] = 17",
	"ether[0] & 1 != 0", "tcp[100] = 0", "ip[2:2] - ((ip[0] & 0xf) << 2) > 20", "arp[7] = 1",
	"inbound", "outbound", "vlan", "vlan 100", "mpls", "mpls 100", "pppoes", "pppoes 0x11", "pppoed",
	"ip protochain 6", "protochain 17",
	"host (10.0.0.1 or 10.0.0.2)", "tcp port (80 or (443))", "src net (10 or 192.168)",
	"not host 10.0.0.1 and 10.0.0.2", "udp src or dst port 53 or 67", "ip6 src and dst host 2001:db8::1",
	"port 80 or not 443", "host 10.0.0.1 or (10.0.0.2 and 8.8.8.8)", "ether src 00:11:22:33:44:55 or 66:77:88:99:aa:bb",
	"dst host 10.0.0.2 or src 8.8.8.8", "proto \\tcp or \\udp", "ip proto 6 or 17",
}

// values are bare values that inherit the previous qualifiers.
var values = []string{"10.0.0.2", "80", "443", "192.168.1.10", "2001:db8::2", "53", "00:11:22:33:44:55", "10"}

var loads = []string{"ip", "ip6", "tcp", "udp", "icmp", "icmp6", "ether", "arp", "igmp", "sctp", "link"}

func randomArith(r *rand.Rand, depth int) string {
	if depth <= 0 || r.Intn(3) == 0 {
		switch r.Intn(4) {
		case 0:
			return []string{"0", "1", "2", "4", "13", "0x45", "255", "0xffff", "017", "tcpflags", "tcp-syn", "icmp-echo"}[r.Intn(12)]
		case 1:
			return "len"
		default:
			idx := []string{"0", "1", "2", "6", "9", "12", "13", "20", "40", "100"}[r.Intn(10)]
			if r.Intn(4) == 0 {
				idx = randomArith(r, depth-1)
			}
			size := []string{"", ":1", ":2", ":4"}[r.Intn(4)]
			return loads[r.Intn(len(loads))] + "[" + idx + size + "]"
		}
	}
	switch r.Intn(5) {
	case 0:
		return "-" + randomArith(r, depth-1)
	case 1:
		return "(" + randomArith(r, depth-1) + ")"
	default:
		op := []string{" + ", " - ", " * ", " / ", " % ", " & ", " | ", " ^ ", " << ", " >> "}[r.Intn(10)]
		return randomArith(r, depth-1) + op + randomArith(r, depth-1)
	}
}

func randomExpr(r *rand.Rand, depth int) string {
	if depth <= 0 || r.Intn(3) == 0 {
		if r.Intn(4) == 0 {
			rel := []string{" = ", " == ", " != ", " < ", " <= ", " > ", " >= "}[r.Intn(7)]
			return randomArith(r, 2) + rel + randomArith(r, 1)
		}
		return primitives[r.Intn(len(primitives))]
	}
	switch r.Intn(6) {
	case 0:
		return "not " + randomExpr(r, depth-1)
	case 1:
		return "(" + randomExpr(r, depth-1) + ")"
	case 2:
		return randomExpr(r, depth-1) + []string{" or ", " and "}[r.Intn(2)] + values[r.Intn(len(values))]
	default:
		return randomExpr(r, depth-1) + []string{" or ", " and ", " && ", " || "}[r.Intn(4)] + randomExpr(r, depth-1)
	}
}

// TestRandomExpressions compares Compile with libpcap on random
// combinations of primitives, for every link type.
func TestRandomExpressions(t *testing.T) {
	tcpdump := needTcpdump(t)
	n := 1500
	if testing.Short() {
		n = 60
	}
	r := rand.New(rand.NewSource(seed()))
	types := []uint32{LinkTypeEthernet, LinkTypeEthernet, LinkTypeLinuxSLL, LinkTypeLinuxSLL2, LinkTypeRaw, LinkTypeNull, LinkTypeLoop}
	for i := 0; i < n; i++ {
		lt := types[r.Intn(len(types))]
		expr := randomExpr(r, 3)
		t.Run(linkTypeName(lt)+"/"+strings.ReplaceAll(expr, "/", "_"), func(t *testing.T) {
			want, msg := libpcapProgram(t, tcpdump, lt, expr, true)
			got, err := Compile(lt, 0, expr)
			if want == nil {
				if err == nil {
					if optimizerRefusal(expr, msg) {
						t.Logf("only libpcap's optimizer refuses this: %s", msg)
						return
					}
					t.Fatalf("libpcap refuses (%s) but Compile accepts", msg)
				}
				return
			}
			if err != nil {
				if optimizerRefusal(expr, err.Error()) {
					// The reverse: libpcap's optimizer misses what
					// this compiler finds, after arithmetic it folds
					// late or not at all.
					t.Logf("Compile refuses what libpcap's optimizer lets through: %v", err)
					return
				}
				t.Fatalf("Compile: %v (libpcap accepts)", err)
			}
			checkProgram(t, got)
			plain, _ := libpcapProgram(t, tcpdump, lt, expr, false)
			compareVerdicts(t, lt, expr, want, plain, got)
		})
	}
}

func seed() int64 {
	if s, err := strconv.ParseInt(os.Getenv("FILTER_SEED"), 10, 64); err == nil {
		return s
	}
	return 1
}

// optimizerRefusal reports whether libpcap refuses expr in its optimizer,
// after folding arithmetic this compiler does not fold (for instance "0 %
// x" to 0, or a shift by a value it takes for a constant).
func optimizerRefusal(expr, msg string) bool {
	arith := false
	for _, op := range []string{" % ", " / ", " << ", " >> ", " * ", " & ", "-"} {
		arith = arith || strings.Contains(expr, op)
	}
	if !arith {
		return false
	}
	for _, m := range []string{"shift by more than 31 bits", "division by zero", "modulus by zero", "expression rejects all packets"} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}
