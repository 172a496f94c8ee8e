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
var sllOffV2 = afpacket.TPacketAlign(unix.SizeofTpacket2Hdr)

func frameStatusV2(mem []byte, off int) uint32 {
	return atomic.LoadUint32((*uint32)(unsafe.Pointer(&mem[off])))
}

func setFrameStatusV2(mem []byte, off int, status uint32) {
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&mem[off])), status)
}

func (r *ring) nextV2(ci *CaptureInfo) ([]byte, bool, error) {
	r.release()
	for {
		off := r.frameOff
		status := frameStatusV2(r.mem, off)
		if status&unix.TP_STATUS_USER == 0 {
			return nil, false, nil
		}
		frame := r.mem[off : off+r.info.FrameSize : off+r.info.FrameSize]
		hdr := (*unix.Tpacket2Hdr)(unsafe.Pointer(&frame[0]))
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
		r.held = off
		r.advanceFrame()
		data, ok, err := r.dec.decode(frame, sllOffV2, &h, ci)
		if err != nil || ok {
			return data, ok, err
		}
		r.release()
	}
}
