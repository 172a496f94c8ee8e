//go:build linux

package pcap

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// maxKernelInsns is the kernel's limit on a classic BPF program (BPF_MAXINSNS).
const maxKernelInsns = 4096

func unsafeRawInstructions(prog []bpf.RawInstruction) unsafe.Pointer {
	// bpf.RawInstruction has the layout of struct sock_filter.
	return unsafe.Pointer(&prog[0])
}

var rejectAll = []bpf.RawInstruction{{Op: unix.BPF_RET | unix.BPF_K, K: 0}}

// SetBPF attaches a classic BPF program to the socket: the kernel runs it on
// every packet and copies to the ring at most as many bytes as it returns (0
// drops the packet). No packet that arrived before the program was set is
// delivered afterwards: the socket first gets a program that rejects
// everything, the ring is emptied, then the new program replaces it.
func (h *Handle) SetBPF(prog []bpf.RawInstruction) error {
	if len(prog) == 0 || len(prog) > maxKernelInsns {
		return h.opErr("setbpf", fmt.Errorf("program of %d instructions (the kernel takes 1 to %d)", len(prog), maxKernelInsns))
	}
	if err := h.lockRead(); err != nil {
		return err
	}
	defer h.unlockRead()
	var serr error
	err := h.rc.Control(func(fd uintptr) {
		if serr = attachFilter(int(fd), rejectAll); serr != nil {
			return
		}
		// Reading the statistics takes the lock the kernel holds while it
		// puts a packet in the ring: packets let in by the old program are
		// all there once it returns. Keep their counts.
		h.statsMu.Lock()
		serr = h.pullKernelStatsFd(int(fd))
		h.statsMu.Unlock()
		if serr != nil {
			return
		}
		h.ring.drain()
		if serr = attachFilter(int(fd), prog); serr != nil {
			// Put back what was there rather than leave the socket
			// rejecting everything.
			h.restoreFilter(int(fd))
		}
	})
	if err != nil {
		return ErrClosed
	}
	if serr == nil {
		h.filter = append(h.filter[:0], prog...)
	}
	if serr != nil {
		if errors.Is(serr, unix.EINVAL) {
			serr = fmt.Errorf("the kernel rejected the program: %w", serr)
		}
		return h.opErr("setbpf", serr)
	}
	return nil
}

// restoreFilter re-attaches the program the socket had before, or removes
// the filter if it had none.
func (h *Handle) restoreFilter(fd int) {
	if len(h.filter) > 0 {
		_ = attachFilter(fd, h.filter)
		return
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DETACH_FILTER, 0)
}
