// Command harness runs the live capture benchmark: it compares the CPU and
// wall time per packet of libpcap, purecap and gopacket's afpacket reading
// the same stream of frames from a TPACKET_V3 ring.
//
// It must run as root. It creates a network namespace holding a veth pair,
// builds the C frame generator, the libpcap capturer and the Go capturers
// into a temporary directory, then, for each mode and run, starts each
// capturer on one end of the pair and the generator on the other, and prints
// a markdown table per mode with the medians over the runs. No frame leaves
// the namespace, which is deleted at the end, on failure and on Ctrl-C.
//
// Run it from the bench module:
//
//	cd bench && go run ./cmd/harness [flags]
//
// See README.md for the modes and the columns of the tables.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// config holds the harness settings given on the command line.
type config struct {
	count     uint64
	modes     []string
	capturers []string
	runs      int
	ring      int
	drainRing int
	snaplen   int
	timeout   time.Duration
	idle      time.Duration
	batch     int
	pin       bool
	rotate    bool
	dir       string
	raw       string
	keep      bool
	verbose   bool
	// drainTogether: in the drain mode, every capturer of a run has its
	// ring filled by one pass of the generator.
	drainTogether bool
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("harness", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: harness [flags]   (as root, from the bench module)\n\n")
		fs.PrintDefaults()
	}
	var (
		c                config
		modes, capturers string
	)
	fs.Uint64Var(&c.count, "n", 1000000, "frames sent per run")
	fs.StringVar(&modes, "modes", "stream,stream-default,drain", "comma-separated modes: stream, stream-default, drain, dump, offline, offline-pcapng")
	fs.StringVar(&capturers, "capturers", "libpcap,purecap,afpacket", "comma-separated capturers: libpcap, purecap, afpacket")
	fs.IntVar(&c.runs, "runs", 3, "runs per mode; the tables show medians")
	fs.IntVar(&c.ring, "ring", 64<<20, "ring size in bytes for the stream mode")
	fs.IntVar(&c.drainRing, "drain-ring", 0, "ring size in bytes for the drain mode, 0 = n*512 rounded up to a MiB")
	fs.IntVar(&c.snaplen, "snaplen", 262144, "snapshot length of every capturer")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Millisecond, "read timeout and TPACKET_V3 block timeout of every capturer (whole ms)")
	fs.DurationVar(&c.idle, "idle", 300*time.Millisecond, "a capturer stops after this long without a packet (whole ms)")
	fs.IntVar(&c.batch, "batch", 512, "frames per sendmmsg call of the generator")
	fs.BoolVar(&c.pin, "pin", true, "pin the generator and the capturer to two different CPUs")
	fs.BoolVar(&c.rotate, "rotate", true, "rotate the capturers' order from run to run, so that each runs first equally often")
	fs.BoolVar(&c.drainTogether, "drain-together", false, "drain mode: open every capturer's ring before one pass of the generator fills them all, then read them back to back")
	fs.StringVar(&c.dir, "dir", "", "directory of the bench module (default: found from the current directory)")
	fs.StringVar(&c.raw, "raw", "", "also write every result as a JSON line to this file")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary build directory")
	fs.BoolVar(&c.verbose, "v", false, "print the commands run and every raw result")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.modes = splitList(modes)
	c.capturers = splitList(capturers)
	for _, m := range c.modes {
		if _, ok := modeByName[m]; !ok {
			return nil, fmt.Errorf("unknown mode %q (want stream, stream-default, drain, dump, offline or offline-pcapng)", m)
		}
	}
	for _, name := range c.capturers {
		if _, ok := capturerByName[name]; !ok {
			return nil, fmt.Errorf("unknown capturer %q (want libpcap, purecap or afpacket)", name)
		}
	}
	switch {
	case len(c.modes) == 0:
		return nil, errors.New("-modes is empty")
	case len(c.capturers) == 0:
		return nil, errors.New("-capturers is empty")
	case c.count == 0:
		return nil, errors.New("-n must be positive")
	case c.runs < 1:
		return nil, errors.New("-runs must be at least 1")
	case c.ring <= 0:
		return nil, errors.New("-ring must be positive (the stream-default mode uses each library's default)")
	case c.drainRing < 0:
		return nil, errors.New("-drain-ring must not be negative")
	case c.snaplen <= 0:
		return nil, errors.New("-snaplen must be positive")
	case c.timeout < time.Millisecond || c.idle < time.Millisecond:
		return nil, errors.New("-timeout and -idle must be at least 1ms")
	case c.batch < 1 || c.batch > 4096:
		return nil, errors.New("-batch must be between 1 and 4096")
	}
	if c.drainRing == 0 {
		c.drainRing = defaultDrainRing(c.count)
	}
	return &c, nil
}

// defaultDrainRing returns a ring size able to hold count benchmark frames
// whatever the block size: a 64-byte frame takes 160 bytes in a TPACKET_V3
// block, and while the generator runs, blocks are handed over when their
// retire timeout fires, often far from full (a 1 MiB block about 60% full at
// the generator's rate and a 10 ms timeout). 512 bytes per frame, rounded up
// to a MiB, holds them all.
func defaultDrainRing(count uint64) int {
	const mib = 1 << 20
	return int((count*512 + mib - 1) / mib * mib)
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "harness: %v\n", err)
		os.Exit(2)
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "harness: must run as root: it creates a network namespace and opens packet sockets\n"+
			"         (e.g. sudo env \"PATH=$PATH\" go run ./cmd/harness)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, cfg)
	interrupted := ctx.Err() != nil
	stop()
	if err != nil {
		if interrupted {
			err = errors.New("interrupted")
		}
		fmt.Fprintf(os.Stderr, "harness: %v\n", err)
		os.Exit(1)
	}
}
