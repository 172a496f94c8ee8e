package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/net/bpf"
)

// PacketHandle is what a live capture (*Handle) and a savefile
// (*OfflineHandle) have in common: code written against it reads packets
// from either.
type PacketHandle interface {
	Dispatch(cnt int, fn func(data []byte, ci CaptureInfo)) (int, error)
	Loop(cnt int, fn func(data []byte, ci CaptureInfo)) (int, error)
	BreakLoop()
	ReadPacketData() ([]byte, CaptureInfo, error)
	ZeroCopyReadPacketData() ([]byte, CaptureInfo, error)
	LinkType() LinkType
	SnapLen() int
	SetFilter(expr string) error
	SetBPF(prog []bpf.RawInstruction) error
	Close() error
}

var (
	_ PacketHandle = (*Handle)(nil)
	_ PacketHandle = (*OfflineHandle)(nil)
)

// Stop reasons, in OfflineHandle.stop.
const (
	offlineBreak  = 1
	offlineClosed = 2
)

// OfflineHandle reads packets from a savefile, pcap or pcapng, with the
// methods of a live Handle (pcap_open_offline's handle).
//
// Reads (Dispatch, Loop, ReadPacketData, ZeroCopyReadPacketData, SetFilter,
// SetBPF) are serialized: one goroutine reads at a time. BreakLoop and
// Close may be called from any goroutine at any time. After Close every
// call that can fail returns ErrClosed. The end of the file is io.EOF.
type OfflineHandle struct {
	src      packetSource
	pr       *Reader  // src, when it is a pcap file
	file     *os.File // closed by Close; nil for OpenOfflineReader
	linkType LinkType
	snaplen  int

	// stop holds offlineBreak and offlineClosed bits.
	stop atomic.Uint32

	readMu sync.Mutex
	filter *offlineFilter // guarded by readMu
	ci     CaptureInfo    // the packet being read; guarded by readMu
}

// OpenOffline opens a pcap or pcapng savefile, telling them apart by their
// first four bytes, like pcap_open_offline. Close closes the file.
func OpenOffline(path string) (*OfflineHandle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	h, err := OpenOfflineReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	h.file = f
	return h, nil
}

// OpenOfflineReader reads a pcap or pcapng savefile from r, such as a pipe
// or standard input. Close does not close r.
func OpenOfflineReader(r io.Reader) (*OfflineHandle, error) {
	var magic [4]byte
	if n, err := io.ReadFull(r, magic[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			msg := "empty file"
			if n > 0 {
				msg = fmt.Sprintf("truncated file header: %d of 4 magic bytes", n)
			}
			return nil, &FormatError{Format: "pcap", Offset: 0, Msg: msg, Err: io.ErrUnexpectedEOF}
		}
		return nil, err
	}
	in := io.MultiReader(bytes.NewReader(magic[:]), r)
	h := &OfflineHandle{}
	if binary.LittleEndian.Uint32(magic[:]) == ngBlockSHB {
		ng, err := NewNgReader(in)
		if err != nil {
			return nil, err
		}
		h.src = ng
	} else {
		pr, err := NewReader(in)
		if err != nil {
			return nil, err
		}
		h.src, h.pr = pr, pr
	}
	h.linkType = h.src.LinkType()
	h.snaplen = h.src.Snaplen()
	return h, nil
}

// LinkType returns the link type of the file (of its first interface, for
// pcapng).
func (h *OfflineHandle) LinkType() LinkType { return h.linkType }

// SnapLen returns the snapshot length of the file (of its first interface,
// for pcapng), as its header gives it.
func (h *OfflineHandle) SnapLen() int { return h.snaplen }

