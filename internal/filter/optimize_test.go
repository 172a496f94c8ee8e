package filter

import (
	"math/rand"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

// TestOptimizedSizes checks programs whose size libpcap's optimizer
// reaches (tcpdump -d).
func TestOptimizedSizes(t *testing.T) {
	cases := []struct {
		lt   uint32
		expr string
		want int
	}{
		{LinkTypeEthernet, "port 80", 24},
		{LinkTypeEthernet, "ip and udp port 53", 13},
		{LinkTypeEthernet, "tcp port 80 or 443", 23},
		{LinkTypeEthernet, "host 10.0.0.1", 14},
		{LinkTypeEthernet, "not (tcp and udp)", 1},
		{LinkTypeEthernet, "tcp[13] & 2 != 0", 11},
		{LinkTypeEthernet, "vlan 100 and tcp port 80", 27},
		{LinkTypeEthernet, "ip[2:2] - ((ip[0] & 0xf) << 2) > 40", 13},
		{LinkTypeLinuxSLL, "host 10.0.0.1 or 10.0.0.2", 17},
		{LinkTypeRaw, "ip", 5},
	}
	for _, c := range cases {
		prog, err := Compile(c.lt, 0, c.expr)
		if err != nil {
			t.Fatalf("%q: %v", c.expr, err)
		}
		checkProgram(t, prog)
		if len(prog) != c.want {
			t.Errorf("%s %q: %d instructions, want %d\n%s", linkTypeName(c.lt), c.expr, len(prog), c.want, disasm(prog))
		}
	}
}

// TestManyHosts200 needs the optimizer to keep 200 OR'd hosts within the
// kernel's limit.
func TestManyHosts200(t *testing.T) {
	expr := manyHosts(200)
	prog, err := Compile(LinkTypeEthernet, 0, expr)
	if err != nil {
		t.Fatal(err)
	}
	checkProgram(t, prog)
	if len(prog) >= MaxInstructions {
		t.Fatalf("%d instructions", len(prog))
	}
	t.Logf("%d instructions", len(prog))
	frame := func(dst string) []byte {
		return etherFrame("00:11:22:33:44:55", "66:77:88:99:aa:bb", etherIP, ipv4Pkt("8.8.8.8", dst, 6, 0, 5, tcpSeg(1, 2, 2)))
	}
	for _, c := range []struct {
		dst  string
		want bool
	}{{"10.0.0.1", true}, {"10.0.0.100", true}, {"10.0.0.200", true}, {"10.0.0.201", false}, {"10.0.1.1", false}} {
		p := frame(c.dst)
		if got := run(prog, p, len(p), meta{}) != 0; got != c.want {
			t.Errorf("%s: accepted %v, want %v", c.dst, got, c.want)
		}
	}
	arp := etherFrame("ff:ff:ff:ff:ff:ff", "66:77:88:99:aa:bb", etherARP, arpPkt(1, "10.0.0.77", "192.168.0.1"))
	if run(prog, arp, len(arp), meta{}) == 0 {
		t.Error("ARP from a listed host rejected")
	}
}

// TestOptimizerRefusals: what libpcap's optimizer refuses, and what it
// does not look at.
func TestOptimizerRefusals(t *testing.T) {
	for _, c := range []struct{ expr, msg string }{
		{"tcp and udp", "expression rejects all packets"},
		{"ip and arp", "expression rejects all packets"},
		{"port 80 and not port 80", "expression rejects all packets"},
		{"len / (ip[0] - ip[0]) = 0", "division by zero"},
		{"len % (ip[0] & 0) = 0", "modulus by zero"},
	} {
		_, err := Compile(LinkTypeEthernet, 0, c.expr)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: error %v, want %q", c.expr, err, c.msg)
		}
	}
	// libpcap does not optimize a program with protochain.
	if _, err := Compile(LinkTypeEthernet, 0, "ip6 protochain 6 and ip"); err != nil {
		t.Errorf("protochain: %v", err)
	}
}

// faults reports whether prog stops on a fault (an out-of-bounds load, a
// division by zero) for p: the program with every rejecting return made
// to return 1 returns 0 only then.
func faults(prog []bpf.RawInstruction, p packet) bool {
	marked := append([]bpf.RawInstruction(nil), prog...)
	for i, ins := range marked {
		if ins.Op == clsRET|srcK && ins.K == 0 {
			marked[i].K = 1
		}
	}
	return run(marked, p.data, p.wireLen, p.meta) == 0
}

// TestOptimizedVerdicts compares optimized and unoptimized programs of
// random expressions: the same verdict on every packet for which the
// unoptimized program does not fault. (Where it faults, the optimized
// program may have dropped the faulting load, as libpcap's does.)
func TestOptimizedVerdicts(t *testing.T) {
	n := 600
	if testing.Short() {
		n = 100
	}
	r := rand.New(rand.NewSource(seed()))
	types := []uint32{LinkTypeEthernet, LinkTypeEthernet, LinkTypeLinuxSLL, LinkTypeLinuxSLL2, LinkTypeRaw, LinkTypeNull, LinkTypeLoop}
	checked := 0
	for i := 0; i < n; i++ {
		lt := types[r.Intn(len(types))]
		expr := randomExpr(r, 3)
		plain, err := CompileWith(lt, 0, expr, Options{unoptimized: true})
		if err != nil {
			continue
		}
		opt, err := Compile(lt, 0, expr)
		if err != nil {
			if strings.Contains(err.Error(), "rejects all packets") {
				for _, p := range packetsFor(t, lt) {
					if !faults(plain, p) && run(plain, p.data, p.wireLen, p.meta) != 0 {
						t.Fatalf("%s %q refused as rejecting everything, accepts % x\n%s", linkTypeName(lt), expr, p.data, disasm(plain))
					}
				}
				continue
			}
			if strings.Contains(err.Error(), " by ") {
				continue // division or shift found by folding
			}
			t.Fatalf("%s %q: unoptimized compiles, optimized: %v", linkTypeName(lt), expr, err)
		}
		checkProgram(t, opt)
		if len(opt) > len(plain) {
			t.Errorf("%s %q: %d instructions optimized, %d not", linkTypeName(lt), expr, len(opt), len(plain))
		}
		for _, p := range packetsFor(t, lt) {
			if faults(plain, p) {
				continue
			}
			checked++
			u := run(plain, p.data, p.wireLen, p.meta)
			g := run(opt, p.data, p.wireLen, p.meta)
			if u != g {
				t.Fatalf("%s %q on % x (wire %d): unoptimized returns %d, optimized %d\nunoptimized:\n%s\noptimized:\n%s",
					linkTypeName(lt), expr, p.data, p.wireLen, u, g, disasm(plain), disasm(opt))
			}
		}
	}
	t.Logf("%d verdicts compared", checked)
}
