package filter

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

func TestMain(m *testing.M) {
	// Keep tests off the network: names resolve from a fixed table.
	lookupHost = func(name string) []netip.Addr {
		switch name {
		case "localhost":
			return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}
		case "dual.example":
			return []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2001:db8::1")}
		}
		return nil
	}
	lookupEther = func(name string) ([6]byte, bool) {
		if strings.EqualFold(name, "gw1") {
			return [6]byte{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}, true
		}
		return [6]byte{}, false
	}
	os.Exit(m.Run())
}

func TestEmptyExpression(t *testing.T) {
	for _, expr := range []string{"", "  ", "\n\t"} {
		for _, lt := range []uint32{LinkTypeEthernet, LinkTypeRaw, LinkTypeLinuxSLL} {
			prog, err := Compile(lt, 0, expr)
			if err != nil {
				t.Fatal(err)
			}
			want := []bpf.RawInstruction{{Op: clsRET, K: DefaultSnaplen}}
			if !reflect.DeepEqual(prog, want) {
				t.Errorf("Compile(%d, 0, %q) = %v, want %v", lt, expr, prog, want)
			}
		}
	}
	prog, err := Compile(LinkTypeEthernet, 96, "")
	if err != nil || len(prog) != 1 || prog[0].K != 96 {
		t.Errorf("snaplen 96: %v, %v", prog, err)
	}
}

func TestSnaplen(t *testing.T) {
	prog, err := Compile(LinkTypeEthernet, 1500, "tcp")
	if err != nil {
		t.Fatal(err)
	}
	pkt := etherFrame("00:11:22:33:44:55", "66:77:88:99:aa:bb", etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 6, 0, 5, tcpSeg(1, 2, 2)))
	if got := run(prog, pkt, len(pkt), meta{}); got != 1500 {
		t.Errorf("accept returns %d, want 1500", got)
	}
}

func TestUnknownLinkType(t *testing.T) {
	if _, err := Compile(12345, 0, "ip"); err == nil {
		t.Fatal("no error for an unknown link type")
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		lt        uint32
		expr      string
		line, col int
		msg       string // substring of the message
	}{
		{1, "tcp port foo", 1, 10, `expected a port number after "port", got "foo"`},
		{1, "port 70000", 1, 6, "illegal port number 70000 > 65535"},
		{1, "vlan 5000", 1, 1, "VLAN tag 5000 greater than maximum 4095"},
		{1, "net 192.168/8", 1, 5, `non-network bits set in "192.168/8"`},
		{1, "ip proto tcp", 1, 10, `expected a protocol number after "proto", got the keyword "tcp"`},
		{1, "len-1 > 0", 1, 1, `got the name "len-1"`},
		{1, "ip6 and tcp[13]=2", 1, 1, "expression rejects all packets"},
		{1, "tcp[13] / 0 = 1", 1, 9, "division by zero"},
		{1, "tcp[13] % (2 - 2) = 1", 1, 9, "modulus by zero"},
		{113, "ether host 00:11:22:33:44:55", 1, 12, "ethernet addresses supported only on"},
		{113, "vlan", 1, 1, "no VLAN support for Linux cooked v1"},
		{276, "ether broadcast", 1, 1, "not a broadcast link"},
		{1, "host 10.0.0.1 and", 1, 18, `expected an expression after "and"`},
		{1, "(tcp", 1, 5, `expected "and", "or" or ")"`},
		{1, "ip[1:3] = 1", 1, 6, "data size must be 1, 2, or 4"},
		{1, "08", 1, 1, "number 08 contains non-octal digit"},
		{1, "tcp\nand foo", 2, 5, `before "foo"`},
		{1, "host 10.0.0.1 $", 1, 15, "illegal character"},
		{1, "host nosuch.invalid", 1, 6, `unknown host "nosuch.invalid"`},
		{1, "udp port http", 1, 10, `port "http" is tcp`},
	}
	for _, c := range cases {
		_, err := Compile(c.lt, 0, c.expr)
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("Compile(%q): error %v, want an *Error", c.expr, err)
			continue
		}
		if fe.Line != c.line || fe.Col != c.col || !strings.Contains(fe.Msg, c.msg) {
			t.Errorf("Compile(%q) = %v, want %d:%d: ...%s...", c.expr, err, c.line, c.col, c.msg)
		}
		if !strings.HasPrefix(err.Error(), fmt.Sprintf("filter: %d:%d: ", c.line, c.col)) {
			t.Errorf("Compile(%q): message %q", c.expr, err)
		}
	}
}

