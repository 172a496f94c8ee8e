//go:build linux

package pcap

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purecap/pcap/internal/nettest"
)

// ringReleased reports whether the handle has unmapped its ring.
func ringReleased(h *Handle) bool {
	h.readMu.Lock()
	defer h.readMu.Unlock()
	return h.released
}

// smallRing is a configuration with a small ring, cheap to open many times.
func smallRing(v TPacketVersion) Config {
	return Config{TPacketVersion: v, BufferSize: 64 << 10, BlockSize: 16 << 10, Snaplen: 1514}
}

// await waits for a result from c for at most d.
func await[T any](t testing.TB, c <-chan T, d time.Duration, what string) (T, bool) {
	t.Helper()
	select {
	case v := <-c:
		return v, true
	case <-time.After(d):
		t.Errorf("%s: no return after %v", what, d)
		var zero T
		return zero, false
	}
}

type dispatchResult struct {
	n   int
	err error
	at  time.Time
}

// stopWorkers runs rounds of a stop test in parallel workers: opening and
// closing a packet socket waits for RCU grace periods in the kernel, so
// rounds run side by side take much less time than one after another.
const stopWorkers = 4

func runRounds(t *testing.T, rounds int, round func(i int) bool) {
	var wg sync.WaitGroup
	var next atomic.Int64
	for w := 0; w < stopWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= rounds || t.Failed() || !round(i) {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestLiveStopBlocked calls Close or BreakLoop from another goroutine while
// Dispatch waits, without a timeout, on a silent interface: it returns at
// once with ErrClosed or ErrBreak.
func TestLiveStopBlocked(t *testing.T) {
	env := newLiveEnv(t)
	const rounds = 100
	for _, stop := range []string{"Close", "BreakLoop"} {
		t.Run(stop, func(t *testing.T) {
			runRounds(t, rounds, func(i int) bool {
				v := liveVersions[i%len(liveVersions)]
				h, err := env.tryOpen(env.B, smallRing(v))
				if err != nil {
					t.Error(err)
					return false
				}
				defer h.Close()
				res := make(chan dispatchResult, 1)
				go func() {
					n, err := h.Dispatch(-1, func([]byte, CaptureInfo) { t.Error("packet delivered") })
					res <- dispatchResult{n, err, time.Now()}
				}()
				// Mostly soon after Dispatch starts, sometimes surely
				// once it is parked.
				if i%10 == 0 {
					time.Sleep(20 * time.Millisecond)
				} else {
					time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond)
				}
				called := time.Now()
				want := ErrClosed
				if stop == "Close" {
					if err := h.Close(); err != nil {
						t.Errorf("Close: %v", err)
					}
				} else {
					want = ErrBreak
					h.BreakLoop()
				}
				r, ok := await(t, res, liveWait, fmt.Sprintf("%v Dispatch after %s (round %d)", v, stop, i))
				if !ok {
					return false
				}
				if r.n != 0 || !errors.Is(r.err, want) {
					t.Errorf("%v: Dispatch = %d, %v after %s; want 0, %v", v, r.n, r.err, stop, want)
				}
				if d := r.at.Sub(called); d > liveSlack {
					t.Errorf("%v: Dispatch returned %v after %s", v, d, stop)
				}
				if stop == "BreakLoop" {
					// The break is used up: the handle reads on.
					if err := h.SetNonBlocking(true); err != nil {
						t.Error(err)
						return false
					}
					if n, err := h.Dispatch(-1, func([]byte, CaptureInfo) {}); n != 0 || err != nil {
						t.Errorf("%v: Dispatch after a broken one = %d, %v; want 0, nil", v, n, err)
					}
					h.Close()
				}
				if !ringReleased(h) {
					t.Errorf("%v: ring still mapped after Close", v)
				}
				return true
			})
		})
	}
}

// flood sends frames from pa until stop is closed, in bursts of 64 a
// millisecond apart: enough to keep readers busy and overrun small rings
// without taking a whole CPU from them.
func flood(t testing.TB, s *nettest.Sender, env *liveEnv, stop <-chan struct{}, wg *sync.WaitGroup) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		for seq := uint32(0); ; seq++ {
			if seq%64 == 0 {
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
				}
			}
			if err := s.Send(liveFrame(env.BMAC, env.AMAC, liveType, seq, 60+int(seq%64)*20)); err != nil {
				t.Errorf("send: %v", err)
				return
			}
		}
	}()
}

