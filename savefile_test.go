package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"
	"time"
)

// sfFrame builds an Ethernet/IPv4 frame carrying UDP (proto 17) or TCP
// (proto 6), padded to size bytes, with i written in the payload.
func sfFrame(proto byte, i, size int) []byte {
	if size < 14+20+20+4 {
		size = 14 + 20 + 20 + 4
	}
	b := make([]byte, size)
	copy(b[0:6], []byte{2, 0, 0, 0, 0, 2})
	copy(b[6:12], []byte{2, 0, 0, 0, 0, 1})
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(size-14))
	ip[8] = 64
	ip[9] = proto
	copy(ip[12:16], []byte{10, 0, 0, 1})
	copy(ip[16:20], []byte{10, 0, 0, 2})
	l4 := ip[20:]
	binary.BigEndian.PutUint16(l4[0:], 1000)
	binary.BigEndian.PutUint16(l4[2:], 2000)
	if proto == 17 {
		binary.BigEndian.PutUint16(l4[4:], uint16(size-34))
	} else {
		l4[12] = 5 << 4
	}
	binary.BigEndian.PutUint32(b[size-4:], uint32(i))
	return b
}

type sfPkt struct {
	ci   CaptureInfo
	data []byte
}

func sfTime(i int) time.Time {
	return time.Unix(1700000000+int64(i), int64(i)*1001+123456789%1000000000)
}

// sfPkts makes n packets, alternately UDP and TCP, of varying sizes.
func sfPkts(n int) []sfPkt {
	ps := make([]sfPkt, n)
	for i := range ps {
		proto := byte(17)
		if i%2 == 1 {
			proto = 6
		}
		d := sfFrame(proto, i, 60+(i*37)%1400)
		ps[i] = sfPkt{ci: CaptureInfo{Timestamp: sfTime(i).UnixNano(), CaptureLength: len(d), Length: len(d) + i%3}, data: d}
	}
	return ps
}

func sfWrite(tb testing.TB, lt LinkType, snaplen int, ps []sfPkt, opts ...WriterOption) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, lt, snaplen, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	for _, p := range ps {
		if err := w.WritePacket(p.ci, p.data); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func sfReadAll(tb testing.TB, r *Reader) []sfPkt {
	tb.Helper()
	var got []sfPkt
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return got
		}
		if err != nil {
			tb.Fatalf("packet %d: %v", len(got), err)
		}
		got = append(got, sfPkt{ci, data})
	}
}

func sfCheck(tb testing.TB, got, want []sfPkt, nano bool) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("%d packets, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		ts := w.ci.Time()
		if !nano {
			ts = ts.Truncate(time.Microsecond)
		}
		if !g.ci.Time().Equal(ts) {
			tb.Errorf("packet %d: timestamp %v, want %v", i, g.ci.Timestamp, ts)
		}
		if g.ci.CaptureLength != len(w.data) || g.ci.Length != w.ci.Length {
			tb.Errorf("packet %d: lengths %d/%d, want %d/%d", i, g.ci.CaptureLength, g.ci.Length, len(w.data), w.ci.Length)
		}
		if !bytes.Equal(g.data, w.data) {
			tb.Errorf("packet %d: data differs", i)
		}
	}
}

// sfHeader builds a file header by hand in the given byte order.
func sfHeader(bo binary.ByteOrder, magic uint32, major, minor uint16, snaplen, lt uint32) []byte {
	b := make([]byte, 24)
	bo.PutUint32(b[0:], magic)
	bo.PutUint16(b[4:], major)
	bo.PutUint16(b[6:], minor)
	bo.PutUint32(b[16:], snaplen)
	bo.PutUint32(b[20:], lt)
	return b
}

// sfRecord builds a record by hand.
func sfRecord(bo binary.ByteOrder, sec, frac, caplen, origlen uint32, data []byte) []byte {
	b := make([]byte, 16, 16+len(data))
	bo.PutUint32(b[0:], sec)
	bo.PutUint32(b[4:], frac)
	bo.PutUint32(b[8:], caplen)
	bo.PutUint32(b[12:], origlen)
	return append(b, data...)
}

