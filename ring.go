//go:build linux

package pcap

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/purecap/pcap/internal/afpacket"
	"golang.org/x/sys/unix"
)

// Sizes of the cooked headers built in front of the packet data.
const (
	sllHdrLen  = 16
	sll2HdrLen = 20
)

// decoder turns the packet described by a frame header into the bytes the
// caller sees: it checks the kernel's offsets, builds the cooked header,
// re-inserts a stripped VLAN tag, applies the snapshot length and filters by
// direction. Its settings are fixed per handle (Direction aside).
type decoder struct {
	snaplen   int
	cooked    int  // 0, sllHdrLen or sll2HdrLen
	ethernet  bool // data starts with an Ethernet header
	direction Direction
	// userFilter, if not nil, is a filter the kernel could not run: only
	// the packets it accepts, as delivered, are.
	userFilter *BPF
}

// rawHdr carries the fields of a frame header, whatever its version.
type rawHdr struct {
	mac     int // offset of the packet data from the header
	caplen  int
	wirelen int
	status  uint32
	sec     uint32
	nsec    uint32
	tci     uint16
	tpid    uint16
	rxhash  uint32
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorruptRing}, args...)...)
}

// decode reads the sockaddr_ll at sllOff of f (a frame, or a V3 packet's
// slice of its block, starting at its header) and the header fields in h,
// fills ci and returns the packet data, which may start before h.mac when a
// cooked header or a VLAN tag is put in front. It reports false for a packet
// the handle does not deliver (its direction, a loopback duplicate, or one
// the user-space filter rejects).
// It writes into f: the frame must be owned by the caller.
func (d *decoder) decode(f []byte, sllOff int, h *rawHdr, ci *CaptureInfo) ([]byte, bool, error) {
	sllEnd := sllOff + afpacket.SizeofSockaddrLL
	if sllEnd > len(f) {
		return nil, false, corrupt("frame of %d bytes too short for its header", len(f))
	}
	sll := (*unix.RawSockaddrLinklayer)(unsafe.Pointer(&f[sllOff]))
	pkttype := PacketType(sll.Pkttype)
	if pkttype == PacketOutgoing {
		// The loopback device shows every packet twice, as sent and as
		// received: keep the received copy.
		if sll.Hatype == unix.ARPHRD_LOOPBACK || d.direction == DirectionIn {
			return nil, false, nil
		}
	} else if d.direction == DirectionOut {
		return nil, false, nil
	}
	mac, caplen, wirelen := h.mac, h.caplen, h.wirelen
	// uint: a length of 2^31 or more is negative as a 32-bit int.
	if mac < sllEnd || mac > len(f) || uint(caplen) > uint(len(f)-mac) {
		return nil, false, corrupt("packet data at offset %d, %d bytes, outside its %d-byte frame", mac, caplen, len(f))
	}
	if wirelen < caplen {
		return nil, false, corrupt("wire length %d below captured length %d", wirelen, caplen)
	}
	start := mac
	vlan := h.status&unix.TP_STATUS_VLAN_VALID != 0
	tpid := uint16(0x8100)
	if h.status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
		tpid = h.tpid
	}
	switch {
	case d.cooked != 0:
		hl := d.cooked
		if vlan {
			hl += afpacket.VLANTagLen
		}
		start = mac - hl
		if start < sllEnd {
			return nil, false, corrupt("no room for the cooked header before offset %d", mac)
		}
		// Read the sockaddr_ll before writing: the header may overlap it.
		hatype, halen, ifindex := sll.Hatype, sll.Halen, sll.Ifindex
		addr := sll.Addr
		// The kernel writes only halen bytes of the address: the rest of
		// the field holds whatever an earlier packet left in the ring.
		if int(halen) < len(addr) {
			clear(addr[halen:])
		}
		proto := [2]byte{f[sllOff+2], f[sllOff+3]} // network order already
		b := f[start:mac:mac]
		if d.cooked == sllHdrLen {
			binary.BigEndian.PutUint16(b[0:], uint16(pkttype))
			binary.BigEndian.PutUint16(b[2:], hatype)
			binary.BigEndian.PutUint16(b[4:], uint16(halen))
			copy(b[6:14], addr[:])
			if vlan {
				binary.BigEndian.PutUint16(b[14:], tpid)
				binary.BigEndian.PutUint16(b[16:], h.tci)
				b[18], b[19] = proto[0], proto[1]
			} else {
				b[14], b[15] = proto[0], proto[1]
			}
		} else {
			if vlan {
				binary.BigEndian.PutUint16(b[0:], tpid)
				binary.BigEndian.PutUint16(b[20:], h.tci)
				b[22], b[23] = proto[0], proto[1]
			} else {
				b[0], b[1] = proto[0], proto[1]
			}
			b[2], b[3] = 0, 0
			binary.BigEndian.PutUint32(b[4:], uint32(ifindex))
			binary.BigEndian.PutUint16(b[8:], hatype)
			b[10] = byte(pkttype)
			b[11] = halen
			copy(b[12:20], addr[:])
		}
		caplen += hl
		wirelen += hl
	case vlan && d.ethernet && caplen >= 12:
		start = mac - afpacket.VLANTagLen
		if start < sllEnd {
			return nil, false, corrupt("no room for the VLAN tag before offset %d", mac)
		}
		copy(f[start:start+12], f[mac:mac+12])
		binary.BigEndian.PutUint16(f[start+12:], tpid)
		binary.BigEndian.PutUint16(f[start+14:], h.tci)
		caplen += afpacket.VLANTagLen
		wirelen += afpacket.VLANTagLen
	}
	if caplen > d.snaplen {
		caplen = d.snaplen
	}
	ci.Timestamp = ringNano(h.sec, h.nsec)
	ci.CaptureLength = caplen
	ci.Length = wirelen
	ci.InterfaceIndex = int(sll.Ifindex)
	ci.vlan = 0
	if vlan {
		ci.vlan = packVLAN(h.tci, tpid)
	}
	ci.meta = packMeta(uint8(pkttype), h.rxhash)
	data := f[start : start+caplen : start+caplen]
	if d.userFilter != nil && !d.userFilter.Matches(*ci, data) {
		return nil, false, nil
	}
	return data, true, nil
}

