package filtertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ibpf "github.com/purecap/pcap/internal/bpf"
)

func TestEdgePackets(t *testing.T) {
	for _, lt := range LinkTypes {
		pkts := EdgePackets(lt)
		if len(pkts) < 100 {
			t.Errorf("%s: only %d edge packets", lt, len(pkts))
		}
		names := map[string]bool{}
		truncated := 0
		for _, p := range pkts {
			if names[p.Name] {
				t.Errorf("%s: two packets named %s", lt, p.Name)
			}
			names[p.Name] = true
			if p.WireLen < len(p.Data) {
				t.Errorf("%s: wire length %d below captured length %d", p.Name, p.WireLen, len(p.Data))
			}
			if p.WireLen > len(p.Data) {
				truncated++
			}
		}
		t.Logf("%-10s %4d edge packets, %3d truncated", lt, len(pkts), truncated)
	}
	if EdgePackets("IEEE802_11") != nil {
		t.Error("edge packets for a link type without any")
	}
}

// TestCookedPacketTypes checks the cooked edge packets have every packet
// type in their header, consistent with their Aux.
func TestCookedPacketTypes(t *testing.T) {
	for _, lt := range []string{"LINUX_SLL", "LINUX_SLL2"} {
		seen := map[uint8]int{}
		for _, p := range EdgePackets(lt) {
			if len(p.Data) < 20 || p.WireLen != len(p.Data) {
				continue
			}
			pt := p.Data[1]
			if lt == "LINUX_SLL2" {
				pt = p.Data[10]
			}
			seen[pt]++
			if p.Aux != nil && p.Aux.PktType != pt {
				t.Errorf("%s: header says packet type %d, Aux %d", p.Name, pt, p.Aux.PktType)
			}
		}
		for pt := uint8(0); pt <= pktOutgoing; pt++ {
			if seen[pt] < 10 {
				t.Errorf("%s: %d packets of type %s", lt, seen[pt], pktTypeName(pt))
			}
		}
	}
}

// TestIPv4Checksums checks the IPv4 builder's header checksums.
func TestIPv4Checksums(t *testing.T) {
	for _, p := range networkPackets() {
		if p.etype != etherIPv4 {
			continue
		}
		hl := int(p.data[0]&0xf) * 4
		if hl < 20 || hl > len(p.data) || p.name == "ipv4-ihl6-no-opts" {
			continue
		}
		if c := checksum(p.data[:hl]); c != 0 {
			t.Errorf("%s: header checksum does not verify (%#04x)", p.name, c)
		}
	}
}

// TestInterpreterMatchesLibpcap runs libpcap's own filter code (tcpdump -r
// over a savefile of the packets) for the golden programs and requires the
// interpreter to accept exactly the same packets. It needs tcpdump. It
// checks one golden in 3 (one in 20 with -short, all with
// FILTERTEST_FULL=1): each check starts a tcpdump.
func TestInterpreterMatchesLibpcap(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip(ErrNoTcpdump)
	}
	shared, err := SharedDir()
	if err != nil && !errors.Is(err, ErrNoShared) {
		t.Fatal(err)
	}
	files := loadGoldensForTest(t)
	every := 3
	if testing.Short() {
		every = 20
	}
	if os.Getenv(FullEnv) == "1" {
		every = 1
	}
	dir := t.TempDir()
	for _, f := range files {
		pkts, err := Packets(shared, f.LinkType)
		if err != nil {
			t.Fatal(err)
		}
		num, _ := LinkTypeNumber(f.LinkType)
		path := filepath.Join(dir, f.LinkType+".pcap")
		var buf bytes.Buffer
		if err := WritePcap(&buf, num, pkts); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		// One tcpdump at a time: concurrent ones reading files are
		// much slower here than one after the other.
		checked, different := 0, 0
		for i, g := range f.Goldens {
			if g.Refused() || i%every != 0 {
				continue
			}
			var want []int
			for i, p := range pkts {
				// libpcap filters a savefile without the Linux
				// ancillary data.
				if ibpf.RunPlain(g.Program, p.Data, p.WireLen) != 0 {
					want = append(want, i)
				}
			}
			got, err := libpcapVerdicts(path, g.Expr)
			if errors.Is(err, errRefused) {
				continue // inbound, outbound and ifindex need a live capture
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) && !sameProgram(path, g) {
				// libpcap compiles the expression differently for a
				// savefile (NULL: BSD's values of AF_INET6).
				continue
			}
			checked++
			if !slices.Equal(got, want) {
				different++
				t.Errorf("%s %q: accepted by libpcap only: %s; by the interpreter only: %s",
					f.LinkType, g.Expr, describe(pkts, minus(got, want)), describe(pkts, minus(want, got)))
			}
		}
		t.Logf("%-10s %d expressions checked over %d packets, %d differ", f.LinkType, checked, len(pkts), different)
	}
}

// errRefused reports that libpcap refuses an expression for a savefile.
var errRefused = errors.New("libpcap refuses the expression for a savefile")

// libpcapVerdicts filters the savefile at path with tcpdump and returns the
// indexes of the packets libpcap accepts.
func libpcapVerdicts(path, expr string) ([]int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tcpdump", "-r", path, "-w", "-", "--", expr)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 1 {
			return nil, fmt.Errorf("%w: %s", errRefused, tcpdumpMessage(stderr.String()))
		}
		return nil, fmt.Errorf("tcpdump -r %s -w - %q: %v: %s", path, expr, err, stderr.String())
	}
	idx, err := ReadPcapIndexes(&stdout)
	if err != nil {
		return nil, fmt.Errorf("tcpdump -r %s -w - %q: %v", path, expr, err)
	}
	return idx, nil
}

// sameProgram reports whether libpcap compiles g's expression for the
// savefile at path into g's program.
func sameProgram(path string, g Golden) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "tcpdump", "-r", path, "-ddd", "--", g.Expr).Output()
	if err != nil {
		return false
	}
	p, err := ibpf.ParseDecimal(string(out))
	return err == nil && slices.Equal(p, g.Program)
}

// describe names up to a few packets of a list of indexes.
func describe(pkts []Packet, idx []int) string {
	var names []string
	for i, n := range idx {
		if i == 5 {
			names = append(names, fmt.Sprintf("… (%d in all)", len(idx)))
			break
		}
		names = append(names, pkts[n].Name)
	}
	if len(names) == 0 {
		return "nothing"
	}
	return strings.Join(names, ", ")
}

// minus returns the indexes of a that are not in b.
func minus(a, b []int) []int {
	var out []int
	for _, i := range a {
		if !slices.Contains(b, i) {
			out = append(out, i)
		}
	}
	return out
}
