package filter

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// packet is a test packet: captured bytes and the length on the wire.
type packet struct {
	data    []byte
	wireLen int
	meta    meta
}

// readPcap reads a little- or big-endian microsecond pcap file.
func readPcap(t testing.TB, path string) (uint32, []packet) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 24 {
		t.Fatalf("%s: short file", path)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if binary.BigEndian.Uint32(b) == 0xa1b2c3d4 || binary.BigEndian.Uint32(b) == 0xa1b23c4d {
		bo = binary.BigEndian
	}
	lt := bo.Uint32(b[20:])
	var pkts []packet
	for off := 24; off+16 <= len(b); {
		incl := int(bo.Uint32(b[off+8:]))
		orig := int(bo.Uint32(b[off+12:]))
		off += 16
		if off+incl > len(b) {
			break
		}
		pkts = append(pkts, packet{data: b[off : off+incl], wireLen: orig})
		off += incl
	}
	return lt, pkts
}

// sharedCorpus returns the project's packet corpus for a link type, if
// present.
func sharedCorpus(t testing.TB, linkType uint32) []packet {
	names := map[uint32]string{
		LinkTypeEthernet: "en10mb.pcap", LinkTypeLinuxSLL: "linux_sll.pcap",
		LinkTypeLinuxSLL2: "linux_sll2.pcap", LinkTypeRaw: "raw.pcap",
	}
	name, ok := names[linkType]
	if !ok {
		return nil
	}
	for _, dir := range corpusDirs() {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			_, pkts := readPcap(t, p)
			return pkts
		}
	}
	return nil
}

func corpusDirs() []string {
	dirs := []string{}
	if d := os.Getenv("PURECAP_FILTER_CORPUS"); d != "" {
		dirs = append(dirs, d)
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dirs = append(dirs, filepath.Join(root, "..", "shared", "filter", "corpus"), filepath.Join(root, "testdata", "filter"))
	return dirs
}

// withTruncations adds copies of each packet cut short at interesting
// lengths (the wire length stays), to exercise out-of-bounds loads.
func withTruncations(pkts []packet) []packet {
	out := append([]packet(nil), pkts...)
	cuts := []int{0, 1, 2, 4, 12, 13, 14, 15, 16, 18, 20, 22, 24, 26, 30, 33, 34, 36, 38, 40, 42, 44, 46, 50, 54, 56, 58, 60, 62, 64}
	for i, p := range pkts {
		if i%3 != 0 {
			continue
		}
		for _, c := range cuts {
			if c < len(p.data) {
				out = append(out, packet{data: p.data[:c], wireLen: p.wireLen})
			}
		}
	}
	return out
}
