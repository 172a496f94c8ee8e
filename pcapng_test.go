package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// ngFile builds pcapng files by hand, in either byte order.
type ngFile struct {
	bo ngOrder
	b  []byte
}

type ngOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func newNgFile(bo ngOrder) *ngFile { return &ngFile{bo: bo} }

func (f *ngFile) u16(v uint16) []byte { return f.bo.AppendUint16(nil, v) }
func (f *ngFile) u32(v uint32) []byte { return f.bo.AppendUint32(nil, v) }
func (f *ngFile) u64(v uint64) []byte { return f.bo.AppendUint64(nil, v) }

// opt encodes an option, padded.
func (f *ngFile) opt(code uint16, v []byte) []byte {
	b := append(f.u16(code), f.u16(uint16(len(v)))...)
	b = append(b, v...)
	return append(b, make([]byte, -len(v)&3)...)
}

// opts encodes options and opt_endofopt.
func (f *ngFile) opts(o ...[]byte) []byte {
	if len(o) == 0 {
		return nil
	}
	var b []byte
	for _, x := range o {
		b = append(b, x...)
	}
	return append(b, 0, 0, 0, 0)
}

// block appends a block with the given body (padded to 32 bits) and
// returns its offset.
func (f *ngFile) block(typ uint32, body ...[]byte) int {
	off := len(f.b)
	var bb []byte
	for _, x := range body {
		bb = append(bb, x...)
	}
	bb = append(bb, make([]byte, -len(bb)&3)...)
	n := uint32(12 + len(bb))
	f.b = append(f.b, f.u32(typ)...)
	f.b = append(f.b, f.u32(n)...)
	f.b = append(f.b, bb...)
	f.b = append(f.b, f.u32(n)...)
	return off
}

func (f *ngFile) shb(o ...[]byte) int {
	return f.block(ngBlockSHB, f.u32(ngByteOrderMagic), f.u16(1), f.u16(0), f.u64(^uint64(0)), f.opts(o...))
}

func (f *ngFile) idb(lt LinkType, snaplen uint32, o ...[]byte) int {
	return f.block(ngBlockIDB, f.u16(uint16(lt)), f.u16(0), f.u32(snaplen), f.opts(o...))
}

func (f *ngFile) epb(id uint32, ts uint64, orig uint32, data []byte) int {
	return f.block(ngBlockEPB, f.u32(id), f.u32(uint32(ts>>32)), f.u32(uint32(ts)),
		f.u32(uint32(len(data))), f.u32(orig), data)
}

func (f *ngFile) spb(orig uint32, data []byte) int {
	return f.block(ngBlockSPB, f.u32(orig), data)
}

func (f *ngFile) opb(id uint16, ts uint64, orig uint32, data []byte) int {
	return f.block(ngBlockOPB, f.u16(id), f.u16(0xffff), f.u32(uint32(ts>>32)), f.u32(uint32(ts)),
		f.u32(uint32(len(data))), f.u32(orig), data)
}

func (f *ngFile) isb(id uint32, ts uint64, o ...[]byte) int {
	return f.block(ngBlockISB, f.u32(id), f.u32(uint32(ts>>32)), f.u32(uint32(ts)), f.opts(o...))
}

func (f *ngFile) ts(ts uint64) []byte {
	return append(f.u32(uint32(ts>>32)), f.u32(uint32(ts))...)
}

// ngPacket is a packet as read back.
type ngPacket struct {
	data []byte
	ci   CaptureInfo
	lt   LinkType
}

// readAllNg reads every packet of a file.
func readAllNg(t testing.TB, b []byte) (*NgReader, []ngPacket) {
	t.Helper()
	r, err := NewNgReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("NewNgReader: %v", err)
	}
	var ps []ngPacket
	for {
		var ci CaptureInfo
		data, lt, err := r.readPacket(&ci)
		if err == io.EOF {
			return r, ps
		}
		if err != nil {
			t.Fatalf("packet %d: %v", len(ps), err)
		}
		ps = append(ps, ngPacket{append([]byte(nil), data...), ci, lt})
	}
}

func testPayload(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + seed)
	}
	return b
}