// Dispatch calls fn for each of the next cnt packets of the file (cnt <= 0:
// all the rest, as pcap_dispatch does on a savefile) that pass the filter,
// and returns how many it delivered. At the end of the file it returns the
// count and a nil error if it delivered any, and 0 and io.EOF otherwise.
//
// data points into the handle's buffer and is valid only during the call
// of fn. fn may call BreakLoop or Close: Dispatch then returns after the
// current packet with the count so far and ErrBreak or ErrClosed. A
// malformed file is reported with a *FormatError after the packets before
// the fault.
func (h *OfflineHandle) Dispatch(cnt int, fn func(data []byte, ci CaptureInfo)) (int, error) {
	if err := h.lockRead(); err != nil {
		return 0, err
	}
	defer h.readMu.Unlock()
	if err := h.takeStop(); err != nil {
		return 0, err
	}
	n := 0
	for cnt <= 0 || n < cnt {
		data, err := h.next(&h.ci)
		if err != nil {
			if err == io.EOF && n > 0 {
				err = nil
			}
			return n, h.readErr(err)
		}
		fn(data, h.ci)
		n++
		if h.stop.Load() != 0 {
			return n, h.takeStop()
		}
	}
	return n, nil
}

// Loop processes packets until cnt have been delivered (cnt <= 0: until
// the end of the file), like pcap_loop. It returns the number delivered and
// why it stopped: nil when cnt was reached, io.EOF at the end of the file,
// ErrBreak, ErrClosed or a read error.
func (h *OfflineHandle) Loop(cnt int, fn func(data []byte, ci CaptureInfo)) (int, error) {
	return loop(cnt, h.Dispatch, fn)
}

