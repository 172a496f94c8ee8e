// Command capture-purecap is the benchmark capturer for purecap: a
// TPACKET_V3 handle opened with pcap.Open and read with Dispatch(-1, ...).
// See package internal/capture for its flags, its protocol with the harness
// and its output.
package main

import (
	"errors"
	"fmt"

	"github.com/purecap/pcap"

	"github.com/purecap/pcap/bench/internal/capture"
)

type source struct {
	h  *pcap.Handle
	fn func(data []byte, ci pcap.CaptureInfo)
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
	return &source{
		h:  h,
		fn: func(data []byte, _ pcap.CaptureInfo) { c.Packet(data) },
	}, nil
}

func (s *source) Poll() (int, error) {
	n, err := s.h.Dispatch(-1, s.fn)
	if errors.Is(err, pcap.ErrTimeout) {
		err = nil
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
	return s.h.Close()
}

func main() {
	capture.Main("purecap", open)
}
