//go:build linux

package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The ring fuzzers take the ring's memory from the input, hand every frame
// or block to user space, and walk them all. Whatever the kernel could have
// written there, the walker must not panic, must return data only from
// inside the frame or block it came from, no longer than the snapshot
// length, must come to an end and must hand everything back.
//
// Input: geometry, link, direction, snaplen (2 bytes, 0 for the default),
// walk mode, then the ring's memory.

const fuzzHeaderLen = 6

// fuzzGeometries are small rings, so that inputs cover them whole: frames
// that fill their blocks or leave a gap, blocks of a few packets.
var fuzzGeometries = map[TPacketVersion][]RingInfo{
	TPacketV1: {framesInfo(TPacketV1, 1024, 256, 2), framesInfo(TPacketV1, 1024, 336, 2)},
	TPacketV2: {framesInfo(TPacketV2, 1024, 256, 2), framesInfo(TPacketV2, 1024, 336, 2)},
	TPacketV3: {blocksInfo(1024, 3), blocksInfo(512, 2)},
}

func FuzzRingV1(f *testing.F) { fuzzRing(f, TPacketV1) }
func FuzzRingV2(f *testing.F) { fuzzRing(f, TPacketV2) }
func FuzzRingV3(f *testing.F) { fuzzRing(f, TPacketV3) }

func fuzzRing(f *testing.F, v TPacketVersion) {
	for gi, info := range fuzzGeometries[v] {
		for _, link := range allLinks {
			for _, mode := range []byte{0, 1, 2} {
				f.Add(fuzzSeed(info, gi, link, mode))
			}
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < fuzzHeaderLen {
			return
		}
		geoms := fuzzGeometries[v]
		info := geoms[int(in[0])%len(geoms)]
		link := allLinks[int(in[1])%len(allLinks)]
		dir := Direction(in[2] % 3)
		snaplen := int(binary.LittleEndian.Uint16(in[3:]))
		if snaplen == 0 {
			snaplen = DefaultSnaplen
		}
		mode := in[5]
		if mode%3 != 2 {
			// ZeroCopyReadPacketData's fast paths must give what the walk
			// gives, packet for packet.
			slow := readAllFuzz(t, info, link, snaplen, dir, in[fuzzHeaderLen:], mode%3 == 1, false)
			fast := readAllFuzz(t, info, link, snaplen, dir, in[fuzzHeaderLen:], mode%3 == 1, true)
			if len(slow) != len(fast) {
				t.Fatalf("the walk reads %d packets or errors, the fast paths %d", len(slow), len(fast))
			}
			for i := range slow {
				if slow[i].err != fast[i].err || string(slow[i].data) != string(fast[i].data) || slow[i].ci != fast[i].ci {
					t.Fatalf("read %d: the walk gives %+v, the fast paths %+v", i, slow[i], fast[i])
				}
			}
			// So must Dispatch's walk, a few packets a call.
			lim := walkAllFuzz(t, info, link, snaplen, dir, in[fuzzHeaderLen:], 1+int(mode/3)%5)
			if len(slow) != len(lim) {
				t.Fatalf("the walk reads %d packets or errors one at a time, %d a few at a time", len(slow), len(lim))
			}
			for i := range slow {
				if slow[i].err != lim[i].err || string(slow[i].data) != string(lim[i].data) || slow[i].ci != lim[i].ci {
					t.Fatalf("read %d: one at a time gives %+v, a few at a time %+v", i, slow[i], lim[i])
				}
			}
		}
		k, r := fuzzRingOf(t, info, link, snaplen, dir, in[fuzzHeaderLen:])
		units := info.FrameNr // frames, or V3 blocks
		// Each call returns a packet or an error, or moves past a frame or
		// block; a V3 block holds at most one packet per header's room.
		bound := units*(info.BlockSize/unix.SizeofTpacket3Hdr+2) + 2
		for calls := 0; ; calls++ {
			if calls > bound {
				t.Fatalf("next still returns packets after %d calls", calls)
			}
			var ci CaptureInfo
			data, ok, err := r.next(&ci)
			if err != nil {
				if !errors.Is(err, ErrCorruptRing) || ok || data != nil {
					t.Fatalf("next = %d bytes, %v, %v", len(data), ok, err)
				}
				if mode%3 == 1 {
					r.release()
				}
				continue
			}
			if !ok {
				break
			}
			if p := dataProblem(r, data, ci); p != "" {
				t.Fatal(p)
			}
			switch {
			case mode%3 == 1:
				r.release()
			case mode%3 == 2 && calls == int(mode/3)%8:
				r.drain()
			}
		}
		r.release()
		if own := k.owned(); len(own) > 0 || r.ready() {
			t.Fatalf("walk ended with frames or blocks %v still held (ready %v)", own, r.ready())
		}
	})
}

