//go:build linux

package pcap

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// Handle-level reads over a synthetic ring: a non-blocking Handle never
// waits on its socket, so it needs none.

// newRingHandle returns a non-blocking Handle reading r.
func newRingHandle(r *ring) *Handle {
	return &Handle{device: "test0", ring: r, info: r.info, snaplen: r.dec.snaplen, nonblock: true}
}

// handleRing is a Handle over a ring holding n packets.
func handleRing(t *testing.T, v TPacketVersion, n int) (*fakeKernel, *Handle, []gotPkt) {
	t.Helper()
	info := blocksInfo(8192, 4)
	if v != TPacketV3 {
		info = framesInfo(v, 8192, 2048, 4)
	}
	k, r := newTestRing(t, info, linkEthernet, DefaultSnaplen, DirectionInOut)
	ps := sizedPkts(linkEthernet, 0, n, 1000) // V3: seven a block
	k.rcvAll(t, ps)
	k.retire()
	return k, newRingHandle(r), k.wantAll(ps, DefaultSnaplen)
}

// collector returns a Dispatch callback that copies packets into got, and
// calls then, if not nil, after each.
func collector(t *testing.T, r *ring, got *[]gotPkt, then func(n int)) func([]byte, CaptureInfo) {
	return func(data []byte, ci CaptureInfo) {
		checkData(t, r, data, ci)
		*got = append(*got, gotPkt{data: bytes.Clone(data), ci: ci})
		if then != nil {
			then(len(*got))
		}
	}
}

func TestDispatchCount(t *testing.T) {
	for _, v := range allVersions {
		t.Run(v.String(), func(t *testing.T) {
			k, h, want := handleRing(t, v, 12)
			var got []gotPkt
			fn := collector(t, h.ring, &got, nil)
			for _, step := range []struct{ cnt, want int }{{5, 5}, {1, 1}, {4, 4}, {0, 2}, {0, 0}, {-1, 0}} {
				n, err := h.Dispatch(step.cnt, fn)
				if n != step.want || err != nil {
					t.Fatalf("Dispatch(%d) = %d, %v; want %d, nil", step.cnt, n, err, step.want)
				}
			}
			checkPkts(t, got, want)
			checkOwned(t, k)
		})
	}
}

func TestDispatchReleases(t *testing.T) {
	// Dispatch hands back every frame it is done with, and in V3 keeps only
	// a partly read block.
	k, h, _ := handleRing(t, TPacketV3, 12) // 7 packets in block 0, 5 in block 1
	var got []gotPkt
	fn := collector(t, h.ring, &got, nil)
	steps := []struct {
		cnt   int
		owned []int
	}{{3, []int{0, 1}}, {5, []int{1}}, {1, []int{1}}, {3, nil}}
	for _, s := range steps {
		if _, err := h.Dispatch(s.cnt, fn); err != nil {
			t.Fatal(err)
		}
		checkOwned(t, k, s.owned...)
	}
}

func TestLoopCount(t *testing.T) {
	for _, v := range allVersions {
		t.Run(v.String(), func(t *testing.T) {
			_, h, want := handleRing(t, v, 12)
			var got []gotPkt
			fn := collector(t, h.ring, &got, nil)
			if n, err := h.Loop(7, fn); n != 7 || err != nil {
				t.Fatalf("Loop(7) = %d, %v", n, err)
			}
			if n, err := h.Dispatch(0, fn); n != 5 || err != nil {
				t.Fatalf("Dispatch after Loop = %d, %v", n, err)
			}
			checkPkts(t, got, want)
		})
	}
}

func TestDispatchBreakLoop(t *testing.T) {
	for _, v := range allVersions {
		t.Run(v.String(), func(t *testing.T) {
			_, h, want := handleRing(t, v, 12)
			var got []gotPkt
			fn := collector(t, h.ring, &got, func(n int) {
				if n == 3 {
					h.BreakLoop()
				}
			})
			if n, err := h.Dispatch(0, fn); n != 3 || !errors.Is(err, ErrBreak) {
				t.Fatalf("Dispatch = %d, %v; want 3, ErrBreak", n, err)
			}
			h.BreakLoop() // before a read: that read returns at once
			if n, err := h.Dispatch(0, fn); n != 0 || !errors.Is(err, ErrBreak) {
				t.Fatalf("Dispatch after BreakLoop = %d, %v; want 0, ErrBreak", n, err)
			}
			if n, err := h.Dispatch(0, fn); n != 9 || err != nil {
				t.Fatalf("Dispatch = %d, %v; want the 9 others", n, err)
			}
			checkPkts(t, got, want)
		})
	}
}

