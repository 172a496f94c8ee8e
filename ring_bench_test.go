//go:build linux

package pcap

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// Benchmarks of the ring walkers over rings the synthetic kernel filled with
// 64-byte Ethernet packets, in the geometry Open asks for by default. Each
// iteration reads the whole ring; handing it back to user space for the next
// iteration is not timed.

// benchRing is a full ring.
type benchRing struct {
	k    *fakeKernel
	r    *ring
	pkts int // packets in the ring
}

func newBenchRing(b testing.TB, v TPacketVersion) *benchRing {
	req := ringRequest{version: v, reserve: 4, snaplen: 1500 + 18, bufferSize: DefaultBufferSize, pageSize: os.Getpagesize()}
	k, r := newTestRing(b, req.geometry(), linkEthernet, DefaultSnaplen, DirectionInOut)
	br := &benchRing{k: k, r: r}
	for k.rcv(makePkt(linkEthernet, br.pkts, 64)) {
		br.pkts++
	}
	return br
}

// refill hands every frame or block to user space again, as the kernel does
// once it has filled them.
func (br *benchRing) refill() {
	for i := 0; i < br.r.info.FrameNr; i++ {
		if br.r.info.Version == TPacketV3 {
			br.k.setBlockStatus(i, unix.TP_STATUS_USER)
		} else {
			br.k.setFrameStatus(i, unix.TP_STATUS_USER)
		}
	}
}

// run times readAll, which must read every packet of the ring, and reports
// the time per packet.
func (br *benchRing) run(b *testing.B, readAll func() int) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if n := readAll(); n != br.pkts {
			b.Fatalf("read %d packets of %d", n, br.pkts)
		}
		b.StopTimer()
		br.refill()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*br.pkts), "ns/pkt")
	b.ReportMetric(float64(br.pkts), "pkts/op")
}

// benchSink keeps the packets' bytes live.
var benchSink uint32

func benchZeroCopy(b *testing.B, v TPacketVersion) {
	br := newBenchRing(b, v)
	h := newRingHandle(br.r)
	br.run(b, func() int {
		n := 0
		sum := uint32(0)
		for {
			data, ci, err := h.ZeroCopyReadPacketData()
			if errors.Is(err, ErrTimeout) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			sum += uint32(data[14]) + uint32(ci.CaptureLength)
			n++
		}
		benchSink += sum
		return n
	})
}

// BenchmarkZeroCopyReadV2 reads a V2 ring a packet per call.
func BenchmarkZeroCopyReadV2(b *testing.B) { benchZeroCopy(b, TPacketV2) }

// BenchmarkZeroCopyReadV3 reads a V3 ring a packet per call.
func BenchmarkZeroCopyReadV3(b *testing.B) { benchZeroCopy(b, TPacketV3) }

// BenchmarkWalkV3 is Dispatch's loop at the ring level.
func BenchmarkWalkV3(b *testing.B) {
	br := newBenchRing(b, TPacketV3)
	sum := uint32(0)
	fn := func(data []byte, ci CaptureInfo) { sum += uint32(data[14]) + uint32(ci.CaptureLength) }
	br.run(b, func() int {
		n, err := br.r.walk(br.pkts+1, nil, fn)
		if err != nil {
			b.Fatal(err)
		}
		br.r.release()
		return n
	})
	benchSink += sum
}

func benchDispatch(b *testing.B, v TPacketVersion) {
	br := newBenchRing(b, v)
	h := newRingHandle(br.r)
	sum := uint32(0)
	fn := func(data []byte, ci CaptureInfo) { sum += uint32(data[14]) + uint32(ci.CaptureLength) }
	br.run(b, func() int { return dispatchAll(b, h, br.pkts, fn) })
	benchSink += sum
}

// dispatchAll calls Dispatch until it has delivered pkts packets.
func dispatchAll(b *testing.B, h *Handle, pkts int, fn func([]byte, CaptureInfo)) int {
	n := 0
	for n < pkts {
		m, err := h.Dispatch(-1, fn)
		if err != nil || m == 0 {
			b.Fatalf("Dispatch after %d packets: %d, %v", n, m, err)
		}
		n += m
	}
	return n
}

func BenchmarkDispatchV2(b *testing.B) { benchDispatch(b, TPacketV2) }
func BenchmarkDispatchV3(b *testing.B) { benchDispatch(b, TPacketV3) }
