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

// Packet accounts for one captured packet. A capturer's callback calls
// Count(Seq(data)) instead, which the compiler inlines into it, so that it
// makes one function call per packet as the C capturer does.
func (c *Counter) Packet(data []byte) {
	c.Count(Seq(data))
}

// Count accounts for one captured packet: a benchmark frame with sequence
// number seq if ok, another packet if not (see Seq).
func (c *Counter) Count(seq uint64, ok bool) {
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

// Frame returns benchmark frame seq as the generator sends it, between two
// fixed locally administered MAC addresses: for files of benchmark frames.
func Frame(seq uint64) []byte {
	f := make([]byte, FrameLen)
	copy(f, []byte{0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00})
	ip := f[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], FrameLen-14)
	binary.BigEndian.PutUint16(ip[6:], 0x4000)
	ip[8], ip[9] = 64, 17
	copy(ip[12:], []byte{198, 18, 0, 1, 198, 18, 0, 2})
	var sum uint32
	for i := 0; i < len(ip); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	udp := f[34:42]
	binary.BigEndian.PutUint16(udp, UDPSrcPort)
	binary.BigEndian.PutUint16(udp[2:], UDPDstPort)
	binary.BigEndian.PutUint16(udp[4:], FrameLen-34)
	binary.BigEndian.PutUint64(f[SeqOffset:], seq)
	return f
}
