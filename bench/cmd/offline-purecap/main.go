// Command offline-purecap is the savefile reading benchmark for purecap,
// the counterpart of libpcap/offline.c:
//
//	offline-purecap -f FILE -n COUNT [-mode NAME]
//
// It opens FILE (pcap or pcapng) with pcap.OpenOffline and reads it with
// Dispatch(-1, ...) until the end of the file, handing each packet to the
// same bookkeeping as the live capturers (the sequence number of each
// benchmark frame is read and checked), and prints one JSON line
// (capture.Result): CPU and wall time from before OpenOffline to the end of
// the last read.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/purecap/pcap"

	"github.com/purecap/pcap/bench/internal/capture"
)

func main() {
	fs := flag.NewFlagSet("offline-purecap", flag.ContinueOnError)
	file := fs.String("f", "", "savefile to read (required)")
	count := fs.Uint64("n", 0, "number of benchmark frames in the file (required)")
	mode := fs.String("mode", "offline", "benchmark mode, only echoed in the output")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if *file == "" || *count == 0 || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: offline-purecap -f FILE -n COUNT [-mode NAME]")
		os.Exit(2)
	}
	res, err := run(*file, *count, *mode)
	if err == nil {
		err = json.NewEncoder(os.Stdout).Encode(res)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "offline-purecap: %v\n", err)
		os.Exit(1)
	}
}

func run(file string, count uint64, mode string) (capture.Result, error) {
	c := capture.NewCounter(count)
	fn := func(data []byte, _ pcap.CaptureInfo) { c.Count(capture.Seq(data)) }
	cpu0, sys0, flt0, err := capture.CPUTime()
	if err != nil {
		return capture.Result{}, err
	}
	t0 := time.Now()
	h, err := pcap.OpenOffline(file)
	if err != nil {
		return capture.Result{}, err
	}
	defer h.Close()
	for {
		_, err := h.Dispatch(-1, fn)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return capture.Result{}, err
		}
	}
	wall := time.Since(t0)
	cpu1, sys1, flt1, err := capture.CPUTime()
	if err != nil {
		return capture.Result{}, err
	}
	r := capture.Result{
		Capturer:    "purecap",
		Mode:        mode,
		Captured:    c.Captured,
		Other:       c.Other,
		OutOfOrder:  c.OutOfOrder,
		End:         "eof",
		CPUNs:       int64(cpu1 - cpu0),
		SysNs:       int64(sys1 - sys0),
		MinorFaults: flt1 - flt0,
		WallNs:      int64(wall),
	}
	if c.Done {
		r.End = capture.EndComplete
	}
	if c.Captured > 0 {
		r.CPUNsPerPkt = capture.PerPacket(r.CPUNs, c.Captured)
		r.WallNsPerPkt = capture.PerPacket(r.WallNs, c.Captured)
	}
	return r, nil
}
