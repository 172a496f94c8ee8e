package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/purecap/pcap/bench/internal/capture"
)

// mode is a way of running the capturers.
type mode struct {
	name string
	// drain: the generator sends every frame before the capturer starts
	// reading, and the wall time to read the full ring is compared.
	// Otherwise the capturer reads while the generator sends, and the CPU
	// time is compared.
	drain bool
	// ring returns the ring size in bytes to ask for, 0 = library default.
	ring func(cfg *config) int
	// dump: as stream, and the capturer also writes every packet to a file
	// on tmpfs (pcap_dump, Writer.Dump, FileDumper.Dump).
	dump bool
	// offline: no live capture; the capturer reads a savefile of count
	// frames from tmpfs (pcapng instead of pcap with ng), and the wall
	// time is compared.
	offline, ng bool
}

var modeByName = map[string]mode{
	"stream":         {name: "stream", ring: func(cfg *config) int { return cfg.ring }},
	"stream-default": {name: "stream-default", ring: func(*config) int { return 0 }},
	"drain":          {name: "drain", drain: true, ring: func(cfg *config) int { return cfg.drainRing }},
	"dump":           {name: "dump", dump: true, ring: func(cfg *config) int { return cfg.ring }},
	"offline":        {name: "offline", offline: true, ring: func(*config) int { return 0 }},
	"offline-pcapng": {name: "offline-pcapng", offline: true, ng: true, ring: func(*config) int { return 0 }},
}

// capturers returns the capturers the mode runs, from those selected with
// -capturers: the dump mode runs purecap twice, writing through a
// pcap.Writer and through a pcap.FileDumper ("purecap-dumper"), and leaves
// afpacket out, which has no writer; the offline modes run libpcap and
// purecap.
func (m mode) capturers(selected []string) []string {
	if !m.dump && !m.offline {
		return selected
	}
	var out []string
	for _, c := range selected {
		switch {
		case c == "libpcap":
			out = append(out, c)
		case c == "purecap" && m.dump:
			out = append(out, c, "purecap-dumper")
		case c == "purecap":
			out = append(out, c)
		}
	}
	return out
}

// live says whether the mode captures from the veth pair.
func (m mode) live() bool { return !m.offline }

// genResult is the JSON line printed by the generator.
type genResult struct {
	Sent      uint64  `json:"sent"`
	ElapsedNs int64   `json:"elapsed_ns"`
	PPS       float64 `json:"pps"`
	Retries   uint64  `json:"retries"`
}

// cpus says where to pin the generator and the capturers; -1 = not pinned.
type cpus struct{ gen, capture int }

// pickCPUs returns the first and the last CPU the harness may run on, or no
// pinning if pin is false or fewer than two CPUs are available.
func pickCPUs(pin bool) cpus {
	none := cpus{-1, -1}
	if !pin {
		return none
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		warnf("taskset not found in PATH (util-linux): not pinning to CPUs")
		return none
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		warnf("sched_getaffinity: %v: not pinning to CPUs", err)
		return none
	}
	var allowed []int
	for i := 0; i < len(set)*64; i++ {
		if set.IsSet(i) {
			allowed = append(allowed, i)
		}
	}
	if len(allowed) < 2 {
		warnf("fewer than two CPUs available: not pinning")
		return none
	}
	return cpus{gen: allowed[0], capture: allowed[len(allowed)-1]}
}

// bench is everything a run needs.
type bench struct {
	cfg  *config
	ns   *netns
	bins map[string]string
	cpus cpus
	// shm is the tmpfs directory of the files the dump mode writes and the
	// offline modes read; files maps "pcap" and "pcapng" to the latter.
	shm   string
	files map[string]string
}

// limit is the hard limit given to the capturers for their measured phase:
// 30 s, or more for large counts (20 µs a frame).
func (b *bench) limit() time.Duration {
	return max(30*time.Second, time.Duration(b.cfg.count)*20*time.Microsecond)
}

