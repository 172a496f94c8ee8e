package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// savedPacket is a packet read back from a savefile.
type savedPacket struct {
	TS     time.Time
	Data   []byte
	Length int // original length
	Iface  int // pcapng interface index
}

// readSavefile reads every packet of a pcap or pcapng file, and the
// interfaces of a pcapng file.
func readSavefile(t testing.TB, path string) ([]savedPacket, []NgInterface) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		next   func() ([]byte, CaptureInfo, error)
		ifaces func() []NgInterface
	)
	if len(raw) >= 4 && binary.LittleEndian.Uint32(raw) == ngBlockSHB {
		r, err := NewNgReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		next, ifaces = r.ReadPacketData, r.Interfaces
	} else {
		r, err := NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		next = r.ReadPacketData
	}
	var pkts []savedPacket
	for {
		data, ci, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: packet %d: %v", path, len(pkts), err)
		}
		if ci.CaptureLength != len(data) {
			t.Fatalf("%s: packet %d: CaptureLength %d, %d bytes", path, len(pkts), ci.CaptureLength, len(data))
		}
		pkts = append(pkts, savedPacket{ci.Time(), data, ci.Length, ci.InterfaceIndex})
	}
	var ifs []NgInterface
	if ifaces != nil {
		ifs = ifaces()
	}
	return pkts, ifs
}

// dumpPacket returns test packet i: an Ethernet frame of an experimental
// ethertype, 60 to about 1,500 bytes, numbered i.
func dumpPacket(i int) []byte {
	n := 60 + (i*197)%1440
	b := make([]byte, n)
	copy(b, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5})
	binary.BigEndian.PutUint32(b[14:], uint32(i))
	for j := 18; j < n; j++ {
		b[j] = byte(i + j)
	}
	return b
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

var dumpT0 = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)

