package pcap

import (
	"errors"
	"fmt"
	"math"
	"os"
	"time"
)

// Defaults applied to zero Config fields.
const (
	// DefaultSnaplen is the snapshot length used when Config.Snaplen is 0:
	// whole packets, as libpcap and tcpdump capture by default.
	DefaultSnaplen = 262144

	// DefaultBufferSize is the ring size used when Config.BufferSize is 0.
	// libpcap's default is 2 MiB. A Go program pauses now and then (garbage
	// collection, scheduling) while the kernel keeps filling the ring, so we
	// default to 8 MiB: about 50,000 minimum-size packets in a TPACKET_V3
	// ring, several milliseconds of a saturated 10 Gb/s link, for 8 MiB of
	// memory per handle.
	DefaultBufferSize = 8 << 20

	// DefaultBlockSize is the TPACKET_V3 block size used when
	// Config.BlockSize is 0. The kernel wakes the reader once per block, and
	// a wakeup costs far more than a packet, so blocks are four times
	// libpcap's 256 KiB: a quarter of the wakeups under load. Latency does
	// not grow: a block is handed over after the retire timeout however
	// full it is. At a low rate a ring then buffers a quarter as much time
	// as libpcap's of the same size (see Config.BlockSize).
	DefaultBlockSize = 1 << 20
)

// Config sets up a live capture. The zero value captures whole packets in
// both directions, non-promiscuously, waiting as long as it takes for a
// packet, into a ring of DefaultBufferSize bytes.
type Config struct {
	// Snaplen is the most bytes of each packet to capture (0: DefaultSnaplen).
	Snaplen int

	// Promisc puts the interface into promiscuous mode for as long as the
	// handle is open. It has no effect on the "any" device.
	Promisc bool

	// Timeout bounds how long a read waits for the first packet: after at
	// most this long Dispatch returns, possibly with nothing. 0 waits until a
	// packet arrives, BreakLoop or Close (libpcap's meaning). With
	// TPACKET_V3 it is also the block retire timeout unless BlockTimeout is
	// set, so packets wait at most this long in a half-filled block; a read
	// waiting on such a block relies on the kernel's retire timer, which can
	// fire up to one tick of the kernel's clock (4 ms at HZ=250) late.
	Timeout time.Duration

	// NonBlocking makes reads return at once when no packet is ready.
	NonBlocking bool

	// BufferSize is the size of the receive ring in bytes (0:
	// DefaultBufferSize). When the kernel cannot allocate it, the ring is
	// shrunk in 5% steps until it can; Handle.Ring reports what was obtained.
	BufferSize int

	// Immediate delivers each packet as soon as it arrives rather than when
	// a V3 block fills or times out; it selects TPACKET_V2 unless a version
	// is forced.
	Immediate bool

	// TPacketVersion forces a ring version; TPacketAuto (0) picks V3, or V2
	// in immediate mode.
	TPacketVersion TPacketVersion

	// Direction selects received, sent, or all packets.
	Direction Direction

	// LinkType selects the cooked header for the "any" device:
	// LinkTypeLinuxSLL (the default) or LinkTypeLinuxSLL2. On another
	// device, LinkTypeLinuxSLL or LinkTypeLinuxSLL2 captures in cooked mode
	// instead of with the device's own link-layer header; 0 keeps it.
	LinkType LinkType

	// Protocol is the ethertype to capture (0: all), as in
	// socket(AF_PACKET, ..., htons(Protocol)).
	Protocol uint16

	// BlockSize is the TPACKET_V3 block size in bytes (0: DefaultBlockSize),
	// rounded up to a power-of-two number of pages. The kernel hands a block
	// over when it is full or when its retire timeout expires, whichever
	// comes first; at a low packet rate a block holds only what arrives
	// within the timeout, so a ring of N blocks buffers about N timeouts of
	// traffic for a reader that falls behind. Smaller blocks make more of
	// them in the same ring (libpcap uses 256 KiB) at the cost of more
	// wakeups under load.
	BlockSize int

	// BlockTimeout is the TPACKET_V3 block retire timeout, rounded to
	// milliseconds (0: Timeout, or the kernel's default when that is 0).
	BlockTimeout time.Duration
}

