package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"
)

// FuzzNgReader reads arbitrary input as a pcapng file: no panic, every
// error a *FormatError unless the input ended cleanly, packets within the
// input, and a buffer no larger than twice the input (or the initial one).
func FuzzNgReader(f *testing.F) {
	var out bytes.Buffer
	w, _ := NewNgWriter(&out, LinkTypeEthernet, 64, WithInterfaceName("eth0"), WithInterfaceFilter("tcp"), WithOS("Linux"))
	id, _ := w.AddInterface(NgInterface{LinkType: LinkTypeRaw, TSResolution: 0x80 | 10, TSOffset: 5})
	for i := 0; i < 4; i++ {
		w.WritePacketInterface(i%2*id, CaptureInfo{Timestamp: time.Unix(int64(i), int64(i)).UnixNano(), Length: 100}, testPayload(i*30, i))
	}
	w.WriteStatistics(0, Stats{PacketsReceived: 4, PacketsDropped: 1, PacketsIfDropped: 2})
	w.Close()
	f.Add(out.Bytes())

	for _, bo := range []ngOrder{binary.LittleEndian, binary.BigEndian} {
		g := newNgFile(bo)
		g.shb(g.opt(ngOptSHBHardware, []byte("hw")))
		g.idb(LinkTypeEthernet, 16, g.opt(ngOptIfTSResol, []byte{9}), g.opt(ngOptIfTSOffset, g.u64(7)))
		g.spb(30, testPayload(16, 1))
		g.opb(0, 99, 3, []byte{1, 2, 3})
		g.block(0x0BAD, g.u32(1), []byte("x"))
		g.isb(0, 5, g.opt(ngOptISBIfRecv, g.u64(3)), g.opt(ngOptISBOSDrop, g.u64(1)), g.opt(ngOptISBEndTime, g.ts(9)))
		g.shb()
		g.idb(LinkTypeRaw, 0)
		g.epb(0, 1<<40, 2, []byte{4, 5})
		f.Add(g.b)
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a})

	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := NewNgReader(bytes.NewReader(in))
		var fe *FormatError
		if err != nil {
			if !errors.As(err, &fe) {
				t.Fatalf("NewNgReader: %v is no *FormatError", err)
			}
			return
		}
		total := 0
		for n := 0; ; n++ {
			if n > len(in)/12+1 {
				t.Fatalf("%d packets from %d bytes", n, len(in))
			}
			var ci CaptureInfo
			data, _, err := r.readPacket(&ci)
			if err == io.EOF {
				break
			}
			if err != nil {
				if !errors.As(err, &fe) || fe.Offset < 0 || fe.Offset > int64(len(in)) {
					t.Fatalf("packet %d: %v", n, err)
				}
				break
			}
			total += len(data)
			if total > len(in) || ci.CaptureLength != len(data) || ci.InterfaceIndex >= len(r.ifaces) {
				t.Fatalf("packet %d: %d bytes, %+v", n, len(data), ci)
			}
		}
		if c := cap(r.buf); c > max(readerInitialBuf, 2*len(in)) {
			t.Fatalf("buffer of %d bytes for %d bytes of input", c, len(in))
		}
		_ = r.Interfaces()
	})
}
