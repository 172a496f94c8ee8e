package pcap

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/bpf"
)

// sfTempFile writes a pcap file of ps and returns its path.
func sfTempFile(t *testing.T, ps []sfPkt, opts ...WriterOption) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.pcap")
	if err := os.WriteFile(path, sfWrite(t, LinkTypeEthernet, 0, ps, opts...), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func sfOpen(t *testing.T, ps []sfPkt, opts ...WriterOption) *OfflineHandle {
	t.Helper()
	h, err := OpenOffline(sfTempFile(t, ps, opts...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestOfflineDispatch(t *testing.T) {
	ps := sfPkts(100)
	h := sfOpen(t, ps, WithNanosecondTimestamps())
	if h.LinkType() != LinkTypeEthernet || h.SnapLen() != DefaultSnaplen {
		t.Fatalf("link type %v, snaplen %d", h.LinkType(), h.SnapLen())
	}
	var got []sfPkt
	collect := func(data []byte, ci CaptureInfo) {
		got = append(got, sfPkt{ci, append([]byte(nil), data...)})
	}
	for _, step := range []struct {
		cnt, n int
		err    error
	}{
		{1, 1, nil},
		{10, 10, nil},
		{50, 50, nil},
		{0, 39, nil},    // all the rest
		{-1, 0, io.EOF}, // nothing left
		{5, 0, io.EOF},
	} {
		n, err := h.Dispatch(step.cnt, collect)
		if n != step.n || err != step.err {
			t.Fatalf("Dispatch(%d) = %d, %v; want %d, %v", step.cnt, n, err, step.n, step.err)
		}
	}
	sfCheck(t, got, ps, true)

	// A count larger than what is left: the rest, without an error.
	h = sfOpen(t, ps)
	if n, err := h.Dispatch(95, func([]byte, CaptureInfo) {}); n != 95 || err != nil {
		t.Fatalf("Dispatch(95) = %d, %v", n, err)
	}
	if n, err := h.Dispatch(10, func([]byte, CaptureInfo) {}); n != 5 || err != nil {
		t.Fatalf("Dispatch(10) at 95 = %d, %v", n, err)
	}
	if _, _, err := h.ReadPacketData(); err != io.EOF {
		t.Fatalf("ReadPacketData at the end: %v", err)
	}
}

func TestOfflineLoop(t *testing.T) {
	ps := sfPkts(30)
	h := sfOpen(t, ps)
	count := 0
	fn := func([]byte, CaptureInfo) { count++ }
	if n, err := h.Loop(10, fn); n != 10 || err != nil {
		t.Fatalf("Loop(10) = %d, %v", n, err)
	}
	if n, err := h.Loop(-1, fn); n != 20 || err != io.EOF {
		t.Fatalf("Loop(-1) = %d, %v", n, err)
	}
	if count != 30 {
		t.Fatalf("%d callbacks", count)
	}
	h = sfOpen(t, ps)
	if n, err := h.Loop(40, fn); n != 30 || err != io.EOF {
		t.Fatalf("Loop(40) = %d, %v", n, err)
	}
}

func TestOfflineReadPacketData(t *testing.T) {
	ps := sfPkts(20)
	h := sfOpen(t, ps)
	var got []sfPkt
	for i := 0; ; i++ {
		var data []byte
		var ci CaptureInfo
		var err error
		if i%2 == 0 {
			data, ci, err = h.ReadPacketData()
		} else {
			data, ci, err = h.ZeroCopyReadPacketData()
			data = append([]byte(nil), data...)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, sfPkt{ci, data})
	}
	sfCheck(t, got, ps, false)
}

func TestOfflineReader(t *testing.T) {
	ps := sfPkts(10)
	file := sfWrite(t, LinkTypeRaw, 1000, ps)
	h, err := OpenOfflineReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if h.LinkType() != LinkTypeRaw || h.SnapLen() != 1000 {
		t.Fatalf("link type %v, snaplen %d", h.LinkType(), h.SnapLen())
	}
	var got []sfPkt
	n, err := h.Dispatch(-1, func(data []byte, ci CaptureInfo) {
		got = append(got, sfPkt{ci, append([]byte(nil), data...)})
	})
	if n != 10 || err != nil {
		t.Fatalf("Dispatch = %d, %v", n, err)
	}
	sfCheck(t, got, ps, false)
}

// TestOfflineOpenErrors checks what opening a file that is not a savefile
// reports.
func TestOfflineOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		file   []byte
		offset int64
		msg    string
		eof    bool
	}{
		{"empty", nil, 0, "empty file", true},
		{"three bytes", []byte{0xd4, 0xc3, 0xb2}, 0, "truncated file header: 3 of 4 magic bytes", true},
		{"text", []byte("hello, world, this is not a capture"), 0, "unknown magic 0x68656c6c", false},
		{"pcap header cut", sfWrite(t, LinkTypeEthernet, 0, nil)[:10], 0, "truncated file header: 10 of 24 bytes", true},
	} {
		_, err := OpenOfflineReader(bytes.NewReader(tc.file))
		var fe *FormatError
		if !errors.As(err, &fe) || fe.Offset != tc.offset || fe.Msg != tc.msg {
			t.Errorf("%s: %v, want a FormatError at %d: %s", tc.name, err, tc.offset, tc.msg)
			continue
		}
		if errors.Is(err, io.ErrUnexpectedEOF) != tc.eof {
			t.Errorf("%s: errors.Is(err, io.ErrUnexpectedEOF) = %v", tc.name, !tc.eof)
		}
	}
	if _, err := OpenOffline(filepath.Join(t.TempDir(), "missing.pcap")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestOfflineCorrupt checks that a malformed record ends Dispatch with the
// packets before it and a FormatError.
func TestOfflineCorrupt(t *testing.T) {
	file := sfWrite(t, LinkTypeEthernet, 0, sfPkts(5))
	h, err := OpenOfflineReader(bytes.NewReader(file[:len(file)-3]))
	if err != nil {
		t.Fatal(err)
	}
	n, err := h.Dispatch(-1, func([]byte, CaptureInfo) {})
	var fe *FormatError
	if n != 4 || !errors.As(err, &fe) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Dispatch = %d, %v", n, err)
	}
	if n, err2 := h.Dispatch(-1, func([]byte, CaptureInfo) {}); n != 0 || err2 != err {
		t.Fatalf("then Dispatch = %d, %v", n, err2)
	}
}

func TestOfflinePcapng(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewNgWriter(&buf, LinkTypeEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	ps := sfPkts(10)
	for _, p := range ps {
		if err := w.WritePacket(p.ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	h, err := OpenOfflineReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.src.(*NgReader); !ok || h.LinkType() != LinkTypeEthernet {
		t.Fatalf("source %T, link type %v", h.src, h.LinkType())
	}
	if err := h.SetFilter("tcp"); err != nil {
		t.Fatal(err)
	}
	var got []sfPkt
	n, err := h.Dispatch(-1, func(data []byte, ci CaptureInfo) {
		got = append(got, sfPkt{ci, append([]byte(nil), data...)})
	})
	if n != 5 || err != nil {
		t.Fatalf("Dispatch = %d, %v", n, err)
	}
	for i := range got {
		if !bytes.Equal(got[i].data, ps[2*i+1].data) {
			t.Errorf("packet %d differs", i)
		}
	}
}

// TestOfflineFilterLinkTypes reads a pcapng file with an Ethernet and a
// raw-IP interface through filters.
func TestOfflineFilterLinkTypes(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewNgWriter(&buf, LinkTypeEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := w.AddInterface(NgInterface{LinkType: LinkTypeRaw})
	if err != nil {
		t.Fatal(err)
	}
	// Ethernet UDP, raw UDP, Ethernet TCP, raw TCP, Ethernet UDP.
	for i, proto := range []byte{17, 17, 6, 6, 17} {
		f := sfFrame(proto, i, 80)
		ci := CaptureInfo{Timestamp: sfTime(i).UnixNano(), Length: 80}
		if i%2 == 1 {
			err = w.WritePacketInterface(raw, ci, f[14:])
		} else {
			err = w.WritePacket(ci, f)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	file := buf.Bytes()
	run := func(set func(h *OfflineHandle) error) (n int, ifaces []int, err error) {
		h, err := OpenOfflineReader(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		if err := set(h); err != nil {
			t.Fatal(err)
		}
		for {
			k, err := h.Dispatch(-1, func(_ []byte, ci CaptureInfo) { ifaces = append(ifaces, ci.InterfaceIndex) })
			n += k
			if err != nil {
				return n, ifaces, err
			}
		}
	}
	// "udp" compiles for both link types: each packet is tested with the
	// program for its own.
	n, ifaces, err := run(func(h *OfflineHandle) error { return h.SetFilter("udp") })
	if n != 3 || err != io.EOF || len(ifaces) != 3 || ifaces[1] != 1 {
		t.Errorf("udp: %d packets from %v, %v", n, ifaces, err)
	}
	// "ether host" does not compile for raw IP: the raw packets are
	// errors, the others are read.
	n, _, err = run(func(h *OfflineHandle) error { return h.SetFilter("ether host 2:0:0:0:0:2") })
	if n != 1 || err == nil || err == io.EOF {
		t.Errorf("ether host: %d packets, %v", n, err)
	}
	h, _ := OpenOfflineReader(bytes.NewReader(file))
	h.SetFilter("ether host 2:0:0:0:0:2")
	var errs, pkts int
	for {
		_, _, err := h.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs++
			continue
		}
		pkts++
	}
	if pkts != 3 || errs != 2 {
		t.Errorf("ether host, ReadPacketData: %d packets, %d errors", pkts, errs)
	}
	// A program: only for the file's link type.
	prog, err := CompileFilter(LinkTypeEthernet, 0, "udp")
	if err != nil {
		t.Fatal(err)
	}
	n, _, err = run(func(h *OfflineHandle) error { return h.SetBPF(prog) })
	if n != 1 || err == nil || err == io.EOF {
		t.Errorf("SetBPF: %d packets, %v", n, err)
	}
}

func TestOfflineSetFilter(t *testing.T) {
	ps := sfPkts(100) // even: UDP, odd: TCP
	h := sfOpen(t, ps)
	if err := h.SetFilter("udp and port 2000"); err != nil {
		t.Fatal(err)
	}
	var got []int
	fn := func(data []byte, ci CaptureInfo) {
		got = append(got, int(data[len(data)-1])|int(data[len(data)-2])<<8)
	}
	if n, err := h.Dispatch(10, fn); n != 10 || err != nil {
		t.Fatalf("Dispatch(10) = %d, %v", n, err)
	}
	if err := h.SetFilter("tcp"); err != nil {
		t.Fatal(err)
	}
	if n, err := h.Dispatch(5, fn); n != 5 || err != nil {
		t.Fatalf("Dispatch(5) = %d, %v", n, err)
	}
	if err := h.SetFilter("tcp and"); err == nil {
		t.Fatal("a malformed expression was accepted")
	}
	// The previous filter stays.
	data, _, err := h.ReadPacketData()
	if err != nil || data[len(data)-1] != 29 {
		t.Fatalf("after a bad filter: %v %v", data, err)
	}
	prog, err := CompileFilter(LinkTypeEthernet, 0, "udp")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.SetBPF(prog); err != nil {
		t.Fatal(err)
	}
	if n, err := h.Dispatch(-1, fn); n != 35 || err != nil {
		t.Fatalf("Dispatch(-1) with SetBPF = %d, %v", n, err)
	}
	if err := h.SetBPF(nil); err == nil {
		t.Fatal("an empty program was accepted")
	}
	want := []int{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 19, 21, 23, 25, 27}
	for i := 30; i < 100; i += 2 {
		want = append(want, i)
	}
	if len(got) != len(want) {
		t.Fatalf("packets %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("packets %v, want %v", got, want)
		}
	}

	// The empty expression removes the filter.
	h = sfOpen(t, ps)
	h.SetFilter("udp")
	h.SetFilter("")
	if n, err := h.Dispatch(-1, func([]byte, CaptureInfo) {}); n != 100 || err != nil {
		t.Fatalf("no filter: %d, %v", n, err)
	}
}

func TestOfflineBreakLoop(t *testing.T) {
	ps := sfPkts(100)
	h := sfOpen(t, ps)
	// From the callback: after the current packet, with the count.
	n, err := h.Dispatch(-1, func(data []byte, ci CaptureInfo) {
		if ci.Time().Equal(ps[4].ci.Time().Truncate(time.Microsecond)) {
			h.BreakLoop()
		}
	})
	if n != 5 || err != ErrBreak {
		t.Fatalf("Dispatch = %d, %v; want 5, ErrBreak", n, err)
	}
	// The break is consumed: reading goes on from the next packet.
	data, _, err := h.ReadPacketData()
	if err != nil || !bytes.Equal(data, ps[5].data) {
		t.Fatalf("after the break: %v", err)
	}
	// Before a call: the next call returns ErrBreak at once.
	h.BreakLoop()
	if n, err := h.Dispatch(-1, func([]byte, CaptureInfo) {}); n != 0 || err != ErrBreak {
		t.Fatalf("Dispatch after BreakLoop = %d, %v", n, err)
	}
	h.BreakLoop()
	if _, _, err := h.ReadPacketData(); err != ErrBreak {
		t.Fatalf("ReadPacketData after BreakLoop: %v", err)
	}
	// Loop stops too.
	h.BreakLoop()
	if n, err := h.Loop(-1, func([]byte, CaptureInfo) {}); n != 0 || err != ErrBreak {
		t.Fatalf("Loop after BreakLoop = %d, %v", n, err)
	}
	// From another goroutine, while fn runs.
	started, broken := make(chan struct{}), make(chan struct{})
	go func() {
		<-started
		h.BreakLoop()
		close(broken)
	}()
	first := true
	n, err = h.Loop(-1, func([]byte, CaptureInfo) {
		if first {
			first = false
			close(started)
			<-broken
		}
	})
	if n != 1 || err != ErrBreak {
		t.Fatalf("Loop with BreakLoop from another goroutine = %d, %v", n, err)
	}
	// With a filter that skips everything, a break still stops the read.
	h.SetFilter("ip6")
	h.BreakLoop()
	if n, err := h.Dispatch(-1, func([]byte, CaptureInfo) {}); n != 0 || err != ErrBreak {
		t.Fatalf("filtered Dispatch after BreakLoop = %d, %v", n, err)
	}
}

// TestOfflineBreakLoopConcurrent calls BreakLoop from another goroutine
// during a long Loop.
func TestOfflineBreakLoopConcurrent(t *testing.T) {
	h := sfOpen(t, sfPkts(20000))
	var wg sync.WaitGroup
	first := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-first
		h.BreakLoop()
	}()
	seen := 0
	n, err := h.Loop(-1, func([]byte, CaptureInfo) {
		if seen == 0 {
			close(first)
		}
		seen++
	})
	wg.Wait()
	if err != ErrBreak && !(err == io.EOF && n == 20000) {
		t.Fatalf("Loop = %d, %v", n, err)
	}
	if n != seen {
		t.Fatalf("Loop reported %d packets, delivered %d", n, seen)
	}
}

func TestOfflineClose(t *testing.T) {
	ps := sfPkts(50)
	h := sfOpen(t, ps)
	// From the callback.
	n, err := h.Dispatch(-1, func([]byte, CaptureInfo) {
		if err := h.Close(); err != nil {
			t.Error(err)
		}
	})
	if n != 1 || err != ErrClosed {
		t.Fatalf("Dispatch = %d, %v; want 1, ErrClosed", n, err)
	}
	if _, err := h.file.Read(make([]byte, 1)); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("the file is still open: %v", err)
	}
	fn := func([]byte, CaptureInfo) {}
	if n, err := h.Dispatch(1, fn); n != 0 || err != ErrClosed {
		t.Errorf("Dispatch: %d, %v", n, err)
	}
	if n, err := h.Loop(1, fn); n != 0 || err != ErrClosed {
		t.Errorf("Loop: %d, %v", n, err)
	}
	if _, _, err := h.ReadPacketData(); err != ErrClosed {
		t.Errorf("ReadPacketData: %v", err)
	}
	if _, _, err := h.ZeroCopyReadPacketData(); err != ErrClosed {
		t.Errorf("ZeroCopyReadPacketData: %v", err)
	}
	if err := h.SetFilter("udp"); err != ErrClosed {
		t.Errorf("SetFilter: %v", err)
	}
	if err := h.SetBPF([]bpf.RawInstruction{{Op: 6, K: 0}}); err != ErrClosed {
		t.Errorf("SetBPF: %v", err)
	}
	if err := h.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	h.BreakLoop() // harmless

	// From another goroutine while Loop runs.
	h = sfOpen(t, sfPkts(20000))
	first := make(chan struct{})
	done := make(chan struct{})
	go func() {
		<-first
		h.Close()
		close(done)
	}()
	seen := 0
	n, err = h.Loop(-1, func([]byte, CaptureInfo) {
		if seen == 0 {
			close(first)
			<-done
		}
		seen++
	})
	if n != 1 || seen != 1 || err != ErrClosed {
		t.Fatalf("Loop closed from another goroutine = %d (%d seen), %v", n, seen, err)
	}

	// A handle from OpenOfflineReader leaves the reader open.
	rc := &sfReadCloser{Reader: bytes.NewReader(sfWrite(t, LinkTypeEthernet, 0, ps))}
	h, err = OpenOfflineReader(rc)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil || rc.closed {
		t.Fatalf("Close: %v, reader closed %v", err, rc.closed)
	}
}

type sfReadCloser struct {
	io.Reader
	closed bool
}

func (r *sfReadCloser) Close() error { r.closed = true; return nil }

// TestOfflineCloseRace closes handles while other goroutines read them.
func TestOfflineCloseRace(t *testing.T) {
	path := sfTempFile(t, sfPkts(3000))
	for i := 0; i < 20; i++ {
		h, err := OpenOffline(path)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			for {
				_, err := h.Dispatch(100, func([]byte, CaptureInfo) {})
				if err != nil {
					if err != ErrClosed && err != io.EOF {
						t.Error(err)
					}
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for {
				if _, _, err := h.ZeroCopyReadPacketData(); err != nil {
					if err != ErrClosed && err != io.EOF {
						t.Error(err)
					}
					return
				}
			}
		}()
		time.Sleep(time.Duration(i) * 50 * time.Microsecond)
		h.Close()
		wg.Wait()
	}
}

// TestPacketHandle reads a file through the interface both handles have.
func TestPacketHandle(t *testing.T) {
	var ph PacketHandle = sfOpen(t, sfPkts(10))
	if n, err := ph.Dispatch(-1, func([]byte, CaptureInfo) {}); n != 10 || err != nil {
		t.Fatalf("Dispatch = %d, %v", n, err)
	}
	if err := ph.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOfflineAllocs(t *testing.T) {
	h := sfOpen(t, sfPkts(60000))
	fn := func([]byte, CaptureInfo) {}
	// Let the buffer grow to its full size first.
	h.Dispatch(20000, fn)
	if n := testing.AllocsPerRun(100, func() {
		if n, err := h.Dispatch(100, fn); n != 100 || err != nil {
			t.Fatal(n, err)
		}
	}); n != 0 {
		t.Errorf("Dispatch: %v allocations per 100 packets", n)
	}
	if err := h.SetFilter("udp"); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if n, err := h.Dispatch(50, fn); n != 50 || err != nil {
			t.Fatal(n, err)
		}
	}); n != 0 {
		t.Errorf("Dispatch with a filter: %v allocations per 100 packets", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, _, err := h.ZeroCopyReadPacketData(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("ZeroCopyReadPacketData: %v allocations per packet", n)
	}
}

// BenchmarkOfflineDispatch reads a file of 1,000,000 64-byte packets with
// Dispatch; ns/packet is the figure to compare with pcap_dispatch over
// pcap_open_offline.
func BenchmarkOfflineDispatch(b *testing.B) {
	benchmarkOfflineDispatch(b, "bench.pcap", func(f io.Writer) (benchWriter, error) {
		return NewWriter(f, LinkTypeEthernet, 0, WithBufferSize(1<<20))
	})
}

// benchWriter is what the savefile benchmarks need of NewWriter's and
// NewNgWriter's writers.
type benchWriter interface {
	WritePacket(ci CaptureInfo, data []byte) error
	Close() error
}

// benchmarkOfflineDispatch writes a file of 1,000,000 64-byte packets with
// the writer newWriter makes and reads it with OpenOffline and Dispatch.
func benchmarkOfflineDispatch(b *testing.B, name string, newWriter func(io.Writer) (benchWriter, error)) {
	const npkts = 1000000
	path := filepath.Join(b.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w, err := newWriter(f)
	if err != nil {
		b.Fatal(err)
	}
	data := sfFrame(17, 0, 64)
	ts := time.Unix(1700000000, 0)
	for i := 0; i < npkts; i++ {
		w.WritePacket(CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Microsecond).UnixNano(), Length: 64}, data)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	var bytesSeen int
	fn := func(data []byte, ci CaptureInfo) { bytesSeen += len(data) }
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h, err := OpenOffline(path)
		if err != nil {
			b.Fatal(err)
		}
		n, err := h.Dispatch(-1, fn)
		if n != npkts || err != nil {
			b.Fatal(n, err)
		}
		h.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/npkts, "ns/packet")
}
