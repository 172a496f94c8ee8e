//go:build linux

package pcap

import (
	"errors"
	"fmt"

	"github.com/purecap/pcap/internal/afpacket"
	ibpf "github.com/purecap/pcap/internal/bpf"
	"github.com/purecap/pcap/internal/filter"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// SetFilter compiles expr in the pcap-filter(7) language for the handle's
// link type and snapshot length (see CompileFilter) and makes it the
// handle's filter: from then on only the packets it accepts are delivered,
// and no packet captured before the call is.
//
// The program runs in the kernel when the kernel can run it with the
// meaning it has on the packets as delivered: on a cooked ("any") handle its
// loads are first moved to where the kernel sees the data, which lacks the
// cooked header. On an Ethernet handle, "vlan" is compiled as libpcap
// compiles it for a live Linux handle: the first one tests the tag the
// kernel took out of the packet through the kernel's ancillary data, or
// the tag still in the data when there is none, and what follows reads the
// packet after that tag. (As with libpcap, a test of the type field that
// is not behind a vlan, as in "arp or vlan 100", reads the packet as the
// kernel's filter sees it, after the tag the kernel took out.) A program
// the kernel cannot run that way (one that tests a VLAN tag the kernel has
// stripped, with a kernel that lacks those ancillary data or otherwise
// than with "vlan", reads a cooked header field the kernel does not
// provide, is longer than the kernel allows or is refused by it) runs in
// user space instead, on each packet as delivered. protochain, which
// CompileFilter compiles into libpcap's loop, goes to the kernel with the
// loop unrolled; a packet whose header chain is longer than the unrolled
// walk is let through and the loop decides on it in user space.
//
// A malformed expression is reported with its position, and the previous
// filter stays in place.
func (h *Handle) SetFilter(expr string) error {
	fs, err := filterPrograms(h.linkType, h.cooked, h.SnapLen(), expr, h.kernelVLANExtensions)
	if err != nil {
		return err
	}
	if fs.kernel != nil {
		var confirm *BPF
		if fs.confirm {
			if confirm, err = NewBPFFromInstructions(fs.user); err != nil {
				return h.opErr("setfilter", err)
			}
		}
		err := h.replaceFilter(fs.kernel, confirm)
		var refused *refusedError
		if !errors.As(err, &refused) || fs.user == nil {
			return h.filterErr("setfilter", err)
		}
		// The kernel refused it: run it in user space.
	}
	return h.filterErr("setfilter", h.setUserFilter(fs.user))
}

// vlanExtensions reports whether the kernel's filter on socket fd can read
// the VLAN tag taken out of a packet; tests replace it.
var vlanExtensions = afpacket.VLANExtensions

// filterSet is what SetFilter attaches for an expression.
type filterSet struct {
	// user is the program for the packets as delivered (CompileFilter's),
	// nil when only the kernel's program could be compiled.
	user []bpf.RawInstruction
	// kernel is the program for the socket's filter, nil for none (user
	// then runs on every packet).
	kernel []bpf.RawInstruction
	// confirm tells that kernel selects more packets than user may (a
	// protochain walk cut short, where user loops): user must run too,
	// on the packets kernel accepts.
	confirm bool
}

// filterPrograms compiles expr for a handle of link type lt (cooked: read
// from a cooked socket). vlanExt reports whether the socket's filter can
// read the VLAN tag the kernel took out of a packet. On an Ethernet
// handle, libpcap's live semantics accept a few expressions that its
// offline semantics refuse ("ip and vlan", which tests the type field of
// the data the kernel's filter sees, after the tag, then the tag): user is
// nil then. protochain, which CompileFilter compiles into libpcap's loop,
// goes to the kernel unrolled, and the loop confirms the packets that
// program accepts.
func filterPrograms(lt LinkType, cooked bool, snaplen int, expr string, vlanExt func() bool) (filterSet, error) {
	user, err := CompileFilter(lt, snaplen, expr)
	loops := err == nil && ibpf.HasBackwardJump(user)
	if lt == LinkTypeEthernet && !cooked {
		live, lerr := filter.CompileWith(uint32(lt), snaplen, expr, filter.Options{LinuxVLAN: true, Unroll: true})
		if lerr == nil && readsVLANTag(live) {
			if len(live) <= maxKernelInsns && vlanExt() {
				return filterSet{user, live, loops}, nil
			}
			// The filter runs in user space, on the data with the tag.
			if err != nil {
				return filterSet{}, err
			}
			return filterSet{user: user}, nil
		}
	}
	if err != nil {
		return filterSet{}, err
	}
	prog := user
	if loops {
		if prog, err = filter.CompileWith(uint32(lt), snaplen, expr, filter.Options{Unroll: true}); err != nil {
			return filterSet{user: user}, nil
		}
	}
	kernel, ok := kernelProgram(lt, cooked, prog)
	if !ok {
		return filterSet{user: user}, nil
	}
	return filterSet{user, kernel, loops}, nil
}

// kernelVLANExtensions reports whether the socket's filter can read the
// VLAN tag the kernel took out of a packet.
func (h *Handle) kernelVLANExtensions() bool {
	ok := false
	if err := h.rc.Control(func(fd uintptr) { ok = vlanExtensions(int(fd)) }); err != nil {
		return false
	}
	return ok
}

// readsVLANTag reports whether prog tests for a VLAN tag in the kernel's
// ancillary data.
func readsVLANTag(prog []bpf.RawInstruction) bool {
	for _, ins := range prog {
		if ins.Op&0x07 == unix.BPF_LD && ins.Op&0xe0 == unix.BPF_ABS &&
			ins.K == ibpf.AncillaryOffset+afpacket.SKFAdVLANTagPresent {
			return true
		}
	}
	return false
}

// setUserFilter makes prog, a program for the data as delivered, the
// handle's filter, run in user space; the kernel's program only applies the
// snapshot length.
func (h *Handle) setUserFilter(prog []bpf.RawInstruction) error {
	user, err := NewBPFFromInstructions(prog)
	if err != nil {
		return err
	}
	accept, err := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: uint32(h.snaplen)}})
	if err != nil {
		return err
	}
	return h.replaceFilter(accept, user)
}

