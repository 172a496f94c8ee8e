package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// FuzzReader reads arbitrary input as a pcap file: no panic, no hang, a
// buffer no larger than the input warrants, and only *FormatError or
// io.EOF as errors.
func FuzzReader(f *testing.F) {
	ps := sfPkts(4)
	f.Add(sfWrite(f, LinkTypeEthernet, 0, ps))
	f.Add(sfWrite(f, LinkTypeLinuxSLL2, 100, ps, WithNanosecondTimestamps()))
	be := sfHeader(binary.BigEndian, magicNano, 2, 4, 0, 1)
	be = append(be, sfRecord(binary.BigEndian, 1, 2, 60, 70, make([]byte, 60))...)
	f.Add(be)
	old := sfHeader(binary.LittleEndian, magicMicro, 2, 3, 65535, 1)
	old = append(old, sfRecord(binary.LittleEndian, 1, 2, 70, 60, make([]byte, 60))...)
	f.Add(old)
	kuz := sfHeader(binary.LittleEndian, magicKuznetsov, 2, 4, 65535, 1)
	kuz = append(kuz, make([]byte, 24+60)...)
	binary.LittleEndian.PutUint32(kuz[24+8:], 60)
	f.Add(kuz)
	f.Add(sfHeader(binary.LittleEndian, magicMicro, 2, 4, 65535, 1|pcapFCSPresent|2<<pcapFCSLengthShift))
	f.Add(append(sfHeader(binary.LittleEndian, magicMicro, 2, 4, 65535, 1), sfRecord(binary.LittleEndian, 0, 0, 262144, 0, nil)...))

	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(err error) {
			var fe *FormatError
			if err != io.EOF && !errors.As(err, &fe) {
				t.Fatalf("error %T %v", err, err)
			}
		}
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			check(err)
			return
		}
		for n := 0; ; n++ {
			if n > len(data)/16 {
				t.Fatalf("%d packets from %d bytes", n, len(data))
			}
			pkt, ci, err := r.ZeroCopyReadPacketData()
			if err != nil {
				check(err)
				break
			}
			if len(pkt) != ci.CaptureLength || len(pkt) > r.maxCap {
				t.Fatalf("%d bytes, caplen %d, limit %d", len(pkt), ci.CaptureLength, r.maxCap)
			}
		}
		if limit := max(readerInitialBuf, 2*len(data)); len(r.buf) > limit {
			t.Fatalf("buffer of %d bytes for %d bytes of input", len(r.buf), len(data))
		}
		// The same through an OfflineHandle (pcap files only: pcapng has
		// its own fuzz targets).
		if len(data) >= 4 && binary.LittleEndian.Uint32(data) == ngBlockSHB {
			return
		}
		h, err := OpenOfflineReader(bytes.NewReader(data))
		if err != nil {
			check(err)
			return
		}
		defer h.Close()
		for {
			if _, err := h.Dispatch(3, func([]byte, CaptureInfo) {}); err != nil {
				check(err)
				return
			}
		}
	})
}
