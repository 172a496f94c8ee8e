//go:build linux

package pcap

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/purecap/pcap/internal/afpacket"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Stop reasons, in Handle.stop.
const (
	stopBreak  = 1
	stopClosed = 2
)

// Handle is a live capture on one interface, or on all ("any").
//
// Reads (Dispatch, Loop, ReadPacketData, ZeroCopyReadPacketData, SetBPF)
// are serialized: one goroutine reads at a time. BreakLoop, Close and Stats
// may be called from any goroutine at any time.
type Handle struct {
	device   string
	ifindex  int
	linkType LinkType
	snaplen  int
	timeout  time.Duration
	cooked   bool
	info     RingInfo

	file *os.File
	rc   syscall.RawConn

	// blockTimeout is the V3 block retire timeout the kernel was given.
	blockTimeout time.Duration

	// deadlineStale is set when BreakLoop has moved the read deadline.
	deadlineStale atomic.Bool

	// stop holds stopBreak and stopClosed bits; the per-packet loop checks
	// it so BreakLoop and Close take effect after the current packet.
	stop atomic.Uint32

	// readMu serializes readers. Whoever holds it may touch the ring's
	// memory; Close unmaps the ring only when it can take readMu and no
	// zero-copy packet is lent out.
	readMu   sync.Mutex
	ring     *ring                // guarded by readMu
	mem      []byte               // the mapping; guarded by readMu
	lent     bool                 // a ZeroCopyReadPacketData result is in use; guarded by readMu
	nonblock bool                 // guarded by readMu
	ifDown   bool                 // the interface went down; guarded by readMu
	armed    time.Time            // the read deadline last set; guarded by readMu
	released bool                 // the mapping is gone; guarded by readMu
	filter   []bpf.RawInstruction // the program attached to the socket; guarded by readMu

	// statsMu guards stats and linkStats.
	statsMu   sync.Mutex
	stats     Stats
	linkStats *afpacket.LinkStats
	ifdropAt  uint64 // the interface's drop counters when the handle opened
}

// Device returns the name of the device the handle captures on.
func (h *Handle) Device() string { return h.device }

// LinkType returns the link-layer header type of the captured data.
func (h *Handle) LinkType() LinkType { return h.linkType }

// SnapLen returns the snapshot length: no packet's data is longer.
func (h *Handle) SnapLen() int { return h.snaplen }

// Ring returns the version and geometry of the ring the kernel gave.
func (h *Handle) Ring() RingInfo { return h.info }

// Dispatch processes packets like pcap_dispatch: it calls fn for up to cnt
// packets (cnt <= 0: all those available from one wakeup), waiting for the
// first at most the handle's timeout, and returns how many it delivered.
// It returns 0 and a nil error when the timeout expires.
//
// data points into the ring and is valid only during the call of fn: copy
// what must outlive it. fn may call BreakLoop or Close: Dispatch then
// returns after the current packet with the count so far and ErrBreak or
// ErrClosed.
func (h *Handle) Dispatch(cnt int, fn func(data []byte, ci CaptureInfo)) (int, error) {
	if err := h.lockRead(); err != nil {
		return 0, err
	}
	// Deferred so that a panicking fn leaves the handle usable and closable.
	defer h.unlockRead()
	return h.dispatch(cnt, fn)
}

// Loop processes packets until cnt have been delivered (cnt <= 0: until an
// error, BreakLoop or Close), like pcap_loop. It returns the number of
// packets delivered and why it stopped: nil when cnt was reached.
func (h *Handle) Loop(cnt int, fn func(data []byte, ci CaptureInfo)) (int, error) {
	return loop(cnt, h.Dispatch, fn)
}

// BreakLoop makes the current or next Dispatch, Loop or read return
// ErrBreak, after the packet being delivered; a waiting read wakes at once.
// It is safe to call from any goroutine, including from fn.
func (h *Handle) BreakLoop() {
	h.stop.Or(stopBreak)
	// A deadline in the past wakes a read parked in the poller; the next
	// wait must then set its own.
	h.deadlineStale.Store(true)
	_ = h.file.SetReadDeadline(time.Unix(1, 0))
}

