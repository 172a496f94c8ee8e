package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/purecap/pcap/bench/internal/capture"
)

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-n", "1000", "-modes", "drain, stream", "-capturers", "libpcap,afpacket", "-timeout", "20ms"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.count != 1000 || strings.Join(cfg.modes, ",") != "drain,stream" ||
		strings.Join(cfg.capturers, ",") != "libpcap,afpacket" || cfg.timeout != 20*time.Millisecond ||
		cfg.drainRing != 1<<20 || cfg.ring != 64<<20 || cfg.runs != 3 {
		t.Errorf("unexpected config %+v", cfg)
	}
	if !cfg.rotate {
		t.Error("-rotate is off by default")
	}
	if cfg, err := parseFlags([]string{"-rotate=false"}); err != nil || cfg.rotate {
		t.Errorf("-rotate=false: %+v, %v", cfg, err)
	}
	if cfg.drainTogether {
		t.Error("-drain-together is on by default")
	}
	if cfg, err := parseFlags([]string{"-drain-together"}); err != nil || !cfg.drainTogether {
		t.Errorf("-drain-together: %+v, %v", cfg, err)
	}
	for _, args := range [][]string{
		{"-modes", "fast"},
		{"-capturers", "libpcap,pcapgo"},
		{"-capturers", "purecap-dumper"},
		{"-capturers", "libpcap-ref"},
		{"-capturers", "purecap-ref"},
		{"-modes", ""},
		{"-n", "0"},
		{"-runs", "0"},
		{"-timeout", "100us"},
		{"extra"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) succeeded", args)
		}
	}
}

func TestDefaultDrainRing(t *testing.T) {
	for n, want := range map[uint64]int{1: 1 << 20, 2048: 1 << 20, 2049: 2 << 20, 1000000: 489 << 20} {
		if got := defaultDrainRing(n); got != want {
			t.Errorf("defaultDrainRing(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int]string{64 << 20: "64 MiB", 256 << 10: "256 KiB", 1000: "1000 bytes"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestReport(t *testing.T) {
	cfg := &config{count: 100, ring: 64 << 20, drainRing: 1 << 20}
	res := func(name string, captured uint64, cpu, wall float64) capture.Result {
		end := capture.EndComplete
		if captured < cfg.count {
			end = capture.EndIdle
		}
		return capture.Result{Capturer: name, Captured: captured, End: end, CPUNsPerPkt: cpu, WallNsPerPkt: wall}
	}
	gen := genResult{Sent: 100, PPS: 1e6}

	stream := newReport(modeByName["stream"], cfg)
	stream.add(1, res("libpcap", 100, 10, 100), gen)
	stream.add(1, res("purecap", 100, 20, 100), gen)
	stream.add(2, res("libpcap", 100, 20, 100), gen)
	stream.add(2, res("purecap", 99, 30, 100), gen)
	if q, ok := stream.ratio("purecap"); !ok || q != 1.75 {
		t.Errorf("stream ratio = %v, %v; want 1.75 (median of 2 and 1.5)", q, ok)
	}
	md := stream.markdown()
	for _, want := range []string{
		"## stream\n",
		"ring 64 MiB, median of 2 run(s)",
		"| capturer | captured | drops | out-of-order | CPU ns/pkt | wall ns/pkt | CPU vs libpcap |",
		"| libpcap | 100 | 0 | 0 | 15.0 | 100.0 | 1.00 |",
		"| purecap | 100 | 0 | 0 | 25.0 | 100.0 | 1.75 |",
		"- purecap, run 2: captured 99 of 100 frames, 0 drops, ended: idle",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}

	drain := newReport(modeByName["drain"], cfg)
	drain.add(1, res("afpacket", 100, 50, 40), gen)
	drain.add(1, res("libpcap", 100, 10, 20), gen)
	if q, ok := drain.ratio("afpacket"); !ok || q != 2 {
		t.Errorf("drain ratio = %v, %v; want 2 (wall time)", q, ok)
	}
	if md := drain.markdown(); !strings.Contains(md, "wall vs libpcap") || !strings.Contains(md, "| afpacket | 100 | 0 | 0 | 50.0 | 40.0 | 2.00 |") {
		t.Errorf("unexpected drain table:\n%s", md)
	}

	nobase := newReport(modeByName["stream-default"], cfg)
	nobase.add(1, res("purecap", 100, 20, 100), gen)
	if md := nobase.markdown(); !strings.Contains(md, "each library's default ring") || !strings.Contains(md, "| 20.0 | 100.0 | – |") {
		t.Errorf("unexpected table without baseline:\n%s", md)
	}
}

// TestCSourcesCompileCleanly compiles the C programs with warnings as errors.
func TestCSourcesCompileCleanly(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed")
	}
	benchDir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	ctx := context.Background()
	if err := gcc(ctx, filepath.Join(out, "gen"), filepath.Join(benchDir, "gen", "gen.c"), "-Werror"); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat("/usr/include/pcap/pcap.h"); err != nil {
		t.Skip("libpcap-dev not installed")
	}
	if err := capturerByName["libpcap"].build(ctx, benchDir, filepath.Join(out, "cap")); err != nil {
		t.Error(err)
	}
	// The libpcap build above does not pass -Werror: check its warnings too,
	// and those of the savefile reader.
	for _, src := range []string{"cap.c", "offline.c"} {
		cmd := exec.Command("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread", "-fsyntax-only",
			"-I", filepath.Join(benchDir, "gen"), filepath.Join(benchDir, "libpcap", src))
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", src, err, msg)
		}
	}
}

// TestEndToEnd runs the whole harness on a small count. It needs root and
// creates a network namespace, so it only runs when PURECAP_BENCH_E2E=1.
func TestEndToEnd(t *testing.T) {
	if os.Getenv("PURECAP_BENCH_E2E") != "1" {
		t.Skip("set PURECAP_BENCH_E2E=1 (as root) to run")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	capturers := os.Getenv("PURECAP_BENCH_CAPTURERS")
	if capturers == "" {
		capturers = "libpcap,purecap,afpacket"
	}
	cfg, err := parseFlags([]string{"-n", "20000", "-runs", "1", "-capturers", capturers, "-dir", "../.."})
	if err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
}

func TestRunOrder(t *testing.T) {
	caps := []string{"a", "b", "c"}
	for r, want := range []string{"a,b,c", "b,c,a", "c,a,b", "a,b,c"} {
		if got := strings.Join(runOrder(caps, r+1, true), ","); got != want {
			t.Errorf("run %d: %s, want %s", r+1, got, want)
		}
	}
	if got := strings.Join(runOrder(caps, 2, false), ","); got != "a,b,c" {
		t.Errorf("without rotation: %s", got)
	}
	if strings.Join(caps, ",") != "a,b,c" {
		t.Errorf("runOrder changed its argument: %v", caps)
	}
}