// fuzzRingOf makes a ring of geometry info from mem, with every frame or
// block handed to user space.
func fuzzRingOf(t *testing.T, info RingInfo, link linkKind, snaplen int, dir Direction, mem []byte) (*fakeKernel, *ring) {
	k := &fakeKernel{mem: guardedBytes(t, info.Size()), info: info, fpb: info.BlockSize / info.FrameSize}
	copy(k.mem, mem)
	for i := 0; i < info.FrameNr; i++ { // frames, or V3 blocks
		if info.Version == TPacketV3 {
			k.setBlockStatus(i, k.blockStatus(i)|unix.TP_STATUS_USER)
		} else {
			k.setFrameStatus(i, k.frameStatus(i)|unix.TP_STATUS_USER)
		}
	}
	r, err := newRing(k.mem, info, link.decoder(snaplen, dir))
	if err != nil {
		t.Fatal(err)
	}
	return k, r
}

// fuzzRead is one read of readAllFuzz: a packet, or an error's text.
type fuzzRead struct {
	data []byte
	ci   CaptureInfo
	err  string
}

// readAllFuzz reads a ring made of mem a packet at a time until it is
// empty, handing back each packet's frame or block after reading it with
// release, as ReadPacketData does, and not as ZeroCopyReadPacketData does;
// with fast, through the fast paths of readOne first.
func readAllFuzz(t *testing.T, info RingInfo, link linkKind, snaplen int, dir Direction, mem []byte, release, fast bool) []fuzzRead {
	_, r := fuzzRingOf(t, info, link, snaplen, dir, mem)
	var out []fuzzRead
	for calls := 0; calls < 1<<16; calls++ {
		var ci CaptureInfo
		var data []byte
		ok := false
		if fast {
			switch info.Version {
			case TPacketV3:
				data, ok = r.nextV3(&ci)
			case TPacketV2:
				data, ok = r.nextV2(&ci)
			}
		}
		if !ok {
			var err error
			if data, ok, err = r.next(&ci); err != nil {
				out = append(out, fuzzRead{err: err.Error()})
				continue
			}
			if !ok {
				return out
			}
		}
		out = append(out, fuzzRead{data: bytes.Clone(data), ci: ci})
		if release {
			r.release()
		}
	}
	t.Fatal("the ring never empties")
	return nil
}

// walkAllFuzz reads a ring made of mem with walk, limit packets a call,
// until it is empty.
func walkAllFuzz(t *testing.T, info RingInfo, link linkKind, snaplen int, dir Direction, mem []byte, limit int) []fuzzRead {
	_, r := fuzzRingOf(t, info, link, snaplen, dir, mem)
	var out []fuzzRead
	fn := func(data []byte, ci CaptureInfo) {
		out = append(out, fuzzRead{data: bytes.Clone(data), ci: ci})
	}
	for calls := 0; calls < 1<<16; calls++ {
		n, err := r.walk(limit, nil, fn)
		if err != nil {
			out = append(out, fuzzRead{err: err.Error()})
			continue
		}
		if n == 0 {
			return out
		}
		r.release()
	}
	t.Fatal("the ring never empties")
	return nil
}

// fuzzSeed is an input holding a valid ring of packets of all kinds.
func fuzzSeed(info RingInfo, geometry int, link linkKind, mode byte) []byte {
	k := newFakeKernel(info, link)
	types := []PacketType{PacketHost, PacketOutgoing, PacketBroadcast, PacketOtherHost}
	for i := 0; i < info.FrameNr*2; i++ {
		p := makePkt(link, i, []int{60, 150, 14, 1, 90}[i%5])
		p.pkttype = types[i%len(types)]
		p.vlan, p.tci, p.tpid = i%3 == 0, uint16(i), 0x88a8
		p.ts = time.Unix(int64(i), int64(i))
		p.rxhash = uint32(i)
		if i%8 == 1 {
			p.hatype = unix.ARPHRD_LOOPBACK
		}
		k.rcv(p)
		if i%3 == 2 {
			k.retire()
		}
	}
	k.retire()
	hdr := []byte{byte(geometry), byte(link), byte(mode), 0, 0, mode}
	if mode == 2 {
		binary.LittleEndian.PutUint16(hdr[3:], 40)
	}
	return append(hdr, k.mem...)
}
