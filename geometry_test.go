//go:build linux

package pcap

import (
	"fmt"
	"testing"
)

func TestRingGeometry(t *testing.T) {
	const MiB = 1 << 20
	eth := func(v TPacketVersion, snaplen, buf int) ringRequest {
		return ringRequest{version: v, reserve: 4, snaplen: snaplen, bufferSize: buf, pageSize: 4096}
	}
	cooked := func(v TPacketVersion, snaplen, buf int) ringRequest {
		return ringRequest{version: v, cooked: true, reserve: 8, snaplen: snaplen, bufferSize: buf, pageSize: 4096}
	}
	v3 := func(blockSize, buf, page int) ringRequest {
		return ringRequest{version: TPacketV3, reserve: 4, snaplen: DefaultSnaplen, bufferSize: buf, blockSize: blockSize, pageSize: page}
	}
	cases := []struct {
		name string
		req  ringRequest
		want RingInfo
	}{
		// Ethernet with offloads: frames of 65535+18 bytes after 84 bytes
		// of headers, one per 128 KiB block, as libpcap's 2 MiB default.
		{"V2 Ethernet 64 KiB frames", eth(TPacketV2, 65535+18, 2*MiB),
			RingInfo{TPacketV2, 128 << 10, 32, 65648, 32}},
		// MTU 1500: two 1616-byte frames per page.
		{"V2 Ethernet MTU 1500", eth(TPacketV2, 1500+18, 2*MiB),
			RingInfo{TPacketV2, 4096, 649, 1616, 1298}},
		{"V1 Ethernet MTU 1500", eth(TPacketV1, 1500+18, 2*MiB),
			RingInfo{TPacketV1, 4096, 649, 1616, 1298}},
		{"V2 snaplen 96", eth(TPacketV2, 96, MiB),
			RingInfo{TPacketV2, 4096, 260, 192, 5460}},
		// Cooked: the data at TPACKET_ALIGN(52) + 16 + 8 = 88.
		{"V2 cooked, default snaplen", cooked(TPacketV2, DefaultSnaplen, 8*MiB),
			RingInfo{TPacketV2, 512 << 10, 32, 262240, 32}},
		{"V1 cooked snaplen 1000", cooked(TPacketV1, 1000, 64<<10),
			RingInfo{TPacketV1, 4096, 20, 1088, 60}},
		// V3: as many blocks as the buffer holds, at least two.
		{"V3 default blocks", v3(0, 16*DefaultBlockSize, 4096),
			RingInfo{TPacketV3, DefaultBlockSize, 16, DefaultBlockSize, 16}},
		{"V3 default blocks, small buffer", v3(0, 100000, 4096),
			RingInfo{TPacketV3, DefaultBlockSize, 2, DefaultBlockSize, 2}},
		{"V3 256 KiB blocks", v3(256<<10, 8*MiB, 4096), RingInfo{TPacketV3, 256 << 10, 32, 256 << 10, 32}},
		{"V3 libpcap defaults", v3(256<<10, 2*MiB, 4096), RingInfo{TPacketV3, 256 << 10, 8, 256 << 10, 8}},
		{"V3 small buffer", v3(256<<10, 100000, 4096), RingInfo{TPacketV3, 256 << 10, 2, 256 << 10, 2}},
		{"V3 buffer not a block multiple", v3(256<<10, 256<<10+1, 4096), RingInfo{TPacketV3, 256 << 10, 2, 256 << 10, 2}},
		{"V3 block size rounded up", v3(100000, MiB, 4096), RingInfo{TPacketV3, 128 << 10, 8, 128 << 10, 8}},
		{"V3 block smaller than a page", v3(4096, MiB, 64<<10), RingInfo{TPacketV3, 64 << 10, 16, 64 << 10, 16}},
		{"V3 4 MiB blocks", v3(4*MiB, 64*MiB, 4096), RingInfo{TPacketV3, 4 * MiB, 16, 4 * MiB, 16}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.req.geometry(); got != c.want {
				t.Fatalf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestRingGeometryHoldsSnaplen(t *testing.T) {
	// Whatever the link header's length, the kernel (tpacket_rcv) puts the
	// packet where a frame still holds snaplen bytes of it: it would cut
	// packets short otherwise. And the geometry is one the kernel and
	// newRing accept.
	for _, v := range []TPacketVersion{TPacketV1, TPacketV2, TPacketV3} {
		for _, isCooked := range []bool{false, true} {
			reserve := 4
			if isCooked {
				reserve = 8
			}
			for _, snaplen := range append(seq(1, 600), 1514, 1518, 9018, 65553, DefaultSnaplen) {
				req := ringRequest{version: v, cooked: isCooked, reserve: reserve, snaplen: snaplen,
					bufferSize: 64 << 10, blockSize: 8192, pageSize: 4096}
				info := req.geometry()
				if err := geometryProblem(info, req); err != "" {
					t.Fatalf("%+v: %+v: %s", req, info, err)
				}
				if v == TPacketV3 {
					continue
				}
				hdrlen := sllEnd(v)
				maxMaclen := 256
				if isCooked {
					maxMaclen = 0
				}
				for maclen := 0; maclen <= maxMaclen; maclen++ {
					macoff := tpAlign(hdrlen+max(maclen, 16)) + reserve - maclen
					if isCooked {
						macoff = tpAlign(hdrlen) + 16 + reserve
					}
					if macoff+snaplen > info.FrameSize {
						t.Fatalf("%v cooked=%v snaplen %d: %d-byte frames, but a %d-byte link header puts the data at %d",
							v, isCooked, snaplen, info.FrameSize, maclen, macoff)
					}
				}
			}
		}
	}
}

// geometryProblem checks what the kernel's packet_set_ring and newRing ask
// of a ring.
func geometryProblem(info RingInfo, req ringRequest) string {
	switch {
	case info.Version != req.version:
		return "wrong version"
	case info.BlockSize <= 0 || info.BlockSize%req.pageSize != 0:
		return "block size not a multiple of the page size"
	case info.BlockSize&(info.BlockSize-1) != 0:
		return "block size not a power of two"
	case info.FrameSize <= 0 || info.FrameSize%16 != 0 || info.FrameSize > info.BlockSize:
		return "frame size not aligned or larger than a block"
	case info.BlockNr < 1 || info.FrameNr != info.BlockNr*(info.BlockSize/info.FrameSize):
		return "frame count not frames per block times blocks"
	case info.Version == TPacketV3 && (info.BlockNr < 2 || info.FrameSize != info.BlockSize):
		return "V3 ring of fewer than two blocks, or frames not blocks"
	case info.Version == TPacketV3 && info.BlockSize < req.blockSize:
		return "V3 blocks smaller than asked"
	}
	if _, err := newRing(make([]byte, info.Size()), info, decoder{}); err != nil {
		return err.Error()
	}
	return ""
}

func TestShrinkRing(t *testing.T) {
	// Each retry after ENOMEM asks for fewer frames (5% less, or one less
	// below 20), keeps the ring consistent, and the retries, which go on
	// while the ring has more than one block, come to an end.
	start := []RingInfo{
		{TPacketV2, 128 << 10, 32, 65648, 32},
		{TPacketV2, 4096, 649, 1616, 1298},
		{TPacketV2, 4096, 260, 192, 5460},
		{TPacketV1, 4096, 2, 192, 42},
		{TPacketV3, 256 << 10, 32, 256 << 10, 32},
		{TPacketV3, 256 << 10, 2, 256 << 10, 2},
	}
	for _, info := range start {
		t.Run(fmt.Sprintf("%v %dx%d", info.Version, info.FrameNr, info.FrameSize), func(t *testing.T) {
			for steps := 0; info.BlockNr > 1; steps++ {
				if steps > 1000 {
					t.Fatal("shrinking does not end")
				}
				next := shrinkRing(info)
				wantAtMost := info.FrameNr - max(info.FrameNr/20, 1)
				if next.FrameNr > wantAtMost || next.FrameNr < 1 {
					t.Fatalf("%+v shrinks to %+v: want at most %d frames", info, next, wantAtMost)
				}
				if fpb := next.BlockSize / next.FrameSize; next.FrameNr <= wantAtMost-fpb {
					t.Fatalf("%+v shrinks to %+v: more than 5%% and a block at once", info, next)
				}
				if next.Version != info.Version || next.FrameSize != info.FrameSize ||
					next.BlockNr < 1 || next.FrameNr != next.BlockNr*(next.BlockSize/next.FrameSize) {
					t.Fatalf("%+v shrinks to %+v: inconsistent", info, next)
				}
				if _, err := newRing(make([]byte, next.Size()), next, decoder{}); err != nil {
					t.Fatalf("%+v shrinks to %+v: %v", info, next, err)
				}
				info = next
			}
		})
	}
}

func TestNewRingRejects(t *testing.T) {
	ok := framesInfo(TPacketV2, 4096, 1024, 2)
	with := func(f func(*RingInfo)) RingInfo { i := ok; f(&i); return i }
	cases := []struct {
		name string
		info RingInfo
		size int // 0: info.Size()
	}{
		{"no blocks", with(func(i *RingInfo) { i.BlockNr = 0 }), 8192},
		{"negative frame count", with(func(i *RingInfo) { i.FrameNr = -8 }), 0},
		{"zero frame size", with(func(i *RingInfo) { i.FrameSize = 0 }), 0},
		{"zero block size", with(func(i *RingInfo) { i.BlockSize = 0 }), 8192},
		{"unaligned frames", framesInfo(TPacketV2, 4096, 1000, 2), 0},
		{"unaligned blocks", blocksInfo(4100, 2), 0},
		{"memory larger than the ring", ok, 8192 + 4096},
		{"memory smaller than the ring", ok, 4096},
		{"frames larger than blocks", with(func(i *RingInfo) { i.FrameSize = 8192 }), 0},
		{"frame count not per block", with(func(i *RingInfo) { i.FrameNr = 7 }), 0},
		{"V1 frames smaller than the header", framesInfo(TPacketV1, 4096, 48, 1), 0},
		{"V2 frames smaller than the header", framesInfo(TPacketV2, 4096, 48, 1), 0},
		{"V3 blocks smaller than the descriptor", blocksInfo(32, 2), 0},
		{"no version", with(func(i *RingInfo) { i.Version = TPacketAuto }), 0},
		{"unknown version", with(func(i *RingInfo) { i.Version = 4 }), 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			size := c.size
			if size == 0 {
				size = max(c.info.Size(), 0)
			}
			if r, err := newRing(make([]byte, size), c.info, decoder{}); err == nil {
				t.Fatalf("newRing(%d bytes, %+v) = %+v, want an error", size, c.info, r.info)
			}
		})
	}
	for _, info := range []RingInfo{ok, testGapFrames(TPacketV1), blocksInfo(64, 2), framesInfo(TPacketV2, 4096, 64, 1)} {
		if _, err := newRing(make([]byte, info.Size()), info, decoder{}); err != nil {
			t.Errorf("newRing(%+v): %v", info, err)
		}
	}
}