func newTestDumper(t *testing.T, path string, opts DumperOptions, clock *fakeClock) *FileDumper {
	t.Helper()
	if clock == nil {
		clock = &fakeClock{dumpT0}
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	d, err := newFileDumper(path, LinkTypeEthernet, 0, opts, clock.now)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// dirFiles returns the names of the files in dir, sorted.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// checkPackets checks that got holds the packets first, first+1, ... as
// dumpPacket made them, with the timestamps ts gives.
func checkPackets(t *testing.T, what string, got []savedPacket, first int, ts func(i int) time.Time) {
	t.Helper()
	for k, p := range got {
		i := first + k
		if want := dumpPacket(i); !bytes.Equal(p.Data, want) {
			t.Fatalf("%s: packet %d: data differs (%d bytes, want %d)", what, k, len(p.Data), len(want))
		}
		if want := ts(i); !p.TS.Equal(want) {
			t.Fatalf("%s: packet %d: timestamp %v, want %v", what, k, p.TS, want)
		}
	}
}

func TestFileDumperSingle(t *testing.T) {
	for _, format := range []DumpFormat{DumpPcap, DumpPcapNG} {
		t.Run(format.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "trace")
			d := newTestDumper(t, path, DumperOptions{Format: format, WriterOptions: []WriterOption{WithNanosecondTimestamps()}}, nil)
			ts := func(i int) time.Time { return dumpT0.Add(time.Duration(i) * 1234567 * time.Nanosecond) }
			for i := range 100 {
				data := dumpPacket(i)
				d.Dump(data, CaptureInfo{Timestamp: ts(i).UnixNano(), CaptureLength: len(data), Length: len(data) + i})
			}
			if d.Name() != path {
				t.Errorf("Name() = %q, want %q", d.Name(), path)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			if err := d.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			got, _ := readSavefile(t, path)
			if len(got) != 100 {
				t.Fatalf("read %d packets, want 100", len(got))
			}
			checkPackets(t, path, got, 0, ts)
			for i, p := range got {
				if p.Length != len(p.Data)+i {
					t.Fatalf("packet %d: length %d, want %d", i, p.Length, len(p.Data)+i)
				}
			}
			if names := dirFiles(t, filepath.Dir(path)); !slices.Equal(names, []string{"trace"}) {
				t.Errorf("files %q, want just trace", names)
			}
			d.Dump(dumpPacket(0), CaptureInfo{})
			if err := d.Err(); !errors.Is(err, ErrClosed) {
				t.Errorf("Dump after Close: Err() = %v, want ErrClosed", err)
			}
		})
	}
}

// TestFileDumperSize rotates by size (tcpdump -C): files path, path1, ...,
// none larger than MaxBytes, holding every packet in order.
func TestFileDumperSize(t *testing.T) {
	for _, c := range []struct {
		format DumpFormat
		stats  bool // pcapng statistics at the end of each file
	}{{DumpPcap, false}, {DumpPcapNG, false}, {DumpPcapNG, true}} {
		format := c.format
		name := format.String()
		var trailer int64
		opts := DumperOptions{Format: format, MaxBytes: 20000}
		if c.stats {
			name += "-stats"
			opts.Stats = func() (Stats, error) { return Stats{PacketsReceived: 1 << 30}, nil }
			var err error
			if trailer, err = ngStatsSize(LinkTypeEthernet, DefaultSnaplen); err != nil || trailer < 24 {
				t.Fatalf("ngStatsSize = %d, %v", trailer, err)
			}
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "cap.pcap")
			var rotated []string
			const max = 20000
			opts.OnRotate = func(p string) { rotated = append(rotated, p) }
			d := newTestDumper(t, path, opts, nil)
			ts := func(i int) time.Time {
				return dumpT0.Add(time.Duration(i) * time.Millisecond).Truncate(time.Microsecond)
			}
			const n = 200
			for i := range n {
				data := dumpPacket(i)
				d.Dump(data, CaptureInfo{Timestamp: ts(i).UnixNano(), Length: len(data)})
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			names := dirFiles(t, dir)
			if len(names) < 5 {
				t.Fatalf("files %q: want several", names)
			}
			var want []string
			for k := range names {
				name := "cap.pcap"
				if k > 0 {
					name += fmt.Sprint(k)
				}
				want = append(want, filepath.Join(dir, name))
			}
			if !slices.Equal(rotated, want) {
				t.Fatalf("OnRotate got %q, want %q", rotated, want)
			}
			next := 0
			for k, name := range want {
				st, err := os.Stat(name)
				if err != nil {
					t.Fatal(err)
				}
				if st.Size() > max {
					t.Errorf("%s: %d bytes, more than %d", name, st.Size(), max)
				}
				got, _ := readSavefile(t, name)
				checkPackets(t, name, got, next, ts)
				next += len(got)
				// Full: the next packet would not have fitted.
				if k < len(want)-1 {
					rec := int64(16 + len(dumpPacket(next)))
					if format == DumpPcapNG {
						rec = int64(32 + (len(dumpPacket(next))+3)&^3)
					}
					if st.Size()+rec <= max { // trailer already in st.Size()
						t.Errorf("%s: %d bytes, rotated although packet %d (%d bytes) fitted", name, st.Size(), next, rec)
					}
				}
			}
			if next != n {
				t.Errorf("files hold %d packets, want %d", next, n)
			}
		})
	}
}

