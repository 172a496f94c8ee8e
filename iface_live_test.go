//go:build linux

package pcap

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLiveInterfaceDownUp takes pb down and up again while a Dispatch loop
// runs: the loop sees no error, and frames sent once pb is up are captured.
func TestLiveInterfaceDownUp(t *testing.T) {
	for _, v := range liveVersions {
		for _, timeout := range []time.Duration{0, 100 * time.Millisecond} {
			t.Run(v.String()+"/timeout="+timeout.String(), func(t *testing.T) {
				env := newLiveEnv(t)
				s := env.Sender(env.A)
				h := env.open(env.B, Config{TPacketVersion: v, Timeout: timeout})

				var mu sync.Mutex
				var got []livePkt
				var stopping atomic.Bool
				loopErr := make(chan error, 1)
				go func() {
					for !stopping.Load() {
						_, err := h.Dispatch(-1, func(data []byte, ci CaptureInfo) {
							if isLive(data, ci) {
								mu.Lock()
								got = append(got, livePkt{data: append([]byte(nil), data...), ci: ci})
								mu.Unlock()
							}
						})
						if err != nil {
							loopErr <- err
							return
						}
					}
					loopErr <- nil
				}()
				count := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }
				stopLoop := func() error {
					stopping.Store(true)
					h.BreakLoop()
					err, ok := await(t, loopErr, liveWait, "Dispatch loop")
					if !ok {
						t.FailNow()
					}
					if errors.Is(err, ErrBreak) {
						err = nil
					}
					return err
				}
				// sendUntil sends a frame every few milliseconds until the
				// loop has captured n in all.
				seq := uint32(0)
				sendUntil := func(n int) {
					t.Helper()
					deadline := time.Now().Add(liveWait)
					for count() < n {
						if time.Now().After(deadline) {
							stopLoop()
							t.Fatalf("%d frames captured, want %d", count(), n)
						}
						sendAll(t, s, liveFrame(env.BMAC, env.AMAC, liveType, seq, 100))
						seq++
						time.Sleep(5 * time.Millisecond)
					}
				}

				sendUntil(1) // the loop runs
				env.IP("link", "set", env.B, "down")
				env.IP("link", "set", env.B, "up")
				before := count()
				sendUntil(before + 10)
				if err := stopLoop(); err != nil {
					t.Fatalf("Dispatch loop: %v", err)
				}
				mu.Lock()
				defer mu.Unlock()
				last := -1
				for _, p := range got {
					_, sq, _ := seqOf(p.data)
					if int(sq) <= last {
						t.Errorf("frame %d after frame %d", sq, last)
					}
					last = int(sq)
				}
			})
		}
	}
}

