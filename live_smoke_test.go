package pcap

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/purecap/pcap/internal/nettest"
)

func testFrame(dst, src []byte, seq uint32, size int) []byte {
	f := make([]byte, size)
	copy(f[0:6], dst)
	copy(f[6:12], src)
	binary.BigEndian.PutUint16(f[12:], 0x88b5) // local experimental ethertype
	binary.BigEndian.PutUint32(f[14:], seq)
	for i := 18; i < size; i++ {
		f[i] = byte(i)
	}
	return f
}

func TestSmokeLive(t *testing.T) {
	env := nettest.New(t)
	for _, v := range []TPacketVersion{TPacketV1, TPacketV2, TPacketV3} {
		t.Run(v.String(), func(t *testing.T) {
			var h *Handle
			if err := env.Do(func() (err error) {
				h, err = Open(env.B, Config{TPacketVersion: v, Timeout: 50 * time.Millisecond})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			t.Logf("ring %+v link %v", h.Ring(), h.LinkType())
			s := env.Sender(env.A)
			const n = 100
			var sent [][]byte
			for i := 0; i < n; i++ {
				f := testFrame(env.BMAC, env.AMAC, uint32(i), 60+i)
				sent = append(sent, f)
				if err := s.Send(f); err != nil {
					t.Fatal(err)
				}
			}
			var got [][]byte
			deadline := time.Now().Add(3 * time.Second)
			for len(got) < n && time.Now().Before(deadline) {
				_, err := h.Dispatch(-1, func(data []byte, ci CaptureInfo) {
					if len(data) >= 14 && binary.BigEndian.Uint16(data[12:]) == 0x88b5 {
						got = append(got, bytes.Clone(data))
					}
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if len(got) != n {
				t.Fatalf("got %d frames, want %d", len(got), n)
			}
			for i := range got {
				if !bytes.Equal(got[i], sent[i]) {
					t.Fatalf("frame %d differs", i)
				}
			}
			st, err := h.Stats()
			t.Logf("stats %+v %v", st, err)
		})
	}
}