// TestFileDumperRing keeps MaxFiles files named path0, path1, ... reused
// in turn (tcpdump -C -W).
func TestFileDumperRing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ring")
	d := newTestDumper(t, path, DumperOptions{MaxBytes: 10000, MaxFiles: 3}, nil)
	ts := func(i int) time.Time { return dumpT0.Add(time.Duration(i) * time.Second).Truncate(time.Microsecond) }
	var files []string // name of the file of each packet
	for i := range 300 {
		data := dumpPacket(i)
		d.Dump(data, CaptureInfo{Timestamp: ts(i).UnixNano(), Length: len(data)})
		files = append(files, d.Name())
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if names := dirFiles(t, dir); !slices.Equal(names, []string{"ring0", "ring1", "ring2"}) {
		t.Fatalf("files %q, want ring0 ring1 ring2", names)
	}
	// Each file holds the last run of packets written under its name.
	last := map[string]int{}
	for i, f := range files {
		if i == 0 || files[i-1] != f {
			last[f] = i
		}
	}
	seq := []string{}
	for _, f := range files {
		if len(seq) == 0 || seq[len(seq)-1] != f {
			seq = append(seq, f)
		}
	}
	for k, f := range seq {
		if want := filepath.Join(dir, fmt.Sprintf("ring%d", k%3)); f != want {
			t.Fatalf("file %d is %s, want %s", k, f, want)
		}
	}
	for f, first := range last {
		got, _ := readSavefile(t, f)
		checkPackets(t, f, got, first, ts)
		if first+len(got) != len(files) && files[first+len(got)] == f {
			t.Errorf("%s: %d packets from %d, but the file went on", f, len(got), first)
		}
	}
}

