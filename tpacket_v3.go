//go:build linux

package pcap

import (
	"math"
	"sync/atomic"
	"unsafe"

	"github.com/purecap/pcap/internal/afpacket"
	"golang.org/x/sys/unix"
)

// A TPACKET_V3 ring is made of blocks. Each block starts with a struct
// tpacket_block_desc (version, private-area offset, then tpacket_hdr_v1:
// status, packet count, offset of the first packet, length, sequence number,
// first and last timestamps). Its packets follow, each a struct tpacket3_hdr
// chained by tp_next_offset, then a struct sockaddr_ll, then the data at
// tp_mac. The kernel hands a block over whole, when it is full or its retire
// timer fires; the reader hands it back whole.

// Offsets within the block descriptor.
const (
	bdStatus  = 8
	bdNumPkts = 12
	bdFirst   = 16
	bdSeq     = 24
)

// sllOffV3 is the offset of the sockaddr_ll from a V3 packet header.
const sllOffV3 = (unix.SizeofTpacket3Hdr + afpacket.TPacketAlignment - 1) &^ (afpacket.TPacketAlignment - 1)

// sllEndV3 is the end of the sockaddr_ll: a V3 packet's data starts after it.
// openBlock and the checks of each link to the next packet keep every
// packet the walk reaches at least sllEndV3 bytes before the end of its
// block, so that its header and sockaddr_ll are read with no further check.
const sllEndV3 = sllOffV3 + afpacket.SizeofSockaddrLL

// linkOK reports whether a packet at offset off of a bs-byte block may
// link to the next at off+next: past its own header, and leaving the next
// one's header and sockaddr_ll inside the block.
func linkOK(next, off, bs int) bool {
	return next >= unix.SizeofTpacket3Hdr && next <= bs-sllEndV3-off
}

func (r *ring) linkError(off, next int) error {
	return corrupt("block %d: packet at offset %d links to offset %d, outside the block", r.block, off, off+next)
}

func blockStatus(mem []byte, off int) uint32 {
	return atomic.LoadUint32((*uint32)(unsafe.Pointer(&mem[off+bdStatus])))
}

func blockNumPkts(mem []byte, off int) uint32 {
	return atomic.LoadUint32((*uint32)(unsafe.Pointer(&mem[off+bdNumPkts])))
}

func blockSeq(mem []byte, off int) uint64 {
	return *(*uint64)(unsafe.Pointer(&mem[off+bdSeq]))
}

// releaseBlock hands the current block back to the kernel and moves to the
// next.
func (r *ring) releaseBlock() {
	r.lastSeq = blockSeq(r.mem, r.blockOff)
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&r.mem[r.blockOff+bdStatus])), unix.TP_STATUS_KERNEL)
	r.inBlock = false
	r.block++
	r.blockOff += r.info.BlockSize
	if r.block == r.info.BlockNr {
		r.block, r.blockOff = 0, 0
	}
}

// openBlock takes the block at the cursor if the kernel has handed it over,
// checking its descriptor.
func (r *ring) openBlock() (bool, error) {
	off := r.blockOff
	if blockStatus(r.mem, off)&unix.TP_STATUS_USER == 0 {
		return false, nil
	}
	bs := r.info.BlockSize
	num := int(blockNumPkts(r.mem, off))
	first := int(*(*uint32)(unsafe.Pointer(&r.mem[off+bdFirst])))
	r.inBlock = true
	if num > 0 && (first < afpacket.SizeofBlockDesc || first > bs-sllEndV3) {
		r.pktLeft = 0
		r.releaseBlock()
		return false, corrupt("block %d: first packet at offset %d outside its %d-byte block", r.block, first, bs)
	}
	// A block of N packets needs at least N headers.
	// num < 0: 2^31 or more on a 32-bit platform.
	if num < 0 || num > (bs-afpacket.SizeofBlockDesc)/unix.SizeofTpacket3Hdr {
		r.pktLeft = 0
		r.releaseBlock()
		return false, corrupt("block %d: %d packets cannot fit in %d bytes", r.block, num, bs)
	}
	r.pktLeft, r.pktOff, r.discard = num, first, 0
	if r.skipPkts > 0 && blockSeq(r.mem, off) == r.skipSeq {
		r.discard = r.skipPkts
		r.skipPkts = 0
	}
	return true, nil
}