// CaptureInfo describes a captured packet. Its fields have the names
// gopacket uses; what only Linux reports (the VLAN tag the kernel took out,
// the packet type, the flow hash) is read and set with methods.
//
// A CaptureInfo is six machine words, so that Go passes it to a Dispatch
// callback in registers: a larger struct would be copied through memory for
// every packet, which costs more than the rest of the per-packet work.
type CaptureInfo struct {
	// Timestamp is when the kernel received (or sent) the packet, in
	// nanoseconds since the Unix epoch (microsecond resolution with
	// TPACKET_V1 and in microsecond savefiles). Time returns it as a
	// time.Time. A savefile timestamp outside what int64 nanoseconds hold
	// (years 1678 to 2262) is clamped to the nearest end.
	Timestamp int64
	// CaptureLength is the number of bytes captured: the length of the data.
	CaptureLength int
	// Length is the packet's length on the wire, with any cooked header or
	// re-inserted VLAN tag counted.
	Length int
	// InterfaceIndex is the index of the interface the packet was seen on.
	InterfaceIndex int

	vlan uint64 // TCI in bits 0-15, TPID in 16-31, bit 32 set when present
	meta uint64 // packet type in bits 0-7, rxhash in bits 32-63
}

const vlanPresent = 1 << 32

// The packed words of a CaptureInfo, and its timestamp from a ring header.
func packVLAN(tci, tpid uint16) uint64             { return vlanPresent | uint64(tpid)<<16 | uint64(tci) }
func packMeta(pkttype uint8, rxhash uint32) uint64 { return uint64(pkttype) | uint64(rxhash)<<32 }
func ringNano(sec, nsec uint32) int64              { return int64(sec)*1e9 + int64(nsec) }

// splitNano is ts in whole seconds since the epoch and nanoseconds after
// them (0 to 1e9-1), for the savefile writers.
func splitNano(ts int64) (sec, nsec int64) {
	sec, nsec = ts/1e9, ts%1e9
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	}
	return sec, nsec
}

// Time returns the timestamp as a time.Time.
func (ci CaptureInfo) Time() time.Time { return time.Unix(0, ci.Timestamp) }

// SetTime sets the timestamp from a time.Time, clamped to what Timestamp
// holds.
func (ci *CaptureInfo) SetTime(t time.Time) { ci.Timestamp = unixNano(t) }

// VLAN returns the outer 802.1Q/802.1ad tag the kernel stripped from the
// packet, which the data has again.
func (ci CaptureInfo) VLAN() VLANTag {
	if ci.vlan&vlanPresent == 0 {
		return VLANTag{}
	}
	return VLANTag{Present: true, TCI: uint16(ci.vlan), TPID: uint16(ci.vlan >> 16)}
}

// SetVLAN sets the VLAN tag; one that is not Present clears it.
func (ci *CaptureInfo) SetVLAN(t VLANTag) {
	ci.vlan = 0
	if t.Present {
		ci.vlan = packVLAN(t.TCI, t.TPID)
	}
}

// PacketType says whom the packet was for, or that the host sent it.
func (ci CaptureInfo) PacketType() PacketType { return PacketType(ci.meta) }

// SetPacketType sets the packet type.
func (ci *CaptureInfo) SetPacketType(t PacketType) {
	ci.meta = ci.meta&^0xff | uint64(t)
}

// RxHash returns the kernel's flow hash of the packet (TPACKET_V3 only; 0
// when the kernel computed none).
func (ci CaptureInfo) RxHash() uint32 { return uint32(ci.meta >> 32) }

// SetRxHash sets the flow hash.
func (ci *CaptureInfo) SetRxHash(h uint32) {
	ci.meta = ci.meta&0xffffffff | uint64(h)<<32
}

// String describes the packet in a line, for logs and tests.
func (ci CaptureInfo) String() string {
	s := fmt.Sprintf("%s caplen %d len %d ifindex %d %v",
		ci.Time().UTC().Format(time.RFC3339Nano), ci.CaptureLength, ci.Length, ci.InterfaceIndex, ci.PacketType())
	if t := ci.VLAN(); t.Present {
		s += fmt.Sprintf(" vlan %d (tci %#04x tpid %#04x)", t.ID(), t.TCI, t.TPID)
	}
	if h := ci.RxHash(); h != 0 {
		s += fmt.Sprintf(" rxhash %#08x", h)
	}
	return s
}