func TestSavefileRoundTrip(t *testing.T) {
	ps := sfPkts(500)
	for _, nano := range []bool{false, true} {
		var opts []WriterOption
		if nano {
			opts = append(opts, WithNanosecondTimestamps())
		}
		// A small buffer exercises flushing in the middle of records.
		for _, bufSize := range []int{0, 100, 3000} {
			o := append(opts, WithBufferSize(bufSize))
			file := sfWrite(t, LinkTypeEthernet, 0, ps, o...)
			wantMagic := uint32(magicMicro)
			if nano {
				wantMagic = magicNano
			}
			if m := binary.NativeEndian.Uint32(file); m != wantMagic {
				t.Fatalf("magic 0x%08x, want 0x%08x in host order", m, wantMagic)
			}
			for _, rd := range []func([]byte) io.Reader{
				func(b []byte) io.Reader { return bytes.NewReader(b) },
				func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
				func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
			} {
				r, err := NewReader(rd(file))
				if err != nil {
					t.Fatal(err)
				}
				if r.LinkType() != LinkTypeEthernet || r.Snaplen() != DefaultSnaplen || r.Nanosecond() != nano {
					t.Fatalf("header: %v %d %v", r.LinkType(), r.Snaplen(), r.Nanosecond())
				}
				if maj, min := r.Version(); maj != 2 || min != 4 {
					t.Fatalf("version %d.%d", maj, min)
				}
				sfCheck(t, sfReadAll(t, r), ps, nano)
			}
		}
	}
}

// TestSavefileLargeFile reads a file many times the Reader's buffer, with
// records across every chunk boundary.
func TestSavefileLargeFile(t *testing.T) {
	ps := sfPkts(5000)
	file := sfWrite(t, LinkTypeEthernet, 0, ps, WithNanosecondTimestamps())
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var got []sfPkt
	for {
		data, ci, err := r.ZeroCopyReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if cap(data) != len(data) {
			t.Fatalf("zero-copy data has room to grow into the next record")
		}
		got = append(got, sfPkt{ci, append([]byte(nil), data...)})
	}
	sfCheck(t, got, ps, true)
	if len(r.buf) > readerChunk {
		t.Errorf("buffer grew to %d", len(r.buf))
	}
	// A clean end is io.EOF every time.
	if _, _, err := r.ReadPacketData(); err != io.EOF {
		t.Fatalf("after the end: %v", err)
	}
}

