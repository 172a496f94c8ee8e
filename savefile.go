package pcap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Magic numbers of the pcap savefile format, as read in the file's own
// byte order.
const (
	magicMicro     = 0xa1b2c3d4 // microsecond timestamps
	magicNano      = 0xa1b23c4d // nanosecond timestamps
	magicKuznetsov = 0xa1b2cd34 // microseconds, 24-byte record headers
)

const (
	pcapFileHeaderLen     = 24
	pcapRecordHeaderLen   = 16
	pcapKuznetsovHdrLen   = 24
	pcapVersionMajor      = 2
	pcapVersionMinor      = 4
	pcapLinkTypeMask      = 0x0000ffff // the link type proper
	pcapLinkTypeReserved  = 0x03ff0000 // must be zero
	pcapFCSPresent        = 0x04000000 // the FCS length field is valid
	pcapFCSLengthShift    = 28         // FCS length, in 16-bit words, in the top 4 bits
	maxPcapSnaplenDefault = 262144     // libpcap's MAXIMUM_SNAPLEN
)

// maxSnaplenFor is the largest record libpcap accepts for a link type
// (max_snaplen_for_dlt): a few link types carry messages larger than any
// network packet.
func maxSnaplenFor(lt LinkType) int {
	switch lt {
	case 231: // D-Bus
		return 128 << 20
	case 279: // EBHSCR
		return 8 << 20
	case 249: // USBPcap
		return 1 << 20
	}
	return maxPcapSnaplenDefault
}

// Writer writes a pcap savefile: the 24-byte file header, then a 16-byte
// record header and the data of each packet. It writes in the host's byte
// order, as libpcap does, with microsecond timestamps unless
// WithNanosecondTimestamps is given. Output is buffered (WithBufferSize,
// 256 KiB by default): call Flush or Close to write out the rest.
//
// A Writer allocates nothing per packet. It is not safe for concurrent use.
type Writer struct {
	w       io.Writer
	buf     []byte
	snaplen int
	nano    bool
	err     error // the first write error, kept
	closed  bool
}

// NewWriter writes the file header of a pcap savefile to w and returns a
// Writer for its packets. snaplen is the most bytes of a packet written
// (DefaultSnaplen when snaplen <= 0); longer packets are cut. linkType is
// written as given, so its upper bits may carry the FCS length as the
// format defines; the reserved bits 16 to 25 must be zero.
//
// Of the WriterOptions, the pcap format uses WithNanosecondTimestamps and
// WithBufferSize; the others describe pcapng interfaces and are ignored.
func NewWriter(w io.Writer, linkType LinkType, snaplen int, opts ...WriterOption) (*Writer, error) {
	cfg := newWriterConfig(opts)
	if uint32(linkType)&pcapLinkTypeReserved != 0 {
		return nil, fmt.Errorf("pcap: link type 0x%08x has reserved bits set", uint32(linkType))
	}
	if snaplen <= 0 {
		snaplen = DefaultSnaplen
	}
	if snaplen > math.MaxInt32 {
		return nil, fmt.Errorf("pcap: snaplen %d is larger than a savefile can say", snaplen)
	}
	bufSize := cfg.bufferSize
	if bufSize < pcapFileHeaderLen+pcapRecordHeaderLen {
		bufSize = pcapFileHeaderLen + pcapRecordHeaderLen
	}
	wr := &Writer{w: w, buf: make([]byte, 0, bufSize), snaplen: snaplen, nano: cfg.nano}
	magic := uint32(magicMicro)
	if cfg.nano {
		magic = magicNano
	}
	b := wr.buf
	b = binary.NativeEndian.AppendUint32(b, magic)
	b = binary.NativeEndian.AppendUint16(b, pcapVersionMajor)
	b = binary.NativeEndian.AppendUint16(b, pcapVersionMinor)
	b = binary.NativeEndian.AppendUint32(b, 0) // thiszone
	b = binary.NativeEndian.AppendUint32(b, 0) // sigfigs
	b = binary.NativeEndian.AppendUint32(b, uint32(snaplen))
	b = binary.NativeEndian.AppendUint32(b, uint32(linkType))
	wr.buf = b
	if err := wr.Flush(); err != nil {
		return nil, err
	}
	return wr, nil
}