// refusedError reports that the socket did not take a program.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

// filterErr turns an error of replaceFilter into the one op returns.
func (h *Handle) filterErr(op string, err error) error {
	if err == nil || errors.Is(err, ErrClosed) {
		return err
	}
	var refused *refusedError
	if errors.As(err, &refused) {
		err = refused.err
		if errors.Is(err, unix.EINVAL) {
			err = fmt.Errorf("the kernel rejected the program: %w", err)
		}
	}
	return h.opErr(op, err)
}

// replaceFilter attaches kernel to the socket and makes user (nil for
// none) the filter the ring applies to the packets it delivers. No packet
// that arrived before is delivered afterwards: the socket first gets a
// program that rejects everything, the ring is emptied, then the new
// programs replace the old ones. It returns ErrClosed on a closed handle,
// and a *refusedError, with the old programs in place, if the socket does
// not take kernel.
func (h *Handle) replaceFilter(kernel []bpf.RawInstruction, user *BPF) error {
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
		if serr = attachFilter(int(fd), kernel); serr != nil {
			// Put back what was there rather than leave the socket
			// rejecting everything.
			h.restoreFilter(int(fd))
			serr = &refusedError{serr}
		}
	})
	if err != nil {
		return ErrClosed
	}
	if serr != nil {
		return serr
	}
	h.filter = append(h.filter[:0], kernel...)
	h.ring.dec.userFilter = user
	return nil
}