// TestLiveStopBusy calls Close or BreakLoop while a reader is busy with a
// flood of packets, in hundreds of rounds with every ring version and way of
// reading, while another goroutine asks for statistics: the reader returns
// ErrClosed or ErrBreak, nothing crashes or hangs, and the ring is unmapped
// once the reader is done.
func TestLiveStopBusy(t *testing.T) {
	env := newLiveEnv(t)
	s := env.Sender(env.A)
	if err := s.QdiscBypass(); err != nil {
		t.Fatal(err)
	}
	stopFlood := make(chan struct{})
	var wg sync.WaitGroup
	flood(t, s, env, stopFlood, &wg)
	defer func() { close(stopFlood); wg.Wait() }()

	type reader func(h *Handle, seen *atomic.Int64) error
	touch := func(data []byte) int {
		sum := 0
		for _, b := range data {
			sum += int(b)
		}
		return sum
	}
	readers := []struct {
		name string
		read reader
	}{
		{"Dispatch", func(h *Handle, seen *atomic.Int64) error {
			for {
				_, err := h.Dispatch(-1, func(data []byte, ci CaptureInfo) {
					touch(data)
					seen.Add(1)
				})
				if err != nil {
					return err
				}
			}
		}},
		{"Loop", func(h *Handle, seen *atomic.Int64) error {
			_, err := h.Loop(0, func(data []byte, ci CaptureInfo) {
				touch(data)
				seen.Add(1)
			})
			return err
		}},
		{"ReadPacketData", func(h *Handle, seen *atomic.Int64) error {
			for {
				data, _, err := h.ReadPacketData()
				if err != nil && !errors.Is(err, ErrTimeout) {
					return err
				}
				touch(data)
				seen.Add(1)
			}
		}},
		{"ZeroCopyReadPacketData", func(h *Handle, seen *atomic.Int64) error {
			for {
				data, _, err := h.ZeroCopyReadPacketData()
				if err != nil && !errors.Is(err, ErrTimeout) {
					return err
				}
				touch(data)
				seen.Add(1)
			}
		}},
	}

	const rounds = 100
	for _, stop := range []string{"Close", "BreakLoop"} {
		t.Run(stop, func(t *testing.T) {
			var delivered atomic.Int64
			runRounds(t, rounds, func(i int) bool {
				v := liveVersions[i%len(liveVersions)]
				rd := readers[(i/len(liveVersions))%len(readers)]
				cfg := smallRing(v)
				if i%2 == 1 {
					cfg.Timeout = 5 * time.Millisecond
				}
				h, err := env.tryOpen(env.B, cfg)
				if err != nil {
					t.Error(err)
					return false
				}
				defer h.Close()
				var seen atomic.Int64
				res := make(chan error, 1)
				go func() { res <- rd.read(h, &seen) }()
				statsDone := make(chan struct{})
				go func() {
					defer close(statsDone)
					for {
						if _, err := h.Stats(); err != nil {
							if !errors.Is(err, ErrClosed) {
								t.Errorf("Stats: %v", err)
							}
							return
						}
						time.Sleep(time.Millisecond)
					}
				}()
				// Now and then, wait for the reader to be busy.
				if i%4 == 0 {
					deadline := time.Now().Add(liveWait)
					for seen.Load() < 20 && time.Now().Before(deadline) {
						time.Sleep(100 * time.Microsecond)
					}
				} else {
					time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
				}
				want := ErrClosed
				if stop == "Close" {
					h.Close()
				} else {
					want = ErrBreak
					h.BreakLoop()
				}
				what := fmt.Sprintf("%v %s after %s (round %d)", v, rd.name, stop, i)
				err, ok := await(t, res, liveWait, what)
				if !ok {
					return false
				}
				if !errors.Is(err, want) {
					t.Errorf("%s: %v, want %v", what, err, want)
				}
				if stop == "BreakLoop" {
					// The handle still reads after the break.
					got := make(chan error, 1)
					go func() {
						_, _, err := h.ReadPacketData()
						got <- err
					}()
					if err, ok := await(t, got, liveWait, what+": ReadPacketData"); ok && err != nil && !errors.Is(err, ErrTimeout) {
						t.Errorf("%s: ReadPacketData after the break: %v", what, err)
					}
					h.Close()
				}
				await(t, statsDone, liveWait, what+": Stats")
				if !ringReleased(h) {
					t.Errorf("%s: ring still mapped after Close and the reader's return", what)
				}
				delivered.Add(seen.Load())
				return true
			})
			t.Logf("%d packets read in %d rounds", delivered.Load(), rounds)
		})
	}
}