// WritePacket writes a packet: data is its captured bytes, cut to the
// snapshot length, and ci.Length its length on the wire (len(data) when
// ci.Length is smaller). ci.CaptureLength is not used. The timestamp is
// written as pcap stores it, in unsigned 32-bit seconds: one before 1970 or
// after 2106 wraps around, as with libpcap.
//
// An error writing to the underlying io.Writer is kept: it is returned by
// every later call, and nothing more is written. After Close, WritePacket
// returns ErrClosed.
func (w *Writer) WritePacket(ci CaptureInfo, data []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrClosed
	}
	caplen := len(data)
	if caplen > w.snaplen {
		caplen = w.snaplen
	}
	origlen := ci.Length
	if origlen < len(data) {
		origlen = len(data)
	}
	olen := uint32(origlen)
	if uint64(origlen) > math.MaxUint32 {
		olen = math.MaxUint32
	}
	sec, frac := splitNano(ci.Timestamp)
	if !w.nano {
		frac /= 1000
	}
	if cap(w.buf)-len(w.buf) < pcapRecordHeaderLen {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	b := w.buf
	b = binary.NativeEndian.AppendUint32(b, uint32(sec))
	b = binary.NativeEndian.AppendUint32(b, uint32(frac))
	b = binary.NativeEndian.AppendUint32(b, uint32(caplen))
	b = binary.NativeEndian.AppendUint32(b, olen)
	if caplen <= cap(b)-len(b) {
		w.buf = append(b, data[:caplen]...)
		return nil
	}
	// Larger than the space left: flush, then buffer it or write it
	// straight through.
	w.buf = b
	if err := w.Flush(); err != nil {
		return err
	}
	if caplen <= cap(w.buf) {
		w.buf = append(w.buf, data[:caplen]...)
		return nil
	}
	return w.write(data[:caplen])
}

// Dump writes a packet like WritePacket, with the signature of a Dispatch
// callback: h.Dispatch(-1, w.Dump) saves what h captures. Its first error
// is kept and returned by Err, Flush and Close; the packets after it are
// dropped.
func (w *Writer) Dump(data []byte, ci CaptureInfo) {
	if err := w.WritePacket(ci, data); err != nil && w.err == nil {
		w.err = err
	}
}

// Flush writes the buffered data to the underlying io.Writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) == 0 {
		return nil
	}
	err := w.write(w.buf)
	w.buf = w.buf[:0]
	return err
}

// write writes p to the io.Writer, keeping the first error.
func (w *Writer) write(p []byte) error {
	n, err := w.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = err
	}
	return err
}

// Err returns the first error the Writer met, or nil.
func (w *Writer) Err() error { return w.err }

// Close flushes the Writer and returns its first error. It does not close
// the underlying io.Writer. Writes after Close return ErrClosed; closing
// again returns the same as the first Close.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	err := w.Flush()
	w.closed = true
	return err
}

// Reader reads a pcap savefile, in either byte order, with microsecond or
// nanosecond timestamps (magic 0xa1b2c3d4 or 0xa1b23c4d), versions 2.0 to
// 2.4, and the modified format with magic 0xa1b2cd34, whose 24-byte record
// headers also give the interface index and packet type.
//
// It reads its input in large chunks and hands out packets from its buffer
// without copying them (ZeroCopyReadPacketData): it allocates nothing per
// packet. Its buffer grows only as data arrives, so a length field cannot
// make it allocate more than about twice the input's size.
//
// Lengths are checked: a record whose captured length is larger than
// max(the file's snaplen, 262144) is an error (262144 is libpcap's limit;
// a few link types such as D-Bus allow more), a record's captured length
// larger than its original length is accepted, as libpcap does. A record
// longer than the file's snaplen but within that limit is returned whole,
// where libpcap would cut it to the snaplen.
//
// The data of each packet is returned as the file stores it: fields that
// some link types keep in the writer's byte order (USB and NFLOG headers)
// are not swapped for a file of the other byte order.
type Reader struct {
	rd    io.Reader
	buf   []byte
	r, w  int   // unread data is buf[r:w]
	base  int64 // file offset of buf[0]
	empty int   // consecutive reads that returned nothing

	endian   // the file's byte order
	nano     bool
	hdrLen   int    // record header length
	swapLens int8   // 0: caplen then len; 1: swapped; 2: swapped when caplen > len
	ltField  uint32 // the link type field as stored
	linkType LinkType
	snaplen  int
	maxCap   int // largest captured length accepted
	version  [2]uint16
	err      error // a sticky error
}

// NewReader reads the file header of a pcap savefile from r and returns a
// Reader for its packets. A file that is not a pcap savefile, or whose
// header is malformed, is reported with a *FormatError.
func NewReader(r io.Reader) (*Reader, error) {
	return newReader(r, readerInitialBuf)
}

