package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/purecap/pcap/bench/internal/capture"
)

// baseline is the capturer the others are compared with.
const baseline = "libpcap"

// sample is the outcome of one capturer in one run.
type sample struct {
	run int
	res capture.Result
	gen genResult
}

// report gathers the samples of one mode and renders them as a table.
type report struct {
	mode    mode
	cfg     *config
	order   []string // capturers in the order they first reported
	samples map[string][]sample
}

func newReport(m mode, cfg *config) *report {
	return &report{mode: m, cfg: cfg, samples: map[string][]sample{}}
}

func (r *report) add(run int, res capture.Result, gen genResult) {
	if _, ok := r.samples[res.Capturer]; !ok {
		r.order = append(r.order, res.Capturer)
	}
	r.samples[res.Capturer] = append(r.samples[res.Capturer], sample{run, res, gen})
}

// metric returns the per-packet figure a mode compares: CPU time when
// streaming, wall time when draining.
func (r *report) metric(res capture.Result) float64 {
	if r.mode.drain || r.mode.offline {
		return res.WallNsPerPkt
	}
	return res.CPUNsPerPkt
}

// ratio returns the median over the runs of the capturer's metric divided by
// the baseline's in the same run; ok is false without a baseline.
func (r *report) ratio(name string) (float64, bool) {
	base := map[int]float64{}
	for _, s := range r.samples[baseline] {
		base[s.run] = r.metric(s.res)
	}
	var ratios []float64
	for _, s := range r.samples[name] {
		if b, ok := base[s.run]; ok && b > 0 {
			ratios = append(ratios, r.metric(s.res)/b)
		}
	}
	if len(ratios) == 0 {
		return 0, false
	}
	return median(ratios), true
}

// markdown renders the table of the mode, followed by notes on the runs
// that did not capture every frame.
func (r *report) markdown() string {
	var b strings.Builder
	runs := len(r.samples[r.order[0]])
	ring := "each library's default ring"
	if n := r.mode.ring(r.cfg); n > 0 {
		ring = "ring " + formatBytes(n)
	}
	switch {
	case r.mode.offline && r.mode.ng:
		ring = "read from a pcapng file on tmpfs"
	case r.mode.offline:
		ring = "read from a pcap file on tmpfs"
	case r.mode.dump:
		ring += ", every packet written to a pcap file on tmpfs"
	}
	var pps []float64
	for _, ss := range r.samples {
		for _, s := range ss {
			pps = append(pps, s.gen.PPS)
		}
	}
	fmt.Fprintf(&b, "\n## %s\n\n", r.mode.name)
	if r.mode.offline {
		fmt.Fprintf(&b, "%d frames per run, %s, median of %d run(s).\n\n", r.cfg.count, ring, runs)
	} else {
		fmt.Fprintf(&b, "%d frames per run, %s, median of %d run(s); generator median %.3f Mframes/s.\n\n",
			r.cfg.count, ring, runs, median(pps)/1e6)
	}
	what := "CPU"
	if r.mode.drain || r.mode.offline {
		what = "wall"
	}
	file, fileSep := "", ""
	if r.mode.dump {
		file, fileSep = " file bytes |", "--:|"
	}
	fmt.Fprintf(&b, "| capturer | captured | drops | out-of-order | CPU ns/pkt | wall ns/pkt |%s %s vs %s |\n", file, what, baseline)
	b.WriteString("|---|--:|--:|--:|--:|--:|" + fileSep + "--:|\n")
	var notes []string
	for _, name := range r.order {
		ss := r.samples[name]
		col := func(f func(capture.Result) float64) float64 {
			v := make([]float64, len(ss))
			for i, s := range ss {
				v[i] = f(s.res)
			}
			return median(v)
		}
		ratio := "–"
		if q, ok := r.ratio(name); ok {
			ratio = fmt.Sprintf("%.2f", q)
		}
		if r.mode.dump {
			file = fmt.Sprintf(" %.0f |", col(func(x capture.Result) float64 { return float64(x.FileBytes) }))
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %.0f | %.1f | %.1f |%s %s |\n", name,
			col(func(x capture.Result) float64 { return float64(x.Captured) }),
			col(func(x capture.Result) float64 { return float64(x.Drops) }),
			col(func(x capture.Result) float64 { return float64(x.OutOfOrder) }),
			col(func(x capture.Result) float64 { return x.CPUNsPerPkt }),
			col(func(x capture.Result) float64 { return x.WallNsPerPkt }),
			file, ratio)
		for _, s := range ss {
			if s.res.End != capture.EndComplete || s.res.Captured != r.cfg.count {
				notes = append(notes, fmt.Sprintf("- %s, run %d: captured %d of %d frames, %d drops, ended: %s",
					name, s.run, s.res.Captured, r.cfg.count, s.res.Drops, s.res.End))
			}
		}
	}
	if len(notes) > 0 {
		b.WriteString("\nIncomplete runs:\n\n")
		b.WriteString(strings.Join(notes, "\n"))
		b.WriteString("\n")
	}
	return b.String()
}

// header describes the machine and the settings, above the tables.
func header(cfg *config, c cpus) string {
	var b strings.Builder
	b.WriteString("# Capture benchmark\n\n")
	fmt.Fprintf(&b, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- kernel: %s, %d CPU(s): %s\n", readTrim("/proc/sys/kernel/osrelease"), runtime.NumCPU(), cpuModel())
	fmt.Fprintf(&b, "- TPACKET_V3, snaplen %d, read/block timeout %v, generator batch %d\n",
		cfg.snaplen, cfg.timeout, cfg.batch)
	if c.gen >= 0 {
		fmt.Fprintf(&b, "- generator pinned to CPU %d, capturer to CPU %d\n", c.gen, c.capture)
	} else {
		b.WriteString("- generator and capturer not pinned\n")
	}
	return b.String()
}

func readTrim(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(data))
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown model"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown model"
}

// median returns the median of v, 0 if v is empty.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// formatBytes writes n in MiB or KiB when it is a whole number of them.
func formatBytes(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