// TestLiveInterfaceRemoved deletes the veth pair while a Dispatch loop
// waits without a timeout: it returns an error wrapping ErrNoSuchDevice,
// naming the device, within a second. Also when the interface went down
// first, which raises no event when it is then removed, with packets still
// reaching the loop after the interface went down (from a V3 block the
// kernel retires later).
func TestLiveInterfaceRemoved(t *testing.T) {
	for _, downFirst := range []bool{false, true} {
		for _, v := range liveVersions {
			name := v.String()
			if downFirst {
				name += "/down-first"
			}
			t.Run(name, func(t *testing.T) {
				env := newLiveEnv(t)
				s := env.Sender(env.A)
				h := env.open(env.B, Config{TPacketVersion: v, BlockTimeout: 300 * time.Millisecond})
				var count atomic.Int64
				res := make(chan dispatchResult, 1)
				go func() {
					for {
						n, err := h.Dispatch(-1, func(data []byte, ci CaptureInfo) {
							if !isLive(data, ci) {
								t.Errorf("unexpected packet: %s", hexdump(data))
							}
							count.Add(1)
						})
						if err != nil {
							res <- dispatchResult{n, err, time.Now()}
							return
						}
					}
				}()
				waitCount := func(n int64) {
					t.Helper()
					deadline := time.Now().Add(liveWait)
					for count.Load() < n {
						select {
						case r := <-res:
							t.Fatalf("Dispatch = %d, %v; want it to keep waiting", r.n, r.err)
						default:
						}
						if time.Now().After(deadline) {
							h.Close()
							t.Fatalf("%d packets captured, want %d", count.Load(), n)
						}
						time.Sleep(time.Millisecond)
					}
				}
				sendAll(t, s, liveFrame(env.BMAC, env.AMAC, liveType, 0, 100))
				waitCount(1) // the loop runs
				if downFirst {
					sendAll(t, s, liveFrame(env.BMAC, env.AMAC, liveType, 1, 100),
						liveFrame(env.BMAC, env.AMAC, liveType, 2, 100))
					env.IP("link", "set", env.B, "down")
					// Down is not an error: the loop delivers what was
					// captured before and keeps waiting.
					waitCount(3)
					select {
					case r := <-res:
						t.Fatalf("Dispatch = %d, %v after pb went down; want it to keep waiting", r.n, r.err)
					case <-time.After(300 * time.Millisecond):
					}
				}
				env.IP("link", "del", env.A) // takes pb along
				removed := time.Now()
				r, ok := await(t, res, liveWait, "Dispatch after the interface was removed")
				if !ok {
					h.Close()
					t.FailNow()
				}
				if !errors.Is(r.err, ErrNoSuchDevice) || !strings.Contains(r.err.Error(), env.B) {
					t.Errorf("Dispatch = %d, %v; want an error naming %s that wraps ErrNoSuchDevice", r.n, r.err, env.B)
				}
				// The handle looks for the removal every 250 ms: within a
				// second, with some slack for a loaded machine.
				if d := r.at.Sub(removed); d > 2*time.Second {
					t.Errorf("Dispatch returned %v after the interface was removed, want within 1s", d)
				}
				t.Logf("removal noticed after %v", r.at.Sub(removed))
				// And it stays so.
				stop := watchdog(liveWait, h.BreakLoop)
				if _, err := h.Dispatch(-1, func([]byte, CaptureInfo) {}); !errors.Is(err, ErrNoSuchDevice) {
					t.Errorf("next Dispatch: %v, want ErrNoSuchDevice", err)
				}
				stop()
				if err := h.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		}
	}
}

// TestLiveOpenErrors checks the errors of Open for a missing and a down
// interface.
func TestLiveOpenErrors(t *testing.T) {
	env := newLiveEnv(t)
	_, err := env.tryOpen("nosuch0", Config{})
	if !errors.Is(err, ErrNoSuchDevice) || !strings.Contains(err.Error(), "nosuch0") {
		t.Errorf("Open(nosuch0): %v; want ErrNoSuchDevice naming the device", err)
	}
	var oe *OpError
	if !errors.As(err, &oe) || oe.Device != "nosuch0" || oe.Op != "open" {
		t.Errorf("Open(nosuch0): %#v, want an *OpError for open nosuch0", err)
	}

	env.IP("link", "set", env.B, "down")
	for _, v := range liveVersions {
		_, err = env.tryOpen(env.B, Config{TPacketVersion: v})
		if !errors.Is(err, ErrInterfaceDown) || !strings.Contains(err.Error(), env.B) {
			t.Errorf("%v: Open(%s) while down: %v; want ErrInterfaceDown naming the device", v, env.B, err)
		}
	}
	env.IP("link", "set", env.B, "up")
	env.open(env.B, Config{}) // up again: fine

	_, err = env.tryOpen("", Config{})
	if err == nil {
		t.Error("Open of an empty name succeeded")
	}
	_, err = env.tryOpen("any", Config{LinkType: LinkTypeEthernet})
	if err == nil {
		t.Error("Open(any) with link type EN10MB succeeded")
	}
}

const permChildEnv = "PURECAP_LIVE_PERMISSION_CHILD"

// TestLivePermission runs Open in a copy of the test binary without
// privileges (user nobody, no capabilities): it fails with an error that
// wraps os.ErrPermission and says that CAP_NET_RAW is needed.
func TestLivePermission(t *testing.T) {
	env := newLiveEnv(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		msg := "permission test needs setpriv (util-linux)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	// The test binary lives in a directory only root may enter: copy it
	// where nobody can run it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "purecap-perm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "pcap.test")
	copyFile(t, self, bin, 0o755)

	cmd := exec.Command("ip", "netns", "exec", env.NS,
		setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
		bin, "-test.run=^TestLivePermissionChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), permChildEnv+"="+env.B)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	if !strings.Contains(string(out), "--- PASS: TestLivePermissionChild") {
		t.Fatal("the child test did not run")
	}
}

// TestLivePermissionChild is the unprivileged side of TestLivePermission.
func TestLivePermissionChild(t *testing.T) {
	dev := os.Getenv(permChildEnv)
	if dev == "" {
		t.Skip("run by TestLivePermission")
	}
	if os.Geteuid() == 0 {
		t.Fatal("child runs as root")
	}
	for _, v := range liveVersions {
		h, err := Open(dev, Config{TPacketVersion: v})
		if err == nil {
			h.Close()
			t.Fatalf("%v: Open(%s) succeeded without privileges", v, dev)
		}
		t.Logf("%v: %v", v, err)
		if !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), "CAP_NET_RAW") || !strings.Contains(err.Error(), dev) {
			t.Errorf("%v: Open(%s): %v; want os.ErrPermission, naming the device and CAP_NET_RAW", v, dev, err)
		}
	}
	_, err := Open("any", Config{})
	if !errors.Is(err, os.ErrPermission) {
		t.Errorf("Open(any): %v; want os.ErrPermission", err)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
