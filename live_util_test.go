//go:build linux

package pcap

// Helpers shared by the live tests (*_live_test.go). Each live test runs in
// its own network namespace holding a veth pair pa <-> pb (internal/nettest)
// and opens its handles inside that namespace.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/purecap/pcap/internal/afpacket"
	"github.com/purecap/pcap/internal/nettest"
	"golang.org/x/sys/unix"
)

const (
	// liveType is the ethertype of the test frames (IEEE local experimental 1).
	liveType = 0x88b5
	// liveOtherType is another local experimental ethertype, for frames a
	// test expects to be filtered out.
	liveOtherType = 0x88b6

	// liveWait bounds every wait for packets: generous, so that a loaded
	// machine does not make the tests flaky; a passing test never waits it.
	liveWait = 10 * time.Second

	// liveSlack bounds how late a call that should return promptly may
	// return: scheduling on a loaded machine, not the library, sets it.
	liveSlack = 3 * time.Second
)

// liveEnv is a namespace with the veth pair and the interface indexes.
type liveEnv struct {
	*nettest.Env
	t          *testing.T
	AIdx, BIdx int
	LoIdx      int
}

// newLiveEnv creates the namespace and silences it: with IPv6 disabled no
// interface sends anything (router solicitations, MLD reports, DAD) unless
// a test does, so counts can be exact.
func newLiveEnv(t *testing.T) *liveEnv {
	t.Helper()
	env := nettest.New(t)
	e := &liveEnv{Env: env, t: t}
	err := env.Do(func() error {
		for _, conf := range []string{"all", "default", "lo", env.A, env.B} {
			if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+conf+"/disable_ipv6", []byte("1"), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		for _, x := range []struct {
			name string
			idx  *int
		}{{env.A, &e.AIdx}, {env.B, &e.BIdx}, {"lo", &e.LoIdx}} {
			ifc, err := net.InterfaceByName(x.name)
			if err != nil {
				return err
			}
			*x.idx = ifc.Index
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Frames leave a veth end only once the kernel's link watch has seen
	// its carrier come up and activated its queue; until then they are
	// dropped, which happens on a loaded machine. Wait for both ways.
	e.waitPath(env.A, env.B, env.AMAC, env.BMAC)
	e.waitPath(env.B, env.A, env.BMAC, env.AMAC)
	return e
}

// waitPath sends probe frames out of from until to receives one.
func (e *liveEnv) waitPath(from, to string, src, dst net.HardwareAddr) {
	e.t.Helper()
	s := e.Sender(from)
	fd := -1
	err := e.Do(func() error {
		ifc, err := net.InterfaceByName(to)
		if err != nil {
			return err
		}
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(afpacket.Htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: afpacket.Htons(unix.ETH_P_ALL), Ifindex: ifc.Index}); err != nil {
			return err
		}
		tv := unix.NsecToTimeval((20 * time.Millisecond).Nanoseconds())
		return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	})
	if fd >= 0 {
		defer unix.Close(fd)
	}
	if err != nil {
		e.t.Fatalf("probe socket on %s: %v", to, err)
	}
	buf := make([]byte, 2048)
	deadline := time.Now().Add(liveWait)
	for seq := uint32(0xffff0000); ; seq++ {
		// Each probe its own: when the last one arrives, none sent
		// before it is still on its way to a capture opened later.
		probe := liveFrame(dst, src, liveOtherType, seq, 60)
		if err := s.Send(probe); err != nil {
			e.t.Fatalf("probe from %s: %v", from, err)
		}
		for {
			n, _, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				break // timeout: send again
			}
			if bytes.Equal(buf[:n], probe) {
				for {
					if _, _, err := unix.Recvfrom(fd, buf, 0); err != nil {
						return // quiet
					}
				}
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no frame from %s reached %s within %v", from, to, liveWait)
		}
	}
}

// open opens a handle on dev inside the namespace and closes it when the
// test ends.
func (e *liveEnv) open(dev string, cfg Config) *Handle {
	e.t.Helper()
	h, err := e.tryOpen(dev, cfg)
	if err != nil {
		e.t.Fatalf("Open(%q, %+v): %v", dev, cfg, err)
	}
	e.t.Cleanup(func() { h.Close() })
	return h
}

func (e *liveEnv) tryOpen(dev string, cfg Config) (h *Handle, err error) {
	if derr := e.Do(func() error {
		h, err = Open(dev, cfg)
		return nil
	}); derr != nil {
		return nil, derr
	}
	return h, err
}

// ipOut runs `ip -n NS args...` and returns its output.
func (e *liveEnv) ipOut(args ...string) string {
	e.t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", e.NS}, args...)...).CombinedOutput()
	if err != nil {
		e.t.Fatalf("ip -n %s %v: %v: %s", e.NS, args, err, out)
	}
	return string(out)
}

var promiscRE = regexp.MustCompile(`promiscuity (\d+)`)

// promiscuity returns the promiscuity count `ip -d link show` reports.
func (e *liveEnv) promiscuity(dev string) int {
	e.t.Helper()
	out := e.ipOut("-d", "link", "show", dev)
	m := promiscRE.FindStringSubmatch(out)
	if m == nil {
		e.t.Fatalf("no promiscuity in `ip -d link show %s`: %s", dev, out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// liveFrame builds an Ethernet frame of size bytes: dst, src, ethertype,
// a 4-byte sequence number, then a pattern that depends on it.
func liveFrame(dst, src net.HardwareAddr, etype uint16, seq uint32, size int) []byte {
	f := make([]byte, size)
	copy(f[0:6], dst)
	copy(f[6:12], src)
	binary.BigEndian.PutUint16(f[12:], etype)
	binary.BigEndian.PutUint32(f[14:], seq)
	for i := 18; i < size; i++ {
		f[i] = byte(int(seq)*7 + i)
	}
	return f
}

// liveVLANFrame builds a frame like liveFrame with an 802.1Q/802.1ad tag
// (tpid, tci) after the source address.
func liveVLANFrame(dst, src net.HardwareAddr, tpid, tci uint16, etype uint16, seq uint32, size int) []byte {
	f := liveFrame(dst, src, etype, seq, size-4)
	t := make([]byte, 0, size)
	t = append(t, f[:12]...)
	t = binary.BigEndian.AppendUint16(t, tpid)
	t = binary.BigEndian.AppendUint16(t, tci)
	return append(t, f[12:]...)
}

// seqOf returns the ethertype and sequence number of an untagged frame.
func seqOf(data []byte) (uint16, uint32, bool) {
	if len(data) < 18 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint16(data[12:]), binary.BigEndian.Uint32(data[14:]), true
}

// isLive reports whether data is an untagged test frame.
func isLive(data []byte, _ CaptureInfo) bool {
	et, _, ok := seqOf(data)
	return ok && et == liveType
}

// livePkt is a captured packet, copied.
type livePkt struct {
	data []byte
	ci   CaptureInfo
}

// sendAll sends frames from s, failing the test on error.
func sendAll(t testing.TB, s *nettest.Sender, frames ...[]byte) {
	t.Helper()
	for i, f := range frames {
		if err := s.Send(f); err != nil {
			t.Fatalf("send frame %d: %v", i, err)
		}
	}
}

// collect reads with Dispatch until want packets accepted by keep (nil: all)
// have arrived, and fails the test if they do not within liveWait. The handle
// must have a timeout or be non-blocking, so that Dispatch returns now and
// then.
func collect(t testing.TB, h *Handle, want int, keep func([]byte, CaptureInfo) bool) []livePkt {
	t.Helper()
	var got []livePkt
	others := 0
	var firstOther []byte
	deadline := time.Now().Add(liveWait)
	for len(got) < want {
		if time.Now().After(deadline) {
			st, err := h.Stats()
			t.Fatalf("after %v: got %d packets, want %d (and %d others, first %s; stats %+v, %v; ring %+v)",
				liveWait, len(got), want, others, hexdump(firstOther), st, err, h.Ring())
		}
		_, err := h.Dispatch(-1, func(data []byte, ci CaptureInfo) {
			if keep == nil || keep(data, ci) {
				got = append(got, livePkt{bytes.Clone(data), ci})
			} else if others++; firstOther == nil {
				firstOther = bytes.Clone(data)
			}
		})
		if err != nil {
			t.Fatalf("Dispatch after %d of %d packets: %v", len(got), want, err)
		}
	}
	return got
}

// drainExtra reads for a while after the expected packets and returns any
// further packets accepted by keep: there should be none. It stops after
// quiet of Dispatch calls that return nothing (long enough for a V3 block to
// retire).
func drainExtra(t testing.TB, h *Handle, keep func([]byte, CaptureInfo) bool, quiet time.Duration) []livePkt {
	t.Helper()
	var extra []livePkt
	last := time.Now()
	for time.Since(last) < quiet {
		n, err := h.Dispatch(-1, func(data []byte, ci CaptureInfo) {
			if keep == nil || keep(data, ci) {
				extra = append(extra, livePkt{bytes.Clone(data), ci})
			}
		})
		if err != nil {
			t.Fatalf("Dispatch: %v", err)
		}
		if n > 0 {
			last = time.Now()
		}
	}
	return extra
}

// checkFrames asserts that got holds exactly the frames want, in order.
func checkFrames(t testing.TB, got []livePkt, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d frames, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i].data, want[i]) {
			t.Fatalf("frame %d: got\n%s\nwant\n%s", i, hexdump(got[i].data), hexdump(want[i]))
		}
	}
}

func hexdump(b []byte) string {
	if len(b) > 64 {
		return fmt.Sprintf("% x ... (%d bytes)", b[:64], len(b))
	}
	return fmt.Sprintf("% x", b)
}

// watchdog calls fail if stop is not called within d: for operations that
// block without a timeout, so that a hang fails the test instead of timing
// out the whole binary.
func watchdog(d time.Duration, fail func()) (stop func()) {
	var mu sync.Mutex
	done := false
	tm := time.AfterFunc(d, func() {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			fail()
		}
	})
	return func() {
		mu.Lock()
		done = true
		mu.Unlock()
		tm.Stop()
	}
}