// deliver decodes a packet the general way (see decode) and hands it to fn.
// It reports whether fn got the packet, and whether the walk must stop
// after it because stop is set.
func (d *decoder) deliver(f []byte, sllOff int, h *rawHdr, ci *CaptureInfo, fn func([]byte, CaptureInfo), stop *atomic.Uint32) (delivered, halt bool, err error) {
	data, ok, err := d.decode(f, sllOff, h, ci)
	if err != nil || !ok {
		return false, false, err
	}
	fn(data, *ci)
	return true, stop.Load() != 0, nil
}

// ring walks a receive ring in place. mem is the whole ring, as mapped from
// the kernel or built in memory by a test; the methods read and write frame
// and block status words atomically, as the kernel does. A ring is not safe
// for concurrent use.
type ring struct {
	mem  []byte
	info RingInfo
	dec  decoder

	framesPerBlock int

	// V1/V2 cursor: the next frame to look at.
	frame      int // index
	frameOff   int // its offset in mem
	frameInBlk int // its index within its block

	// held is the offset of the frame (V1/V2) handed out by the last next
	// call and not yet returned to the kernel, or -1.
	held int

	// V3 cursor.
	block    int    // index of the current block
	blockOff int    // its offset in mem
	inBlock  bool   // the current block is ours and partly read
	pktLeft  int    // packets of the current block not yet read
	pktOff   int    // offset in the block of the next packet
	discard  int    // packets at the start of the current block to drop
	lastSeq  uint64 // sequence number of the last block handed back
	skipSeq  uint64
	skipPkts int // packets to drop from the block with sequence number skipSeq
}

// newRing checks that info describes mem and returns a walker over it.
func newRing(mem []byte, info RingInfo, dec decoder) (*ring, error) {
	if info.BlockSize <= 0 || info.BlockNr <= 0 || info.FrameSize <= 0 || info.FrameNr <= 0 {
		return nil, fmt.Errorf("pcap: invalid ring geometry %+v", info)
	}
	if info.BlockSize%afpacket.TPacketAlignment != 0 || info.FrameSize%afpacket.TPacketAlignment != 0 {
		return nil, fmt.Errorf("pcap: ring geometry %+v not aligned", info)
	}
	if info.Size() != len(mem) || info.FrameSize > info.BlockSize {
		return nil, fmt.Errorf("pcap: ring geometry %+v does not fit %d bytes", info, len(mem))
	}
	fpb := info.BlockSize / info.FrameSize
	if fpb*info.BlockNr != info.FrameNr {
		return nil, fmt.Errorf("pcap: ring geometry %+v: frame count is not frames per block times blocks", info)
	}
	switch info.Version {
	case TPacketV1, TPacketV2:
		if info.FrameSize < afpacket.HdrLen(kernelVersion(info.Version)) {
			return nil, fmt.Errorf("pcap: ring frames of %d bytes cannot hold their header", info.FrameSize)
		}
	case TPacketV3:
		if info.BlockSize < afpacket.SizeofBlockDesc {
			return nil, fmt.Errorf("pcap: ring blocks of %d bytes cannot hold their header", info.BlockSize)
		}
	default:
		return nil, fmt.Errorf("pcap: unknown ring version %v", info.Version)
	}
	return &ring{mem: mem, info: info, dec: dec, framesPerBlock: fpb, held: -1}, nil
}

// kernelVersion maps a TPacketVersion to the kernel's TPACKET_Vn value.
func kernelVersion(v TPacketVersion) int {
	switch v {
	case TPacketV1:
		return unix.TPACKET_V1
	case TPacketV2:
		return unix.TPACKET_V2
	default:
		return unix.TPACKET_V3
	}
}

