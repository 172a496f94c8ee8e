package capture

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// frame builds a benchmark frame carrying seq, laid out as gen/frame.h says.
func frame(seq uint64) []byte {
	f := make([]byte, FrameLen)
	copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(f[6:12], []byte{0x02, 0, 0, 0, 0, 1})
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	f[14] = 0x45
	binary.BigEndian.PutUint16(f[16:], FrameLen-14)
	f[22] = 64
	f[23] = 17
	binary.BigEndian.PutUint16(f[34:], UDPSrcPort)
	binary.BigEndian.PutUint16(f[36:], UDPDstPort)
	binary.BigEndian.PutUint16(f[38:], FrameLen-34)
	binary.BigEndian.PutUint64(f[SeqOffset:], seq)
	return f
}

func TestSeq(t *testing.T) {
	if seq, ok := Seq(frame(0x0102030405060708)); !ok || seq != 0x0102030405060708 {
		t.Errorf("Seq(frame) = %#x, %v; want 0x0102030405060708, true", seq, ok)
	}
	bad := map[string]func([]byte) []byte{
		"short":      func(f []byte) []byte { return f[:SeqOffset+7] },
		"ipv6":       func(f []byte) []byte { f[12], f[13] = 0x86, 0xdd; return f },
		"ip options": func(f []byte) []byte { f[14] = 0x46; return f },
		"tcp":        func(f []byte) []byte { f[23] = 6; return f },
		"port":       func(f []byte) []byte { f[37]++; return f },
	}
	for name, mangle := range bad {
		if _, ok := Seq(mangle(frame(1))); ok {
			t.Errorf("Seq accepted a %s frame", name)
		}
	}
}

func TestCounter(t *testing.T) {
	c := NewCounter(6)
	for _, seq := range []uint64{0, 1, 3, 2, 2, 4} {
		c.Packet(frame(seq))
		if c.Done {
			t.Fatalf("Done after seq %d", seq)
		}
	}
	c.Packet([]byte("not a frame"))
	c.Packet(frame(5))
	if !c.Done {
		t.Error("not Done after the last sequence number")
	}
	if c.Captured != 7 || c.Other != 1 || c.OutOfOrder != 2 || c.Seen() != 8 {
		t.Errorf("captured %d, other %d, out of order %d, seen %d; want 7, 1, 2, 8",
			c.Captured, c.Other, c.OutOfOrder, c.Seen())
	}
}

func TestParseFlags(t *testing.T) {
	o, err := ParseFlags("x", []string{"-i", "veth1", "-n", "100", "-ring", "4096", "-mode", "drain", "-timeout-ms", "20"})
	if err != nil {
		t.Fatal(err)
	}
	want := Options{Interface: "veth1", Count: 100, RingBytes: 4096, Mode: "drain", Snaplen: 262144,
		Timeout: 20 * time.Millisecond, Idle: 300 * time.Millisecond, Limit: 30 * time.Second}
	if o != want {
		t.Errorf("got %+v, want %+v", o, want)
	}
	for _, args := range [][]string{
		{"-n", "1"},
		{"-i", "x"},
		{"-i", "x", "-n", "1", "-ring", "-1"},
		{"-i", "x", "-n", "1", "-mode", `a"b`},
		{"-i", "x", "-n", "1", "extra"},
	} {
		if _, err := ParseFlags("x", args); err == nil {
			t.Errorf("ParseFlags(%q) succeeded", args)
		}
	}
}

// fakeSource hands out batches of frames, then times out.
type fakeSource struct {
	c       *Counter
	batches [][]uint64
	drops   uint64
	polls   int
	err     error
}

func (s *fakeSource) Poll() (int, error) {
	s.polls++
	if s.err != nil {
		return 0, s.err
	}
	if len(s.batches) == 0 {
		time.Sleep(time.Millisecond)
		return 0, nil
	}
	b := s.batches[0]
	s.batches = s.batches[1:]
	for _, seq := range b {
		s.c.Packet(frame(seq))
	}
	return len(b), nil
}