// runOne runs capturer name once in mode m, together with the generator:
// the capturer reads while the generator sends.
func (b *bench) runOne(ctx context.Context, m mode, name string) (capture.Result, genResult, error) {
	var gen genResult
	if m.offline {
		return b.runOffline(ctx, m, name)
	}
	p, err := b.startCapturer(ctx, m, name)
	if err != nil {
		return capture.Result{}, gen, err
	}
	if err := p.sendGo(); err != nil { // it stops the capturer
		return capture.Result{}, gen, err
	}
	if gen, err = b.runGen(ctx); err != nil {
		return capture.Result{}, gen, p.fail(err)
	}
	res, err := p.result(ctx, b.limit())
	return res, gen, err
}

// runDrain runs the capturers named, in this order, once in the drain mode:
// they all open their rings, the generator sends every frame (each ring gets
// a copy of each), and then they read their rings one after the other, back
// to back. With -drain-together the group is every capturer of the run, so
// that their rings hold the same frames written at the same rate and are
// read within milliseconds of each other; otherwise each capturer is a group
// of its own.
func (b *bench) runDrain(ctx context.Context, m mode, names []string) ([]capture.Result, genResult, error) {
	var gen genResult
	procs := make([]*capProc, 0, len(names))
	fail := func(err error) ([]capture.Result, genResult, error) {
		for _, p := range procs {
			if p != nil {
				p.fail(nil)
			}
		}
		return nil, gen, err
	}
	for _, name := range names {
		p, err := b.startCapturer(ctx, m, name)
		if err != nil {
			return fail(err)
		}
		procs = append(procs, p)
	}
	var err error
	if gen, err = b.runGen(ctx); err != nil {
		return fail(err)
	}
	// Let the kernel retire the last, partly filled block.
	if err := sleep(ctx, 2*b.cfg.timeout+100*time.Millisecond); err != nil {
		return fail(err)
	}
	results := make([]capture.Result, len(procs))
	for i, p := range procs {
		procs[i] = nil // sendGo and result stop it on failure
		if err := p.sendGo(); err != nil {
			return fail(fmt.Errorf("%s: %w", p.name, err))
		}
		res, err := p.result(ctx, b.limit())
		if err != nil {
			return fail(fmt.Errorf("%s: %w", p.name, err))
		}
		results[i] = res
	}
	return results, gen, nil
}

// capProc is a capturer process that has printed "ready".
type capProc struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *bytes.Buffer
	out    string // the file it writes in the dump mode
}

// startCapturer starts capturer name for mode m and waits until it is
// ready.
func (b *bench) startCapturer(ctx context.Context, m mode, name string) (*capProc, error) {
	ms := func(d time.Duration) string { return fmt.Sprint(d.Milliseconds()) }
	bin, variant, _ := strings.Cut(name, "-")
	args := []string{
		"-i", capIface,
		"-n", fmt.Sprint(b.cfg.count),
		"-ring", fmt.Sprint(m.ring(b.cfg)),
		"-mode", m.name,
		"-snaplen", fmt.Sprint(b.cfg.snaplen),
		"-timeout-ms", ms(b.cfg.timeout),
		"-idle-ms", ms(b.cfg.idle),
		"-limit-ms", ms(b.limit()),
	}
	p := &capProc{name: name, stderr: new(bytes.Buffer)}
	if m.dump {
		p.out = filepath.Join(b.shm, name+".pcap")
		args = append(args, "-w", p.out)
	}
	if variant != "" {
		args = append(args, "-variant", variant)
	}
	p.cmd = b.ns.command(ctx, b.cpus.capture, append([]string{b.bins[bin]}, args...)...)
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the capturer: %w", err)
	}
	p.lines = make(chan string, 16)
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		// Keep reading, so that the capturer never blocks on a full pipe.
		io.Copy(io.Discard, stdout)
	}()
	line, err := nextLine(ctx, p.lines, 30*time.Second, "ready")
	if err != nil {
		return nil, p.fail(err)
	}
	if line != "ready" {
		return nil, p.fail(fmt.Errorf(`capturer printed %q, want "ready"`, line))
	}
	return p, nil
}

// fail stops the capturer, removes the file it wrote, and returns err with
// what the capturer printed on stderr added.
func (p *capProc) fail(err error) error {
	p.cmd.Process.Kill()
	p.cmd.Wait()
	if p.out != "" {
		os.Remove(p.out)
	}
	if msg := strings.TrimSpace(p.stderr.String()); msg != "" && err != nil {
		err = fmt.Errorf("%w\ncapturer stderr:\n%s", err, msg)
	}
	return err
}

