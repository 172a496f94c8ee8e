//go:build !linux

package pcap

import (
	"errors"
	"runtime"

	"golang.org/x/net/bpf"
)

// ErrNotSupported is returned by every live-capture call on a system other
// than Linux, where the package builds but cannot capture.
var ErrNotSupported = errors.New("live capture is not implemented on " + runtime.GOOS)

// Handle is a live capture; on this system it cannot be opened.
type Handle struct{}

// Open returns ErrNotSupported: live capture needs Linux.
func Open(device string, cfg Config) (*Handle, error) {
	return nil, &OpError{Op: "open", Device: device, Err: ErrNotSupported}
}

func (h *Handle) Device() string        { return "" }
func (h *Handle) LinkType() LinkType    { return 0 }
func (h *Handle) SnapLen() int          { return 0 }
func (h *Handle) Ring() RingInfo        { return RingInfo{} }
func (h *Handle) BreakLoop()            {}
func (h *Handle) Close() error          { return nil }
func (h *Handle) Stats() (Stats, error) { return Stats{}, ErrNotSupported }

func (h *Handle) Dispatch(cnt int, fn func(data []byte, ci CaptureInfo)) (int, error) {
	return 0, ErrNotSupported
}

func (h *Handle) Loop(cnt int, fn func(data []byte, ci CaptureInfo)) (int, error) {
	return 0, ErrNotSupported
}

func (h *Handle) ReadPacketData() ([]byte, CaptureInfo, error) {
	return nil, CaptureInfo{}, ErrNotSupported
}

func (h *Handle) ZeroCopyReadPacketData() ([]byte, CaptureInfo, error) {
	return nil, CaptureInfo{}, ErrNotSupported
}

func (h *Handle) SetBPF(prog []bpf.RawInstruction) error { return ErrNotSupported }
func (h *Handle) SetFilter(expr string) error            { return ErrNotSupported }
func (h *Handle) SetDirection(d Direction) error         { return ErrNotSupported }
func (h *Handle) SetNonBlocking(nonblock bool) error     { return ErrNotSupported }
func (h *Handle) WritePacketData(data []byte) error      { return ErrNotSupported }