func TestNgWriterRoundTrip(t *testing.T) {
	for _, nano := range []bool{false, true} {
		t.Run(fmt.Sprintf("nano=%v", nano), func(t *testing.T) {
			opts := []WriterOption{
				WithInterfaceName("eth0"), WithInterfaceDescription("first port"),
				WithInterfaceFilter("udp port 53"), WithHardware("x86_64"), WithOS("Linux 6.1"),
				WithApplication("pcap test"), WithBufferSize(1000),
			}
			if nano {
				opts = append(opts, WithNanosecondTimestamps())
			}
			var out bytes.Buffer
			w, err := NewNgWriter(&out, LinkTypeEthernet, 100, opts...)
			if err != nil {
				t.Fatal(err)
			}
			id, err := w.AddInterface(NgInterface{Name: "lo", OS: "Linux", LinkType: LinkTypeLinuxSLL2, Snaplen: 0})
			if err != nil || id != 1 {
				t.Fatalf("AddInterface = %d, %v", id, err)
			}
			id2, err := w.AddInterface(NgInterface{Name: "p2", LinkType: LinkTypeRaw, TSResolution: 0x80 | 20})
			if err != nil || id2 != 2 {
				t.Fatalf("AddInterface = %d, %v", id2, err)
			}
			base := time.Unix(1700000000, 123456789)
			var ins []ngIn
			for i := 0; i < 50; i++ {
				data := testPayload(i*13%300, i)
				ci := CaptureInfo{Timestamp: base.Add(time.Duration(i) * 1001 * time.Microsecond).Add(time.Duration(i)).UnixNano(), Length: len(data) + i%3}
				if i%5 == 4 {
					ci.Length = 0 // smaller than the data: written as len(data)
				}
				ins = append(ins, ngIn{i % 3, ci, data})
				if i%3 == 0 && i%2 == 0 {
					w.Dump(data, ci)
				} else if err := w.WritePacketInterface(i%3, ci, data); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.WriteStatistics(0, Stats{PacketsReceived: 60, PacketsDropped: 7, PacketsIfDropped: 3}); err != nil {
				t.Fatal(err)
			}
			if err := w.WriteStatistics(1, Stats{PacketsReceived: 17}); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := w.WritePacket(CaptureInfo{}, nil); err != ErrClosed {
				t.Fatalf("WritePacket after Close: %v", err)
			}

			r, ps := readAllNg(t, out.Bytes())
			if len(ps) != len(ins) {
				t.Fatalf("read %d packets, want %d", len(ps), len(ins))
			}
			if secs := r.Sections(); len(secs) != 1 || secs[0] != (NgSection{Hardware: "x86_64", OS: "Linux 6.1", Application: "pcap test", BigEndian: binary.NativeEndian.Uint16([]byte{0, 1}) == 1}) {
				t.Errorf("sections %+v", secs)
			}
			ifs := r.Interfaces()
			lts := []LinkType{LinkTypeEthernet, LinkTypeLinuxSLL2, LinkTypeRaw}
			for i, p := range ps {
				want := ins[i]
				data := want.data
				if want.id == 0 && len(data) > 100 {
					data = data[:100]
				}
				if !bytes.Equal(p.data, data) {
					t.Fatalf("packet %d: data differs (%d bytes, want %d)", i, len(p.data), len(data))
				}
				wlen := max(want.ci.Length, len(want.data))
				if p.ci.CaptureLength != len(data) || p.ci.Length != wlen || p.ci.InterfaceIndex != want.id || p.lt != lts[want.id] {
					t.Fatalf("packet %d: %+v lt %v, want caplen %d len %d interface %d", i, p.ci, p.lt, len(data), wlen, want.id)
				}
				ts := want.ci.Time()
				switch {
				case want.id == 2: // 2^-20 s ticks
					if d := p.ci.Time().Sub(ts); d > 0 || d < -2*time.Microsecond {
						t.Fatalf("packet %d: timestamp %v, want within 2^-20 s below %v", i, p.ci.Timestamp, ts)
					}
					continue
				case !nano:
					ts = ts.Truncate(time.Microsecond)
				}
				if !p.ci.Time().Equal(ts) {
					t.Fatalf("packet %d: timestamp %v, want %v", i, p.ci.Timestamp, ts)
				}
			}
			resol := uint8(6)
			if nano {
				resol = 9
			}
			wantIfs := []NgInterface{
				{Name: "eth0", Description: "first port", Filter: "udp port 53", LinkType: LinkTypeEthernet, Snaplen: 100, TSResolution: resol},
				{Name: "lo", OS: "Linux", LinkType: LinkTypeLinuxSLL2, TSResolution: resol},
				{Name: "p2", LinkType: LinkTypeRaw, TSResolution: 0x80 | 20},
			}
			if len(ifs) != len(wantIfs) {
				t.Fatalf("%d interfaces, want %d", len(ifs), len(wantIfs))
			}
			for i, want := range wantIfs {
				got := ifs[i]
				got.Statistics = NgStatistics{}
				if got != want {
					t.Errorf("interface %d: %+v, want %+v", i, got, want)
				}
			}
			if r.LinkType() != LinkTypeEthernet || r.Snaplen() != 100 {
				t.Errorf("LinkType, Snaplen = %v, %d", r.LinkType(), r.Snaplen())
			}
			st := ifs[0].Statistics
			if st.Blocks != 1 || st.IfRecv != 60 || st.IfDrop != 10 || st.OSDrop != 7 || st.FilterAccept != -1 || st.UsrDeliv != -1 {
				t.Errorf("interface 0 statistics %+v", st)
			}
			if !st.StartTime.Equal(r0(ins, 0, nano)) || !st.EndTime.Equal(rl(ins, 0, nano)) {
				t.Errorf("start, end = %v, %v; want %v, %v", st.StartTime, st.EndTime, r0(ins, 0, nano), rl(ins, 0, nano))
			}
			if d := time.Since(st.Timestamp); d < 0 || d > time.Minute {
				t.Errorf("statistics timestamp %v", st.Timestamp)
			}
			if got := st.Stats(); got != (Stats{PacketsReceived: 60, PacketsDropped: 7, PacketsIfDropped: 3}) {
				t.Errorf("Stats() = %+v", got)
			}
			if got := ifs[1].Statistics.Stats(); got != (Stats{PacketsReceived: 17}) || ifs[1].Statistics.Blocks != 1 {
				t.Errorf("interface 1: %+v", ifs[1].Statistics)
			}
			if ifs[2].Statistics.Blocks != 0 {
				t.Errorf("interface 2 has statistics: %+v", ifs[2].Statistics)
			}
		})
	}
}

// ngIn is a packet as written.
type ngIn struct {
	id   int
	ci   CaptureInfo
	data []byte
}

// r0 and rl return the timestamps of the first and last packet of
// interface id, at the file's resolution.
func r0(ins []ngIn, id int, nano bool) time.Time {
	for _, p := range ins {
		if p.id == id {
			return atRes(p.ci.Time(), nano)
		}
	}
	return time.Time{}
}

func rl(ins []ngIn, id int, nano bool) time.Time {
	var t time.Time
	for _, p := range ins {
		if p.id == id {
			t = atRes(p.ci.Time(), nano)
		}
	}
	return t
}

func atRes(t time.Time, nano bool) time.Time {
	if nano {
		return t
	}
	return t.Truncate(time.Microsecond)
}

func TestNgWriterHostOrder(t *testing.T) {
	var out bytes.Buffer
	w, err := NewNgWriter(&out, LinkTypeEthernet, 65535)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(CaptureInfo{Timestamp: time.Unix(1, 2000).UnixNano()}, []byte{1, 2, 3, 4, 5}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	b := out.Bytes()
	// SHB without options: 28 bytes; IDB without options: 20; EPB with 5
	// bytes of data: 40.
	if len(b) != 28+20+40 {
		t.Fatalf("file is %d bytes", len(b))
	}
	ne := binary.NativeEndian
	if ne.Uint32(b) != ngBlockSHB || ne.Uint32(b[8:]) != ngByteOrderMagic || ne.Uint16(b[12:]) != 1 ||
		ne.Uint16(b[14:]) != 0 || ne.Uint64(b[16:]) != ^uint64(0) || ne.Uint32(b[24:]) != 28 {
		t.Errorf("SHB % x", b[:28])
	}
	idb := b[28:48]
	if ne.Uint32(idb) != 1 || ne.Uint32(idb[4:]) != 20 || ne.Uint16(idb[8:]) != 1 || ne.Uint32(idb[12:]) != 65535 {
		t.Errorf("IDB % x", idb)
	}
	epb := b[48:]
	if ne.Uint32(epb) != 6 || ne.Uint32(epb[4:]) != 40 || ne.Uint32(epb[8:]) != 0 || ne.Uint32(epb[12:]) != 0 ||
		ne.Uint32(epb[16:]) != 1000002 || ne.Uint32(epb[20:]) != 5 || ne.Uint32(epb[24:]) != 5 ||
		!bytes.Equal(epb[28:36], []byte{1, 2, 3, 4, 5, 0, 0, 0}) || ne.Uint32(epb[36:]) != 40 {
		t.Errorf("EPB % x", epb)
	}
}

func TestNgWriterLargePacket(t *testing.T) {
	var out bytes.Buffer
	w, err := NewNgWriter(&out, LinkTypeEthernet, 0, WithBufferSize(300))
	if err != nil {
		t.Fatal(err)
	}
	sizes := []int{10, 299, 1000, 3, 70000, 0, 257}
	for i, n := range sizes {
		if err := w.WritePacket(CaptureInfo{Timestamp: time.Unix(int64(i), 0).UnixNano()}, testPayload(n, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, ps := readAllNg(t, out.Bytes())
	if len(ps) != len(sizes) || r.Snaplen() != DefaultSnaplen || r.Interfaces()[0].Snaplen != 0 {
		t.Fatalf("%d packets, snaplen %d", len(ps), r.Snaplen())
	}
	for i, n := range sizes {
		if !bytes.Equal(ps[i].data, testPayload(n, i)) || !ps[i].ci.Time().Equal(time.Unix(int64(i), 0)) {
			t.Fatalf("packet %d differs", i)
		}
	}
	if _, err := NewNgWriter(io.Discard, LinkTypeEthernet, 0); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, ngMaxBlock)
	w, _ = NewNgWriter(io.Discard, LinkTypeEthernet, 0)
	if err := w.WritePacket(CaptureInfo{}, big); err == nil {
		t.Fatal("a packet larger than a block can hold was written")
	}
	if err := w.WritePacket(CaptureInfo{}, big[:100]); err != nil {
		t.Fatalf("error after a rejected packet: %v", err)
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

func TestNgWriterErrors(t *testing.T) {
	if _, err := NewNgWriter(io.Discard, 70000, 0); err == nil {
		t.Error("link type 70000 accepted")
	}
	if _, err := NewNgWriter(io.Discard, 1, 0, WithOS(strings.Repeat("x", 70000))); err == nil {
		t.Error("a 70000-byte option accepted")
	}
	w, _ := NewNgWriter(io.Discard, 1, 0)
	for _, r := range []uint8{10, 0x80 | 31} {
		if _, err := w.AddInterface(NgInterface{LinkType: 1, TSResolution: r}); err == nil {
			t.Errorf("tsresol %#x accepted", r)
		}
	}
	if err := w.WritePacketInterface(1, CaptureInfo{}, nil); err == nil {
		t.Error("packet of interface 1 accepted")
	}
	if err := w.WriteStatistics(-1, Stats{}); err == nil {
		t.Error("statistics of interface -1 accepted")
	}

	// A failing io.Writer: the error sticks.
	fw := &failWriter{n: 1}
	w, err := NewNgWriter(fw, 1, 0, WithBufferSize(256))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		w.Dump(make([]byte, 100), CaptureInfo{})
	}
	if err := w.Err(); err == nil || err.Error() != "disk full" {
		t.Fatalf("Err = %v", err)
	}
	if err := w.WritePacket(CaptureInfo{}, nil); err != w.Err() {
		t.Errorf("WritePacket = %v", err)
	}
	if err := w.Flush(); err != w.Err() {
		t.Errorf("Flush = %v", err)
	}
	if err := w.Close(); err != w.Err() {
		t.Errorf("Close = %v", err)
	}
}

func TestNgReaderBigEndian(t *testing.T) {
	f := newNgFile(binary.BigEndian)
	f.shb(f.opt(ngOptSHBOS, []byte("SunOS")))
	f.idb(LinkTypeEthernet, 1500, f.opt(ngOptIfName, []byte("hme0\x00")), f.opt(ngOptIfTSResol, []byte{9}))
	f.block(0x0BAD, f.u32(32473), []byte("custom")) // custom block
	f.epb(0, 1500000000_000000123, 64, testPayload(60, 1))
	f.isb(0, 1500000001_000000000, f.opt(ngOptISBIfRecv, f.u64(5)), f.opt(ngOptISBIfDrop, f.u64(2)),
		f.opt(ngOptISBStartTime, f.ts(1500000000_000000000)))
	r, ps := readAllNg(t, f.b)
	if len(ps) != 1 {
		t.Fatalf("%d packets", len(ps))
	}
	p := ps[0]
	if !bytes.Equal(p.data, testPayload(60, 1)) || p.ci.Length != 64 || p.ci.CaptureLength != 60 ||
		!p.ci.Time().Equal(time.Unix(1500000000, 123)) || p.lt != LinkTypeEthernet {
		t.Errorf("packet %+v", p.ci)
	}
	if secs := r.Sections(); len(secs) != 1 || secs[0] != (NgSection{OS: "SunOS", BigEndian: true}) {
		t.Errorf("sections %+v", secs)
	}
	ifc := r.Interfaces()[0]
	if ifc.Name != "hme0" || ifc.TSResolution != 9 || ifc.Snaplen != 1500 {
		t.Errorf("interface %+v", ifc)
	}
	st := ifc.Statistics
	if st.IfRecv != 5 || st.IfDrop != 2 || st.OSDrop != -1 || !st.StartTime.Equal(time.Unix(1500000000, 0)) ||
		!st.EndTime.IsZero() || !st.Timestamp.Equal(time.Unix(1500000001, 0)) {
		t.Errorf("statistics %+v", st)
	}
	if got := st.Stats(); got != (Stats{PacketsReceived: 5, PacketsDropped: 2}) {
		t.Errorf("Stats() = %+v", got)
	}
}

func TestNgReaderSections(t *testing.T) {
	le := newNgFile(binary.LittleEndian)
	le.shb()
	le.idb(LinkTypeEthernet, 0, le.opt(ngOptIfName, []byte("a0")))
	le.idb(LinkTypeRaw, 0, le.opt(ngOptIfName, []byte("a1")))
	le.epb(1, 10, 4, []byte{1, 2, 3, 4})
	le.epb(0, 20, 4, []byte{5, 6, 7, 8})
	be := newNgFile(binary.BigEndian)
	be.shb()
	be.idb(LinkTypeLinuxSLL, 0, be.opt(ngOptIfName, []byte("b0")))
	be.epb(0, 30, 2, []byte{9, 10})
	be.isb(0, 40, be.opt(ngOptISBIfRecv, be.u64(1)))
	le2 := newNgFile(binary.LittleEndian)
	le2.shb()
	le2.idb(LinkTypeIPv4, 0)
	le2.idb(LinkTypeIPv6, 0)
	le2.epb(1, 50, 1, []byte{11})
	file := append(append(le.b, be.b...), le2.b...)

	r, ps := readAllNg(t, file)
	want := []struct {
		idx int
		lt  LinkType
		us  int64
	}{{1, LinkTypeRaw, 10}, {0, LinkTypeEthernet, 20}, {2, LinkTypeLinuxSLL, 30}, {4, LinkTypeIPv6, 50}}
	if len(ps) != len(want) {
		t.Fatalf("%d packets", len(ps))
	}
	for i, w := range want {
		if ps[i].ci.InterfaceIndex != w.idx || ps[i].lt != w.lt || !ps[i].ci.Time().Equal(time.UnixMicro(w.us)) {
			t.Errorf("packet %d: %+v %v", i, ps[i].ci, ps[i].lt)
		}
	}
	ifs := r.Interfaces()
	if len(ifs) != 5 || ifs[2].Name != "b0" || ifs[2].Section != 1 || ifs[4].Section != 2 || ifs[1].Section != 0 ||
		ifs[2].Statistics.IfRecv != 1 || len(r.Sections()) != 3 || !r.Sections()[1].BigEndian || r.Sections()[2].BigEndian {
		t.Errorf("interfaces %+v", ifs)
	}
}

func TestNgReaderSimpleAndObsoleteBlocks(t *testing.T) {
	f := newNgFile(binary.LittleEndian)
	f.shb()
	f.block(4, f.u16(1), f.u16(8), []byte{10, 0, 0, 1, 'h', 'o', 's', 't'}, f.u32(0)) // name resolution
	f.idb(LinkTypeEthernet, 8)
	f.idb(LinkTypeRaw, 0)
	f.spb(6, testPayload(6, 0))  // caplen 6
	f.spb(20, testPayload(8, 1)) // cut to the snaplen: 8
	f.opb(1, 77, 3, []byte{1, 2, 3})
	f.block(0x40000BAD, f.u32(1), []byte{1, 2, 3, 4})
	f.block(0x12345678, nil)
	f.spb(0, nil)
	r, ps := readAllNg(t, f.b)
	if len(ps) != 4 {
		t.Fatalf("%d packets", len(ps))
	}
	if !bytes.Equal(ps[0].data, testPayload(6, 0)) || ps[0].ci.Length != 6 || ps[0].ci.InterfaceIndex != 0 || ps[0].ci.Timestamp != 0 {
		t.Errorf("SPB 0: %+v", ps[0].ci)
	}
	if !bytes.Equal(ps[1].data, testPayload(8, 1)) || ps[1].ci.Length != 20 || ps[1].ci.CaptureLength != 8 {
		t.Errorf("SPB 1: %+v", ps[1].ci)
	}
	if !bytes.Equal(ps[2].data, []byte{1, 2, 3}) || ps[2].ci.InterfaceIndex != 1 || ps[2].lt != LinkTypeRaw ||
		!ps[2].ci.Time().Equal(time.UnixMicro(77)) {
		t.Errorf("OPB: %+v", ps[2].ci)
	}
	if len(ps[3].data) != 0 || ps[3].ci.Length != 0 {
		t.Errorf("empty SPB: %+v", ps[3].ci)
	}
	if r.Snaplen() != 8 {
		t.Errorf("Snaplen %d", r.Snaplen())
	}
}

func TestNgReaderTimestamps(t *testing.T) {
	f := newNgFile(binary.LittleEndian)
	f.shb()
	f.idb(1, 0, f.opt(ngOptIfTSResol, []byte{0x80 | 10}))                                 // 1/1024 s
	f.idb(1, 0, f.opt(ngOptIfTSResol, []byte{0}), f.opt(ngOptIfTSOffset, f.u64(1000000))) // seconds, offset
	f.idb(1, 0, f.opt(ngOptIfTSResol, []byte{12}))                                        // picoseconds
	f.idb(1, 0, f.opt(ngOptIfTSResol, []byte{3}), f.opt(ngOptIfTSOffset, f.u64(uint64(1<<64-5))))
	f.idb(1, 0, f.opt(ngOptIfTSResol, []byte{0x80 | 63}))
	f.idb(1, 0, f.opt(ngOptIfTSResol, []byte{19}))
	f.idb(1, 0, f.opt(ngOptIfTSResol, []byte{0x80}))
	f.epb(0, 5*1024+512, 0, nil)
	f.epb(1, 7, 0, nil)
	f.epb(2, 1_500_000_000_001, 0, nil)
	f.epb(3, 12_345, 0, nil)
	f.epb(4, 3<<62|1<<61, 0, nil)
	f.epb(5, 12_345_678_901_234_567_890, 0, nil)
	f.epb(6, 42, 0, nil)
	r, ps := readAllNg(t, f.b)
	want := []time.Time{
		time.Unix(5, 500_000_000),
		time.Unix(1000007, 0),
		time.Unix(1, 500_000_000),
		time.Unix(12-5, 345_000_000),
		time.Unix(1, 750_000_000),
		time.Unix(1, 234_567_890),
		time.Unix(42, 0),
	}
	if len(ps) != len(want) {
		t.Fatalf("%d packets", len(ps))
	}
	for i, w := range want {
		if !ps[i].ci.Time().Equal(w) {
			t.Errorf("packet %d: %v, want %v", i, ps[i].ci.Timestamp, w)
		}
	}
	if ifs := r.Interfaces(); ifs[1].TSOffset != 1000000 || ifs[1].TSResolution != 0 || ifs[3].TSOffset != -5 || ifs[0].TSResolution != 0x8a {
		t.Errorf("interfaces %+v", ifs)
	}

	// Writing with a power-of-ten resolution other than 6 and 9, and an
	// offset.
	var out bytes.Buffer
	w, _ := NewNgWriter(&out, 1, 0)
	id, err := w.AddInterface(NgInterface{LinkType: 1, TSResolution: 3, TSOffset: 100})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacketInterface(id, CaptureInfo{Timestamp: time.Unix(150, 987_654_321).UnixNano()}, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacketInterface(id, CaptureInfo{Timestamp: time.Unix(50, 0).UnixNano()}, nil); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	_, ps = readAllNg(t, out.Bytes())
	if !ps[0].ci.Time().Equal(time.Unix(150, 987_000_000)) || !ps[1].ci.Time().Equal(time.Unix(100, 0)) {
		t.Errorf("timestamps %v, %v", ps[0].ci.Timestamp, ps[1].ci.Timestamp)
	}
}

func TestNgReaderNoInterfaces(t *testing.T) {
	f := newNgFile(binary.LittleEndian)
	f.shb()
	r, ps := readAllNg(t, f.b)
	if len(ps) != 0 || r.LinkType() != 0 || r.Snaplen() != DefaultSnaplen || len(r.Interfaces()) != 0 {
		t.Errorf("%d packets, %v, %d", len(ps), r.LinkType(), r.Snaplen())
	}
}

// TestNgReaderCorrupt checks the error, and its offset, for each kind of
// damage.
func TestNgReaderCorrupt(t *testing.T) {
	le := binary.LittleEndian
	// base is a valid file: SHB (28 bytes) at 0, IDB (20) at 28, EPB of 4
	// bytes (36) at 48, ending at 84.
	base := func() *ngFile {
		f := newNgFile(le)
		f.shb()
		f.idb(LinkTypeEthernet, 100)
		f.epb(0, 1, 4, []byte{1, 2, 3, 4})
		return f
	}
	put := func(b []byte, off int, v uint32) []byte {
		b = bytes.Clone(b)
		le.PutUint32(b[off:], v)
		return b
	}
	good := base().b
	if len(good) != 84 {
		t.Fatalf("base file is %d bytes", len(good))
	}
	withBlock := func(add func(f *ngFile)) []byte {
		f := base()
		add(f)
		return f.b
	}
	cases := []struct {
		name      string
		file      []byte
		off       int64
		msg       string
		truncated bool
		atOpen    bool
	}{
		{"not pcapng", []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0}, 0, "unknown magic 0xa1b2c3d4", false, true},
		{"empty", nil, 0, "truncated", true, true},
		{"three bytes", good[:3], 0, "truncated", true, true},
		{"byte-order magic", put(good, 8, 0x11223344), 8, "unknown byte-order magic 0x11223344", false, true},
		{"version", put(good, 12, 2), 12, "unsupported pcapng version 2.0", false, true},
		{"SHB short", put(put(good, 4, 24), 24, 24), 4, "section header block length 24 is shorter than 28", false, true},
		{"SHB cut", good[:20], 4, "block length 28 runs past the end", true, true},
		{"trailer", put(good, 24, 32), 24, "block length 32 at the end differs from 28", false, true},
		{"length 8", put(good, 32, 8), 32, "block length 8 is shorter than 12", false, true},
		{"length 0", put(good, 52, 0), 52, "block length 0 is shorter than 12", false, false},
		{"length 37", put(good, 52, 37), 52, "block length 37 is not a multiple of 4", false, false},
		{"length huge", put(good, 52, 0xfffffffc), 52, "block length 4294967292 exceeds the maximum of 16777216", false, false},
		{"length past end", put(good, 52, 40), 52, "block length 40 runs past the end of the file (36 bytes left)", true, false},
		{"cut in block", good[:80], 52, "block length 36 runs past the end of the file (32 bytes left)", true, false},
		{"cut in header", append(bytes.Clone(good), 1, 2, 3, 4, 5, 6), 84, "6 bytes at the end of the file are too few for a block header", true, false},
		{"cut after type", append(bytes.Clone(good), 6, 0, 0, 0), 84, "4 bytes at the end", true, false},
		{"caplen", put(good, 68, 5), 68, "caplen 5 larger than the 4 bytes the block holds", false, false},
		{"caplen max", put(good, 68, 0xffffffff), 68, "caplen 4294967295 larger than the 4 bytes the block holds", false, false},
		{"interface", put(good, 56, 1), 56, "packet refers to interface 1 but the section has 1", false, false},
		{"IDB short", withBlock(func(f *ngFile) { f.block(ngBlockIDB, f.u32(1)) }), 88, "interface description block length 16 is shorter than 20", false, false},
		{"tsresol length", withBlock(func(f *ngFile) { f.idb(1, 0, f.opt(ngOptIfTSResol, []byte{6, 6})) }), 100, "if_tsresol option length 2 is not 1", false, false},
		{"tsresol 10^-20", withBlock(func(f *ngFile) { f.idb(1, 0, f.opt(ngOptIfTSResol, []byte{20})) }), 100, "if_tsresol 0x14 is too fine", false, false},
		{"tsresol 2^-64", withBlock(func(f *ngFile) { f.idb(1, 0, f.opt(ngOptIfTSResol, []byte{0x80 | 64})) }), 100, "if_tsresol 0xc0 is too fine", false, false},
		{"tsoffset length", withBlock(func(f *ngFile) { f.idb(1, 0, f.opt(ngOptIfName, []byte("x")), f.opt(ngOptIfTSOffset, f.u32(1))) }), 108, "if_tsoffset option length 4 is not 8", false, false},
		{"option overrun", withBlock(func(f *ngFile) { f.idb(1, 0, f.u16(ngOptIfName), f.u16(9), []byte("abcd")) }), 100, "option 2 of length 9 runs past the end of its block", false, false},
		{"EPB short", withBlock(func(f *ngFile) { f.block(ngBlockEPB, f.u32(0), f.u32(0), f.u32(0)) }), 88, "packet block length 24 is shorter than 32", false, false},
		{"SPB short", withBlock(func(f *ngFile) { f.block(ngBlockSPB) }), 88, "simple packet block length 12 is shorter than 16", false, false},
		{"SPB too long", withBlock(func(f *ngFile) { f.spb(9, []byte{1, 2, 3, 4}) }), 92, "simple packet block original length 9 needs 9 bytes but the block holds 4", false, false},
		{"SPB no interface", withBlock(func(f *ngFile) { f.shb(); f.spb(1, []byte{1}) }), 112, "simple packet block in a section without interfaces", false, false},
		{"OPB interface", withBlock(func(f *ngFile) { f.opb(3, 0, 0, nil) }), 92, "packet refers to interface 3 but the section has 1", false, false},
		{"EPB in new section", withBlock(func(f *ngFile) { f.shb(); f.epb(0, 0, 0, nil) }), 120, "packet refers to interface 0 but the section has 0", false, false},
		{"packet before IDB", func() []byte {
			f := newNgFile(le)
			f.shb()
			f.epb(0, 0, 0, nil)
			return f.b
		}(), 36, "packet refers to interface 0 but the section has 0", false, false},
		{"second SHB magic", withBlock(func(f *ngFile) { f.shb(); le.PutUint32(f.b[92:], 0) }), 92, "unknown byte-order magic 0x00000000", false, false},
		{"ISB option overrun", withBlock(func(f *ngFile) { f.block(ngBlockISB, f.u32(0), f.ts(0), f.u16(ngOptISBIfRecv), f.u16(8), f.u32(0)) }), 104, "option 4 of length 8 runs past the end", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewNgReader(bytes.NewReader(c.file))
			if c.atOpen {
				if err == nil {
					t.Fatal("NewNgReader succeeded")
				}
			} else {
				if err != nil {
					t.Fatalf("NewNgReader: %v", err)
				}
				for {
					_, _, err = r.ZeroCopyReadPacketData()
					if err != nil {
						break
					}
				}
				if _, _, again := r.ZeroCopyReadPacketData(); again != err {
					t.Errorf("the next read returned %v", again)
				}
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is no *FormatError", err, err)
			}
			if fe.Format != "pcapng" || fe.Offset != c.off || !strings.Contains(fe.Msg, c.msg) {
				t.Errorf("error %q at %d, want %q at %d", fe.Msg, fe.Offset, c.msg, c.off)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) != c.truncated {
				t.Errorf("errors.Is(%v, io.ErrUnexpectedEOF) = %v", err, !c.truncated)
			}
		})
	}
}

// TestNgReaderTruncatedEverywhere cuts a file at every byte: the reader
// returns the packets before the cut and then io.EOF (at a block boundary)
// or a truncation error.
func TestNgReaderTruncatedEverywhere(t *testing.T) {
	var out bytes.Buffer
	w, _ := NewNgWriter(&out, LinkTypeEthernet, 0, WithInterfaceName("eth0"))
	for i := 0; i < 5; i++ {
		w.WritePacket(CaptureInfo{Timestamp: time.Unix(int64(i), 0).UnixNano()}, testPayload(i*3, i))
	}
	w.WriteStatistics(0, Stats{PacketsReceived: 5})
	w.Close()
	file := out.Bytes()
	ends := map[int]bool{}
	for off := 0; off < len(file); {
		off += int(binary.NativeEndian.Uint32(file[off+4:]))
		ends[off] = true
	}
	for n := 0; n < len(file); n++ {
		r, err := NewNgReader(bytes.NewReader(file[:n]))
		for err == nil {
			_, _, err = r.ZeroCopyReadPacketData()
		}
		if ends[n] {
			if err != io.EOF {
				t.Errorf("cut at %d (a block boundary): %v", n, err)
			}
		} else if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("cut at %d: %v", n, err)
		}
	}
}

// TestNgReaderSmallReads reads through readers that deliver a byte at a
// time, or data with the final error.
func TestNgReaderSmallReads(t *testing.T) {
	var out bytes.Buffer
	w, _ := NewNgWriter(&out, LinkTypeEthernet, 0)
	for i := 0; i < 300; i++ {
		w.WritePacket(CaptureInfo{Timestamp: time.Unix(int64(i), 0).UnixNano()}, testPayload(i*7%1500, i))
	}
	w.Close()
	for name, rd := range map[string]io.Reader{
		"one byte": iotest.OneByteReader(bytes.NewReader(out.Bytes())),
		"data+EOF": iotest.DataErrReader(bytes.NewReader(out.Bytes())),
		"half":     iotest.HalfReader(bytes.NewReader(out.Bytes())),
	} {
		r, err := NewNgReader(rd)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			data, ci, err := r.ReadPacketData()
			if err == io.EOF && i == 300 {
				break
			}
			if err != nil || !bytes.Equal(data, testPayload(i*7%1500, i)) || ci.Time().Unix() != int64(i) {
				t.Fatalf("%s: packet %d: %v", name, i, err)
			}
		}
	}
	// An error from the input is returned as it is.
	boom := errors.New("boom")
	r, err := NewNgReader(io.MultiReader(bytes.NewReader(out.Bytes()[:1000]), iotest.ErrReader(boom)))
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, _, err = r.ZeroCopyReadPacketData()
	}
	if err != boom {
		t.Errorf("error %v, want boom", err)
	}
}

// TestNgReaderLengthClaims checks that a length field does not make the
// reader allocate more than the input holds.
func TestNgReaderLengthClaims(t *testing.T) {
	f := newNgFile(binary.LittleEndian)
	f.shb()
	f.idb(1, 0)
	f.b = append(f.b, f.u32(ngBlockEPB)...)
	f.b = append(f.b, f.u32(ngMaxBlock)...)
	f.b = append(f.b, make([]byte, 100)...)
	r, err := NewNgReader(bytes.NewReader(f.b))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = r.ZeroCopyReadPacketData()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("error %v", err)
	}
	if cap(r.buf) > readerInitialBuf {
		t.Errorf("buffer grew to %d for a %d-byte file", cap(r.buf), len(f.b))
	}
}