// sendGo starts the capturer's measured phase.
func (p *capProc) sendGo() error {
	if _, err := io.WriteString(p.stdin, "go\n"); err != nil {
		return p.fail(fmt.Errorf(`sending "go": %w`, err))
	}
	return nil
}

// result waits for the capturer's result, at most limit and 30 s more, and
// for the capturer to exit. The capturer is stopped on failure.
func (p *capProc) result(ctx context.Context, limit time.Duration) (capture.Result, error) {
	var res capture.Result
	line, err := nextLine(ctx, p.lines, limit+30*time.Second, "the result")
	if err != nil {
		return res, p.fail(err)
	}
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		return res, p.fail(fmt.Errorf("capturer printed %q: %w", line, err))
	}
	p.stdin.Close()
	if err := p.cmd.Wait(); err != nil {
		return res, p.fail(fmt.Errorf("capturer: %w", err))
	}
	if msg := strings.TrimSpace(p.stderr.String()); msg != "" {
		warnf("%s capturer: %s", p.name, msg)
	}
	if p.out != "" {
		st, err := os.Stat(p.out)
		os.Remove(p.out)
		if err != nil {
			return res, fmt.Errorf("the file the capturer wrote: %w", err)
		}
		res.FileBytes = st.Size()
	}
	return res, nil
}

// runOffline runs the savefile reader of capturer name once.
func (b *bench) runOffline(ctx context.Context, m mode, name string) (capture.Result, genResult, error) {
	var res capture.Result
	file := b.files["pcap"]
	if m.ng {
		file = b.files["pcapng"]
	}
	argv := []string{b.bins["offline-"+name], "-f", file, "-n", fmt.Sprint(b.cfg.count), "-mode", m.name}
	if b.cpus.capture >= 0 {
		argv = append([]string{"taskset", "-c", fmt.Sprint(b.cpus.capture)}, argv...)
	}
	logf("+ %s", strings.Join(argv, " "))
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out, err := cmd.Output()
	if err != nil {
		return res, genResult{}, fmt.Errorf("%s: %w", argv[0], exitError(err))
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &res); err != nil {
		return res, genResult{}, fmt.Errorf("%s printed %q: %w", argv[0], out, err)
	}
	return res, genResult{}, nil
}

// runGen runs the generator to completion.
func (b *bench) runGen(ctx context.Context) (genResult, error) {
	var g genResult
	cmd := b.ns.command(ctx, b.cpus.gen, b.bins["gen"],
		"-b", fmt.Sprint(b.cfg.batch), "-d", b.ns.capMAC, genIface, fmt.Sprint(b.cfg.count))
	out, err := cmd.Output()
	if err != nil {
		return g, fmt.Errorf("generator: %w", exitError(err))
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &g); err != nil {
		return g, fmt.Errorf("generator printed %q: %w", out, err)
	}
	if g.Sent != b.cfg.count {
		return g, fmt.Errorf("generator sent %d frames, want %d", g.Sent, b.cfg.count)
	}
	return g, nil
}

// nextLine waits at most timeout for the next line from the capturer.
func nextLine(ctx context.Context, lines <-chan string, timeout time.Duration, what string) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case line, ok := <-lines:
		if !ok {
			return "", fmt.Errorf("capturer exited before printing %s", what)
		}
		return line, nil
	case <-t.C:
		return "", fmt.Errorf("capturer printed no %s within %v", what, timeout)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run builds everything, sets the namespace up, runs every mode and prints