func TestSavefileBigEndian(t *testing.T) {
	for _, nano := range []bool{false, true} {
		magic, frac, want := uint32(magicMicro), uint32(654321), time.Unix(1700000000, 654321000)
		if nano {
			magic, frac, want = magicNano, 987654321, time.Unix(1700000000, 987654321)
		}
		data := sfFrame(17, 7, 80)
		file := sfHeader(binary.BigEndian, magic, 2, 4, 65535, 1)
		file = append(file, sfRecord(binary.BigEndian, 1700000000, frac, 80, 1500, data)...)
		file = append(file, sfRecord(binary.BigEndian, 1700000001, frac, 0, 0, nil)...)
		r, err := NewReader(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		if r.Snaplen() != 65535 || r.LinkType() != LinkTypeEthernet || r.Nanosecond() != nano {
			t.Fatalf("header: snaplen %d, link type %v, nano %v", r.Snaplen(), r.LinkType(), r.Nanosecond())
		}
		got := sfReadAll(t, r)
		if len(got) != 2 {
			t.Fatalf("%d packets", len(got))
		}
		if !got[0].ci.Time().Equal(want) || got[0].ci.CaptureLength != 80 || got[0].ci.Length != 1500 || !bytes.Equal(got[0].data, data) {
			t.Errorf("packet 0: %+v", got[0].ci)
		}
		if got[1].ci.CaptureLength != 0 || len(got[1].data) != 0 {
			t.Errorf("packet 1: %+v", got[1].ci)
		}
	}
}

func TestSavefileLinkTypes(t *testing.T) {
	var lts []LinkType
	for lt := range linkTypeNames {
		lts = append(lts, lt)
	}
	for lt := LinkType(0); lt < 300; lt++ {
		lts = append(lts, lt)
	}
	lts = append(lts, 0xffff, 1000, 65000)
	ps := sfPkts(2)
	for _, lt := range lts {
		file := sfWrite(t, lt, 1000, ps)
		r, err := NewReader(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		if r.LinkType() != lt {
			t.Fatalf("link type %d read back as %d", lt, r.LinkType())
		}
		if _, ok := r.FCSLength(); ok {
			t.Fatalf("link type %d: FCS length present", lt)
		}
		sfCheck(t, sfReadAll(t, r), ps, false)
	}
}

func TestSavefileFCSBits(t *testing.T) {
	// An Ethernet file whose packets end with a 4-byte FCS (2 16-bit words).
	lt := LinkType(1 | pcapFCSPresent | 2<<pcapFCSLengthShift)
	file := sfWrite(t, lt, 0, sfPkts(1))
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != LinkTypeEthernet {
		t.Fatalf("link type %v", r.LinkType())
	}
	if n, ok := r.FCSLength(); n != 4 || !ok {
		t.Fatalf("FCS length %d %v", n, ok)
	}
	if _, err := NewWriter(io.Discard, LinkType(1|1<<16), 0); err == nil {
		t.Fatal("NewWriter took a link type with reserved bits set")
	}
}

func TestSavefileSnaplen(t *testing.T) {
	data := sfFrame(17, 1, 100)
	var buf bytes.Buffer
	w, err := NewWriter(&buf, LinkTypeEthernet, 40)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1, 0)
	w.WritePacket(CaptureInfo{Timestamp: ts.UnixNano(), Length: 1500}, data)
	w.WritePacket(CaptureInfo{Timestamp: ts.UnixNano(), Length: 10}, data) // Length < len(data)
	w.WritePacket(CaptureInfo{Timestamp: ts.UnixNano()}, data[:30])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if r.Snaplen() != 40 {
		t.Fatalf("snaplen %d", r.Snaplen())
	}
	got := sfReadAll(t, r)
	want := [][2]int{{40, 1500}, {40, 100}, {30, 30}}
	for i, p := range got {
		if p.ci.CaptureLength != want[i][0] || p.ci.Length != want[i][1] || !bytes.Equal(p.data, data[:want[i][0]]) {
			t.Errorf("packet %d: caplen %d len %d, want %v", i, p.ci.CaptureLength, p.ci.Length, want[i])
		}
	}
}

// TestSavefileOldVersions reads files of versions 2.2 and 2.3, whose record
// headers can have the two lengths the other way round, and the modified
// format with 24-byte record headers.
func TestSavefileOldVersions(t *testing.T) {
	le := binary.LittleEndian
	data := sfFrame(17, 1, 64)
	for _, tc := range []struct {
		minor        uint16
		caplen, len  uint32
		wantC, wantL int
	}{
		{2, 1500, 64, 64, 1500}, // always swapped
		{3, 1500, 64, 64, 1500}, // swapped: caplen > len
		{3, 64, 1500, 64, 1500}, // not swapped
		{4, 64, 1500, 64, 1500},
	} {
		file := sfHeader(le, magicMicro, 2, tc.minor, 65535, 1)
		file = append(file, sfRecord(le, 1, 2, tc.caplen, tc.len, data)...)
		r, err := NewReader(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		got := sfReadAll(t, r)
		if len(got) != 1 || got[0].ci.CaptureLength != tc.wantC || got[0].ci.Length != tc.wantL {
			t.Errorf("2.%d %d/%d: got %+v", tc.minor, tc.caplen, tc.len, got)
		}
	}

	file := sfHeader(binary.BigEndian, magicKuznetsov, 2, 4, 100, 1)
	rec := sfRecord(binary.BigEndian, 5, 6, 64, 64, nil)
	rec = binary.BigEndian.AppendUint32(rec, 7)      // ifindex
	rec = binary.BigEndian.AppendUint16(rec, 0x0800) // protocol
	rec = append(rec, byte(PacketOutgoing), 0)
	file = append(append(file, rec...), data...)
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if r.Snaplen() != 114 {
		t.Errorf("snaplen %d, want 114 (100 and a made-up Ethernet header)", r.Snaplen())
	}
	got := sfReadAll(t, r)
	if len(got) != 1 || got[0].ci.InterfaceIndex != 7 || got[0].ci.PacketType() != PacketOutgoing ||
		!bytes.Equal(got[0].data, data) || !got[0].ci.Time().Equal(time.Unix(5, 6000)) {
		t.Errorf("modified format: %+v", got)
	}
}

// TestSavefileLengths checks which record lengths are accepted.
func TestSavefileLengths(t *testing.T) {
	le := binary.LittleEndian
	data := make([]byte, 300000)
	for _, tc := range []struct {
		name            string
		snaplen, lt     uint32
		caplen, origlen uint32
		ok              bool
	}{
		{"caplen > origlen", 100, 1, 80, 10, true},
		{"caplen > snaplen, within 262144", 100, 1, 1000, 1000, true},
		{"caplen 262144", 100, 1, 262144, 262144, true},
		{"caplen 262145", 100, 1, 262145, 262145, false},
		{"caplen within a larger snaplen", 300000, 1, 300000, 300000, true},
		{"caplen over a larger snaplen", 299999, 1, 300000, 300000, false},
		{"snaplen 0", 0, 1, 262144, 262144, true},
		{"D-Bus", 100, 231, 300000, 300000, true},
		{"caplen 2^32-1", 100, 1, 0xffffffff, 0xffffffff, false},
	} {
		file := sfHeader(le, magicMicro, 2, 4, tc.snaplen, tc.lt)
		file = append(file, sfRecord(le, 0, 0, 10, 10, data[:10])...)
		file = append(file, sfRecord(le, 0, 0, tc.caplen, tc.origlen, data[:min(int(tc.caplen), len(data))])...)
		r, err := NewReader(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		r.ReadPacketData()
		d, ci, err := r.ReadPacketData()
		if tc.ok {
			if err != nil || len(d) != int(tc.caplen) || ci.CaptureLength != int(tc.caplen) || ci.Length != int(tc.origlen) {
				t.Errorf("%s: %d bytes, %+v, %v", tc.name, len(d), ci, err)
			}
			continue
		}
		var fe *FormatError
		if !errors.As(err, &fe) || fe.Offset != 24+16+10+8 || fe.Format != "pcap" {
			t.Errorf("%s: %v, want a FormatError at offset %d", tc.name, err, 24+16+10+8)
		}
		if len(r.buf) > readerInitialBuf {
			t.Errorf("%s: buffer grew to %d", tc.name, len(r.buf))
		}
	}
}

// TestSavefileCorrupt checks the error and its offset for each kind of
// malformed input.
func TestSavefileCorrupt(t *testing.T) {
	le := binary.LittleEndian
	good := sfHeader(le, magicMicro, 2, 4, 65535, 1)
	rec := sfRecord(le, 1, 2, 60, 60, make([]byte, 60))
	two := append(append(append([]byte(nil), good...), rec...), rec...)
	for _, tc := range []struct {
		name      string
		file      []byte
		offset    int64
		truncated bool
		msg       string
		packets   int // read before the error
	}{
		{"empty", nil, 0, true, "empty file", 0},
		{"wrong magic", append([]byte{0x12, 0x34, 0x56, 0x78}, good[4:]...), 0, false, "unknown magic 0x12345678", 0},
		{"pcapng", append([]byte{0x0a, 0x0d, 0x0d, 0x0a}, good[4:]...), 0, false, "unknown magic 0x0a0d0d0a", 0},
		{"truncated header", good[:23], 0, true, "truncated file header: 23 of 24 bytes", 0},
		{"version 3.0", sfHeader(le, magicMicro, 3, 0, 65535, 1), 4, false, "unsupported version 3.0", 0},
		{"version 2.5", sfHeader(le, magicMicro, 2, 5, 65535, 1), 4, false, "unsupported version 2.5", 0},
		{"reserved link type bits", sfHeader(le, magicMicro, 2, 4, 65535, 1|1<<20), 20, false,
			"link type field 0x00100001 has reserved bits set", 0},
		{"truncated record header", two[:24+76+15], 24 + 76, true, "truncated record header: 15 of 16 bytes", 1},
		{"truncated record", two[:24+76+16+59], 24 + 76, true, "truncated record: 75 of 76 bytes", 1},
		{"header only record", two[:24+76+16], 24 + 76, true, "truncated record: 16 of 76 bytes", 1},
		{"caplen too large", append(append(append([]byte(nil), good...), rec...), sfRecord(le, 1, 2, 0xffffffff, 60, nil)...),
			24 + 76 + 8, false, "caplen 4294967295 larger than the 262144 the file's snaplen allows", 1},
	} {
		r, err := NewReader(bytes.NewReader(tc.file))
		n := 0
		for err == nil {
			_, _, err = r.ReadPacketData()
			if err == nil {
				n++
			}
		}
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: %v, want a *FormatError", tc.name, err)
			continue
		}
		if fe.Offset != tc.offset || fe.Msg != tc.msg || n != tc.packets {
			t.Errorf("%s: offset %d %q after %d packets, want offset %d %q after %d", tc.name, fe.Offset, fe.Msg, n, tc.offset, tc.msg, tc.packets)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) != tc.truncated {
			t.Errorf("%s: errors.Is(err, io.ErrUnexpectedEOF) = %v", tc.name, !tc.truncated)
		}
		if r != nil {
			// The error sticks.
			if _, _, err2 := r.ReadPacketData(); err2 != err {
				t.Errorf("%s: then %v", tc.name, err2)
			}
		}
	}
}

// TestSavefileReaderErrors checks that an error of the underlying reader
// is returned as it is.
func TestSavefileReaderErrors(t *testing.T) {
	file := sfWrite(t, LinkTypeEthernet, 0, sfPkts(3))
	boom := errors.New("boom")
	r, err := NewReader(io.MultiReader(bytes.NewReader(file[:24+50]), iotest.ErrReader(boom)))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.ReadPacketData(); err != boom {
		t.Fatalf("%v, want boom", err)
	}
	if _, err := NewReader(iotest.ErrReader(boom)); err != boom {
		t.Fatalf("NewReader: %v, want boom", err)
	}
}

type sfFailWriter struct {
	n      int // bytes accepted before failing
	closed bool
}

var errSfWrite = errors.New("disk full")

func (w *sfFailWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		n := w.n
		w.n = 0
		return n, errSfWrite
	}
	w.n -= len(p)
	return len(p), nil
}

func (w *sfFailWriter) Close() error { w.closed = true; return nil }

func TestWriterErrors(t *testing.T) {
	fw := &sfFailWriter{n: 1000}
	w, err := NewWriter(fw, LinkTypeEthernet, 0, WithBufferSize(100))
	if err != nil {
		t.Fatal(err)
	}
	data := sfFrame(17, 0, 64)
	for i := 0; i < 100; i++ {
		w.Dump(data, CaptureInfo{Length: 64})
	}
	if err := w.Err(); err != errSfWrite {
		t.Fatalf("Err: %v", err)
	}
	if err := w.WritePacket(CaptureInfo{}, data); err != errSfWrite {
		t.Fatalf("WritePacket after an error: %v", err)
	}
	if err := w.Flush(); err != errSfWrite {
		t.Fatalf("Flush: %v", err)
	}
	if err := w.Close(); err != errSfWrite {
		t.Fatalf("Close: %v", err)
	}
	if fw.closed {
		t.Fatal("Close closed the io.Writer")
	}

	if _, err := NewWriter(&sfFailWriter{n: 10}, LinkTypeEthernet, 0); err != errSfWrite {
		t.Fatalf("NewWriter on a failing writer: %v", err)
	}

	var buf bytes.Buffer
	w, _ = NewWriter(&buf, LinkTypeEthernet, 0)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(CaptureInfo{}, data); err != ErrClosed {
		t.Fatalf("WritePacket after Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if buf.Len() != 24 {
		t.Fatalf("%d bytes written", buf.Len())
	}
}

// TestWriterBigPacket writes packets larger than the buffer.
func TestWriterBigPacket(t *testing.T) {
	big := sfFrame(17, 1, 200000)
	ps := []sfPkt{
		{CaptureInfo{Timestamp: sfTime(0).UnixNano(), Length: 60}, sfFrame(6, 0, 60)},
		{CaptureInfo{Timestamp: sfTime(1).UnixNano(), Length: len(big)}, big},
		{CaptureInfo{Timestamp: sfTime(2).UnixNano(), Length: 60}, sfFrame(6, 2, 60)},
	}
	file := sfWrite(t, LinkTypeEthernet, 0, ps, WithBufferSize(4096))
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	sfCheck(t, sfReadAll(t, r), ps, false)
}

func TestWriterAllocs(t *testing.T) {
	w, err := NewWriter(io.Discard, LinkTypeEthernet, 0, WithNanosecondTimestamps())
	if err != nil {
		t.Fatal(err)
	}
	data := sfFrame(17, 0, 64)
	ci := CaptureInfo{Timestamp: time.Now().UnixNano(), CaptureLength: 64, Length: 64}
	if n := testing.AllocsPerRun(10000, func() { w.WritePacket(ci, data) }); n != 0 {
		t.Errorf("WritePacket: %v allocations per packet", n)
	}
	if n := testing.AllocsPerRun(10000, func() { w.Dump(data, ci) }); n != 0 {
		t.Errorf("Dump: %v allocations per packet", n)
	}
}

func TestReaderAllocs(t *testing.T) {
	file := sfWrite(t, LinkTypeEthernet, 0, sfPkts(20000))
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(10000, func() {
		if _, _, err := r.ZeroCopyReadPacketData(); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("ZeroCopyReadPacketData: %v allocations per packet", n)
	}
}

func BenchmarkWriterWritePacket(b *testing.B) {
	w, err := NewWriter(io.Discard, LinkTypeEthernet, 0)
	if err != nil {
		b.Fatal(err)
	}
	data := sfFrame(17, 0, 64)
	ci := CaptureInfo{Timestamp: time.Now().UnixNano(), CaptureLength: 64, Length: 64}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		w.WritePacket(ci, data)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
}

// TestDumpAfterClose checks that a packet dumped into a closed writer is
// reported by Err rather than dropped without a word.
func TestDumpAfterClose(t *testing.T) {
	type dumper interface {
		Dump([]byte, CaptureInfo)
		Close() error
		Err() error
	}
	makers := map[string]func(io.Writer) (dumper, error){
		"pcap":   func(w io.Writer) (dumper, error) { return NewWriter(w, LinkTypeEthernet, 0) },
		"pcapng": func(w io.Writer) (dumper, error) { return NewNgWriter(w, LinkTypeEthernet, 0) },
	}
	for name, mk := range makers {
		w, err := mk(io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		w.Dump(make([]byte, 60), CaptureInfo{Timestamp: time.Unix(1, 0).UnixNano(), Length: 60})
		if err := w.Err(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s: Err after a Dump on a closed writer = %v, want ErrClosed", name, err)
		}
	}
}
