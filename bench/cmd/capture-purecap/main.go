// Command capture-purecap is the benchmark capturer for purecap: a
// TPACKET_V3 handle opened with pcap.Open and read with Dispatch(-1, ...).
// With -w FILE it also writes every packet to FILE through a pcap.Writer
// (Writer.Dump), or with -variant dumper through a pcap.FileDumper.
// See package internal/capture for its flags, its protocol with the harness
// and its output.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/purecap/pcap"

	"github.com/purecap/pcap/bench/internal/capture"
)

type source struct {
	h  *pcap.Handle
	fn func(data []byte, ci pcap.CaptureInfo)
	// With -w: the file and its writer (Writer.Dump), or the FileDumper
	// (-variant dumper).
	f *os.File
	w *pcap.Writer
	d *pcap.FileDumper
}

func open(o capture.Options, c *capture.Counter) (capture.Source, error) {
	h, err := pcap.Open(o.Interface, pcap.Config{
		Snaplen:        o.Snaplen,
		Timeout:        o.Timeout,
		BufferSize:     o.RingBytes, // 0: purecap's default
		TPacketVersion: pcap.TPacketV3,
		BlockTimeout:   o.Timeout,
	})
	if err != nil {
		return nil, err
	}
	if v := h.Ring().Version; v != pcap.TPacketV3 {
		h.Close()
		return nil, fmt.Errorf("got TPACKET version %v, want V3", v)
	}
	s := &source{h: h, fn: func(data []byte, _ pcap.CaptureInfo) { c.Count(capture.Seq(data)) }}
	switch {
	case o.Write == "" && o.Variant == "":
	case o.Write != "" && o.Variant == "":
		if s.f, err = os.Create(o.Write); err == nil {
			s.w, err = pcap.NewWriter(s.f, h.LinkType(), h.SnapLen())
		}
		s.fn = func(data []byte, ci pcap.CaptureInfo) {
			s.w.Dump(data, ci)
			c.Count(capture.Seq(data))
		}
	case o.Write != "" && o.Variant == "dumper":
		s.d, err = pcap.NewFileDumper(o.Write, h.LinkType(), h.SnapLen(), pcap.DumperOptions{})
		s.fn = func(data []byte, ci pcap.CaptureInfo) {
			s.d.Dump(data, ci)
			c.Count(capture.Seq(data))
		}
	default:
		err = fmt.Errorf("unknown -variant %q (with -w: none or dumper)", o.Variant)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *source) Poll() (int, error) {
	var n int
	var err error
	n, err = s.h.Dispatch(-1, s.fn)
	if errors.Is(err, pcap.ErrTimeout) {
		err = nil
	}
	if err == nil && s.w != nil {
		err = s.w.Err()
	}
	if err == nil && s.d != nil {
		err = s.d.Err()
	}
	return n, err
}

func (s *source) Drops() (uint64, error) {
	st, err := s.h.Stats()
	if err != nil {
		return 0, err
	}
	return uint64(st.PacketsDropped), nil
}

func (s *source) Close() error {
	var err error
	if s.w != nil {
		err = s.w.Close()
	}
	if s.f != nil {
		if cerr := s.f.Close(); err == nil {
			err = cerr
		}
	}
	if s.d != nil {
		if cerr := s.d.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := s.h.Close(); err == nil {
		err = cerr
	}
	return err
}

func main() {
	capture.Main("purecap", open)
}