// kernelProgram returns prog as the kernel's socket filter must be given
// it to select the same packets on a handle of link type lt (cooked: read
// from a cooked socket), or false if the kernel cannot run it so and it
// must run in user space.
func kernelProgram(lt LinkType, cooked bool, prog []bpf.RawInstruction) ([]bpf.RawInstruction, bool) {
	if len(prog) > maxKernelInsns || testsVLAN(prog) {
		return nil, false
	}
	if !cooked {
		return prog, true
	}
	switch lt {
	case LinkTypeLinuxSLL:
		return rewriteCooked(prog, sllHdrLen)
	case LinkTypeLinuxSLL2:
		return rewriteCooked(prog, sll2HdrLen)
	}
	return nil, false
}

// testsVLAN reports whether prog uses one of the VLAN tag protocol
// identifiers as a constant (in a comparison, or loaded to compare with a
// value in a register). Such a program looks for a tag in the data, where
// the kernel's filter does not see it: the kernel takes the tag out of the
// packet before it runs the filter. A program that happens to use one of
// these values for another field is reported too; it only runs in user
// space for nothing. (Programs compiled for the kernel's filter test the
// tag through its ancillary data instead: see filterPrograms.)
func testsVLAN(prog []bpf.RawInstruction) bool {
	for _, ins := range prog {
		switch ins.K {
		case 0x8100, 0x88a8, 0x9100:
		default:
			continue
		}
		class, src, mode := ins.Op&0x07, ins.Op&0x08, ins.Op&0xe0
		switch {
		case class == unix.BPF_JMP && src == unix.BPF_K,
			class == unix.BPF_ALU && src == unix.BPF_K,
			(class == unix.BPF_LD || class == unix.BPF_LDX) && mode == unix.BPF_IMM:
			return true
		}
	}
	return false
}

// Cooked header fields the kernel provides as ancillary data.
type cookedField struct {
	off  uint32
	size uint16 // unix.BPF_B, BPF_H or BPF_W
	ad   uint32 // SKF_AD_* number
}

var (
	sllFields = []cookedField{
		{0, unix.BPF_H, ibpf.AdPktType},
		{14, unix.BPF_H, ibpf.AdProtocol},
	}
	sll2Fields = []cookedField{
		{0, unix.BPF_H, ibpf.AdProtocol},
		{4, unix.BPF_W, ibpf.AdIfIndex},
		{10, unix.BPF_B, ibpf.AdPktType},
	}
)

// rewriteCooked rewrites a program for a cooked link type, whose header is
// hdrLen bytes long, into one for the kernel's filter on a cooked socket,
// which sees the data from the network header on: loads past the header
// move back by its length, loads of its protocol, packet type and interface
// index fields become loads of the kernel's ancillary data. It reports false
// if the program reads anything else of the header, or the packet length
// (which the kernel gives without the header).
func rewriteCooked(prog []bpf.RawInstruction, hdrLen uint32) ([]bpf.RawInstruction, bool) {
	fields := sllFields
	if hdrLen == sll2HdrLen {
		fields = sll2Fields
	}
	out := append([]bpf.RawInstruction(nil), prog...)
	for i := range out {
		ins := &out[i]
		class := ins.Op & 0x07
		if class != unix.BPF_LD && class != unix.BPF_LDX {
			continue
		}
		switch ins.Op & 0xe0 {
		case unix.BPF_ABS:
			if class != unix.BPF_LD {
				return nil, false
			}
			if ins.K >= ibpf.AncillaryOffset {
				continue // ancillary data already
			}
			if ins.K >= hdrLen {
				ins.K -= hdrLen
				continue
			}
			found := false
			for _, f := range fields {
				if ins.K == f.off && ins.Op&0x18 == f.size {
					ins.K = ibpf.AncillaryOffset + f.ad
					found = true
					break
				}
			}
			if !found {
				return nil, false
			}
		case unix.BPF_IND, unix.BPF_MSH:
			if ins.K < hdrLen {
				return nil, false
			}
			ins.K -= hdrLen
		case unix.BPF_LEN:
			return nil, false
		}
	}
	return out, true
}