// the tables.
func run(ctx context.Context, cfg *config) (err error) {
	verbose = cfg.verbose
	benchDir, err := findBenchDir(ctx, cfg.dir)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "purecap-bench-")
	if err != nil {
		return err
	}
	if cfg.keep {
		fmt.Fprintf(os.Stderr, "harness: programs built in %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	fmt.Fprintf(os.Stderr, "harness: building into %s\n", tmp)
	var live, offline, dump bool
	for _, name := range cfg.modes {
		m := modeByName[name]
		live = live || m.live()
		offline = offline || m.offline
		dump = dump || m.dump
	}
	bins, err := buildAll(ctx, benchDir, tmp, cfg.capturers, offline)
	if err != nil {
		return err
	}
	b := &bench{cfg: cfg, bins: bins, cpus: pickCPUs(cfg.pin)}
	if offline || dump {
		if b.shm, err = os.MkdirTemp(shmDir(), "purecap-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(b.shm)
	}
	if offline {
		fmt.Fprintf(os.Stderr, "harness: writing %d frames to savefiles in %s\n", cfg.count, b.shm)
		if b.files, err = writeSavefiles(b.shm, cfg.count); err != nil {
			return err
		}
	}

	var raw *os.File
	if cfg.raw != "" {
		if raw, err = os.Create(cfg.raw); err != nil {
			return err
		}
		defer func() {
			if cerr := raw.Close(); err == nil {
				err = cerr
			}
		}()
	}

	if live {
		ns, err := newNetns(ctx)
		if err != nil {
			return fmt.Errorf("setting up the network namespace: %w", err)
		}
		defer ns.delete()
		b.ns = ns
		fmt.Fprintf(os.Stderr, "harness: namespace %s, generator on %s (CPU %s), capturers on %s (CPU %s)\n",
			ns.name, genIface, cpuName(b.cpus.gen), capIface, cpuName(b.cpus.capture))
	}

	fmt.Print(header(cfg, b.cpus))
	for _, name := range cfg.modes {
		m := modeByName[name]
		rep := newReport(m, cfg)
		for r := 1; r <= cfg.runs; r++ {
			record := func(c string, res capture.Result, gen genResult) error {
				fmt.Fprintf(os.Stderr, "harness: %s run %d/%d %-14s captured %d/%d, drops %d, out-of-order %d, end %s, "+
					"%.1f CPU ns/pkt (%.1f system, %d page faults), %.1f wall ns/pkt (generator %.0f frames/s)\n",
					m.name, r, cfg.runs, c, res.Captured, cfg.count, res.Drops, res.OutOfOrder, res.End,
					res.CPUNsPerPkt, float64(res.SysNs)/float64(max(res.Captured, 1)), res.MinorFaults, res.WallNsPerPkt, gen.PPS)
				rep.add(r, res, gen)
				if raw != nil {
					if err := json.NewEncoder(raw).Encode(rawLine{Run: r, Mode: m.name, Result: res, Generator: gen}); err != nil {
						return fmt.Errorf("writing %s: %w", cfg.raw, err)
					}
				}
				return nil
			}
			order := runOrder(m.capturers(cfg.capturers), r, cfg.rotate)
			if m.drain {
				groups := [][]string{order}
				if !cfg.drainTogether {
					groups = groups[:0]
					for _, c := range order {
						groups = append(groups, []string{c})
					}
				}
				for _, g := range groups {
					results, gen, err := b.runDrain(ctx, m, g)
					if err != nil {
						return fmt.Errorf("mode %s, run %d: %w", m.name, r, err)
					}
					for i, c := range g {
						if err := record(c, results[i], gen); err != nil {
							return err
						}
					}
				}
				continue
			}
			for _, c := range order {
				res, gen, err := b.runOne(ctx, m, c)
				if err != nil {
					return fmt.Errorf("mode %s, run %d, %s: %w", m.name, r, c, err)
				}
				if err := record(c, res, gen); err != nil {
					return err
				}
			}
		}
		fmt.Print(rep.markdown())
	}
	return nil
}

// rawLine is one line of the -raw output.
type rawLine struct {
	Run       int            `json:"run"`
	Mode      string         `json:"mode"`
	Result    capture.Result `json:"result"`
	Generator genResult      `json:"generator"`
}

func cpuName(cpu int) string {
	if cpu < 0 {
		return "any"
	}
	return fmt.Sprint(cpu)
}

// verbose makes logf print.
var verbose bool

// logf prints a progress message when -v is given.
func logf(format string, args ...any) {
	if verbose {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}
}

// warnf prints a warning.
func warnf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "harness: warning: "+format+"\n", args...)
}

// runOrder is the order in which run r (from 1) runs the capturers: as
// given, or with rotate, starting with the (r-1)th, so that over the runs
// each one goes first, second, ... equally often: in the drain mode, sets
// of runs in a fixed order have favoured whichever capturer ran second.
func runOrder(caps []string, r int, rotate bool) []string {
	if !rotate || len(caps) == 0 {
		return caps
	}
	k := (r - 1) % len(caps)
	return append(append([]string(nil), caps[k:]...), caps[:k]...)
}