func newReader(r io.Reader, bufSize int) (*Reader, error) {
	pr := &Reader{rd: r, buf: make([]byte, bufSize)}
	if err := pr.fill(pcapFileHeaderLen); err != nil {
		if err == io.EOF && pr.w == 0 {
			return nil, &FormatError{Format: "pcap", Offset: 0, Msg: "empty file", Err: io.ErrUnexpectedEOF}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &FormatError{Format: "pcap", Offset: 0, Err: io.ErrUnexpectedEOF,
				Msg: fmt.Sprintf("truncated file header: %d of %d bytes", pr.w, pcapFileHeaderLen)}
		}
		return nil, err
	}
	h := pr.buf[:pcapFileHeaderLen]
	magic := binary.LittleEndian.Uint32(h)
	switch magic {
	case magicMicro, magicNano, magicKuznetsov:
	default:
		magic = binary.BigEndian.Uint32(h)
		switch magic {
		case magicMicro, magicNano, magicKuznetsov:
			pr.big = true
		default:
			return nil, &FormatError{Format: "pcap", Offset: 0,
				Msg: fmt.Sprintf("unknown magic 0x%08x", binary.BigEndian.Uint32(h))}
		}
	}
	pr.nano = magic == magicNano
	pr.hdrLen = pcapRecordHeaderLen
	if magic == magicKuznetsov {
		pr.hdrLen = pcapKuznetsovHdrLen
	}
	pr.version = [2]uint16{pr.u16(h[4:]), pr.u16(h[6:])}
	switch {
	case pr.version[0] == 2 && pr.version[1] <= pcapVersionMinor:
		// Up to 2.2 the lengths were in the other order; some 2.3 files
		// have them one way, some the other.
		switch {
		case pr.version[1] < 3:
			pr.swapLens = 1
		case pr.version[1] == 3:
			pr.swapLens = 2
		}
	case pr.version[0] == 543 && pr.version[1] == 0: // DG/UX tcpdump
		pr.swapLens = 1
	default:
		return nil, &FormatError{Format: "pcap", Offset: 4,
			Msg: fmt.Sprintf("unsupported version %d.%d", pr.version[0], pr.version[1])}
	}
	snaplen := pr.u32(h[16:])
	pr.ltField = pr.u32(h[20:])
	if pr.ltField&pcapLinkTypeReserved != 0 {
		return nil, &FormatError{Format: "pcap", Offset: 20,
			Msg: fmt.Sprintf("link type field 0x%08x has reserved bits set", pr.ltField)}
	}
	pr.linkType = LinkType(pr.ltField & pcapLinkTypeMask)
	limit := maxSnaplenFor(pr.linkType)
	if snaplen == 0 || snaplen > math.MaxInt32 {
		// A bogus snaplen: libpcap takes the link type's maximum.
		snaplen = uint32(limit)
	}
	pr.snaplen = int(snaplen)
	if magic == magicKuznetsov && pr.linkType == LinkTypeEthernet && pr.snaplen <= math.MaxInt32-14 {
		// Captured in cooked mode with a made-up Ethernet header in front.
		pr.snaplen += 14
	}
	// Bounded so that a record's length fits an int on every platform.
	pr.maxCap = min(max(pr.snaplen, limit), math.MaxInt32-pcapKuznetsovHdrLen)
	pr.r = pcapFileHeaderLen
	return pr, nil
}

// LinkType returns the file's link type, without the FCS bits.
func (r *Reader) LinkType() LinkType { return r.linkType }

// Snaplen returns the file's snapshot length. A header that says 0 or more
// than 2^31-1 gives the link type's maximum (262144 for most), as libpcap
// takes it.
func (r *Reader) Snaplen() int { return r.snaplen }

// Nanosecond reports whether the file has nanosecond timestamps.
func (r *Reader) Nanosecond() bool { return r.nano }

// FCSLength returns how many bytes of frame check sequence end each packet,
// when the file's header says (present is false when it does not).
func (r *Reader) FCSLength() (n int, present bool) {
	if r.ltField&pcapFCSPresent == 0 {
		return 0, false
	}
	return int(r.ltField>>pcapFCSLengthShift) * 2, true
}

// Version returns the file's format version, such as 2 and 4.
func (r *Reader) Version() (major, minor int) { return int(r.version[0]), int(r.version[1]) }

// ReadPacketData returns the next packet as a copy the caller owns, or
// io.EOF at the end of the file.
func (r *Reader) ReadPacketData() ([]byte, CaptureInfo, error) {
	return copyPacket(r.ZeroCopyReadPacketData())
}