// TestLiveBreakInCallback calls BreakLoop and Close from inside the
// callback: Dispatch returns the packets delivered so far with ErrBreak or
// ErrClosed, and after a break the next reads go on with the next packet.
func TestLiveBreakInCallback(t *testing.T) {
	env := newLiveEnv(t)
	s := env.Sender(env.A)
	for _, v := range liveVersions {
		t.Run(v.String(), func(t *testing.T) {
			h := env.open(env.B, Config{TPacketVersion: v, Timeout: 50 * time.Millisecond})
			const n, at = 20, 5
			var sent [][]byte
			for i := 0; i < n; i++ {
				sent = append(sent, liveFrame(env.BMAC, env.AMAC, liveType, uint32(i), 100))
			}
			sendAll(t, s, sent...)

			var got []livePkt
			deadline := time.Now().Add(liveWait)
			for len(got) < at {
				if time.Now().After(deadline) {
					t.Fatalf("got %d packets", len(got))
				}
				before := len(got)
				k, err := h.Dispatch(-1, func(data []byte, ci CaptureInfo) {
					got = append(got, livePkt{bytes.Clone(data), ci})
					if len(got) == at {
						h.BreakLoop()
					}
				})
				if k != len(got)-before {
					t.Fatalf("Dispatch = %d after %d callbacks", k, len(got)-before)
				}
				if len(got) == at {
					if !errors.Is(err, ErrBreak) {
						t.Fatalf("Dispatch = %d, %v after BreakLoop in the callback; want ErrBreak", k, err)
					}
				} else if err != nil {
					t.Fatal(err)
				}
			}
			// The rest follows, none lost.
			got = append(got, collect(t, h, n-at, isLive)...)
			checkFrames(t, got, sent)

			// BreakLoop before a call: it returns at once, delivering
			// nothing, even with packets waiting.
			sendAll(t, s, sent[:3]...)
			if err := waitReceived(h, n+3); err != nil {
				t.Fatal(err)
			}
			h.BreakLoop()
			if k, err := h.Dispatch(-1, func([]byte, CaptureInfo) { t.Error("packet delivered after BreakLoop") }); k != 0 || !errors.Is(err, ErrBreak) {
				t.Errorf("Dispatch after BreakLoop = %d, %v; want 0, ErrBreak", k, err)
			}
			h.BreakLoop()
			if _, _, err := h.ReadPacketData(); !errors.Is(err, ErrBreak) {
				t.Errorf("ReadPacketData after BreakLoop: %v, want ErrBreak", err)
			}
			h.BreakLoop()
			if k, err := h.Loop(3, func([]byte, CaptureInfo) {}); k != 0 || !errors.Is(err, ErrBreak) {
				t.Errorf("Loop after BreakLoop = %d, %v; want 0, ErrBreak", k, err)
			}
			checkFrames(t, collect(t, h, 3, isLive), sent[:3])

			// Close in the callback: the data stays readable until the
			// callback returns, and Dispatch stops there.
			sendAll(t, s, sent...)
			if err := waitReceived(h, 2*n+3); err != nil {
				t.Fatal(err)
			}
			calls := 0
			total := 0
			for calls < at {
				k, err := h.Dispatch(-1, func(data []byte, ci CaptureInfo) {
					calls++
					if calls == at {
						h.Close()
						if !bytes.Equal(data, sent[at-1]) {
							t.Errorf("data changed by Close in the callback")
						}
					}
				})
				total += k
				if calls == at {
					if k == 0 || !errors.Is(err, ErrClosed) {
						t.Errorf("Dispatch = %d, %v after Close in the callback; want >0, ErrClosed", k, err)
					}
				} else if err != nil {
					t.Fatal(err)
				}
			}
			if total != at || calls != at {
				t.Errorf("%d packets counted, %d callbacks; want %d", total, calls, at)
			}
			if !ringReleased(h) {
				t.Error("ring still mapped after Dispatch returned")
			}
		})
	}
}

