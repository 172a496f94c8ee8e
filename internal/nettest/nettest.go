//go:build linux

// Package nettest gives live tests a private network: a network namespace
// holding a veth pair, so that tests send and capture known frames without
// touching the host's interfaces.
package nettest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Env is a network namespace with a veth pair A <-> B, both up.
type Env struct {
	t    testing.TB
	NS   string // namespace name, as `ip netns` knows it
	A, B string // the two ends of the veth pair
	AMAC net.HardwareAddr
	BMAC net.HardwareAddr
}

// Require skips the test when it cannot create namespaces (not root), or
// fails it when CI=true, where live tests must run.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("ip"); err == nil {
			return
		}
		msg := "live test needs the ip command (iproute2)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	msg := "live test needs root (CAP_SYS_ADMIN for network namespaces, CAP_NET_RAW for capture); run with sudo"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " — CI=true, so it may not skip")
	}
	t.Skip(msg)
}

// New creates a namespace with a veth pair "pa" <-> "pb", both up, and
// removes it when the test ends.
func New(t testing.TB) *Env {
	t.Helper()
	Require(t)
	var b [4]byte
	rand.Read(b[:])
	e := &Env{t: t, NS: "purecap-" + hex.EncodeToString(b[:]), A: "pa", B: "pb"}
	if out, err := exec.Command("ip", "netns", "add", e.NS).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", e.NS, err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", e.NS).Run() })
	e.IP("link", "add", e.A, "type", "veth", "peer", "name", e.B)
	e.IP("link", "set", e.A, "up")
	e.IP("link", "set", e.B, "up")
	e.IP("link", "set", "lo", "up")
	e.AMAC = e.mac(e.A)
	e.BMAC = e.mac(e.B)
	return e
}

// IP runs `ip -n NS args...` and fails the test on error.
func (e *Env) IP(args ...string) {
	e.t.Helper()
	if err := e.TryIP(args...); err != nil {
		e.t.Fatal(err)
	}
}

// TryIP runs `ip -n NS args...`.
func (e *Env) TryIP(args ...string) error {
	out, err := exec.Command("ip", append([]string{"-n", e.NS}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip -n %s %s: %v: %s", e.NS, strings.Join(args, " "), err, out)
	}
	return nil
}

func (e *Env) mac(dev string) net.HardwareAddr {
	e.t.Helper()
	var hw net.HardwareAddr
	err := e.Do(func() error {
		ifc, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		hw = ifc.HardwareAddr
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return hw
}

// Do runs fn on an OS thread that has joined the namespace. Sockets fn
// opens belong to the namespace and stay usable from any goroutine.
func (e *Env) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		// The thread is never unlocked: it ends with the goroutine rather
		// than going back to the scheduler while in the namespace.
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + e.NS)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", e.NS, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// Sender sends raw frames out of one interface of the namespace.
type Sender struct {
	fd      int
	ifindex int
}

// Sender opens a raw packet socket on dev.
func (e *Env) Sender(dev string) *Sender {
	e.t.Helper()
	s := &Sender{fd: -1}
	err := e.Do(func() error {
		ifc, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		s.fd, s.ifindex = fd, ifc.Index
		return unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifc.Index})
	})
	if err != nil {
		if s.fd >= 0 {
			unix.Close(s.fd)
		}
		e.t.Fatalf("sender on %s: %v", dev, err)
	}
	e.t.Cleanup(func() { unix.Close(s.fd) })
	return s
}

// Send sends one frame, retrying while the queue is full.
func (s *Sender) Send(frame []byte) error {
	for {
		err := unix.Sendto(s.fd, frame, 0, &unix.SockaddrLinklayer{Ifindex: s.ifindex, Halen: 6})
		if errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.EAGAIN) {
			runtime.Gosched()
			continue
		}
		return err
	}
}

// QdiscBypass makes the sender skip the queueing discipline, for speed.
func (s *Sender) QdiscBypass() error {
	return unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
}
