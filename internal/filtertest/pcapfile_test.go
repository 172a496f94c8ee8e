package filtertest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// byteOrder is what savefile needs of a byte order.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// savefile builds a savefile by hand in the given byte order.
func savefile(order byteOrder, magic, linkType uint32, recs ...[]byte) []byte {
	var b []byte
	b = order.AppendUint32(b, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 65535)
	b = order.AppendUint32(b, linkType)
	for i, r := range recs {
		b = order.AppendUint32(b, uint32(i))
		b = order.AppendUint32(b, 7)
		b = order.AppendUint32(b, uint32(len(r)))
		b = order.AppendUint32(b, uint32(len(r)+10))
		b = append(b, r...)
	}
	return b
}

func TestReadPcapByteOrders(t *testing.T) {
	recs := [][]byte{{1, 2, 3}, {}, bytes.Repeat([]byte{0xab}, 100)}
	for _, tc := range []struct {
		name  string
		order byteOrder
		magic uint32
	}{
		{"little-micro", binary.LittleEndian, magicMicro},
		{"big-micro", binary.BigEndian, magicMicro},
		{"little-nano", binary.LittleEndian, magicNano},
		{"big-nano", binary.BigEndian, magicNano},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The FCS bits above the link type are ignored.
			lt, pkts, err := ReadPcap(bytes.NewReader(savefile(tc.order, tc.magic, 0x10000000|276, recs...)))
			if err != nil {
				t.Fatal(err)
			}
			if lt != 276 {
				t.Errorf("link type %d, want 276", lt)
			}
			if len(pkts) != len(recs) {
				t.Fatalf("%d packets, want %d", len(pkts), len(recs))
			}
			for i, p := range pkts {
				if !bytes.Equal(p.Data, recs[i]) || p.WireLen != len(recs[i])+10 {
					t.Errorf("packet %d: %x (wire %d), want %x (wire %d)", i, p.Data, p.WireLen, recs[i], len(recs[i])+10)
				}
			}
		})
	}
}

func TestReadPcapErrors(t *testing.T) {
	good := savefile(binary.LittleEndian, magicMicro, 1, []byte{1, 2, 3, 4})
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"short header", good[:10]},
		{"bad magic", append([]byte{1, 2, 3, 4}, good[4:]...)},
		{"short record header", good[:30]},
		{"short packet", good[:len(good)-1]},
		{"huge caplen", savefile(binary.LittleEndian, magicMicro, 1, make([]byte, 4))[:24+16]},
	} {
		data := tc.data
		if tc.name == "huge caplen" {
			binary.LittleEndian.PutUint32(data[24+8:], maxCaplen+1)
		}
		if _, _, err := ReadPcap(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if _, _, err := ReadPcap(bytes.NewReader(good[:len(good)-1])); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated packet: %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestWritePcapRoundTrip(t *testing.T) {
	pkts := EdgePackets("LINUX_SLL2")
	var buf bytes.Buffer
	if err := WritePcap(&buf, 276, pkts); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	lt, got, err := ReadPcap(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if lt != 276 || len(got) != len(pkts) {
		t.Fatalf("link type %d, %d packets; want 276, %d", lt, len(got), len(pkts))
	}
	for i := range got {
		if !bytes.Equal(got[i].Data, pkts[i].Data) || got[i].WireLen != pkts[i].WireLen {
			t.Fatalf("packet %d (%s) differs after a round trip", i, pkts[i].Name)
		}
	}
	idx, err := ReadPcapIndexes(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int, len(pkts))
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(idx, want) {
		t.Errorf("indexes %v, want 0..%d", idx, len(pkts)-1)
	}
}

// TestSharedCorpus reads the shared corpus files.
func TestSharedCorpus(t *testing.T) {
	dir := RequireShared(t)
	for _, lt := range LinkTypes {
		pkts, err := corpusPackets(dir, lt)
		if err != nil {
			t.Fatal(err)
		}
		truncated := 0
		for _, p := range pkts {
			if p.WireLen > len(p.Data) {
				truncated++
			}
		}
		file, _, _ := strings.Cut(pkts[0].Name, "#")
		t.Logf("%-10s %s: %d packets, %d truncated", lt, file, len(pkts), truncated)
		if len(pkts) < 100 {
			t.Errorf("%s: only %d packets", lt, len(pkts))
		}
	}
}
