// Package capture is the part shared by the Go benchmark capturers
// (cmd/capture-purecap and cmd/capture-afpacket): their command-line flags,
// the ready/go protocol with the harness, the measurement loop and the JSON
// result line. The libpcap capturer (libpcap/cap.c) implements the same
// interface in C.
//
// A capturer is run as
//
//	capture-X -i IFACE -n COUNT [-ring BYTES] [-mode NAME] [-snaplen N]
//	          [-timeout-ms MS] [-idle-ms MS] [-limit-ms MS]
//
// It opens its handle, prints "ready" on stdout and waits for a line "go" on
// stdin. The measured phase starts when "go" arrives and ends when the last
// sequence number (COUNT-1) has been captured, when no packet has arrived for
// the idle time after at least one did, or when the overall limit is reached.
// It then prints one JSON line (see Result) and exits.
package capture

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// Options are the command-line settings common to all capturers.
type Options struct {
	Interface string        // interface to capture on
	Count     uint64        // number of frames the generator sends
	RingBytes int           // ring buffer size in bytes, 0 = the library's default
	Mode      string        // benchmark mode, only echoed in the result
	Snaplen   int           // snapshot length
	Timeout   time.Duration // read timeout, also the TPACKET_V3 block timeout
	Idle      time.Duration // end the run after this long without a packet
	Limit     time.Duration // hard limit of the measured phase
	// Write, when set, is a file the capturer also writes every packet
	// to (pcap, microseconds), as tcpdump -w does.
	Write string
	// Variant selects a variant of the capturer (such as "dumper", the
	// purecap capturer writing through a FileDumper); it is appended to
	// the capturer's name in the result.
	Variant string
}

// Source is an open capture handle of the library under test.
type Source interface {
	// Poll reads the packets that are ready, waiting at most about the read
	// timeout for the first one, hands each to the Counter given to the
	// Opener, and returns how many it handled. It may stop early once the
	// Counter is Done.
	Poll() (int, error)
	// Drops returns how many packets the kernel has dropped for lack of room
	// in the ring since the handle was opened.
	Drops() (uint64, error)
	// Close releases the handle.
	Close() error
}

// Opener opens a Source configured by o that feeds the packets it reads to c.
type Opener func(o Options, c *Counter) (Source, error)

// End tells why a measured phase ended.
type End string

// The ways a measured phase ends.
const (
	EndComplete End = "complete" // the last sequence number was captured
	EndIdle     End = "idle"     // no packet for Options.Idle after the first one
	EndLimit    End = "limit"    // Options.Limit elapsed
)

// Result is the JSON line a capturer prints at the end of its run. The
// libpcap capturer prints the same fields.
type Result struct {
	Capturer     string  `json:"capturer"`
	Mode         string  `json:"mode"`
	RingBytes    int     `json:"ring_bytes"`
	Captured     uint64  `json:"captured"`        // benchmark frames captured
	Other        uint64  `json:"other"`           // other packets seen
	Drops        uint64  `json:"drops"`           // kernel drops reported by the library
	OutOfOrder   uint64  `json:"out_of_order"`    // see Counter.OutOfOrder
	End          End     `json:"end"`             // why the measured phase ended
	CPUNs        int64   `json:"cpu_ns"`          // user+system CPU time of the measured phase
	SysNs        int64   `json:"sys_ns"`          // the system part of CPUNs
	MinorFaults  int64   `json:"minor_faults"`    // page faults of the measured phase
	WallNs       int64   `json:"wall_ns"`         // from "go" to the end of the last read that returned packets
	CPUNsPerPkt  float64 `json:"cpu_ns_per_pkt"`  // CPUNs / Captured
	WallNsPerPkt float64 `json:"wall_ns_per_pkt"` // WallNs / Captured
	// FileBytes is the size of the file written (-w), filled in by the
	// harness.
	FileBytes int64 `json:"file_bytes,omitempty"`
}

var modeRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

