package bpf

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/bpf"
)

// The golden file holds what tcpdump printed with -ddd, -dd and -d for each
// case below. TestGolden checks this package against it on any machine;
// TestTcpdump checks against the installed tcpdump and, with -update,
// rewrites the file:
//
//	go test ./internal/bpf -run TestTcpdump -update
var update = flag.Bool("update", false, "rewrite testdata/tcpdump.golden from the installed tcpdump")

const goldenPath = "testdata/tcpdump.golden"

// tcpdumpCase is one filter compiled by tcpdump.
type tcpdumpCase struct {
	// linkType is the -y argument; "lo" compiles for the live loopback
	// interface instead (-i lo), where libpcap uses the kernel's
	// ancillary VLAN and packet-type data.
	linkType string
	// noopt turns libpcap's optimizer off (-O), which leaves more
	// variety of instructions: X arithmetic, scratch memory traffic.
	noopt bool
	expr  string
}

func (c tcpdumpCase) String() string {
	s := c.linkType
	if c.noopt {
		s += " -O"
	}
	return s + ": " + c.expr
}

// args returns tcpdump's command line to print the program with format
// ("-d", "-dd" or "-ddd").
func (c tcpdumpCase) args(format string) []string {
	var a []string
	if c.linkType == "lo" {
		a = append(a, "-i", "lo")
	} else {
		a = append(a, "-y", c.linkType)
	}
	if c.noopt {
		a = append(a, "-O")
	}
	return append(a, format, c.expr)
}

// Expressions valid on every link type tested.
var commonExprs = []string{
	"ip", "ip6", "tcp", "udp", "icmp", "icmp6", "sctp", "igmp",
	"tcp port 80", "udp port 53", "port 53", "not port 22",
	"tcp src port 22 and tcp dst port 1024",
	"portrange 1000-2000", "tcp portrange 1-1023", "udp dst portrange 5000-5100",
	"host 192.168.1.1", "src host 10.0.0.1 and dst host 10.0.0.2",
	"net 10.0.0.0/8", "net 192.168.0.0 mask 255.255.0.0", "dst net 172.16.0.0/12",
	"src net 10.1.2.0/24 or dst net 10.3.0.0/16",
	"ip and not net 127.0.0.0/8",
	"ip6 and tcp", "ip6 host fe80::1", "ip6 net 2001:db8::/32", "ip6 dst net ff00::/8",
	"ip host 1.2.3.4 or ip6 host ::1",
	"ip proto 47", "ip6 proto 17",
	"icmp[icmptype] == icmp-echo",
	"icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply",
	"icmp6[icmp6type] == icmp6-echo",
	"ip[2:2] > 100", "ip[0] & 0xf != 5", "ip[6:2] & 0x1fff = 0",
	"ip[8] = 64 or ip[8] = 128",
	"ip[2:2] > 0x7fffffff", "ip[2:2] = 0xffffffff",
	"tcp[tcpflags] & (tcp-syn|tcp-fin) != 0", "tcp[13] & 2 != 0",
	"tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420",
	"udp and (udp[8:4] = 0xdeadbeef)",
	"len > 100", "len <= 64", "len - 1 > 0", "greater 200", "less 100",
	"ip multicast", "ip broadcast",
	"protochain 6", "ip protochain 17", "ip6 protochain 58",
	"ip[2:2] * 3 > 100", "ip[2:2] / 3 > 100", "ip[2:2] % 7 = 3",
	"ip[2:2] & 0xff = 3", "ip[2:2] | 3 = 3", "ip[2:2] ^ 5 = 3",
	"ip[2:2] << 2 > 10", "ip[2:2] >> 1 > 10", "(-ip[2:2]) > 10", "len > -ip[2:2]",
	"ip[2:2] + 4 = len - 14", "ip[2:2] - ip[0] > len",
	"ip[ip[0] & 0xf] = 4", "ip[2:2] * ip[0] > ip[1] / ip[3]",
	"ip[2:2] % ip[1] = 3", "ip[2:2] ^ ip[1] = ip[3] & 7", "(ip[2:2] << ip[0]) >> ip[1] > 3",
	"ip and udp and ip[2:2] - 20 > 8",
}

