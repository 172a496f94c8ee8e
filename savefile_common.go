package pcap

import (
	"encoding/binary"
	"fmt"
)

// WriterOption sets an optional property of a savefile writer (NewWriter,
// NewNgWriter).
type WriterOption func(*writerConfig)

// writerConfig collects the options of a savefile writer. The pcap writer
// uses the first two; the rest describe a pcapng file's section and first
// interface.
type writerConfig struct {
	nano        bool // nanosecond timestamps
	bufferSize  int  // bytes buffered before a write to the io.Writer
	ifName      string
	ifDesc      string
	ifFilter    string
	ifOS        string
	hardware    string
	os          string
	application string
}

// defaultWriterBuffer is the buffer of a savefile writer unless
// WithBufferSize says otherwise.
const defaultWriterBuffer = 256 << 10

func newWriterConfig(opts []WriterOption) writerConfig {
	c := writerConfig{bufferSize: defaultWriterBuffer}
	for _, o := range opts {
		o(&c)
	}
	if c.bufferSize <= 0 {
		c.bufferSize = defaultWriterBuffer
	}
	return c
}

// WithNanosecondTimestamps writes timestamps in nanoseconds: the pcap magic
// 0xa1b23c4d, or a pcapng if_tsresol of 9. The default is microseconds,
// which every reader understands.
func WithNanosecondTimestamps() WriterOption { return func(c *writerConfig) { c.nano = true } }

// WithBufferSize sets how many bytes a writer buffers before it writes to
// the underlying io.Writer.
func WithBufferSize(n int) WriterOption { return func(c *writerConfig) { c.bufferSize = n } }

// WithInterfaceName sets the pcapng if_name option of the first interface,
// such as "eth0".
func WithInterfaceName(name string) WriterOption {
	return func(c *writerConfig) { c.ifName = name }
}

// WithInterfaceDescription sets the pcapng if_description option of the
// first interface.
func WithInterfaceDescription(desc string) WriterOption {
	return func(c *writerConfig) { c.ifDesc = desc }
}

// WithInterfaceFilter records, as the pcapng if_filter option of the first
// interface, the filter expression the capture used.
func WithInterfaceFilter(expr string) WriterOption {
	return func(c *writerConfig) { c.ifFilter = expr }
}

// WithHardware sets the pcapng section's shb_hardware option.
func WithHardware(s string) WriterOption { return func(c *writerConfig) { c.hardware = s } }

// WithOS sets the pcapng section's shb_os option.
func WithOS(s string) WriterOption { return func(c *writerConfig) { c.os = s } }

// WithApplication sets the pcapng section's shb_userappl option.
func WithApplication(s string) WriterOption { return func(c *writerConfig) { c.application = s } }

// FormatError reports a savefile that cannot be read: where, and what was
// wrong there.
//
// A file that ends in the middle of a header, record or block is reported
// with Err set to io.ErrUnexpectedEOF, so that errors.Is(err,
// io.ErrUnexpectedEOF) holds.
type FormatError struct {
	Format string // "pcap" or "pcapng"
	Offset int64  // byte offset in the file of what was wrong
	Msg    string
	Err    error // the underlying cause, if any (io.ErrUnexpectedEOF)
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("pcap: bad %s file at offset %d: %s", e.Format, e.Offset, e.Msg)
}

// Unwrap returns Err.
func (e *FormatError) Unwrap() error { return e.Err }

// The buffers of the savefile readers (Reader, NgReader).
const (
	readerInitialBuf = 64 << 10 // first buffer; grows as the input delivers
	readerChunk      = 1 << 20  // reads of the input are up to this large
)

// copyPacket turns what a ZeroCopyReadPacketData returned into what
// ReadPacketData returns: the data in a slice the caller owns.
func copyPacket(data []byte, ci CaptureInfo, err error) ([]byte, CaptureInfo, error) {
	if err != nil {
		return nil, ci, err
	}
	return append([]byte(nil), data...), ci, nil
}

// packetSource is a savefile reader an OfflineHandle reads from.
type packetSource interface {
	// readPacket returns the next packet, filling *ci. data stays valid
	// until the next call. lt is the link type of the packet's interface
	// (a pcapng file can hold several). At the end of the input it returns
	// io.EOF; an input that ends in the middle of a packet or block is
	// io.ErrUnexpectedEOF wrapped in a *FormatError.
	readPacket(ci *CaptureInfo) (data []byte, lt LinkType, err error)
	// LinkType is the link type of the file (of its first interface).
	LinkType() LinkType
	// Snaplen is the snapshot length of the file (of its first interface).
	Snaplen() int
}

// endian reads the integers of a savefile in its byte order.
type endian struct {
	big bool // big-endian
}

func (e endian) u16(b []byte) uint16 {
	if e.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (e endian) u32(b []byte) uint32 {
	if e.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (e endian) u64(b []byte) uint64 {
	if e.big {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}