func makeNgFile(tb testing.TB, n, size int, opts ...WriterOption) []byte {
	var out bytes.Buffer
	w, err := NewNgWriter(&out, LinkTypeEthernet, 0, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	data := testPayload(size, 0)
	ts := time.Unix(1700000000, 0)
	for i := 0; i < n; i++ {
		if err := w.WritePacket(CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Microsecond).UnixNano(), Length: size}, data); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

func TestNgAllocs(t *testing.T) {
	w, err := NewNgWriter(io.Discard, LinkTypeEthernet, 0, WithNanosecondTimestamps())
	if err != nil {
		t.Fatal(err)
	}
	data := testPayload(100, 0)
	ci := CaptureInfo{Timestamp: time.Now().UnixNano(), Length: 100}
	if a := testing.AllocsPerRun(10000, func() { w.WritePacket(ci, data) }); a != 0 {
		t.Errorf("NgWriter.WritePacket: %v allocations per packet", a)
	}
	if a := testing.AllocsPerRun(10000, func() { w.Dump(data, ci) }); a != 0 {
		t.Errorf("NgWriter.Dump: %v allocations per packet", a)
	}

	file := makeNgFile(t, 40000, 100)
	r, err := NewNgReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20000; i++ { // past the buffer's growth
		if _, _, err := r.ZeroCopyReadPacketData(); err != nil {
			t.Fatal(err)
		}
	}
	var rerr error
	if a := testing.AllocsPerRun(15000, func() {
		if _, _, err := r.ZeroCopyReadPacketData(); err != nil {
			rerr = err
		}
	}); a != 0 {
		t.Errorf("NgReader.ZeroCopyReadPacketData: %v allocations per packet", a)
	}
	if rerr != nil {
		t.Fatal(rerr)
	}
}

// TestPcapngOfflineHandle reads a pcapng file through OpenOfflineReader.
func TestPcapngOfflineHandle(t *testing.T) {
	file := makeNgFile(t, 10, 60, WithInterfaceName("eth0"))
	h, err := OpenOfflineReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.LinkType() != LinkTypeEthernet {
		t.Errorf("LinkType %v", h.LinkType())
	}
	n := 0
	for {
		data, ci, err := h.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(data) != 60 || !ci.Time().Equal(time.Unix(1700000000, int64(n)*1000)) {
			t.Fatalf("packet %d: %d bytes at %v", n, len(data), ci.Timestamp)
		}
		n++
	}
	if n != 10 {
		t.Errorf("%d packets", n)
	}
}

func BenchmarkNgWriter(b *testing.B) {
	w, err := NewNgWriter(io.Discard, LinkTypeEthernet, 0)
	if err != nil {
		b.Fatal(err)
	}
	data := testPayload(100, 0)
	ci := CaptureInfo{Timestamp: time.Now().UnixNano(), Length: 100}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ci.Timestamp += 1000
		if err := w.WritePacket(ci, data); err != nil {
			b.Fatal(err)
		}
	}
	w.Flush()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
}

func BenchmarkNgReader(b *testing.B) {
	const n = 100000
	file := makeNgFile(b, n, 100)
	b.ReportAllocs()
	b.SetBytes(int64(len(file)) / n)
	b.ResetTimer()
	var r *NgReader
	for i := 0; i < b.N; i++ {
		if i%n == 0 {
			b.StopTimer()
			var err error
			if r, err = NewNgReader(bytes.NewReader(file)); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		if _, _, err := r.ZeroCopyReadPacketData(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
}

// BenchmarkNgOfflineDispatch reads a pcapng file of 1,000,000 64-byte
// packets with OfflineHandle.Dispatch (compare BenchmarkOfflineDispatch).
func BenchmarkNgOfflineDispatch(b *testing.B) {
	benchmarkOfflineDispatch(b, "bench.pcapng", func(f io.Writer) (benchWriter, error) {
		return NewNgWriter(f, LinkTypeEthernet, 0, WithBufferSize(1<<20))
	})
}