// walk hands up to limit packets the ring holds to fn, returning early
// after a packet when stop (if not nil) is set, and returns how many it
// delivered. It stops when the kernel has not filled the next frame or block.
// The data passed to fn stays valid until the following walk, release
// or drain, which hand its frame or block back to the kernel. An error
// reports a corrupt header; the bad frame or block is handed back by the
// following call and the ring can be read on.
func (r *ring) walk(limit int, stop *atomic.Uint32, fn func([]byte, CaptureInfo)) (int, error) {
	if stop == nil {
		// The walkers check it after every packet: one that is never set.
		stop = new(atomic.Uint32)
	}
	switch r.info.Version {
	case TPacketV3:
		return r.walkV3(limit, stop, fn)
	case TPacketV2:
		return r.walkV2(limit, stop, fn)
	default:
		return r.walkV1(limit, stop, fn)
	}
}

// asIs reports whether a packet can go to the caller as the kernel wrote
// it, on a handle that needs nothing done in user space: it is not an
// outgoing packet (which may be a loopback duplicate), and its data, caplen
// bytes at offset mac of a frame or slot of size bytes, lies after the
// sockaddr_ll (which ends at sllEnd) and inside the frame, and is no
// longer than the packet was on the wire. The data starts inside the frame
// even when it is empty, so that a pointer to it built by offset never
// points past the end of the ring.
func asIs(sll *unix.RawSockaddrLinklayer, sllEnd, size, mac, caplen, wirelen int) bool {
	return PacketType(sll.Pkttype) != PacketOutgoing && mac >= sllEnd && mac < size &&
		uint(caplen) <= uint(size-mac) && wirelen >= caplen
}

// ready reports whether the kernel has handed the ring's next frame or block
// to user space, or a block is partly read.
func (r *ring) ready() bool {
	switch r.info.Version {
	case TPacketV3:
		return r.inBlock || blockStatus(r.mem, r.blockOff)&unix.TP_STATUS_USER != 0
	case TPacketV2:
		return frameStatusV2(r.mem, r.frameOff)&unix.TP_STATUS_USER != 0
	default:
		return frameStatusV1(r.mem, r.frameOff)&unix.TP_STATUS_USER != 0
	}
}

// release hands back the frame or V3 block of the last packet returned, if
// the walker is done with it. A partly read V3 block stays ours.
func (r *ring) release() {
	if r.info.Version == TPacketV3 {
		if r.inBlock && r.pktLeft == 0 {
			r.releaseBlock()
		}
		return
	}
	if r.held >= 0 {
		if r.info.Version == TPacketV2 {
			setFrameStatusV2(r.mem, r.held, unix.TP_STATUS_KERNEL)
		} else {
			setFrameStatusV1(r.mem, r.held, unix.TP_STATUS_KERNEL)
		}
		r.held = -1
	}
}

// advanceFrame moves the V1/V2 cursor to the next frame.
func (r *ring) advanceFrame() {
	r.frame++
	r.frameInBlk++
	r.frameOff += r.info.FrameSize
	if r.frameInBlk == r.framesPerBlock {
		r.frameInBlk = 0
		r.frameOff = (r.frame / r.framesPerBlock) * r.info.BlockSize
	}
	if r.frame == r.info.FrameNr {
		r.frame, r.frameInBlk, r.frameOff = 0, 0, 0
	}
}

// drain hands every frame or block the kernel has filled back to it,
// unread. For V3 it also notes how many packets the block the kernel is
// filling already holds, so that they are dropped when it is handed over:
// after drain, only packets that reach the ring later are returned.
func (r *ring) drain() {
	r.release()
	if r.info.Version != TPacketV3 {
		for i := 0; i < r.info.FrameNr; i++ {
			off := r.frameOff
			if r.info.Version == TPacketV2 {
				if frameStatusV2(r.mem, off)&unix.TP_STATUS_USER == 0 {
					return
				}
				setFrameStatusV2(r.mem, off, unix.TP_STATUS_KERNEL)
			} else {
				if frameStatusV1(r.mem, off)&unix.TP_STATUS_USER == 0 {
					return
				}
				setFrameStatusV1(r.mem, off, unix.TP_STATUS_KERNEL)
			}
			r.advanceFrame()
		}
		return
	}
	if r.inBlock {
		r.pktLeft = 0
		r.releaseBlock()
	}
	for i := 0; i < r.info.BlockNr; i++ {
		if blockStatus(r.mem, r.blockOff)&unix.TP_STATUS_USER == 0 {
			break
		}
		r.pktLeft = 0
		r.inBlock = true
		r.releaseBlock()
	}
	// The block at the cursor is the one the kernel fills when it follows
	// the last block handed over; otherwise its count is stale.
	r.skipPkts = 0
	if seq := blockSeq(r.mem, r.blockOff); seq == r.lastSeq+1 {
		if n := int(blockNumPkts(r.mem, r.blockOff)); n > 0 {
			r.skipSeq, r.skipPkts = seq, n
		}
	}
}