// walkV3 hands up to limit packets to fn, returning early after a packet
// when stop is set. A block goes back to the kernel when the
// walk moves past its last packet, or on release: the data of the last
// packet delivered stays valid until then.
func (r *ring) walkV3(limit int, stop *atomic.Uint32, fn func([]byte, CaptureInfo)) (int, error) {
	var ci CaptureInfo
	d := &r.dec
	fast := d.cooked == 0 && d.direction == DirectionInOut && d.userFilter == nil
	n := 0
	for n < limit {
		if !r.inBlock || r.pktLeft == 0 {
			if r.inBlock {
				r.releaseBlock()
			}
			ok, err := r.openBlock()
			if !ok {
				return n, err
			}
			continue
		}
		bs := r.info.BlockSize
		block := r.mem[r.blockOff : r.blockOff+bs : r.blockOff+bs]
		if r.discard > 0 {
			if err := r.skipV3(block); err != nil {
				return n, err
			}
			continue
		}
		for r.pktLeft > 0 && n < limit {
			if fast {
				k, halt := r.fastV3(block, d.snaplen, limit-n, stop, fn)
				n += k
				if halt {
					return n, nil
				}
				if r.pktLeft == 0 || n >= limit {
					break
				}
			}
			// A packet the fast path leaves: a tag to put back, a cooked
			// header to build, a direction or filter to apply, or a
			// header to check closely.
			off := r.pktOff
			hdr := (*unix.Tpacket3Hdr)(unsafe.Pointer(&block[off]))
			r.pktLeft--
			end := bs
			if r.pktLeft > 0 {
				next := int(hdr.Next_offset)
				if !linkOK(next, off, bs) {
					r.pktLeft = 0
					return n, r.linkError(off, next)
				}
				end = off + next
				r.pktOff = end
			}
			pkt := block[off:end:end]
			h := rawHdr{
				mac:     int(hdr.Mac),
				caplen:  int(hdr.Snaplen),
				wirelen: int(hdr.Len),
				status:  hdr.Status,
				sec:     hdr.Sec,
				nsec:    hdr.Nsec,
				tci:     uint16(hdr.Hv1.Vlan_tci),
				tpid:    hdr.Hv1.Vlan_tpid,
				rxhash:  hdr.Hv1.Rxhash,
			}
			delivered, halt, err := d.deliver(pkt, sllOffV3, &h, &ci, fn, stop)
			if err != nil {
				// The rest of the block cannot be trusted.
				r.pktLeft = 0
				return n, err
			}
			if delivered {
				n++
			}
			if halt {
				return n, nil
			}
		}
	}
	return n, nil
}

// maxData sizes the array type fastV3 views packet data through: a block
// size is an int32 for the kernel, so no packet reaches it.
const maxData = math.MaxInt32