// Expressions that need an Ethernet header.
var ethernetExprs = []string{
	"arp", "rarp", "decnet", "atalk", "ipx", "stp", "geneve", "ether proto 0x88cc",
	"vlan", "vlan 100", "vlan and ip", "vlan 10 and vlan 20", "vlan and tcp port 80",
	"mpls", "mpls 100", "mpls and ip", "mpls 1 and mpls 2",
	"pppoes", "pppoes 0x27", "pppoes and ip",
	"ether multicast", "ether broadcast", "ether host 00:11:22:33:44:55",
	"ether src 00:11:22:33:44:55 and not ether dst ff:ff:ff:ff:ff:ff",
	"ether[0] & 1 = 1", "ether[12:2] = 0x0800 and ip[9] = 6",
	"ether[ether[0]] = 1", "ether[len - 1] = 0",
}

// Expressions for the Linux cooked headers.
var cookedExprs = []string{
	"arp", "rarp", "ether proto 0x88cc", "inbound", "outbound",
}

// Expressions with the optimizer off.
var nooptExprs = []string{
	"tcp port 80", "ip6 and tcp", "protochain 6", "vlan 100 and ip", "ip[2:2] - 2 >= 7 and ip[1] + 1 < 9",
	"ip[2:2] * ip[0] / ip[1] % ip[3] & ip[4] | ip[5] ^ ip[6] << ip[7] >> ip[8] > (-len) - 1",
	"ip[2:2] * 3 / 2 % 7 & 0xff | 3 ^ 5 << 2 >> 1 > 9",
	"len > 100 or ether[0] & 1 = 1",
}

// Expressions for the live loopback interface, where libpcap uses
// ancillary loads.
var liveExprs = []string{
	"vlan", "vlan 10", "vlan and ip", "vlan 10 and vlan 20", "vlan and tcp port 80",
	"inbound", "outbound", "ifindex 1", "ip",
}

func tcpdumpCases() []tcpdumpCase {
	var cs []tcpdumpCase
	add := func(lt string, noopt bool, exprs ...string) {
		for _, e := range exprs {
			cs = append(cs, tcpdumpCase{linkType: lt, noopt: noopt, expr: e})
		}
	}
	add("EN10MB", false, commonExprs...)
	add("EN10MB", false, ethernetExprs...)
	add("EN10MB", true, nooptExprs...)
	for _, lt := range []string{"LINUX_SLL", "LINUX_SLL2", "RAW"} {
		add(lt, false, commonExprs...)
	}
	add("LINUX_SLL", false, cookedExprs...)
	add("LINUX_SLL2", false, cookedExprs...)
	add("LINUX_SLL2", false, "ifindex 3", "ifindex 3 and tcp")
	add("lo", false, liveExprs...)
	return cs
}

// tcpdumpOutput is what tcpdump printed for a case in each format.
type tcpdumpOutput struct {
	ddd, dd, d string
}

// golden is the parsed golden file.
type golden struct {
	libpcap string // libpcap version line of tcpdump --version
	cases   map[string]tcpdumpOutput
}

func readGolden(t *testing.T) golden {
	t.Helper()
	data, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("reading golden file: %v", err)
	}
	g, err := parseGolden(data)
	if err != nil {
		t.Fatalf("%s: %v", goldenPath, err)
	}
	return g
}

var (
	goldenOnce  sync.Once
	goldenCache map[string]tcpdumpOutput
)

// readGoldenFile returns the cases of the golden file, or nil if it cannot
// be read.
func readGoldenFile() map[string]tcpdumpOutput {
	data, err := os.ReadFile(goldenPath)
	if err != nil {
		return nil
	}
	g, err := parseGolden(data)
	if err != nil {
		return nil
	}
	return g.cases
}

