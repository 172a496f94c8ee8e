package filtertest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"testing"

	ibpf "github.com/purecap/pcap/internal/bpf"
)

var update = flag.Bool("update", false, "regenerate the golden files in testdata/filter/golden with tcpdump")

// corpusForTest returns the expression corpus, with the shared part when
// it is present.
func corpusForTest(t *testing.T) (exprs []Expression, haveShared bool) {
	t.Helper()
	project, err := ProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	shared, err := SharedDir()
	if err != nil && !errors.Is(err, ErrNoShared) {
		t.Fatal(err)
	}
	exprs, err = Corpus(shared, project)
	if err != nil {
		t.Fatal(err)
	}
	return exprs, shared != ""
}

func loadGoldensForTest(t *testing.T) []GoldenFile {
	t.Helper()
	dir, err := GoldenDir()
	if err != nil {
		t.Fatal(err)
	}
	files, err := LoadGoldens(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no golden files in %s; make them with: go test ./internal/filtertest -run TestGenerateGoldens -update", dir)
	}
	return files
}

// TestGenerateGoldens regenerates the golden files when run with -update:
//
//	go test ./internal/filtertest -run TestGenerateGoldens -update
//
// It needs tcpdump, and the shared cases beside the checkout.
func TestGenerateGoldens(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate the golden files")
	}
	RequireShared(t)
	exprs, _ := corpusForTest(t)
	files, err := MakeGoldens(context.Background(), exprs, 2*runtime.GOMAXPROCS(0))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := GoldenDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := SaveGoldens(dir, files); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		ok, insns := 0, 0
		for _, g := range f.Goldens {
			if !g.Refused() {
				ok++
				insns += len(g.Program)
			}
		}
		t.Logf("%-10s %4d expressions: %4d compiled (%d instructions), %4d refused", f.LinkType, len(f.Goldens), ok, insns, len(f.Goldens)-ok)
	}
}