// TestInheritance checks that a bare value inherits the qualifiers of the
// primitive before it, and "not" does not.
func TestInheritance(t *testing.T) {
	same := [][2]string{
		{"host 10.0.0.1 or 10.0.0.2", "host 10.0.0.1 or host 10.0.0.2"},
		{"tcp port 80 or 443", "tcp port 80 or tcp port 443"},
		{"tcp port (80 or 443)", "tcp port 80 or tcp port 443"},
		{"not host 10.0.0.1 and 10.0.0.2", "not host 10.0.0.1 and host 10.0.0.2"},
		{"src net 10 and not 192.168", "src net 10 and not src net 192.168"},
		{"host 10.0.0.1 and (tcp) or 10.0.0.2", "host 10.0.0.1 and tcp or host 10.0.0.2"},
		{"host 10.0.0.1 or host 10.0.0.2 and tcp", "(host 10.0.0.1 or host 10.0.0.2) and tcp"},
		{"tcp || udp && !icmp", "(tcp or udp) and not icmp"},
		{"ip[0] % 3 + 1 = 0", "ip[0] % (3 + 1) = 0"},
		{"1 + 2 * ip[0] = 7", "1 + (2 * ip[0]) = 7"},
		{"ip[0] & 0xf0 >> 4 = 4", "ip[0] & (0xf0 >> 4) = 4"},
		{"host dual.example", "host 10.0.0.1 or host 2001:db8::1"},
		{"port domain", "port 53"},
	}
	for _, c := range same {
		a, err := Compile(LinkTypeEthernet, 0, c[0])
		if err != nil {
			t.Fatalf("%q: %v", c[0], err)
		}
		b, err := Compile(LinkTypeEthernet, 0, c[1])
		if err != nil {
			t.Fatalf("%q: %v", c[1], err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%q and %q compile differently:\n%s\n%s", c[0], c[1], disasm(a), disasm(b))
		}
	}
}

// TestVerdicts checks verdicts on hand-built packets without libpcap.
func TestVerdicts(t *testing.T) {
	eth := func(et int, p []byte) []byte { return etherFrame("00:11:22:33:44:55", "66:77:88:99:aa:bb", et, p) }
	tcp80 := eth(etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 6, 0, 5, tcpSeg(40000, 80, 0x02)))
	frag := eth(etherIP, ipv4Pkt("10.0.0.1", "10.0.0.2", 6, 0x0010, 5, tcpSeg(40000, 80, 0x02)))
	udp6 := eth(etherIPv6, ipv6Pkt("2001:db8::1", "2001:db8::2", 17, udpDgram(53, 5353, 4)))
	arp := eth(etherARP, arpPkt(1, "10.0.0.1", "10.0.0.9"))
	vlanTCP := eth(etherVLAN, cat(be16(100), be16(etherIP), ipv4Pkt("10.0.0.1", "10.0.0.2", 6, 0, 5, tcpSeg(1, 80, 2))))
	cases := []struct {
		expr string
		pkt  []byte
		want bool
	}{
		{"tcp port 80", tcp80, true},
		{"tcp port 80", frag, false},
		{"udp port 80", tcp80, false},
		{"port 53", udp6, true},
		{"ip6 and udp src port 53", udp6, true},
		{"host 10.0.0.1", arp, true},
		{"ip host 10.0.0.1", arp, false},
		{"not tcp[100] = 0", arp, true},
		{"tcp[tcpflags] & tcp-syn != 0", tcp80, true},
		{"tcp[tcpflags] & tcp-ack != 0", tcp80, false},
		{"net 10.0.0.0/24 and dst port 80", tcp80, true},
		{"net 10", tcp80, true},
		{"net 2001:db8::/32", udp6, true},
		{"ether src 66:77:88:99:aa:bb", tcp80, true},
		{"vlan 100 and tcp port 80", vlanTCP, true},
		{"vlan 200", vlanTCP, false},
		{"tcp port 80", vlanTCP, false},
		{"len > 60", tcp80, false},
		{"len = 54", tcp80, true},
		{"portrange 70-90", tcp80, true},
	}
	for _, c := range cases {
		expectVerdict(t, c.expr, c.pkt, c.want)
	}
}

// manyHosts is "host 10.0.0.1 or host 10.0.0.2 or ..." with n hosts.
func manyHosts(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("host 10.0.%d.%d", i/250, i%250+1)
	}
	return strings.Join(parts, " or ")
}

