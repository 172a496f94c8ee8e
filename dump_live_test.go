//go:build linux

package pcap

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFileDumperLive saves a live capture through a FileDumper, rotating by
// size into pcapng files with statistics, as h.Dispatch(-1, d.Dump) does,
// and reads the files back.
func TestFileDumperLive(t *testing.T) {
	env := newLiveEnv(t)
	h := env.open(env.B, Config{Snaplen: 200, Timeout: 20 * time.Millisecond})
	dir := t.TempDir()
	const maxBytes = 8000
	d, err := NewFileDumper(filepath.Join(dir, "live.pcapng"), h.LinkType(), h.SnapLen(), DumperOptions{
		Format:        DumpPcapNG,
		MaxBytes:      maxBytes,
		Stats:         h.Stats,
		WriterOptions: []WriterOption{WithNanosecondTimestamps(), WithInterfaceName(env.B)},
	})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var want [][]byte
	for i := range n {
		want = append(want, liveFrame(env.BMAC, env.AMAC, liveType, uint32(i), 60+i*3%240))
	}
	sendAll(t, env.Sender(env.A), want...)
	dumped := 0
	dump := func(data []byte, ci CaptureInfo) {
		if isLive(data, ci) { // nothing else crosses the pair, but be sure
			d.Dump(data, ci)
			dumped++
		}
	}
	deadline := time.Now().Add(liveWait)
	for dumped < n && time.Now().Before(deadline) {
		if _, err := h.Dispatch(-1, dump); err != nil {
			t.Fatal(err)
		}
	}
	if dumped != n {
		t.Fatalf("dumped %d frames, want %d", dumped, n)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	var got []savedPacket
	for k := 0; ; k++ {
		name := filepath.Join(dir, "live.pcapng")
		if k > 0 {
			name += fmt.Sprint(k)
		}
		st, err := os.Stat(name)
		if os.IsNotExist(err) {
			if k < 3 {
				t.Fatalf("only %d files", k)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > maxBytes {
			t.Errorf("%s: %d bytes, more than %d", name, st.Size(), maxBytes)
		}
		pkts, ifs := readSavefile(t, name)
		if len(ifs) != 1 || ifs[0].Name != env.B || ifs[0].Statistics.Blocks != 1 || ifs[0].Statistics.IfRecv < int64(len(pkts)) {
			t.Errorf("%s: interfaces %+v, want %s with statistics", name, ifs, env.B)
		}
		got = append(got, pkts...)
	}
	if len(got) != n {
		t.Fatalf("files hold %d packets, want %d", len(got), n)
	}
	for i, p := range got {
		w := want[i]
		if !bytes.Equal(p.Data, w[:min(len(w), 200)]) || p.Length != len(w) {
			t.Fatalf("packet %d: %d of %d bytes, want %d of %d", i, len(p.Data), p.Length, min(len(w), 200), len(w))
		}
		if i > 0 && p.TS.Before(got[i-1].TS) {
			t.Errorf("packet %d: timestamp %v before the previous one's", i, p.TS)
		}
	}
}