// TestGoldensComplete checks that every expression of the corpus has a
// golden, and (with the shared cases present) that every golden belongs to
// the corpus.
func TestGoldensComplete(t *testing.T) {
	exprs, haveShared := corpusForTest(t)
	files := loadGoldensForTest(t)
	have := map[[2]string]bool{}
	for _, f := range files {
		for _, g := range f.Goldens {
			have[[2]string{g.LinkType, g.Expr}] = true
		}
	}
	want := map[[2]string]bool{}
	var missing []string
	for _, e := range exprs {
		k := [2]string{e.LinkType, e.Expr}
		want[k] = true
		if !have[k] {
			missing = append(missing, fmt.Sprintf("%s\t%s (%s)", e.LinkType, e.Expr, e.Source))
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d expressions have no golden; regenerate with: go test ./internal/filtertest -run TestGenerateGoldens -update\n%s",
			len(missing), strings.Join(missing, "\n"))
	}
	if !haveShared {
		t.Log("shared filter cases not found: not checking for stale goldens")
		return
	}
	var stale []string
	for k := range have {
		if !want[k] {
			stale = append(stale, k[0]+"\t"+k[1])
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("%d goldens are for expressions no longer in the corpus; regenerate with -update:\n%s", len(stale), strings.Join(stale, "\n"))
	}
}

// TestGoldensCurrent recompiles every golden with the installed tcpdump
// and fails when one differs: the goldens must then be regenerated. It
// skips without tcpdump, or when tcpdump uses another libpcap version than
// the one that made the goldens; -short checks one golden in ten.
func TestGoldensCurrent(t *testing.T) {
	version, err := TcpdumpVersion()
	if err != nil {
		t.Skip(err)
	}
	files := loadGoldensForTest(t)
	var all []Golden
	for _, f := range files {
		if f.Version != version {
			t.Skipf("goldens of %s were made with %q, tcpdump here is %q: regenerate them with -update to compare",
				f.LinkType, f.Version, version)
		}
		all = append(all, f.Goldens...)
	}
	every := 1
	if testing.Short() {
		every = 10
	}
	mismatches, err := CheckGoldens(context.Background(), all, every, 2*runtime.GOMAXPROCS(0))
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range mismatches {
		if i == 20 {
			t.Errorf("… and %d more", len(mismatches)-i)
			break
		}
		t.Error(m)
	}
	if len(mismatches) > 0 {
		t.Log("regenerate the goldens with: go test ./internal/filtertest -run TestGenerateGoldens -update")
	}
}

// expectNoMatch lists the shared and project expressions whose libpcap
// program accepts none of the packets, and why that is right.
var expectNoMatch = map[string]string{
	"EN10MB\tip proto 256":             "the protocol field is one byte",
	"EN10MB\tprotochain 256":           "the protocol field is one byte",
	"EN10MB\tether proto 1500":         "libpcap compares the one-byte DSAP with 1500",
	"EN10MB\tether proto 0x05dc":       "libpcap compares the one-byte DSAP with 1500",
	"EN10MB\tether proto 65536":        "the type field is two bytes",
	"EN10MB\t-len < 0":                 "unsigned: -len >= 0 always holds, so the program rejects every packet",
	"EN10MB\tifindex 0":                "no interface has index 0",
	"LINUX_SLL\tisis":                  "libpcap 1.10 reads the NLPID of SLL ISO frames at the DSAP (0xfe), never 0x83",
	"LINUX_SLL\tesis":                  "libpcap 1.10 reads the NLPID of SLL ISO frames at the DSAP (0xfe), never 0x82",
	"LINUX_SLL\tclnp":                  "libpcap 1.10 reads the NLPID of SLL ISO frames at the DSAP (0xfe), never 0x81",
	"LINUX_SLL\tl1":                    "libpcap 1.10 reads the NLPID of SLL ISO frames at the DSAP (0xfe), never 0x83",
	"LINUX_SLL\tiih":                   "libpcap 1.10 reads the NLPID of SLL ISO frames at the DSAP (0xfe), never 0x83",
	"LINUX_SLL\tl2":                    "libpcap 1.10 reads the NLPID of SLL ISO frames at the DSAP (0xfe), never 0x83",
	"LINUX_SLL\tlsp or snp":            "libpcap 1.10 reads the NLPID of SLL ISO frames at the DSAP (0xfe), never 0x83",
	"LINUX_SLL\tisis proto 20":         "libpcap 1.10 reads the NLPID of SLL ISO frames at the DSAP (0xfe), never 0x83",
	"EN10MB\tgeneve and outbound":      "after geneve, libpcap loads the packet type at the ancillary offset plus the inner link-layer offset, beyond any packet",
	"LINUX_SLL\tgeneve and inbound":    "after geneve, libpcap loads the packet type at the ancillary offset plus the inner link-layer offset, beyond any packet",
	"LINUX_SLL2\tgeneve and ifindex 2": "after geneve, libpcap loads the interface index at the ancillary offset plus the inner link-layer offset, beyond any packet",
	"LINUX_SLL2\tether[14:2] = 0x800":  "bytes 14-15 of an SLL2 header are in the link-layer address, 0x2233 in every packet",
	"LINUX_SLL2\tlink[0:2] = 0":        "no packet has protocol 0",
	"RAW\tlink[0:4] = 2":               "the first word of an IP header is never 2",
	"NULL\tether[0] & 0xf0 = 0x40":     "the first byte is the address family (2 or 10)",
	"LOOP\tether[0] & 0xf0 = 0x40":     "the first byte of a big-endian address family is 0",
}

// TestGoldenCoverage runs every golden program over the packets of its
// link type. Each must be a valid program; the expressions whose program
// accepts no packet at all are reported, and for hand-written expressions
// that is an error unless expectNoMatch explains it: the packets should
// then be extended.
func TestGoldenCoverage(t *testing.T) {
	shared, err := SharedDir()
	if err != nil && !errors.Is(err, ErrNoShared) {
		t.Fatal(err)
	}
	if shared == "" {
		t.Log("shared corpus not found: edge packets only")
	}
	files := loadGoldensForTest(t)
	total, refused, none, all := 0, 0, 0, 0
	for _, f := range files {
		pkts, err := Packets(shared, f.LinkType)
		if err != nil {
			t.Fatal(err)
		}
		var gaps, everything []string
		for _, g := range f.Goldens {
			total++
			if g.Refused() {
				refused++
				continue
			}
			if err := ibpf.ValidateInterpreter(g.Program); err != nil {
				t.Errorf("%s %q: libpcap's program is invalid for the interpreter: %v", f.LinkType, g.Expr, err)
				continue
			}
			accepted := 0
			for _, p := range pkts {
				v := RunPacket(g.Program, p)
				if v != 0 {
					accepted++
					if v != Snaplen {
						t.Errorf("%s %q: program returned %d on %s, want %d", f.LinkType, g.Expr, v, p.Name, Snaplen)
					}
				}
			}
			switch accepted {
			case 0:
				none++
				key := f.LinkType + "\t" + g.Expr
				gaps = append(gaps, fmt.Sprintf("%-7s %s", g.Source, g.Expr))
				if g.Source != SourceRandom && expectNoMatch[key] == "" && shared != "" {
					t.Errorf("%s %q accepts none of the %d packets: add packets it matches, or explain it in expectNoMatch",
						f.LinkType, g.Expr, len(pkts))
				}
			case len(pkts):
				all++
				everything = append(everything, g.Expr)
			}
		}
		t.Logf("%s: %d packets, %d expressions (%d accept no packet, %d accept every packet)",
			f.LinkType, len(pkts), len(f.Goldens), len(gaps), len(everything))
		for _, g := range gaps {
			t.Logf("  accepts nothing: %s", g)
		}
	}
	t.Logf("total: %d goldens, %d refused by libpcap, %d accept no packet, %d accept every packet", total, refused, none, all)
}

// TestCorpusExpressions checks the lists parse and the generator is
// deterministic.
func TestCorpusExpressions(t *testing.T) {
	exprs, _ := corpusForTest(t)
	counts := map[string]map[string]int{}
	for _, e := range exprs {
		if counts[e.LinkType] == nil {
			counts[e.LinkType] = map[string]int{}
		}
		counts[e.LinkType][e.Source]++
	}
	for _, lt := range LinkTypes {
		c := counts[lt]
		t.Logf("%-10s shared %3d, project %3d, random %3d", lt, c[SourceShared], c[SourceProject], c[SourceRandom])
		if c[SourceProject] == 0 {
			t.Errorf("%s: no project expressions", lt)
		}
	}
	a := RandomExpressions("EN10MB", 1, 50)
	b := RandomExpressions("EN10MB", 1, 50)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Error("RandomExpressions is not deterministic")
	}
	if len(a) != 50 {
		t.Errorf("RandomExpressions made %d expressions, want 50", len(a))
	}
	if c := RandomExpressions("RAW", 1, 5); strings.Join(c, "\n") == strings.Join(a[:5], "\n") {
		t.Error("RandomExpressions gives the same expressions for two link types")
	}
}
