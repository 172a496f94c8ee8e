package pcap

import (
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
var sllOffV3 = afpacket.TPacketAlign(unix.SizeofTpacket3Hdr)

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
	if num > 0 && (first < afpacket.SizeofBlockDesc || first > bs-unix.SizeofTpacket3Hdr) {
		r.pktLeft = 0
		r.releaseBlock()
		return false, corrupt("block %d: first packet at offset %d outside its %d-byte block", r.block, first, bs)
	}
	// A block of N packets needs at least N headers.
	if num > (bs-afpacket.SizeofBlockDesc)/unix.SizeofTpacket3Hdr {
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

func (r *ring) nextV3(ci *CaptureInfo) ([]byte, bool, error) {
	for {
		if !r.inBlock || r.pktLeft == 0 {
			if r.inBlock {
				r.releaseBlock()
			}
			ok, err := r.openBlock()
			if !ok {
				return nil, false, err
			}
			continue
		}
		bs := r.info.BlockSize
		block := r.mem[r.blockOff : r.blockOff+bs : r.blockOff+bs]
		off := r.pktOff
		hdr := (*unix.Tpacket3Hdr)(unsafe.Pointer(&block[off]))
		r.pktLeft--
		end := bs
		if r.pktLeft > 0 {
			next := int(hdr.Next_offset)
			if next < unix.SizeofTpacket3Hdr || next > bs-unix.SizeofTpacket3Hdr-off {
				r.pktLeft = 0
				return nil, false, corrupt("block %d: packet at offset %d links to offset %d, outside the block", r.block, off, off+next)
			}
			end = off + next
			r.pktOff = end
		}
		if r.discard > 0 {
			r.discard--
			continue
		}
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
		data, ok, err := r.dec.decode(block[off:end:end], sllOffV3, &h, ci)
		if err != nil {
			// The rest of the block cannot be trusted.
			r.pktLeft = 0
			return nil, false, err
		}
		if ok {
			return data, true, nil
		}
	}
}