func (s *fakeSource) Drops() (uint64, error) { return s.drops, nil }
func (s *fakeSource) Close() error           { return nil }

func runFake(t *testing.T, o Options, src *fakeSource, in string) (Result, string, error) {
	t.Helper()
	var out bytes.Buffer
	err := Run("fake", o, func(_ Options, c *Counter) (Source, error) {
		src.c = c
		return src, nil
	}, strings.NewReader(in), &out)
	first, rest, _ := strings.Cut(out.String(), "\n")
	if first != "ready" {
		t.Fatalf("first line %q, want ready", first)
	}
	var r Result
	if err == nil {
		if jerr := json.Unmarshal([]byte(rest), &r); jerr != nil {
			t.Fatalf("bad result line %q: %v", rest, jerr)
		}
	}
	return r, rest, err
}

func TestRunComplete(t *testing.T) {
	o := Options{Count: 5, Mode: "stream", RingBytes: 1 << 20, Idle: time.Second, Limit: 10 * time.Second}
	src := &fakeSource{batches: [][]uint64{{0, 1}, {2, 4, 3}, {4}}, drops: 7}
	r, _, err := runFake(t, o, src, "go\n")
	if err != nil {
		t.Fatal(err)
	}
	// seq 4 ends the run after the second batch (3 is still counted, as
	// out of order); the third batch is never read.
	if r.Capturer != "fake" || r.Mode != "stream" || r.RingBytes != 1<<20 || r.Captured != 5 ||
		r.Drops != 7 || r.OutOfOrder != 1 || r.End != EndComplete || src.polls != 2 {
		t.Errorf("unexpected result %+v after %d polls", r, src.polls)
	}
	if r.WallNs <= 0 || r.WallNsPerPkt <= 0 {
		t.Errorf("no wall time in %+v", r)
	}
}

func TestRunIdleAndLimit(t *testing.T) {
	o := Options{Count: 100, Idle: 20 * time.Millisecond, Limit: 10 * time.Second}
	r, _, err := runFake(t, o, &fakeSource{batches: [][]uint64{{0, 1, 2}}}, "go\n")
	if err != nil {
		t.Fatal(err)
	}
	if r.End != EndIdle || r.Captured != 3 {
		t.Errorf("got end %s, captured %d; want idle, 3", r.End, r.Captured)
	}

	o = Options{Count: 100, Idle: 20 * time.Millisecond, Limit: 50 * time.Millisecond}
	start := time.Now()
	r, _, err = runFake(t, o, &fakeSource{}, "go")
	if err != nil {
		t.Fatal(err)
	}
	if r.End != EndLimit || r.Captured != 0 || time.Since(start) < o.Limit {
		t.Errorf("got end %s, captured %d after %v; want limit, 0, >= %v", r.End, r.Captured, time.Since(start), o.Limit)
	}
}

func TestRunErrors(t *testing.T) {
	o := Options{Count: 1, Idle: time.Second, Limit: time.Second}
	if _, _, err := runFake(t, o, &fakeSource{}, ""); err == nil {
		t.Error("no error when stdin closes before go")
	}
	if _, _, err := runFake(t, o, &fakeSource{}, "stop\n"); err == nil {
		t.Error("no error for a line other than go")
	}
	boom := errors.New("boom")
	if _, _, err := runFake(t, o, &fakeSource{err: boom}, "go\n"); !errors.Is(err, boom) {
		t.Errorf("got %v, want the Poll error", err)
	}
	openErr := errors.New("no such device")
	err := Run("fake", o, func(Options, *Counter) (Source, error) { return nil, openErr },
		strings.NewReader("go\n"), &bytes.Buffer{})
	if !errors.Is(err, openErr) {
		t.Errorf("got %v, want the open error", err)
	}
}