// The times int64 nanoseconds since the epoch can hold.
var (
	minNanoTime = time.Unix(0, math.MinInt64)
	maxNanoTime = time.Unix(0, math.MaxInt64)
)

// unixNano is t.UnixNano clamped to the int64 range, outside which
// t.UnixNano's result is undefined.
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(minNanoTime):
		return math.MinInt64
	case t.After(maxNanoTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// secNano is sec seconds and nsec nanoseconds after the epoch in
// nanoseconds, clamped to the int64 range.
func secNano(sec, nsec int64) int64 {
	const safe = math.MaxInt64/1_000_000_000 - 1
	if sec >= -safe && sec <= safe && nsec >= 0 && nsec < 1e9 {
		return sec*1e9 + nsec
	}
	// time.Unix overflows far out; this is far past either end anyway.
	const far = 1 << 62
	switch {
	case sec > far:
		return math.MaxInt64
	case sec < -far:
		return math.MinInt64
	}
	return unixNano(time.Unix(sec, nsec))
}

// VLANTag is an 802.1Q tag the kernel took out of a packet.
type VLANTag struct {
	Present bool   // the packet had a tag (VLAN 0 included)
	TCI     uint16 // priority, DEI and VLAN ID
	TPID    uint16 // tag protocol: 0x8100, 0x88a8, ...
}

// ID returns the VLAN identifier, the low 12 bits of the TCI.
func (t VLANTag) ID() uint16 { return t.TCI & 0x0fff }

// Errors usable with errors.Is.
var (
	// ErrClosed is returned by every call on a closed handle, and by a read
	// that Close interrupted.
	ErrClosed = errors.New("pcap: handle is closed")
	// ErrTimeout is returned by ReadPacketData and ZeroCopyReadPacketData
	// when no packet arrived within the timeout (or at once, non-blocking).
	ErrTimeout = errors.New("pcap: timeout expired")
	// ErrBreak is returned by a read that BreakLoop interrupted.
	ErrBreak = errors.New("pcap: loop broken")
	// ErrNoSuchDevice reports an interface that does not exist, or that was
	// removed during the capture.
	ErrNoSuchDevice = errors.New("no such device")
	// ErrInterfaceDown reports an interface that is not up.
	ErrInterfaceDown = errors.New("interface is not up")
)

// OpError is the error of an operation on a device: it names both and wraps
// the cause, so errors.Is works with the sentinels above, os.ErrPermission
// and unix.Errno values.
type OpError struct {
	Op     string // "open", "read", "setfilter", ...
	Device string
	Err    error
}

func (e *OpError) Error() string {
	msg := "pcap: " + e.Op + " " + e.Device + ": " + e.Err.Error()
	if errors.Is(e.Err, os.ErrPermission) {
		msg += " (capturing needs CAP_NET_RAW)"
	}
	return msg
}

func (e *OpError) Unwrap() error { return e.Err }

// ErrCorruptRing reports a ring frame or block whose header the kernel could
// not have written: an offset or length outside its frame or block. The
// frame or block is handed back to the kernel and reading can go on.
var ErrCorruptRing = errors.New("corrupt ring")

// RingInfo is the geometry of the receive ring a handle obtained from the
// kernel, which can be smaller than asked for when memory is short.
type RingInfo struct {
	Version   TPacketVersion
	BlockSize int // bytes per block
	BlockNr   int // number of blocks
	FrameSize int // bytes per frame (V1/V2); the block size for V3
	FrameNr   int // number of frames (V1/V2); the block count for V3
}

// Size is the ring's total size in bytes.
func (r RingInfo) Size() int { return r.BlockSize * r.BlockNr }

// OpenLive opens a live capture the way pcap_open_live does.
func OpenLive(device string, snaplen int, promisc bool, timeout time.Duration) (*Handle, error) {
	return Open(device, Config{Snaplen: snaplen, Promisc: promisc, Timeout: timeout})
}
