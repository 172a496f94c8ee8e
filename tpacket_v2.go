//go:build linux

package pcap

import (
	"sync/atomic"
	"unsafe"

	"github.com/purecap/pcap/internal/afpacket"
	"golang.org/x/sys/unix"
)

// TPACKET_V2 frames start with a struct tpacket2_hdr (32-bit status,
// nanosecond timestamps, the VLAN tag the kernel stripped), followed
// (aligned) by a struct sockaddr_ll.

// sllOffV2 is the offset of the sockaddr_ll in a V2 frame.
const sllOffV2 = (unix.SizeofTpacket2Hdr + afpacket.TPacketAlignment - 1) &^ (afpacket.TPacketAlignment - 1)

// sllEndV2 is the end of the sockaddr_ll: a V2 frame's data starts after it.
const sllEndV2 = sllOffV2 + afpacket.SizeofSockaddrLL

func frameStatusV2(mem []byte, off int) uint32 {
	return atomic.LoadUint32((*uint32)(unsafe.Pointer(&mem[off])))
}

func setFrameStatusV2(mem []byte, off int, status uint32) {
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&mem[off])), status)
}

// nextV2 returns the packet of the next frame and fills ci, when the kernel
// has handed it over and it is one the walk would deliver as it is (see
// nextV3), holding the frame until the next read. For anything else it
// reports false, with the ring unchanged, and walkV2 deals with it.
func (r *ring) nextV2(ci *CaptureInfo) ([]byte, bool) {
	d := &r.dec
	if d.cooked != 0 || d.direction != DirectionInOut || d.userFilter != nil {
		return nil, false
	}
	off := r.frameOff
	status := frameStatusV2(r.mem, off)
	if status&unix.TP_STATUS_USER == 0 || status&unix.TP_STATUS_VLAN_VALID != 0 {
		return nil, false
	}
	frame := r.mem[off : off+r.info.FrameSize : off+r.info.FrameSize]
	hdr := (*unix.Tpacket2Hdr)(unsafe.Pointer(&frame[0]))
	sll := (*unix.RawSockaddrLinklayer)(unsafe.Pointer(&frame[sllOffV2]))
	mac, caplen, wirelen := int(hdr.Mac), int(hdr.Snaplen), int(hdr.Len)
	if !asIs(sll, sllEndV2, len(frame), mac, caplen, wirelen) {
		return nil, false
	}
	caplen = min(caplen, d.snaplen)
	r.release()
	r.held = off
	r.advanceFrame()
	*ci = CaptureInfo{
		Timestamp:      ringNano(hdr.Sec, hdr.Nsec),
		CaptureLength:  caplen,
		Length:         wirelen,
		InterfaceIndex: int(sll.Ifindex),
		meta:           packMeta(sll.Pkttype, 0),
	}
	return frame[mac : mac+caplen : mac+caplen], true
}

// walkV2 hands up to limit packets to fn, returning early after a packet
// when stop is set. Each frame goes back to the kernel when the
// walk moves on, or on release: the data of the last packet delivered stays
// valid until then.
func (r *ring) walkV2(limit int, stop *atomic.Uint32, fn func([]byte, CaptureInfo)) (int, error) {
	var ci CaptureInfo
	d := &r.dec
	fast := d.cooked == 0 && d.direction == DirectionInOut && d.userFilter == nil
	n := 0
	for n < limit {
		r.release()
		off := r.frameOff
		status := frameStatusV2(r.mem, off)
		if status&unix.TP_STATUS_USER == 0 {
			return n, nil
		}
		frame := r.mem[off : off+r.info.FrameSize : off+r.info.FrameSize]
		hdr := (*unix.Tpacket2Hdr)(unsafe.Pointer(&frame[0]))
		r.held = off
		r.advanceFrame()
		if fast && status&unix.TP_STATUS_VLAN_VALID == 0 {
			// The common case, inline: link header as is, no tag.
			sll := (*unix.RawSockaddrLinklayer)(unsafe.Pointer(&frame[sllOffV2]))
			mac, caplen, wirelen := int(hdr.Mac), int(hdr.Snaplen), int(hdr.Len)
			if asIs(sll, sllEndV2, len(frame), mac, caplen, wirelen) {
				if caplen > d.snaplen {
					caplen = d.snaplen
				}
				// Filled field by field: a composite literal would be
				// zeroed in a temporary first.
				ci.Timestamp = ringNano(hdr.Sec, hdr.Nsec)
				ci.CaptureLength = caplen
				ci.Length = wirelen
				ci.InterfaceIndex = int(sll.Ifindex)
				ci.vlan = 0
				ci.meta = packMeta(sll.Pkttype, 0)
				fn(frame[mac:mac+caplen:mac+caplen], ci)
				n++
				if stop.Load() != 0 {
					return n, nil
				}
				continue
			}
		}
		h := rawHdr{
			mac:     int(hdr.Mac),
			caplen:  int(hdr.Snaplen),
			wirelen: int(hdr.Len),
			status:  status,
			sec:     hdr.Sec,
			nsec:    hdr.Nsec,
			tci:     hdr.Vlan_tci,
			tpid:    hdr.Vlan_tpid,
		}
		delivered, halt, err := d.deliver(frame, sllOffV2, &h, &ci, fn, stop)
		if err != nil {
			return n, err
		}
		if delivered {
			n++
		}
		if halt {
			return n, nil
		}
	}
	return n, nil
}