// fastV3 hands fn up to limit packets of the open block that go to the
// caller as they are, and stops before the first that does not, which
// walkV3 then deals with. halt reports that it stopped because stop was
// set. It is the per-packet path of a capture, kept apart from the rest of
// walkV3 so that little stays live across each call of fn: Go keeps no
// register across a call, and whatever is live is reloaded after it.
func (r *ring) fastV3(block []byte, snaplen, limit int, stop *atomic.Uint32, fn func([]byte, CaptureInfo)) (n int, halt bool) {
	// Filled field by field: a composite literal in the call would be
	// zeroed in a temporary first. vlan stays 0.
	var ci CaptureInfo
	bs := len(block)
	base := unsafe.Pointer(unsafe.SliceData(block))
	for n < limit {
		off, left := r.pktOff, r.pktLeft-1
		if left < 0 {
			break
		}
		hdr := (*unix.Tpacket3Hdr)(unsafe.Add(base, off))
		end := bs
		if left > 0 {
			next := int(hdr.Next_offset)
			if !linkOK(next, off, bs) {
				break
			}
			end = off + next
		}
		if hdr.Status&unix.TP_STATUS_VLAN_VALID != 0 {
			break
		}
		sll := (*unix.RawSockaddrLinklayer)(unsafe.Add(unsafe.Pointer(hdr), sllOffV3))
		mac, caplen, wirelen := int(hdr.Mac), int(hdr.Snaplen), int(hdr.Len)
		// The data lies within the packet's end-off bytes, and starts
		// inside them even when empty: it needs no slicing.
		if !asIs(sll, sllEndV3, end-off, mac, caplen, wirelen) {
			break
		}
		r.pktLeft, r.pktOff = left, end
		caplen = min(caplen, snaplen)
		ci.Timestamp = ringNano(hdr.Sec, hdr.Nsec)
		ci.CaptureLength = caplen
		ci.Length = wirelen
		ci.InterfaceIndex = int(sll.Ifindex)
		ci.meta = packMeta(sll.Pkttype, hdr.Hv1.Rxhash)
		fn((*[maxData]byte)(unsafe.Add(unsafe.Pointer(hdr), mac))[:caplen:caplen], ci)
		n++
		if stop.Load() != 0 {
			return n, true
		}
	}
	return n, false
}

// skipV3 moves past the packets that were already in the open block when
// the ring was drained: drain drops them (see drain).
func (r *ring) skipV3(block []byte) error {
	bs := len(block)
	for ; r.discard > 0 && r.pktLeft > 0; r.discard-- {
		off := r.pktOff
		r.pktLeft--
		if r.pktLeft == 0 {
			break
		}
		next := int((*unix.Tpacket3Hdr)(unsafe.Pointer(&block[off])).Next_offset)
		if !linkOK(next, off, bs) {
			r.pktLeft = 0
			return r.linkError(off, next)
		}
		r.pktOff = off + next
	}
	r.discard = 0
	return nil
}

// nextV3 returns the next packet of the open V3 block and fills ci, when it
// can go to the caller as it is (no tag to put back, no cooked header to
// build, no filter or direction to apply in user space, not outgoing), and
// reports false, with the ring unchanged, for anything else: walkV3 then
// deals with it. The block stays open. It is walkV3's fast path for one
// packet, kept apart so that readOne fills its caller's CaptureInfo in
// place with no callback.
func (r *ring) nextV3(ci *CaptureInfo) ([]byte, bool) {
	d := &r.dec
	if !r.inBlock || r.pktLeft == 0 || r.discard > 0 ||
		d.cooked != 0 || d.direction != DirectionInOut || d.userFilter != nil {
		return nil, false
	}
	bs := r.info.BlockSize
	block := r.mem[r.blockOff : r.blockOff+bs : r.blockOff+bs]
	off := r.pktOff
	if off < 0 || off > bs-sllEndV3 {
		return nil, false
	}
	hdr := (*unix.Tpacket3Hdr)(unsafe.Pointer(&block[off]))
	end := bs
	if r.pktLeft > 1 {
		next := int(hdr.Next_offset)
		if !linkOK(next, off, bs) {
			return nil, false
		}
		end = off + next
	}
	pkt := block[off:end:end]
	if hdr.Status&unix.TP_STATUS_VLAN_VALID != 0 || len(pkt) < sllEndV3 {
		return nil, false
	}
	sll := (*unix.RawSockaddrLinklayer)(unsafe.Pointer(&pkt[sllOffV3]))
	mac, caplen, wirelen := int(hdr.Mac), int(hdr.Snaplen), int(hdr.Len)
	if !asIs(sll, sllEndV3, len(pkt), mac, caplen, wirelen) {
		return nil, false
	}
	caplen = min(caplen, d.snaplen)
	*ci = CaptureInfo{
		Timestamp:      ringNano(hdr.Sec, hdr.Nsec),
		CaptureLength:  caplen,
		Length:         wirelen,
		InterfaceIndex: int(sll.Ifindex),
		meta:           packMeta(sll.Pkttype, hdr.Hv1.Rxhash),
	}
	r.pktLeft--
	if r.pktLeft > 0 {
		r.pktOff = end
	}
	return pkt[mac : mac+caplen : mac+caplen], true
}