// waitReceived waits until the handle's kernel counters show n packets.
func waitReceived(h *Handle, n int) error {
	deadline := time.Now().Add(liveWait)
	for {
		st, err := h.Stats()
		if err != nil {
			return err
		}
		if st.PacketsReceived >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stats %+v after %v, want %d packets received", st, liveWait, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLiveAfterClose checks that Close twice is harmless and that every call
// on a closed handle returns ErrClosed.
func TestLiveAfterClose(t *testing.T) {
	env := newLiveEnv(t)
	for _, v := range liveVersions {
		t.Run(v.String(), func(t *testing.T) {
			h := env.open(env.B, Config{TPacketVersion: v, Timeout: 50 * time.Millisecond})
			if err := h.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := h.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if !ringReleased(h) {
				t.Error("ring still mapped after Close")
			}
			fn := func([]byte, CaptureInfo) { t.Error("packet delivered") }
			calls := map[string]func() error{
				"Dispatch":       func() error { _, err := h.Dispatch(-1, fn); return err },
				"Loop":           func() error { _, err := h.Loop(1, fn); return err },
				"ReadPacketData": func() error { _, _, err := h.ReadPacketData(); return err },
				"ZeroCopyReadPacketData": func() error {
					_, _, err := h.ZeroCopyReadPacketData()
					return err
				},
				"Stats":           func() error { _, err := h.Stats(); return err },
				"SetBPF":          func() error { return h.SetBPF(liveFilter(t)) },
				"WritePacketData": func() error { return h.WritePacketData(liveFrame(env.AMAC, env.BMAC, liveType, 0, 60)) },
				"SetDirection":    func() error { return h.SetDirection(DirectionIn) },
				"SetNonBlocking":  func() error { return h.SetNonBlocking(true) },
			}
			for name, call := range calls {
				if err := call(); !errors.Is(err, ErrClosed) {
					t.Errorf("%s after Close: %v, want ErrClosed", name, err)
				}
			}
			h.BreakLoop() // harmless
			if err := h.Close(); err != nil {
				t.Errorf("third Close: %v", err)
			}
		})
	}
}

// TestLiveCloseZeroCopyHeld closes a handle while the data of a
// ZeroCopyReadPacketData is held: the data stays readable, the next read
// returns ErrClosed and frees the ring.
func TestLiveCloseZeroCopyHeld(t *testing.T) {
	env := newLiveEnv(t)
	s := env.Sender(env.A)
	for _, v := range liveVersions {
		t.Run(v.String(), func(t *testing.T) {
			h := env.open(env.B, Config{TPacketVersion: v, Timeout: 50 * time.Millisecond})
			f := liveFrame(env.BMAC, env.AMAC, liveType, 7, 500)
			sendAll(t, s, f)
			deadline := time.Now().Add(liveWait)
			var data []byte
			for {
				var err error
				data, _, err = h.ZeroCopyReadPacketData()
				if err == nil {
					break
				}
				if !errors.Is(err, ErrTimeout) || time.Now().After(deadline) {
					t.Fatalf("ZeroCopyReadPacketData: %v", err)
				}
			}
			if err := h.Close(); err != nil {
				t.Fatal(err)
			}
			if ringReleased(h) {
				t.Fatal("ring unmapped while zero-copy data is held")
			}
			if !bytes.Equal(data, f) {
				t.Errorf("held data after Close:\n%s\nwant\n%s", hexdump(data), hexdump(f))
			}
			if _, _, err := h.ZeroCopyReadPacketData(); !errors.Is(err, ErrClosed) {
				t.Errorf("ZeroCopyReadPacketData after Close: %v, want ErrClosed", err)
			}
			if !ringReleased(h) {
				t.Error("ring still mapped after the read that follows Close")
			}
		})
	}
}