// ParseFlags parses the common capturer flags from args (without the program
// name).
func ParseFlags(name string, args []string) (Options, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var (
		o                    Options
		timeout, idle, limit int
	)
	fs.StringVar(&o.Interface, "i", "", "interface to capture on (required)")
	fs.Uint64Var(&o.Count, "n", 0, "number of frames the generator sends (required)")
	fs.IntVar(&o.RingBytes, "ring", 0, "ring buffer size in bytes, 0 = the library's default")
	fs.StringVar(&o.Mode, "mode", "stream", "benchmark mode, only echoed in the output")
	fs.IntVar(&o.Snaplen, "snaplen", 262144, "snapshot length")
	fs.IntVar(&timeout, "timeout-ms", 10, "read timeout and TPACKET_V3 block timeout, in ms")
	fs.IntVar(&idle, "idle-ms", 300, "stop after this many ms without a packet")
	fs.IntVar(&limit, "limit-ms", 30000, "hard limit of the measured phase, in ms")
	fs.StringVar(&o.Write, "w", "", "also write every packet to this pcap file")
	fs.StringVar(&o.Variant, "variant", "", "variant of the capturer, appended to its name")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.Interface == "":
		return o, errors.New("missing -i IFACE")
	case o.Count == 0:
		return o, errors.New("missing -n COUNT")
	case o.RingBytes < 0:
		return o, errors.New("-ring must not be negative")
	case o.Snaplen <= 0:
		return o, errors.New("-snaplen must be positive")
	case timeout <= 0 || idle <= 0 || limit <= 0:
		return o, errors.New("-timeout-ms, -idle-ms and -limit-ms must be positive")
	case !modeRE.MatchString(o.Mode):
		return o, fmt.Errorf("invalid -mode %q: use lower-case letters, digits, '-' and '_'", o.Mode)
	case o.Variant != "" && !modeRE.MatchString(o.Variant):
		return o, fmt.Errorf("invalid -variant %q: use lower-case letters, digits, '-' and '_'", o.Variant)
	}
	o.Timeout = time.Duration(timeout) * time.Millisecond
	o.Idle = time.Duration(idle) * time.Millisecond
	o.Limit = time.Duration(limit) * time.Millisecond
	return o, nil
}

// Main is the whole program of a Go capturer named name: it parses the flags
// from os.Args, runs the benchmark with the Source open returns and exits,
// with status 1 and a message on stderr if anything failed.
func Main(name string, open Opener) {
	o, err := ParseFlags(name, os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err == nil {
		err = Run(name, o, open, os.Stdin, os.Stdout)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// Run opens the Source, speaks the ready/go protocol on in and out, measures
// and writes the Result as one JSON line to out.
func Run(name string, o Options, open Opener, in io.Reader, out io.Writer) error {
	c := NewCounter(o.Count)
	src, err := open(o, c)
	if err != nil {
		return fmt.Errorf("open %s: %w", o.Interface, err)
	}
	defer src.Close()

	if _, err := fmt.Fprintln(out, "ready"); err != nil {
		return err
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return fmt.Errorf(`waiting for "go" on stdin: %w`, err)
	}
	if line = strings.TrimSpace(line); line != "go" {
		return fmt.Errorf(`expected "go" on stdin, got %q`, line)
	}

	res, err := measure(o, c, src)
	if err != nil {
		return err
	}
	res.Capturer = name
	if o.Variant != "" {
		res.Capturer += "-" + o.Variant
	}
	if res.Drops, err = src.Drops(); err != nil {
		return fmt.Errorf("reading statistics: %w", err)
	}
	return json.NewEncoder(out).Encode(res)
}

// measure runs the measured phase: it polls src until the run is complete,
// idle or out of time.
func measure(o Options, c *Counter, src Source) (Result, error) {
	cpu0, sys0, flt0, err := CPUTime()
	if err != nil {
		return Result{}, err
	}
	start := time.Now()
	last := start // end of the last Poll that returned packets
	var end End
	for {
		n, err := src.Poll()
		if err != nil {
			return Result{}, fmt.Errorf("reading packets: %w", err)
		}
		now := time.Now()
		if n > 0 {
			last = now
		}
		if c.Done {
			end = EndComplete
			break
		}
		if c.Seen() > 0 && now.Sub(last) >= o.Idle {
			end = EndIdle
			break
		}
		if now.Sub(start) >= o.Limit {
			end = EndLimit
			break
		}
	}
	stop := time.Now()
	cpu1, sys1, flt1, err := CPUTime()
	if err != nil {
		return Result{}, err
	}
	if c.Seen() > 0 {
		stop = last
	}

	r := Result{
		Mode:        o.Mode,
		RingBytes:   o.RingBytes,
		Captured:    c.Captured,
		Other:       c.Other,
		OutOfOrder:  c.OutOfOrder,
		End:         end,
		CPUNs:       int64(cpu1 - cpu0),
		SysNs:       int64(sys1 - sys0),
		MinorFaults: flt1 - flt0,
		WallNs:      int64(stop.Sub(start)),
	}
	if c.Captured > 0 {
		r.CPUNsPerPkt = PerPacket(r.CPUNs, c.Captured)
		r.WallNsPerPkt = PerPacket(r.WallNs, c.Captured)
	}
	return r, nil
}

// PerPacket returns ns/n rounded to two decimals, as the libpcap capturer
// prints it.
func PerPacket(ns int64, n uint64) float64 {
	return math.Round(float64(ns)/float64(n)*100) / 100
}

// CPUTime returns the user plus system CPU time used so far by the process,
// the system part of it, and the number of minor page faults.
func CPUTime() (cpu, sys time.Duration, faults int64, err error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), time.Duration(ru.Stime.Nano()), ru.Minflt, nil
}