// TestLongJumps needs conditional jumps farther than 255 instructions.
func TestLongJumps(t *testing.T) {
	expr := manyHosts(200) + " and tcp"
	prog, err := Compile(LinkTypeEthernet, 0, expr)
	if err != nil {
		t.Fatal(err)
	}
	checkProgram(t, prog)
	if len(prog) < 300 {
		t.Fatalf("program of %d instructions is too short to need long jumps", len(prog))
	}
	jas := 0
	for _, ins := range prog {
		if ins.Op == clsJMP|opJA {
			jas++
		}
	}
	if jas == 0 {
		t.Error("no ja trampoline in a program with long jumps")
	}
	hit := etherFrame("00:11:22:33:44:55", "66:77:88:99:aa:bb", etherIP, ipv4Pkt("8.8.8.8", "10.0.0.200", 6, 0, 5, tcpSeg(1, 2, 2)))
	miss := etherFrame("00:11:22:33:44:55", "66:77:88:99:aa:bb", etherIP, ipv4Pkt("8.8.8.8", "10.0.0.201", 6, 0, 5, tcpSeg(1, 2, 2)))
	if run(prog, hit, len(hit), meta{}) == 0 || run(prog, miss, len(miss), meta{}) != 0 {
		t.Error("wrong verdicts through long jumps")
	}
	if path, err := execLookTcpdump(); err == nil {
		want, _ := libpcapProgram(t, path, LinkTypeEthernet, expr, true)
		plain, _ := libpcapProgram(t, path, LinkTypeEthernet, expr, false)
		compareVerdicts(t, LinkTypeEthernet, expr, want, plain, prog)
	}
}

func TestTooManyInstructions(t *testing.T) {
	_, err := Compile(LinkTypeEthernet, 0, manyHosts(800))
	if err == nil || !strings.Contains(err.Error(), "instructions") {
		t.Fatalf("error %v, want one about the instruction limit", err)
	}
}

func TestTooManyRegisters(t *testing.T) {
	expr := strings.Repeat("(1 + ", 20) + "len" + strings.Repeat(")", 20) + " = 0"
	_, err := Compile(LinkTypeEthernet, 0, expr)
	if err == nil || !strings.Contains(err.Error(), "too many registers") {
		t.Fatalf("error %v, want too many registers", err)
	}
}

func TestLex(t *testing.T) {
	cases := []struct {
		in   string
		want []tokKind
	}{
		{"len-1", []tokKind{tID}},
		{"len - 1", []tokKind{tKW, tOp, tNum}},
		{"10.0.0.1/8", []tokKind{tHID, tOp, tNum}},
		{"0011.2233.4455", []tokKind{tEID}},
		{"00:11:22:33:44:55", []tokKind{tEID}},
		{"001122334455", []tokKind{tEID}},
		{"aabbccDDEEFF", []tokKind{tEID}},
		{"0011223344556", []tokKind{tNum}},
		{"001122334455ab", []tokKind{tID}},
		{"00112233445", []tokKind{tNum}},
		{"2001:db8::1", []tokKind{tHID6}},
		{"::1", []tokKind{tHID6}},
		{"1000-2000", []tokKind{tID}},
		{"tcp-syn", []tokKind{tNum}},
		{"\\tcp", []tokKind{tID}},
		{"a&&b||!c", []tokKind{tID, tKW, tID, tKW, tOp, tID}},
		{"x>=1<=2!=3==4<<5>>6", []tokKind{tID, tOp, tNum, tOp, tNum, tOp, tNum, tOp, tNum, tOp, tNum, tOp, tNum}},
	}
	for _, c := range cases {
		toks, err := lex(c.in)
		if err != nil {
			t.Fatalf("lex(%q): %v", c.in, err)
		}
		var got []tokKind
		for _, tk := range toks[:len(toks)-1] {
			got = append(got, tk.kind)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("lex(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	for in, want := range map[string]uint32{"0x1F": 31, "017": 15, "0": 0, "4294967295": 1<<32 - 1, "tcp-cwr": 0x80, "icmp6-echo": 128} {
		toks, err := lex(in)
		if err != nil || toks[0].num != want {
			t.Errorf("lex(%q) = %v, %v; want %d", in, toks, err, want)
		}
	}
}

func TestDeepNesting(t *testing.T) {
	if _, err := Compile(LinkTypeEthernet, 0, strings.Repeat("(", 100)+"tcp"+strings.Repeat(")", 100)); err != nil {
		t.Fatal(err)
	}
	_, err := Compile(LinkTypeEthernet, 0, strings.Repeat("(", 10000)+"tcp"+strings.Repeat(")", 10000))
	if err == nil || !strings.Contains(err.Error(), "nested") {
		t.Fatalf("error %v", err)
	}
	// Long chains of "not" recurse too.
	if _, err := Compile(LinkTypeEthernet, 0, strings.Repeat("not ", 5000)+"tcp"); err != nil {
		t.Fatal(err)
	}
}

// expectVerdict compiles expr for Ethernet, checks the program is valid
// and that it accepts pkt (a whole packet) exactly when want says so.
func expectVerdict(t *testing.T, expr string, pkt []byte, want bool) {
	t.Helper()
	prog, err := Compile(LinkTypeEthernet, 0, expr)
	if err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	checkProgram(t, prog)
	if got := run(prog, pkt, len(pkt), meta{}) != 0; got != want {
		t.Errorf("%q accepts % x: %v, want %v\n%s", expr, pkt, got, want, disasm(prog))
	}
}