func parseGolden(data []byte) (golden, error) {
	g := golden{cases: map[string]tcpdumpOutput{}}
	var (
		key     string
		section *string
		cur     tcpdumpOutput
	)
	flush := func() {
		if key != "" {
			g.cases[key] = cur
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# libpcap: "):
			g.libpcap = strings.TrimPrefix(line, "# libpcap: ")
		case strings.HasPrefix(line, "### "):
			flush()
			key, cur, section = strings.TrimPrefix(line, "### "), tcpdumpOutput{}, nil
		case line == "-- -ddd --":
			section = &cur.ddd
		case line == "-- -dd --":
			section = &cur.dd
		case line == "-- -d --":
			section = &cur.d
		case line == "":
			// Separates cases; tcpdump prints no blank lines.
		case section != nil:
			*section += line + "\n"
		case strings.HasPrefix(line, "#"):
		default:
			return g, fmt.Errorf("stray line %q", line)
		}
	}
	flush()
	return g, sc.Err()
}

func writeGolden(t *testing.T, libpcap string, cs []tcpdumpCase, out map[string]tcpdumpOutput) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# Programs printed by tcpdump -ddd, -dd and -d for the cases of tcpdump_test.go.\n")
	b.WriteString("# Regenerate with: go test ./internal/bpf -run TestTcpdump -update\n")
	fmt.Fprintf(&b, "# libpcap: %s\n", libpcap)
	for _, c := range cs {
		o, ok := out[c.String()]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "\n### %s\n-- -ddd --\n%s-- -dd --\n%s-- -d --\n%s", c, o.ddd, o.dd, o.d)
	}
	if err := os.WriteFile(goldenPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// hasBackwardJump tells whether prog has a ja with a negative offset.
func hasBackwardJump(prog []bpf.RawInstruction) bool {
	return slices.ContainsFunc(prog, func(ins bpf.RawInstruction) bool {
		return ins.Op == opJa && int32(ins.K) < 0
	})
}

// checkAgainst checks every function of the package on one program as
// tcpdump printed it.
func checkAgainst(t *testing.T, name string, o tcpdumpOutput) {
	t.Helper()
	prog, err := ParseDecimal(o.ddd)
	if err != nil {
		t.Errorf("%s: ParseDecimal: %v", name, err)
		return
	}
	if got := DumpDecimal(prog); got != o.ddd {
		t.Errorf("%s: DumpDecimal differs from tcpdump -ddd:\n%s", name, lineDiff(o.ddd, got))
	}
	if got := DumpC(prog); got != o.dd {
		t.Errorf("%s: DumpC differs from tcpdump -dd:\n%s", name, lineDiff(o.dd, got))
	}
	if p2, err := ParseC(o.dd); err != nil || !slices.Equal(p2, prog) {
		t.Errorf("%s: ParseC(tcpdump -dd) = %v, %v; want the -ddd program", name, p2, err)
	}
	if got := Disassemble(prog); got != o.d {
		t.Errorf("%s: Disassemble differs from tcpdump -d:\n%s", name, lineDiff(o.d, got))
	}
	if err := ValidateInterpreter(prog); err != nil {
		t.Errorf("%s: ValidateInterpreter: %v", name, err)
	}
	err = ValidateKernel(prog)
	switch {
	case hasBackwardJump(prog):
		if err == nil || !strings.Contains(err.Error(), "forward") {
			t.Errorf("%s: ValidateKernel = %v, want a complaint about the backward jump", name, err)
		}
	case err != nil:
		t.Errorf("%s: ValidateKernel: %v", name, err)
	}
}

// lineDiff describes the first differing line of two texts.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\nwant %q\ngot  %q", i+1, wl, gl)
		}
	}
	return fmt.Sprintf("want %q\ngot  %q", want, got)
}