func TestDispatchCorrupt(t *testing.T) {
	for _, v := range allVersions {
		t.Run(v.String(), func(t *testing.T) {
			k, h, want := handleRing(t, v, 12)
			m, _, _ := k.fields(0)
			*m = 0
			var got []gotPkt
			fn := collector(t, h.ring, &got, nil)
			n, err := h.Dispatch(0, fn)
			var oe *OpError
			if n != 0 || !errors.Is(err, ErrCorruptRing) || !errors.As(err, &oe) || oe.Op != "read" || oe.Device != "test0" {
				t.Fatalf("Dispatch = %d, %v; want 0 and a read error wrapping ErrCorruptRing", n, err)
			}
			if n, err := h.Dispatch(0, fn); n == 0 || err != nil {
				t.Fatalf("Dispatch after the error = %d, %v", n, err)
			}
			// V1/V2 lose the bad frame, V3 its whole block.
			lost := 1
			if v == TPacketV3 {
				lost = 7
			}
			checkPkts(t, got, want[lost:])
			checkOwned(t, k)
		})
	}
}

func TestReadPacketData(t *testing.T) {
	for _, v := range allVersions {
		for _, zeroCopy := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/zerocopy=%v", v, zeroCopy), func(t *testing.T) {
				k, h, want := handleRing(t, v, 10)
				var got []gotPkt
				for {
					var data []byte
					var ci CaptureInfo
					var err error
					if zeroCopy {
						data, ci, err = h.ZeroCopyReadPacketData()
					} else {
						data, ci, err = h.ReadPacketData()
					}
					if errors.Is(err, ErrTimeout) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if zeroCopy {
						checkData(t, h.ring, data, ci)
						// The packet's frame or block stays user space's
						// until the next read.
						if len(k.owned()) == 0 {
							t.Fatal("zero-copy data handed back to the kernel")
						}
					}
					got = append(got, gotPkt{data: bytes.Clone(data), ci: ci})
					if len(got) > len(want) {
						t.Fatalf("%d packets read out of %d", len(got), len(want))
					}
				}
				checkPkts(t, got, want)
				checkOwned(t, k)
			})
		}
	}
}

// TestDispatchCounts checks Dispatch's count limits, and that it stops
// after the packet during which BreakLoop is called.
func TestDispatchCounts(t *testing.T) {
	for _, v := range allVersions {
		t.Run(v.String(), func(t *testing.T) {
			k, h, want := handleRing(t, v, 12)
			var got []gotPkt
			fn := func(data []byte, ci CaptureInfo) {
				checkData(t, h.ring, data, ci)
				got = append(got, gotPkt{data: bytes.Clone(data), ci: ci})
				if len(got) == 7 {
					h.BreakLoop()
				}
			}
			for _, step := range []struct {
				cnt, want int
				err       error
			}{{5, 5, nil}, {1, 1, nil}, {0, 1, ErrBreak}, {0, 5, nil}, {-1, 0, nil}} {
				n, err := h.Dispatch(step.cnt, fn)
				if n != step.want || !errors.Is(err, step.err) {
					t.Fatalf("Dispatch(%d) = %d, %v; want %d, %v", step.cnt, n, err, step.want, step.err)
				}
			}
			checkPkts(t, got, want)
			checkOwned(t, k)
		})
	}
}

// TestReadAllocations checks that Dispatch and
// ZeroCopyReadPacketData allocate nothing per packet, on every ring version.
func TestReadAllocations(t *testing.T) {
	for _, v := range []TPacketVersion{TPacketV1, TPacketV2, TPacketV3} {
		t.Run(v.String(), func(t *testing.T) {
			br := newBenchRing(t, v)
			h := newRingHandle(br.r)
			sum := 0
			// allocs requires read, which reads a full ring, to allocate
			// nothing.
			allocs := func(name string, read func()) {
				if a := testing.AllocsPerRun(20, func() { br.refill(); read() }); a != 0 {
					t.Errorf("%s allocates %v times per ring of %d packets", name, a, br.pkts)
				}
			}
			fn := func(data []byte, ci CaptureInfo) { sum += len(data) + ci.Length }
			allocs("Dispatch", func() {
				if n, err := h.Dispatch(-1, fn); n != br.pkts || err != nil {
					t.Fatalf("Dispatch = %d, %v; want %d packets", n, err, br.pkts)
				}
			})
			allocs("ZeroCopyReadPacketData", func() {
				for {
					data, ci, err := h.ZeroCopyReadPacketData()
					if errors.Is(err, ErrTimeout) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					sum += len(data) + ci.Length
				}
			})
		})
	}
}
