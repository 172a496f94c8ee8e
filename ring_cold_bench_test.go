//go:build linux

package pcap

import (
	"os"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Benchmarks of a V3 ring read from memory rather than from cache, as in a
// capture that drains a large ring the kernel filled while the reader was
// behind: 256 MiB of 64-byte packets, with the caches flushed before each
// pass. They report the CPU time of the reading thread per packet
// (cpu-ns/pkt), which does not count time other processes took from it.
//
// BenchmarkCallbackFloorCold is the reference point: the same ring walked
// with no check at all, each packet handed to the same callback with a
// CaptureInfo holding its timestamp and lengths. What Dispatch costs above
// it is the price of its checks and of the other CaptureInfo fields.
// bench/floor/walk.c walks the same ring libpcap's way, in C.

// coldRingBytes is the size of the ring the cold benchmarks read.
const coldRingBytes = 256 << 20

// coldEvict is written over between passes to push the ring out of the
// caches (larger than any last-level cache of the machines we run on).
var coldEvict []byte

func evictCaches() {
	if coldEvict == nil {
		coldEvict = make([]byte, 96<<20)
	}
	for j := 0; j < len(coldEvict); j += 64 {
		coldEvict[j]++
	}
}

// threadCPU is the CPU time the calling thread has used.
func threadCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// coldRing fills a V3 ring of coldRingBytes with 64-byte packets.
func coldRing(b *testing.B) *benchRing {
	req := ringRequest{version: TPacketV3, reserve: 4, snaplen: 1500 + 18, bufferSize: coldRingBytes, pageSize: os.Getpagesize()}
	k, r := newTestRing(b, req.geometry(), linkEthernet, DefaultSnaplen, DirectionInOut)
	br := &benchRing{k: k, r: r}
	for k.rcv(makePkt(linkEthernet, br.pkts, 64)) {
		br.pkts++
	}
	return br
}

// runCold times read, which must read every packet of br, on a locked
// thread with the caches flushed before each pass.
func runCold(b *testing.B, br *benchRing, read func() int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpu time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		br.refill()
		evictCaches()
		b.StartTimer()
		t0 := threadCPU()
		if n := read(); n != br.pkts {
			b.Fatalf("read %d packets of %d", n, br.pkts)
		}
		cpu += threadCPU() - t0
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*br.pkts), "cpu-ns/pkt")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*br.pkts), "ns/pkt")
}

func BenchmarkDispatchV3Cold(b *testing.B) {
	br := coldRing(b)
	h := newRingHandle(br.r)
	sum := uint32(0)
	fn := func(data []byte, ci CaptureInfo) { sum += uint32(data[14]) + uint32(ci.CaptureLength) }
	runCold(b, br, func() int { return dispatchAll(b, h, br.pkts, fn) })
	benchSink += sum
}

func BenchmarkCallbackFloorCold(b *testing.B) {
	br := coldRing(b)
	r := br.r
	sum := uint32(0)
	fn := func(data []byte, ci CaptureInfo) { sum += uint32(data[14]) + uint32(ci.CaptureLength) }
	runCold(b, br, func() int {
		n := 0
		for blk := 0; blk < r.info.BlockNr; blk++ {
			base := blk * r.info.BlockSize
			num := int(blockNumPkts(r.mem, base))
			off := base + int(*(*uint32)(unsafe.Pointer(&r.mem[base+bdFirst])))
			for p := 0; p < num; p++ {
				hdr := (*unix.Tpacket3Hdr)(unsafe.Pointer(&r.mem[off]))
				mac := off + int(hdr.Mac)
				fn(r.mem[mac:mac+int(hdr.Snaplen)], CaptureInfo{
					Timestamp:     int64(hdr.Sec)*1e9 + int64(hdr.Nsec),
					CaptureLength: int(hdr.Snaplen),
					Length:        int(hdr.Len),
				})
				off += int(hdr.Next_offset)
				n++
			}
		}
		return n
	})
	benchSink += sum
}