// ReadPacketData returns the next packet as a copy the caller owns. It
// returns ErrTimeout when no packet arrived within the timeout.
func (h *Handle) ReadPacketData() (data []byte, ci CaptureInfo, err error) {
	data, err = h.readOne(false, &ci)
	if err != nil {
		return nil, CaptureInfo{}, err
	}
	return data, ci, nil
}

// ZeroCopyReadPacketData returns the next packet without copying it: the
// data points into the ring and stays valid until the next read on the
// handle. Close does not unmap the ring while such data is lent out; the
// next read returns ErrClosed and frees it.
func (h *Handle) ZeroCopyReadPacketData() (data []byte, ci CaptureInfo, err error) {
	data, err = h.readOne(true, &ci)
	if err != nil {
		return nil, CaptureInfo{}, err
	}
	return data, ci, nil
}

// readOne returns the next packet and fills ci, with ErrTimeout when none
// came. With lend, the data points into the ring and the packet's frame
// stays out of the kernel's hands until the next read; otherwise it is a
// copy.
func (h *Handle) readOne(lend bool, ci *CaptureInfo) ([]byte, error) {
	if err := h.lockRead(); err != nil {
		return nil, err
	}
	if err := h.takeStop(); err != nil {
		h.unlockRead()
		return nil, err
	}
	// The common case, without a closure per packet: the next packet is
	// in the ring and goes to the caller as it is.
	var data []byte
	ok := false
	switch r := h.ring; r.info.Version {
	case TPacketV3:
		data, ok = r.nextV3(ci)
	case TPacketV2:
		data, ok = r.nextV2(ci)
	}
	if !ok {
		var err error
		if data, err = h.readSlow(ci); err != nil {
			h.unlockRead()
			return nil, err
		}
	}
	if !lend {
		data = append([]byte(nil), data...)
		h.ring.release()
	}
	h.lent = lend
	h.unlockRead()
	return data, nil
}

// readSlow is readOne's way through read, for any packet, waiting for it
// if need be. The packet's frame or block stays out of the kernel's hands.
func (h *Handle) readSlow(ci *CaptureInfo) ([]byte, error) {
	var data []byte
	n, err := h.read(1, func(d []byte, c CaptureInfo) { data, *ci = d, c }, true)
	switch {
	case err != nil:
		return nil, err
	case n == 0:
		return nil, ErrTimeout
	}
	return data, nil
}

// errWaitTimeout is wait's report that the timeout expired.
var errWaitTimeout = errors.New("wait timeout")

// lockRead takes readMu for a read and hands back what the previous read
// lent out. It fails, without the lock, on a closed handle.
func (h *Handle) lockRead() error {
	h.readMu.Lock()
	h.lent = false
	if h.stop.Load()&stopClosed != 0 {
		h.readMu.Unlock()
		h.freeRing()
		return ErrClosed
	}
	return nil
}

func (h *Handle) unlockRead() {
	h.readMu.Unlock()
	if h.stop.Load()&stopClosed != 0 {
		h.freeRing()
	}
}

// takeStop reports a pending BreakLoop or Close, consuming the break.
func (h *Handle) takeStop() error {
	s := h.stop.Load()
	switch {
	case s&stopClosed != 0:
		return ErrClosed
	case s&stopBreak != 0:
		h.stop.And(^uint32(stopBreak))
		return ErrBreak
	}
	return nil
}

func (h *Handle) dispatch(cnt int, fn func([]byte, CaptureInfo)) (int, error) {
	limit := cnt
	if limit <= 0 {
		// Everything one wakeup brings: at most a ring's worth, so that a
		// sender as fast as the reader cannot keep Dispatch from returning.
		limit = h.ring.info.FrameNr
		if h.ring.info.Version == TPacketV3 {
			limit = h.ring.info.Size() / 64
		}
	}
	n, err := h.read(limit, fn, false)
	if err == nil && h.stop.Load() != 0 {
		// BreakLoop or Close from fn: report it with the count so far.
		err = h.takeStop()
	}
	return n, err
}