// TestFileDumperInterval rotates by time (tcpdump -G) with a time template,
// and keeps the newest MaxFiles files.
func TestFileDumperInterval(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{dumpT0}
	var rotated []string
	d := newTestDumper(t, filepath.Join(dir, "t-%Y%m%d-%H%M%S.pcap"), DumperOptions{
		Interval: 10 * time.Second,
		MaxFiles: 2,
		OnRotate: func(p string) { rotated = append(rotated, filepath.Base(p)) },
	}, clock)
	if want := filepath.Join(dir, "t-20260314-150926.pcap"); d.Name() != want {
		t.Fatalf("first file %s, want %s (the clock's time)", d.Name(), want)
	}
	ts := func(i int) time.Time {
		return dumpT0.Add(time.Duration(i) * 1500 * time.Millisecond).Truncate(time.Microsecond)
	}
	for i := range 30 { // 45 s
		data := dumpPacket(i)
		d.Dump(data, CaptureInfo{Timestamp: ts(i).UnixNano(), Length: len(data)})
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	// Files start at the first packet 10 s or more after the previous
	// file's start: packets 0, 7 (10.5 s), 14 (21 s), 21 (31.5 s), 28 (42 s).
	wantRotated := []string{"t-20260314-150926.pcap", "t-20260314-150937.pcap", "t-20260314-150947.pcap",
		"t-20260314-150958.pcap", "t-20260314-151008.pcap"}
	if !slices.Equal(rotated, wantRotated) {
		t.Fatalf("files written %q, want %q", rotated, wantRotated)
	}
	if names := dirFiles(t, dir); !slices.Equal(names, wantRotated[3:]) {
		t.Fatalf("files kept %q, want %q", names, wantRotated[3:])
	}
	got, _ := readSavefile(t, filepath.Join(dir, wantRotated[3]))
	if len(got) != 7 {
		t.Errorf("%s: %d packets, want 7", wantRotated[3], len(got))
	}
	checkPackets(t, wantRotated[3], got, 21, ts)
	got, _ = readSavefile(t, filepath.Join(dir, wantRotated[4]))
	if len(got) != 2 {
		t.Errorf("%s: %d packets, want 2", wantRotated[4], len(got))
	}
	checkPackets(t, wantRotated[4], got, 28, ts)
}

// TestFileDumperIntervalSize rotates by time and size together: a number
// follows the time in the files started by size, from 1 again in each
// interval. Packets without a timestamp go by the clock.
func TestFileDumperIntervalSize(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{dumpT0}
	var rotated []string
	d := newTestDumper(t, filepath.Join(dir, "%H%M%S-"), DumperOptions{
		Format:   DumpPcapNG,
		Interval: time.Minute,
		MaxBytes: 4000,
		OnRotate: func(p string) { rotated = append(rotated, filepath.Base(p)) },
	}, clock)
	data := dumpPacket(5)[:1000] // 1032 bytes a block; 3 fit in 4000 after the 48-byte header
	dump := func(ts time.Time) {
		ci := CaptureInfo{Length: len(data)}
		if !ts.IsZero() {
			ci.SetTime(ts)
		}
		d.Dump(data, ci)
	}
	for range 7 {
		dump(dumpT0)
	}
	clock.t = dumpT0.Add(time.Minute)
	dump(time.Time{}) // no timestamp (0): the clock's time, a minute on
	for range 4 {
		dump(dumpT0.Add(2 * time.Minute))
	}
	clock.t = dumpT0.Add(3 * time.Minute)
	if err := d.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{"150926-", "150926-1", "150926-2", "151026-", "151126-", "151126-1", "151226-"}
	if !slices.Equal(rotated, want) {
		t.Fatalf("files %q, want %q", rotated, want)
	}
	for name, n := range map[string]int{"150926-": 3, "150926-1": 3, "150926-2": 1, "151026-": 1, "151126-": 3, "151126-1": 1, "151226-": 0} {
		if got, _ := readSavefile(t, filepath.Join(dir, name)); len(got) != n {
			t.Errorf("%s: %d packets, want %d", name, len(got), n)
		}
	}
}

// TestFileDumperNumberedInterval: with Interval but no time verb, the files
// are numbered as with MaxBytes instead of overwriting each other.
func TestFileDumperNumberedInterval(t *testing.T) {
	dir := t.TempDir()
	d := newTestDumper(t, filepath.Join(dir, "x.pcap"), DumperOptions{Interval: time.Second, MaxFiles: 12}, nil)
	for i := range 30 {
		d.Dump(dumpPacket(i), CaptureInfo{Timestamp: dumpT0.Add(time.Duration(i) * 500 * time.Millisecond).UnixNano()})
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	var want []string
	for k := range 12 {
		want = append(want, fmt.Sprintf("x.pcap%02d", k))
	}
	if names := dirFiles(t, dir); !slices.Equal(names, want) {
		t.Fatalf("files %q, want %q", names, want)
	}
}

func TestFileDumperStats(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.pcapng")
	calls := 0
	d := newTestDumper(t, path, DumperOptions{
		Format: DumpPcapNG,
		Stats: func() (Stats, error) {
			calls++
			return Stats{PacketsReceived: 1000, PacketsDropped: 7, PacketsIfDropped: 2}, nil
		},
		WriterOptions: []WriterOption{WithInterfaceName("pa")},
	}, nil)
	for i := range 3 {
		d.Dump(dumpPacket(i), CaptureInfo{Timestamp: dumpT0.UnixNano()})
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("Stats called %d times, want 1", calls)
	}
	pkts, ifs := readSavefile(t, path)
	if len(pkts) != 3 || len(ifs) != 1 {
		t.Fatalf("%d packets, %d interfaces; want 3 and 1", len(pkts), len(ifs))
	}
	if ifs[0].Name != "pa" {
		t.Errorf("interface name %q, want pa", ifs[0].Name)
	}
	if got, want := ifs[0].Statistics.Stats(), (Stats{PacketsReceived: 1000, PacketsDropped: 7, PacketsIfDropped: 2}); got != want {
		t.Errorf("statistics %+v, want %+v", got, want)
	}
}

func TestFileDumperErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		path string
		opts DumperOptions
		msg  string
	}{
		{"", DumperOptions{}, "empty path"},
		{filepath.Join(dir, "a"), DumperOptions{MaxFiles: 3}, "MaxFiles needs"},
		{filepath.Join(dir, "a"), DumperOptions{MaxBytes: -1}, "negative"},
		{filepath.Join(dir, "a"), DumperOptions{Format: 7}, "unknown format"},
		{filepath.Join(dir, "%Q"), DumperOptions{Interval: time.Second}, "unknown verb %Q"},
		{filepath.Join(dir, "a%"), DumperOptions{Interval: time.Second}, "ends with %"},
		{filepath.Join(dir, "no", "such", "dir"), DumperOptions{}, "no such file"},
	} {
		d, err := NewFileDumper(c.path, LinkTypeEthernet, 0, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("NewFileDumper(%q, %+v) = %v, want an error with %q", c.path, c.opts, err, c.msg)
		}
		if d != nil {
			d.Close()
		}
	}
	// A template without -G is a plain name.
	d, err := NewFileDumper(filepath.Join(dir, "50%"), LinkTypeEthernet, 0, DumperOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if _, err := os.Stat(filepath.Join(dir, "50%")); err != nil {
		t.Error(err)
	}

	// A write error is kept, and later packets are dropped.
	d = newTestDumper(t, filepath.Join(dir, "w"), DumperOptions{WriterOptions: []WriterOption{WithBufferSize(4096)}}, nil)
	d.f.Close() // the file goes away under the writer
	for i := range 10 {
		d.Dump(dumpPacket(i), CaptureInfo{})
	}
	if d.Err() == nil {
		t.Fatal("no error after writing to a closed file")
	}
	first := d.Err()
	if err := d.Flush(); err != first {
		t.Errorf("Flush = %v, want the first error %v", err, first)
	}
	if err := d.Close(); err != first {
		t.Errorf("Close = %v, want the first error %v", err, first)
	}
}

// TestFileDumperAllocs: no allocation per packet between rotations.
func TestFileDumperAllocs(t *testing.T) {
	for _, format := range []DumpFormat{DumpPcap, DumpPcapNG} {
		t.Run(format.String(), func(t *testing.T) {
			d := newTestDumper(t, filepath.Join(t.TempDir(), "a"), DumperOptions{
				Format:   format,
				MaxBytes: 1 << 40,
				Interval: time.Hour,
			}, nil)
			defer d.Close()
			data := dumpPacket(3)
			ci := CaptureInfo{Timestamp: dumpT0.UnixNano(), CaptureLength: len(data), Length: len(data)}
			dump := d.Dump // as Dispatch gets it
			allocs := testing.AllocsPerRun(10000, func() { dump(data, ci) })
			if allocs != 0 {
				t.Errorf("%v allocations per packet, want 0", allocs)
			}
			if err := d.Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestExpandTime(t *testing.T) {
	tm := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for tmpl, want := range map[string]string{
		"a-%Y-%m-%d_%H.%M.%S": "a-2026-01-02_03.04.05",
		"%y%j%%":              "26002%",
		"%s.pcap":             "1767323045.pcap",
	} {
		if _, err := checkTemplate(tmpl); err != nil {
			t.Errorf("%q: %v", tmpl, err)
		}
		if got := expandTime(tmpl, tm); got != want {
			t.Errorf("expandTime(%q) = %q, want %q", tmpl, got, want)
		}
	}
}

// BenchmarkFileDumper writes 64-byte packets through a FileDumper rotating
// every 64 MiB, and, for comparison, straight through a Writer.
func BenchmarkFileDumper(b *testing.B) {
	b.Run("writer", func(b *testing.B) {
		f, err := os.Create(filepath.Join(b.TempDir(), "w"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		w, err := NewWriter(f, LinkTypeEthernet, 0)
		if err != nil {
			b.Fatal(err)
		}
		data := dumpPacket(1)[:64]
		ci := CaptureInfo{Timestamp: time.Now().UnixNano(), CaptureLength: 64, Length: 64}
		b.ReportAllocs()
		b.SetBytes(64)
		for b.Loop() {
			w.Dump(data, ci)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	})
	for _, format := range []DumpFormat{DumpPcap, DumpPcapNG} {
		b.Run(format.String(), func(b *testing.B) {
			d, err := NewFileDumper(filepath.Join(b.TempDir(), "b"), LinkTypeEthernet, 0,
				DumperOptions{Format: format, MaxBytes: 64 << 20, MaxFiles: 2})
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			data := dumpPacket(1)[:64]
			ci := CaptureInfo{Timestamp: time.Now().UnixNano(), CaptureLength: 64, Length: 64}
			b.ReportAllocs()
			b.SetBytes(64)
			for b.Loop() {
				d.Dump(data, ci)
			}
			if err := d.Err(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