// loop calls dispatch until cnt packets have been delivered (cnt <= 0:
// until it fails), as pcap_loop does with pcap_dispatch, and returns the
// number delivered and the error that stopped it.
func loop(cnt int, dispatch func(int, func([]byte, CaptureInfo)) (int, error), fn func([]byte, CaptureInfo)) (int, error) {
	total := 0
	for cnt <= 0 || total < cnt {
		want := 0
		if cnt > 0 {
			want = cnt - total
		}
		n, err := dispatch(want, fn)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// BreakLoop makes the current or next Dispatch, Loop or read return
// ErrBreak, after the packet being delivered. It is safe to call from any
// goroutine, including from fn.
func (h *OfflineHandle) BreakLoop() { h.stop.Or(offlineBreak) }

// ReadPacketData returns the next packet that passes the filter as a copy
// the caller owns, or io.EOF at the end of the file.
func (h *OfflineHandle) ReadPacketData() ([]byte, CaptureInfo, error) {
	return copyPacket(h.ZeroCopyReadPacketData())
}

// ZeroCopyReadPacketData returns the next packet that passes the filter
// without copying it: the data stays valid until the next read on the
// handle. At the end of the file it returns io.EOF.
func (h *OfflineHandle) ZeroCopyReadPacketData() ([]byte, CaptureInfo, error) {
	if err := h.lockRead(); err != nil {
		return nil, CaptureInfo{}, err
	}
	defer h.readMu.Unlock()
	if err := h.takeStop(); err != nil {
		return nil, CaptureInfo{}, err
	}
	data, err := h.next(&h.ci)
	if err != nil {
		return nil, CaptureInfo{}, h.readErr(err)
	}
	return data, h.ci, nil
}

// SetFilter compiles expr in the pcap-filter(7) language for the file's
// link type and snapshot length (see CompileFilter) and makes it the
// filter: from then on only the packets it accepts are delivered. It runs
// in user space. An empty expression removes the filter.
//
// A pcapng file can hold interfaces of several link types. The expression
// is compiled again, once, for each other link type met; if it cannot be
// compiled for one (a test of a header that link type lacks), the read
// that meets such a packet skips it and returns an error saying so, after
// the packets before it. libpcap refuses to read such files at all.
func (h *OfflineHandle) SetFilter(expr string) error {
	if err := h.lockRead(); err != nil {
		return err
	}
	defer h.readMu.Unlock()
	if expr == "" {
		h.filter = nil
		return nil
	}
	b, err := NewBPF(h.linkType, h.snaplen, expr)
	if err != nil {
		return err
	}
	h.filter = &offlineFilter{expr: expr, snaplen: h.snaplen, lt: h.linkType, bpf: b}
	return nil
}

// SetBPF makes prog, a classic BPF program for the file's link type, the
// filter, run in user space on each packet. Since a program is written for
// one link type, a read that meets a packet of another link type (from
// another interface of a pcapng file) skips it and returns an error.
func (h *OfflineHandle) SetBPF(prog []bpf.RawInstruction) error {
	if err := h.lockRead(); err != nil {
		return err
	}
	defer h.readMu.Unlock()
	b, err := NewBPFFromInstructions(prog)
	if err != nil {
		return err
	}
	h.filter = &offlineFilter{lt: h.linkType, bpf: b}
	return nil
}

// Close releases the file (when OpenOffline opened it). A read in progress
// in another goroutine returns ErrClosed after its current packet, and
// every later call returns ErrClosed. Closing twice is harmless.
func (h *OfflineHandle) Close() error {
	for {
		s := h.stop.Load()
		if s&offlineClosed != 0 {
			return nil
		}
		if h.stop.CompareAndSwap(s, s|offlineClosed) {
			break
		}
	}
	if h.file != nil {
		return h.file.Close()
	}
	return nil
}

func (h *OfflineHandle) lockRead() error {
	if h.stop.Load()&offlineClosed != 0 {
		return ErrClosed
	}
	h.readMu.Lock()
	if h.stop.Load()&offlineClosed != 0 {
		h.readMu.Unlock()
		return ErrClosed
	}
	return nil
}

// takeStop reports a pending BreakLoop or Close, consuming the break.
func (h *OfflineHandle) takeStop() error {
	s := h.stop.Load()
	switch {
	case s&offlineClosed != 0:
		return ErrClosed
	case s&offlineBreak != 0:
		h.stop.And(^uint32(offlineBreak))
		return ErrBreak
	}
	return nil
}

// errStopped is next's report that BreakLoop or Close was called while it
// skipped packets the filter rejected.
var errStopped = errors.New("stopped")

// readErr turns an error of next into the one a read returns.
func (h *OfflineHandle) readErr(err error) error {
	if err == nil {
		return nil
	}
	if err == errStopped || h.stop.Load()&offlineClosed != 0 {
		// Close may have closed the file under the read.
		if s := h.takeStop(); s != nil {
			return s
		}
	}
	return err
}

// next reads the next packet that passes the filter. readMu is held.
func (h *OfflineHandle) next(ci *CaptureInfo) ([]byte, error) {
	for {
		var data []byte
		var lt LinkType
		var err error
		if h.pr != nil {
			data, err = h.pr.next(ci)
			lt = h.linkType
		} else {
			data, lt, err = h.src.readPacket(ci)
		}
		if err != nil {
			return nil, err
		}
		f := h.filter
		if f == nil {
			return data, nil
		}
		b := f.bpf
		if lt != f.lt {
			if b, err = f.forLinkType(lt, ci.InterfaceIndex); err != nil {
				return nil, err
			}
		}
		if b.Matches(*ci, data) {
			return data, nil
		}
		if h.stop.Load() != 0 {
			return nil, errStopped
		}
	}
}

// offlineFilter is an OfflineHandle's filter: a program for the file's link
// type, and for an expression, those compiled for other link types met.
type offlineFilter struct {
	expr    string // "" for a program set with SetBPF
	snaplen int
	lt      LinkType
	bpf     *BPF
	others  map[LinkType]filterFor
}

type filterFor struct {
	bpf *BPF
	err error
}

func (f *offlineFilter) forLinkType(lt LinkType, ifIndex int) (*BPF, error) {
	if f.expr == "" {
		return nil, fmt.Errorf("pcap: packet of interface %d has link type %s; the filter program is for %s", ifIndex, lt, f.lt)
	}
	o, ok := f.others[lt]
	if !ok {
		o.bpf, o.err = NewBPF(lt, f.snaplen, f.expr)
		if o.err != nil {
			o.err = fmt.Errorf("pcap: packet of interface %d has link type %s, for which the filter %q does not compile: %w", ifIndex, lt, f.expr, o.err)
		}
		if f.others == nil {
			f.others = make(map[LinkType]filterFor)
		}
		f.others[lt] = o
	}
	return o.bpf, o.err
}