// read hands up to limit packets to fn, waiting for the first at most the
// handle's timeout: 0 packets and no error when it expires. It returns
// early after a packet when BreakLoop or Close is called, leaving that to
// the caller to report. Unless keep is set, the frame or block of the last
// packet goes back to the kernel before read returns. readMu is held.
func (h *Handle) read(limit int, fn func([]byte, CaptureInfo), keep bool) (int, error) {
	if err := h.takeStop(); err != nil {
		return 0, err
	}
	r := h.ring
	n, err := r.walk(limit, &h.stop, fn)
	if n == 0 && err == nil {
		deadline := h.deadline()
		for n == 0 && err == nil {
			if werr := h.wait(deadline); werr != nil {
				if werr == errWaitTimeout {
					werr = nil
				}
				return 0, werr
			}
			// A block can hold only packets the handle does not deliver.
			n, err = r.walk(limit, &h.stop, fn)
		}
	}
	if err != nil {
		r.release()
		return n, h.opErr("read", err)
	}
	if !keep {
		r.release()
	}
	return n, nil
}

// deadline is when a read that starts now gives up, or zero for never.
func (h *Handle) deadline() time.Time {
	if h.timeout > 0 {
		return time.Now().Add(h.timeout)
	}
	return time.Time{}
}

// wait parks the reader in the netpoller until the ring has a packet, the
// deadline passes (errWaitTimeout), BreakLoop (ErrBreak) or Close
// (ErrClosed), or the socket reports an error. readMu is held.
func (h *Handle) wait(deadline time.Time) error {
	if h.nonblock {
		return errWaitTimeout
	}
	for {
		d := deadline
		if !d.IsZero() && h.kernelWakes() {
			// The kernel hands over the block it is filling within the
			// timeout: no timer needed, and none to churn on every wait.
			d = time.Time{}
		}
		if h.ifDown {
			// A down interface that is then removed raises no event: look
			// for its removal now and then.
			probe := time.Now().Add(250 * time.Millisecond)
			if d.IsZero() || probe.Before(d) {
				d = probe
			}
		}
		// Arm the timer only when it changes: a Go timer re-armed on every
		// wait leaves stale entries that wake the poller for nothing.
		if h.deadlineStale.Swap(false) || !d.Equal(h.armed) {
			if err := h.file.SetReadDeadline(d); err != nil {
				return ErrClosed
			}
			h.armed = d
		}
		if err := h.takeStop(); err != nil {
			return err
		}
		var sockErr error
		wentDown := false
		err := h.rc.Read(func(fd uintptr) bool {
			if h.stop.Load() != 0 || h.ring.ready() {
				return true
			}
			down := h.ifDown
			sockErr = h.socketError(int(fd))
			// The interface just went down: back to the loop to arm the
			// probe for its removal, which raises no event of its own.
			wentDown = !down && h.ifDown
			return sockErr != nil || wentDown
		})
		if sockErr != nil {
			return sockErr
		}
		if stop := h.takeStop(); stop != nil {
			return stop
		}
		switch {
		case err == nil:
			if wentDown {
				continue
			}
			if h.ifDown {
				// Packets, but maybe from before the interface went down:
				// stop probing only if it is up again.
				_ = h.checkGone()
			}
			return nil
		case errors.Is(err, os.ErrDeadlineExceeded):
			if h.ifDown {
				if gone := h.checkGone(); gone != nil {
					return gone
				}
			}
			if !deadline.IsZero() && !time.Now().Before(deadline) {
				return errWaitTimeout
			}
		case errors.Is(err, os.ErrClosed):
			return ErrClosed
		default:
			return h.opErr("read", err)
		}
	}
}

// kernelWakes reports whether the reader will be woken within the timeout
// without a timer of its own: with TPACKET_V3, when the block the kernel is
// filling already holds packets, the kernel hands it over within its retire
// timeout (give or take a tick of the kernel's clock). The block must be
// the one the kernel opened after the last one handed back (the next
// sequence number): after the ring overflowed, the block at the cursor can
// be one the reader handed back that the kernel has not reopened yet, with
// the packet count of its previous round, and no retirement to come.
func (h *Handle) kernelWakes() bool {
	r := h.ring
	if r.info.Version != TPacketV3 || h.blockTimeout <= 0 || h.blockTimeout > h.timeout {
		return false
	}
	return blockStatus(r.mem, r.blockOff)&unix.TP_STATUS_USER == 0 && blockNumPkts(r.mem, r.blockOff) > 0 &&
		blockSeq(r.mem, r.blockOff) == r.lastSeq+1
}

