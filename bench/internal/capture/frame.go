package capture

import "encoding/binary"

// Layout of the benchmark frames sent by the generator. It mirrors
// gen/frame.h, which documents every field; keep the two in sync.
const (
	// FrameLen is the length of every benchmark frame, without FCS.
	FrameLen = 64
	// SeqOffset is where the 64-bit big-endian sequence number starts: the
	// first byte of the UDP payload, after 14 bytes of Ethernet, 20 of IPv4
	// and 8 of UDP header.
	SeqOffset = 14 + 20 + 8
	// UDPSrcPort and UDPDstPort are the UDP ports of every benchmark frame.
	UDPSrcPort = 40000
	UDPDstPort = 40001
)

// Seq returns the sequence number carried by a benchmark frame. ok is false
// if data is not a benchmark frame (other traffic seen on the interface, or a
// frame cut too short to hold the number).
func Seq(data []byte) (seq uint64, ok bool) {
	if len(data) < SeqOffset+8 {
		return 0, false
	}
	if data[12] != 0x08 || data[13] != 0x00 || data[14] != 0x45 || data[23] != 17 ||
		binary.BigEndian.Uint16(data[36:38]) != UDPDstPort {
		return 0, false
	}
	return binary.BigEndian.Uint64(data[SeqOffset:]), true
}

// Counter keeps the per-packet statistics of a capture run. Its zero value is
// not usable: create one with NewCounter.
type Counter struct {
	// Captured counts the benchmark frames seen.
	Captured uint64
	// Other counts every other packet seen (not a benchmark frame).
	Other uint64
	// OutOfOrder counts the benchmark frames whose sequence number is not
	// greater than the one of the benchmark frame seen just before.
	OutOfOrder uint64
	// Done is set once the last sequence number (count-1) has been seen.
	Done bool

	lastSeq uint64
	prev    uint64
	started bool
}

// NewCounter returns a Counter for a run in which the generator sends count
// frames, numbered 0 to count-1.
func NewCounter(count uint64) *Counter {
	return &Counter{lastSeq: count - 1}
}

// Packet accounts for one captured packet.
func (c *Counter) Packet(data []byte) {
	seq, ok := Seq(data)
	if !ok {
		c.Other++
		return
	}
	c.Captured++
	if c.started && seq <= c.prev {
		c.OutOfOrder++
	}
	c.prev = seq
	c.started = true
	if seq == c.lastSeq {
		c.Done = true
	}
}

// Seen returns how many packets, of any kind, Packet has been given.
func (c *Counter) Seen() uint64 {
	return c.Captured + c.Other
}