func TestGolden(t *testing.T) {
	g := readGolden(t)
	if *update {
		t.Skip("rewriting the golden file")
	}
	for _, c := range tcpdumpCases() {
		o, ok := g.cases[c.String()]
		if !ok {
			t.Errorf("%s: not in %s; regenerate it with -update", c, goldenPath)
			continue
		}
		checkAgainst(t, c.String(), o)
	}
	if len(g.cases) < 300 {
		t.Errorf("only %d cases in the golden file", len(g.cases))
	}
}

// tcpdumpLibpcapVersion returns the "libpcap version" line of tcpdump
// --version, or "" when tcpdump cannot be run.
func tcpdumpLibpcapVersion() string {
	out, err := exec.Command("tcpdump", "--version").CombinedOutput()
	if err != nil {
		return ""
	}
	m := regexp.MustCompile(`(?m)^libpcap version (\S+)`).FindSubmatch(out)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// requireTcpdump skips the test when tcpdump is not installed, unless it
// runs in CI, where its absence is a failure.
func requireTcpdump(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tcpdump is not installed (CI must install the tcpdump package): %v", err)
		}
		t.Skipf("tcpdump is not installed, so the programs cannot be compared with its output; the golden-file test still ran (%v)", err)
	}
}

func runTcpdump(c tcpdumpCase, format string) (string, error) {
	cmd := exec.Command("tcpdump", c.args(format)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("tcpdump %s: %v: %s", strings.Join(c.args(format), " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// TestTcpdump compiles every case with the installed tcpdump and checks the
// package against what it prints.
func TestTcpdump(t *testing.T) {
	requireTcpdump(t)
	version := tcpdumpLibpcapVersion()
	if version == "" {
		t.Fatal("cannot read libpcap's version from tcpdump --version")
	}
	if !strings.HasPrefix(version, "1.10.") {
		// libpcap 1.11 drops the trailing spaces of operand-less
		// instructions and names ldx #pktlen; this package prints
		// libpcap 1.10's text.
		t.Skipf("tcpdump uses libpcap %s; the disassembler follows libpcap 1.10", version)
	}
	// The live loopback cases need an interface libpcap can open.
	liveOK := true
	if _, err := runTcpdump(tcpdumpCase{linkType: "lo", expr: "ip"}, "-d"); err != nil {
		liveOK = false
		t.Logf("skipping the live loopback cases: %v", err)
	}
	cs := tcpdumpCases()
	var (
		mu  sync.Mutex
		out = map[string]tcpdumpOutput{}
		wg  sync.WaitGroup
		sem = make(chan struct{}, 4)
	)
	for _, c := range cs {
		if c.linkType == "lo" && !liveOK {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var o tcpdumpOutput
			var err error
			for _, f := range []struct {
				flag string
				dst  *string
			}{{"-ddd", &o.ddd}, {"-dd", &o.dd}, {"-d", &o.d}} {
				if *f.dst, err = runTcpdump(c, f.flag); err != nil {
					t.Error(err)
					return
				}
			}
			mu.Lock()
			out[c.String()] = o
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, c := range cs {
		if o, ok := out[c.String()]; ok {
			checkAgainst(t, c.String(), o)
		}
	}
	if *update {
		if !liveOK {
			t.Fatal("not rewriting the golden file without the live loopback cases")
		}
		writeGolden(t, version, cs, out)
		return
	}
	// The golden file must hold what this tcpdump prints, when it is the
	// same libpcap.
	g := readGolden(t)
	if g.libpcap != version {
		t.Logf("golden file made with libpcap %s, tcpdump has %s: not comparing programs", g.libpcap, version)
		return
	}
	for _, c := range cs {
		o, ok := out[c.String()]
		if !ok {
			continue
		}
		if g.cases[c.String()] != o {
			t.Errorf("%s: tcpdump's output differs from the golden file; regenerate it with -update", c)
		}
	}
}
