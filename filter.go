//go:build linux

package pcap

import (
	"errors"
	"fmt"
	"unsafe"

	ibpf "github.com/purecap/pcap/internal/bpf"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

func unsafeRawInstructions(prog []bpf.RawInstruction) unsafe.Pointer {
	// bpf.RawInstruction has the layout of struct sock_filter.
	return unsafe.Pointer(&prog[0])
}

var rejectAll = []bpf.RawInstruction{{Op: unix.BPF_RET | unix.BPF_K, K: 0}}

// SetBPF attaches a classic BPF program to the socket: the kernel runs it on
// every packet and copies to the ring at most as many bytes as it returns (0
// drops the packet). No packet that arrived before the program was set is
// delivered afterwards: the socket first gets a program that rejects
// everything, the ring is emptied, then the new program replaces it. It
// replaces a filter set by SetFilter, including one run in user space.
func (h *Handle) SetBPF(prog []bpf.RawInstruction) error {
	if len(prog) == 0 || len(prog) > maxKernelInsns {
		return h.opErr("setbpf", fmt.Errorf("program of %d instructions (the kernel takes 1 to %d)", len(prog), maxKernelInsns))
	}
	if ibpf.HasBackwardJump(prog) {
		return h.opErr("setbpf", errors.New("the program jumps backwards, which the kernel refuses "+
			"(libpcap's protochain loop does; SetFilter runs such an expression)"))
	}
	return h.filterErr("setbpf", h.replaceFilter(prog, nil))
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