// ZeroCopyReadPacketData returns the next packet without copying it: the
// data is valid until the next read from the Reader. At the end of the
// file it returns io.EOF.
func (r *Reader) ZeroCopyReadPacketData() ([]byte, CaptureInfo, error) {
	var ci CaptureInfo
	data, err := r.next(&ci)
	return data, ci, err
}

func (r *Reader) readPacket(ci *CaptureInfo) ([]byte, LinkType, error) {
	data, err := r.next(ci)
	return data, r.linkType, err
}

// next reads the next record into *ci and returns its data, a slice of the
// buffer.
func (r *Reader) next(ci *CaptureInfo) ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	hl := r.hdrLen
	if r.w-r.r < hl {
		if err := r.fill(hl); err != nil {
			return nil, r.fail(err, "record header", hl)
		}
	}
	h := r.buf[r.r : r.r+hl]
	var sec, frac, caplen, origlen uint32
	if r.big {
		sec = binary.BigEndian.Uint32(h[0:4])
		frac = binary.BigEndian.Uint32(h[4:8])
		caplen = binary.BigEndian.Uint32(h[8:12])
		origlen = binary.BigEndian.Uint32(h[12:16])
	} else {
		sec = binary.LittleEndian.Uint32(h[0:4])
		frac = binary.LittleEndian.Uint32(h[4:8])
		caplen = binary.LittleEndian.Uint32(h[8:12])
		origlen = binary.LittleEndian.Uint32(h[12:16])
	}
	if r.swapLens != 0 && (r.swapLens == 1 || caplen > origlen) {
		caplen, origlen = origlen, caplen
	}
	if uint64(caplen) > uint64(r.maxCap) {
		r.err = &FormatError{Format: "pcap", Offset: r.base + int64(r.r) + 8,
			Msg: fmt.Sprintf("caplen %d larger than the %d the file's snaplen allows", caplen, r.maxCap)}
		return nil, r.err
	}
	need := hl + int(caplen)
	if r.w-r.r < need {
		if err := r.fill(need); err != nil {
			return nil, r.fail(err, "record", need)
		}
		h = r.buf[r.r : r.r+hl]
	}
	nsec := int64(frac)
	if !r.nano {
		nsec *= 1000
	}
	*ci = CaptureInfo{
		Timestamp:     int64(sec)*1e9 + nsec,
		CaptureLength: int(caplen),
		Length:        int(origlen),
	}
	if hl == pcapKuznetsovHdrLen {
		ci.InterfaceIndex = int(int32(r.u32(h[16:20])))
		ci.SetPacketType(PacketType(h[22]))
	}
	start := r.r + hl
	r.r += need
	return r.buf[start:r.r:r.r], nil
}

// fail turns an error of fill for a record of need bytes into the error to
// return: io.EOF at a clean end, a *FormatError for a truncated record, or
// the reader's own error. All but io.EOF stick.
func (r *Reader) fail(err error, what string, need int) error {
	have := r.w - r.r
	switch {
	case err == io.EOF && have == 0:
		return io.EOF // not kept: a growing file may have more later
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		r.err = &FormatError{Format: "pcap", Offset: r.base + int64(r.r), Err: io.ErrUnexpectedEOF,
			Msg: fmt.Sprintf("truncated %s: %d of %d bytes", what, have, need)}
	default:
		r.err = err
	}
	return r.err
}

// fill reads until the buffer holds at least need unread bytes, or the
// input fails. The buffer grows only when it is full of unread data, so
// never to more than twice what the input held.
func (r *Reader) fill(need int) error {
	if r.r > 0 {
		// Move the unread bytes to the front, into a larger buffer when the
		// last read filled this one (a long input: read it in big chunks).
		dst := r.buf
		if r.w == len(r.buf) && len(r.buf) < readerChunk {
			dst = make([]byte, 2*len(r.buf))
		}
		n := copy(dst, r.buf[r.r:r.w])
		r.buf = dst
		r.base += int64(r.r)
		r.r, r.w = 0, n
	}
	for r.w < need {
		if r.w == len(r.buf) {
			nb := make([]byte, 2*len(r.buf))
			copy(nb, r.buf[:r.w])
			r.buf = nb
		}
		n, err := r.rd.Read(r.buf[r.w:])
		if n < 0 || n > len(r.buf)-r.w {
			return errors.New("pcap: invalid count from io.Reader")
		}
		r.w += n
		if r.w >= need {
			return nil
		}
		if err != nil {
			return err
		}
		if n == 0 {
			if r.empty++; r.empty >= 100 {
				r.empty = 0
				return io.ErrNoProgress
			}
		} else {
			r.empty = 0
		}
	}
	return nil
}
