// Command capture-afpacket is the benchmark capturer for gopacket's afpacket
// package: a TPACKET_V3 ring read with ZeroCopyReadPacketData. See package
// internal/capture for its flags, its protocol with the harness and its
// output.
//
// afpacket has no snapshot length option: -snaplen is accepted for
// uniformity but unused (the benchmark frames are far shorter anyway). With
// -ring 0 the ring keeps afpacket's default geometry; otherwise it is made of
// 256 KiB blocks, like libpcap's and purecap's, enough of them to hold -ring
// bytes.
package main

import (
	"errors"
	"fmt"

	"github.com/gopacket/gopacket/afpacket"

	"github.com/purecap/pcap/bench/internal/capture"
)

// blockSize is the TPACKET_V3 block size used when -ring is given.
const blockSize = 256 << 10

// pollBatch bounds the packets read by one Poll, so that the measurement
// loop regains control regularly.
const pollBatch = 4096

type source struct {
	tp *afpacket.TPacket
	c  *capture.Counter
}

func open(o capture.Options, c *capture.Counter) (capture.Source, error) {
	if o.Write != "" || o.Variant != "" {
		return nil, errors.New("the afpacket capturer writes no file (-w) and has no variants")
	}
	opts := []any{
		afpacket.OptInterface(o.Interface),
		afpacket.OptTPacketVersion(afpacket.TPacketVersion3),
		afpacket.OptBlockTimeout(o.Timeout),
		afpacket.OptPollTimeout(o.Timeout),
	}
	if o.RingBytes > 0 {
		blocks := (o.RingBytes + blockSize - 1) / blockSize
		opts = append(opts, afpacket.OptBlockSize(blockSize), afpacket.OptNumBlocks(blocks))
	}
	tp, err := afpacket.NewTPacket(opts...)
	if err != nil {
		return nil, fmt.Errorf("afpacket: %w", err)
	}
	return &source{tp: tp, c: c}, nil
}

func (s *source) Poll() (int, error) {
	n := 0
	for n < pollBatch && !s.c.Done {
		data, _, err := s.tp.ZeroCopyReadPacketData()
		if errors.Is(err, afpacket.ErrTimeout) {
			break
		}
		if err != nil {
			return n, err
		}
		s.c.Count(capture.Seq(data))
		n++
	}
	return n, nil
}

func (s *source) Drops() (uint64, error) {
	_, v3, err := s.tp.SocketStats()
	if err != nil {
		return 0, err
	}
	return uint64(v3.Drops()), nil
}

func (s *source) Close() error {
	s.tp.Close()
	return nil
}

func main() {
	capture.Main("afpacket", open)
}
