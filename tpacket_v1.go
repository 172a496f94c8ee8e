//go:build linux

package pcap

import (
	"sync/atomic"
	"unsafe"

	"github.com/purecap/pcap/internal/afpacket"
	"golang.org/x/sys/unix"
)

// TPACKET_V1 frames start with a struct tpacket_hdr, whose status word is an
// unsigned long, followed (aligned) by a struct sockaddr_ll; timestamps are
// in microseconds and there are no VLAN fields.

// sllOffV1 is the offset of the sockaddr_ll in a V1 frame.
const sllOffV1 = (unix.SizeofTpacketHdr + afpacket.TPacketAlignment - 1) &^ (afpacket.TPacketAlignment - 1)

func frameStatusV1(mem []byte, off int) uintptr {
	return atomic.LoadUintptr((*uintptr)(unsafe.Pointer(&mem[off])))
}

func setFrameStatusV1(mem []byte, off int, status uintptr) {
	atomic.StoreUintptr((*uintptr)(unsafe.Pointer(&mem[off])), status)
}

// walkV1 hands up to limit packets to fn, returning early after a packet
// when stop is set. Each frame goes back to the kernel when the
// walk moves on, or on release.
func (r *ring) walkV1(limit int, stop *atomic.Uint32, fn func([]byte, CaptureInfo)) (int, error) {
	var ci CaptureInfo
	n := 0
	for n < limit {
		r.release()
		off := r.frameOff
		status := frameStatusV1(r.mem, off)
		if status&unix.TP_STATUS_USER == 0 {
			return n, nil
		}
		frame := r.mem[off : off+r.info.FrameSize : off+r.info.FrameSize]
		hdr := (*unix.TpacketHdr)(unsafe.Pointer(&frame[0]))
		h := rawHdr{
			mac:     int(hdr.Mac),
			caplen:  int(hdr.Snaplen),
			wirelen: int(hdr.Len),
			status:  uint32(status),
			sec:     hdr.Sec,
			nsec:    hdr.Usec * 1000,
		}
		r.held = off
		r.advanceFrame()
		delivered, halt, err := r.dec.deliver(frame, sllOffV1, &h, &ci, fn, stop)
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