// socketError reads and clears the socket's pending error. The interface
// going down is not an error (capture resumes when it comes back up) but
// its removal is.
func (h *Handle) socketError(fd int) error {
	e, err := afpacket.SocketError(fd)
	if err != nil {
		return h.opErr("read", os.NewSyscallError("getsockopt", err))
	}
	if e == 0 {
		return nil
	}
	if e == unix.ENETDOWN {
		h.ifDown = true
		return h.checkGoneFd(fd)
	}
	return h.opErr("read", e)
}

func (h *Handle) checkGone() error {
	var gone error
	if err := h.rc.Control(func(fd uintptr) { gone = h.checkGoneFd(int(fd)) }); err != nil {
		return ErrClosed
	}
	return gone
}

func (h *Handle) checkGoneFd(fd int) error {
	if h.ifindex == 0 {
		return nil
	}
	idx, err := afpacket.BoundIfIndex(fd)
	if err == nil && idx == -1 {
		return h.opErr("read", fmt.Errorf("interface was removed: %w", ErrNoSuchDevice))
	}
	if h.ifDown {
		if name, err := afpacket.IfName(fd, h.ifindex); err == nil {
			if flags, err := afpacket.Flags(fd, name); err == nil && flags&unix.IFF_UP != 0 {
				h.ifDown = false // up again
			}
		}
	}
	return nil
}

func (h *Handle) opErr(op string, err error) error {
	return &OpError{Op: op, Device: h.device, Err: err}
}

// SetDirection selects which packets the handle delivers from now on.
func (h *Handle) SetDirection(d Direction) error {
	if d > DirectionOut {
		return h.opErr("setdirection", fmt.Errorf("invalid direction %d", d))
	}
	if err := h.lockRead(); err != nil {
		return err
	}
	defer h.unlockRead()
	h.ring.dec.direction = d
	// Best effort: let the kernel skip outgoing packets it would copy for
	// nothing. Older kernels lack the option; the ring filter does the work.
	ignore := 0
	if d == DirectionIn {
		ignore = 1
	}
	_ = h.rc.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, ignore)
	})
	return nil
}

// SetNonBlocking switches non-blocking reads on or off.
func (h *Handle) SetNonBlocking(nonblock bool) error {
	if err := h.lockRead(); err != nil {
		return err
	}
	h.nonblock = nonblock
	h.unlockRead()
	return nil
}

// WritePacketData sends a packet out of the interface, link-layer header
// included, as pcap_sendpacket does.
func (h *Handle) WritePacketData(data []byte) error {
	if h.stop.Load()&stopClosed != 0 {
		return ErrClosed
	}
	if h.ifindex == 0 || h.cooked {
		return h.opErr("write", errors.New("cannot send on a cooked capture (the \"any\" device or a cooked link type)"))
	}
	var werr error
	err := h.rc.Write(func(fd uintptr) bool {
		_, werr = unix.Write(int(fd), data)
		return werr != unix.EAGAIN
	})
	if err != nil {
		if errors.Is(err, os.ErrClosed) {
			return ErrClosed
		}
		return h.opErr("write", err)
	}
	if werr != nil {
		return h.opErr("write", os.NewSyscallError("send", werr))
	}
	return nil
}

// Close stops the capture and releases the socket and the ring. A read in
// progress in another goroutine returns ErrClosed; the ring is unmapped once
// no reader uses it. Closing twice is harmless.
func (h *Handle) Close() error {
	for {
		s := h.stop.Load()
		if s&stopClosed != 0 {
			return nil
		}
		if h.stop.CompareAndSwap(s, s|stopClosed) {
			break
		}
	}
	// Closing the file wakes every goroutine parked in the poller.
	err := h.file.Close()
	h.statsMu.Lock()
	if h.linkStats != nil {
		h.linkStats.Close()
		h.linkStats = nil
	}
	h.statsMu.Unlock()
	h.freeRing()
	return err
}

// freeRing unmaps the ring once the handle is closed and no reader holds it.
func (h *Handle) freeRing() {
	if h.stop.Load()&stopClosed == 0 || !h.readMu.TryLock() {
		return
	}
	if !h.released && !h.lent {
		h.released = true
		_ = unix.Munmap(h.mem)
		h.mem = nil
	}
	h.readMu.Unlock()
}
