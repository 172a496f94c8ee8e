//go:build linux

package filter

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unsafe"

	ibpf "github.com/purecap/pcap/internal/bpf"
	"github.com/purecap/pcap/internal/nettest"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// liveLibpcap compiles expressions with libpcap as it does for a live
// handle on an Ethernet interface: tcpdump -d on one end of a veth pair in
// a private network namespace.
type liveLibpcap struct {
	tcpdump string
	env     *nettest.Env
}

func newLiveLibpcap(t *testing.T) *liveLibpcap {
	t.Helper()
	tcpdump := needTcpdump(t)
	return &liveLibpcap{tcpdump: tcpdump, env: nettest.New(t)}
}

// program returns libpcap's program for expr (unoptimized with plain), or
// nil and its message if it refuses expr.
func (l *liveLibpcap) program(t *testing.T, expr string, plain bool) ([]bpf.RawInstruction, string) {
	t.Helper()
	args := []string{"netns", "exec", l.env.NS, l.tcpdump, "-i", l.env.A, "-ddd"}
	if plain {
		args = append(args, "-O")
	}
	cmd := exec.Command("ip", append(args, "--", expr)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if !strings.HasPrefix(msg, "tcpdump: ") {
			t.Fatalf("tcpdump %q: %v: %s", expr, err, msg)
		}
		return nil, strings.ReplaceAll(strings.TrimPrefix(msg, "tcpdump: "), "\n", " ")
	}
	prog, err := ibpf.ParseDecimal(stdout.String())
	if err != nil {
		t.Fatalf("tcpdump %q: %v", expr, err)
	}
	return prog, ""
}

func (l *liveLibpcap) golden(t *testing.T, expr string) liveGolden {
	g := liveGolden{expr: expr}
	g.opt, g.err = l.program(t, expr, false)
	if g.opt != nil {
		if g.plain, _ = l.program(t, expr, true); g.plain == nil {
			t.Fatalf("%q: libpcap compiles it optimized but not unoptimized", expr)
		}
	}
	return g
}

func tcpdumpVersion(t *testing.T, tcpdump string) string {
	out, err := exec.Command(tcpdump, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("tcpdump --version: %v: %s", err, out)
	}
	return strings.Join(strings.Split(strings.TrimSpace(string(out)), "\n"), "; ")
}

// TestLiveVLANGoldens regenerates liveVLANFile with -update. Without it,
// it compiles a few of the expressions with the installed libpcap and
// requires the programs of the file, when that libpcap is the one that
// made them.
func TestLiveVLANGoldens(t *testing.T) {
	l := newLiveLibpcap(t)
	version := tcpdumpVersion(t, l.tcpdump)
	if *update {
		var gs []liveGolden
		for _, e := range liveVLANCases() {
			gs = append(gs, l.golden(t, e))
		}
		f, err := os.Create(liveVLANFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := writeLiveGoldens(f, version, gs); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(liveVLANFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "# version: "+version+"\n") {
		t.Skipf("%s was made by another libpcap than the installed one (%s)", liveVLANFile, version)
	}
	want := map[string]liveGolden{}
	for _, g := range readLiveGoldens(t) {
		want[g.expr] = g
	}
	for _, e := range []string{"vlan", "vlan 100 and udp port 9", "vlan 5000", "vlan and pppoes and tcp port 80", "vlan 10 and vlan 20", "ip"} {
		g := l.golden(t, e)
		w, ok := want[e]
		if !ok {
			t.Fatalf("no golden for %q", e)
		}
		if formatProg(g.opt) != formatProg(w.opt) || formatProg(g.plain) != formatProg(w.plain) || g.err != w.err {
			t.Errorf("%q: libpcap's program is not the one in %s: regenerate it with -update", e, liveVLANFile)
		}
	}
}

// TestLiveVLANKernelAccepts attaches the programs CompileWith generates
// with LinuxVLAN to a socket: the kernel must take them all.
func TestLiveVLANKernelAccepts(t *testing.T) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Skipf("no socket: %v", err)
	}
	defer unix.Close(fd)
	for _, e := range liveVLANCases() {
		prog, err := CompileWith(LinkTypeEthernet, 0, e, Options{LinuxVLAN: true, Unroll: true})
		if err != nil {
			continue
		}
		fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
			if errors.Is(err, os.ErrPermission) {
				t.Skip("attaching a filter needs CAP_NET_RAW here")
			}
			t.Errorf("the kernel refuses the program for %q: %v\n%s", e, err, disasm(prog))
		}
	}
}
