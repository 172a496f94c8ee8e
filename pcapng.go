package pcap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strings"
	"time"
)

// pcapng block types, option codes and limits (draft-ietf-opsawg-pcapng).
const (
	ngBlockSHB = 0x0A0D0D0A // Section Header Block: a palindrome, the same in either byte order
	ngBlockIDB = 1          // Interface Description Block
	ngBlockOPB = 2          // Packet Block (obsolete)
	ngBlockSPB = 3          // Simple Packet Block
	ngBlockISB = 5          // Interface Statistics Block
	ngBlockEPB = 6          // Enhanced Packet Block

	ngByteOrderMagic = 0x1A2B3C4D

	ngOptEnd = 0 // opt_endofopt

	ngOptSHBHardware = 2
	ngOptSHBOS       = 3
	ngOptSHBUserAppl = 4

	ngOptIfName        = 2
	ngOptIfDescription = 3
	ngOptIfTSResol     = 9
	ngOptIfFilter      = 11
	ngOptIfOS          = 12
	ngOptIfTSOffset    = 14

	ngOptISBStartTime    = 2
	ngOptISBEndTime      = 3
	ngOptISBIfRecv       = 4
	ngOptISBIfDrop       = 5
	ngOptISBFilterAccept = 6
	ngOptISBOSDrop       = 7
	ngOptISBUsrDeliv     = 8

	// ngMaxBlock is the largest block accepted or written: libpcap's
	// limit, far above any packet a capture produces.
	ngMaxBlock = 16 << 20

	// ngDefaultTSResol is the if_tsresol an interface without the
	// option has: microseconds.
	ngDefaultTSResol = 6
)

// NgInterface describes an interface of a pcapng file: its Interface
// Description Block and, when reading, the last Interface Statistics Block
// that referred to it.
type NgInterface struct {
	Name        string // if_name, such as "eth0"
	Description string // if_description
	// Filter is the capture filter (if_filter), in libpcap's syntax. A
	// filter recorded as BPF code is not reported.
	Filter string
	OS     string // if_os
	// LinkType is the link-layer header type of the interface's packets;
	// pcapng limits it to 16 bits.
	LinkType LinkType
	// Snaplen is the most bytes captured of a packet; 0 means no limit.
	Snaplen int
	// TSResolution is the if_tsresol value: below 128, timestamps count
	// units of 10^-TSResolution seconds (6: microseconds, 9: nanoseconds);
	// 128+n, units of 2^-n seconds. A reader reports 6 for an interface
	// without the option. A writer treats 0 as its default: 6, or 9 with
	// WithNanosecondTimestamps.
	TSResolution uint8
	// TSOffset is if_tsoffset: seconds added to every timestamp of the
	// interface.
	TSOffset int64
	// Section is the index of the file's section the interface belongs
	// to (reading only).
	Section int
	// Statistics are the counters of the interface's last Interface
	// Statistics Block (reading only; the writer ignores them).
	Statistics NgStatistics
}

// NgStatistics are the counters of an Interface Statistics Block.
// NgWriter.WriteStatistics writes isb_ifrecv = PacketsReceived,
// isb_ifdrop = PacketsDropped + PacketsIfDropped (all packets lost before
// reaching the application, the figure Wireshark shows as dropped and the
// one dumpcap writes there) and isb_osdrop = PacketsDropped (the kernel's
// share of it).
type NgStatistics struct {
	// Blocks is how many Interface Statistics Blocks referred to the
	// interface; the fields below come from the last one. 0: none.
	Blocks int
	// Timestamp is when the counters were taken.
	Timestamp time.Time
	// StartTime and EndTime are isb_starttime and isb_endtime: when the
	// capture started and ended. Zero when absent.
	StartTime, EndTime time.Time
	// The counters, each -1 when absent or unknown: isb_ifrecv (packets
	// received), isb_ifdrop (dropped for lack of resources), isb_osdrop
	// (dropped by the operating system), isb_filteraccept (accepted by the
	// filter), isb_usrdeliv (delivered to the application).
	IfRecv, IfDrop, OSDrop, FilterAccept, UsrDeliv int64
}

// Stats maps the counters to Stats. PacketsReceived is isb_ifrecv. With
// isb_osdrop present, PacketsDropped is isb_osdrop and PacketsIfDropped
// the rest of isb_ifdrop (NgWriter's mapping), or isb_ifdrop itself when it
// is smaller than isb_osdrop (a writer that kept the two apart). Without
// isb_osdrop, isb_ifdrop is taken as PacketsDropped, as dumpcap means it
// (libpcap's ps_drop). Absent counters are 0.
func (s NgStatistics) Stats() Stats {
	var st Stats
	if s.IfRecv > 0 {
		st.PacketsReceived = int(s.IfRecv)
	}
	switch {
	case s.OSDrop >= 0 && s.IfDrop >= s.OSDrop:
		st.PacketsDropped = int(s.OSDrop)
		st.PacketsIfDropped = int(s.IfDrop - s.OSDrop)
	case s.OSDrop >= 0:
		st.PacketsDropped = int(s.OSDrop)
		if s.IfDrop > 0 {
			st.PacketsIfDropped = int(s.IfDrop)
		}
	case s.IfDrop > 0:
		st.PacketsDropped = int(s.IfDrop)
	}
	return st
}

// ngClock converts between timestamps in an interface's units and time.
type ngClock struct {
	pow2   bool
	shift  uint   // 2^-shift seconds per tick (pow2)
	unit   uint64 // ticks per second (power of ten)
	mul    uint64 // ns = (ticks % unit) * mul / div (power of ten)
	div    uint64
	offset int64 // if_tsoffset
}

// newNgClock returns the clock of an if_tsresol value, or false when the
// resolution does not fit 64-bit timestamps.
func newNgClock(resol uint8, offset int64) (ngClock, bool) {
	c := ngClock{offset: offset, mul: 1, div: 1}
	if resol&0x80 != 0 {
		c.pow2, c.shift = true, uint(resol&0x7f)
		return c, c.shift <= 63
	}
	if resol > 19 { // 10^20 does not fit in 64 bits
		return c, false
	}
	c.unit = pow10(int(resol))
	if resol <= 9 {
		c.mul = pow10(9 - int(resol))
	} else {
		c.div = pow10(int(resol) - 9)
	}
	return c, true
}

func pow10(n int) uint64 {
	v := uint64(1)
	for ; n > 0; n-- {
		v *= 10
	}
	return v
}

// time converts a timestamp read from the file.
func (c *ngClock) time(ticks uint64) time.Time {
	sec, ns := c.split(ticks)
	return time.Unix(int64(sec)+c.offset, int64(ns))
}

// nanos converts a timestamp in the interface's units to nanoseconds since
// the epoch, clamped to the int64 range.
func (c *ngClock) nanos(ticks uint64) int64 {
	sec, ns := c.split(ticks)
	// sec + offset, exactly: beyond the int64 range it is far past either
	// end of what int64 nanoseconds hold.
	var s int64
	if c.offset >= 0 {
		sum, carry := bits.Add64(sec, uint64(c.offset), 0)
		if carry != 0 || sum > math.MaxInt64 {
			return math.MaxInt64
		}
		s = int64(sum)
	} else {
		m := uint64(^c.offset) + 1 // -offset, 2^63 for math.MinInt64
		switch {
		case sec >= m && sec-m > math.MaxInt64:
			return math.MaxInt64
		case sec >= m:
			s = int64(sec - m)
		case m-sec > 1<<62:
			return math.MinInt64
		default:
			s = -int64(m - sec)
		}
	}
	return secNano(s, int64(ns))
}

// split converts a timestamp in the interface's units to seconds and
// nanoseconds after the interface's offset.
func (c *ngClock) split(ticks uint64) (sec, ns uint64) {
	switch {
	case c.pow2:
		sec = ticks >> c.shift
		hi, lo := bits.Mul64(ticks&(1<<c.shift-1), 1e9)
		ns = hi<<(64-c.shift) | lo>>c.shift
	case c.unit == 1e6:
		sec, ns = ticks/1e6, ticks%1e6*1e3
	case c.unit == 1e9:
		sec, ns = ticks/1e9, ticks%1e9
	default:
		sec, ns = ticks/c.unit, ticks%c.unit*c.mul/c.div
	}
	return sec, ns
}

// ticks converts a time to the interface's units; times before the epoch
// (after the offset) are written as 0. The writer allows only resolutions
// of at most nanoseconds, so div is 1 here and mul is the number of
// nanoseconds per tick.
func (c *ngClock) ticks(t time.Time) uint64 {
	return c.ticksNano(t.Unix(), int64(t.Nanosecond()))
}

// ticksNano is ticks for a time of sec seconds and ns nanoseconds (0 to
// 1e9-1) after the epoch.
func (c *ngClock) ticksNano(sec, nsec int64) uint64 {
	sec -= c.offset
	if sec < 0 {
		return 0
	}
	ns := uint64(nsec)
	switch {
	case c.pow2:
		return uint64(sec)<<c.shift + ns<<c.shift/1e9
	case c.unit == 1e6:
		return uint64(sec)*1e6 + ns/1e3
	case c.unit == 1e9:
		return uint64(sec)*1e9 + ns
	}
	return uint64(sec)*c.unit + ns/c.mul
}

// ---------------------------------------------------------------------------
// Writing

// NgWriter writes a pcapng file: one section, in the host's byte order,
// with Enhanced Packet Blocks. Output is buffered: call Flush or Close.
//
// libpcap (tcpdump) reads a pcapng file only when all its interfaces have
// the same link type and snapshot length; Wireshark has no such limit.
type NgWriter struct {
	w      io.Writer
	buf    []byte // pending output; its capacity is the buffer size
	ifaces []ngWriterIface
	nano   bool
	err    error // first write error, returned from then on
	closed bool
}

type ngWriterIface struct {
	snaplen     uint32 // 0: no limit
	clock       ngClock
	packets     uint64
	first, last uint64 // timestamps of the first and last packet
}

// NewNgWriter writes the Section Header Block of a pcapng file and the
// Interface Description Block of interface 0, with the given link type and
// snapshot length (0 or less: no limit). The options WithHardware, WithOS
// and WithApplication describe the section; WithInterfaceName,
// WithInterfaceDescription and WithInterfaceFilter interface 0;
// WithNanosecondTimestamps gives interfaces nanosecond timestamps. Nothing
// reaches w before the buffer fills or Flush is called.
func NewNgWriter(w io.Writer, linkType LinkType, snaplen int, opts ...WriterOption) (*NgWriter, error) {
	c := newWriterConfig(opts)
	// The buffer holds at least a packet block's header and trailer.
	nw := &NgWriter{w: w, buf: make([]byte, 0, max(c.bufferSize, 256)), nano: c.nano}

	var o []byte
	var err error
	for _, s := range []struct {
		code uint16
		v    string
	}{{ngOptSHBHardware, c.hardware}, {ngOptSHBOS, c.os}, {ngOptSHBUserAppl, c.application}} {
		if o, err = appendNgStringOpt(o, s.code, s.v); err != nil {
			return nil, err
		}
	}
	shb := make([]byte, 0, 32+len(o))
	shb = ngAppendU32(shb, ngBlockSHB)
	shb = ngAppendU32(shb, 0) // length, set below
	shb = ngAppendU32(shb, ngByteOrderMagic)
	shb = ngAppendU16(shb, 1) // version 1.0
	shb = ngAppendU16(shb, 0)
	shb = ngAppendU32(shb, math.MaxUint32) // section length -1: not given
	shb = ngAppendU32(shb, math.MaxUint32)
	shb = ngEndBlock(shb, o)
	nw.put(shb)

	if _, err := nw.AddInterface(NgInterface{
		Name:        c.ifName,
		Description: c.ifDesc,
		Filter:      c.ifFilter,
		OS:          c.ifOS,
		LinkType:    linkType,
		Snaplen:     snaplen,
	}); err != nil {
		return nil, err
	}
	return nw, nil
}

// AddInterface writes an Interface Description Block and returns the new
// interface's id, for WritePacketInterface and WriteStatistics. It uses
// Name, Description, Filter, OS, LinkType, Snaplen (0 or less: no limit),
// TSResolution (0: the writer's default; otherwise a power of ten up to
// 9, or 128+n for a power of two with n up to 30) and TSOffset.
func (w *NgWriter) AddInterface(ifc NgInterface) (int, error) {
	if w.closed {
		return 0, ErrClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	if ifc.LinkType > 0xffff {
		return 0, fmt.Errorf("pcap: link type %d does not fit a pcapng interface's 16 bits", uint32(ifc.LinkType))
	}
	snaplen := uint32(0)
	if ifc.Snaplen > 0 {
		snaplen = uint32(min(uint64(ifc.Snaplen), math.MaxUint32))
	}
	resol := ifc.TSResolution
	if resol == 0 {
		resol = ngDefaultTSResol
		if w.nano {
			resol = 9
		}
	}
	if (resol&0x80 == 0 && resol > 9) || (resol&0x80 != 0 && resol&0x7f > 30) {
		return 0, fmt.Errorf("pcap: timestamp resolution %#x not supported for writing (10^-0..10^-9 or 2^-0..2^-30 seconds)", resol)
	}
	clock, _ := newNgClock(resol, ifc.TSOffset)

	var o []byte
	var err error
	for _, s := range []struct {
		code uint16
		v    string
	}{{ngOptIfName, ifc.Name}, {ngOptIfDescription, ifc.Description}} {
		if o, err = appendNgStringOpt(o, s.code, s.v); err != nil {
			return 0, err
		}
	}
	if resol != ngDefaultTSResol {
		o = appendNgOpt(o, ngOptIfTSResol, []byte{resol})
	}
	if ifc.Filter != "" {
		if len(ifc.Filter) > 0xfffe {
			return 0, errors.New("pcap: filter too long for a pcapng option")
		}
		o = appendNgOpt(o, ngOptIfFilter, append([]byte{0}, ifc.Filter...)) // 0: libpcap filter string
	}
	if o, err = appendNgStringOpt(o, ngOptIfOS, ifc.OS); err != nil {
		return 0, err
	}
	if ifc.TSOffset != 0 {
		o = appendNgOpt(o, ngOptIfTSOffset, ngAppendU64(nil, uint64(ifc.TSOffset)))
	}

	idb := make([]byte, 0, 24+len(o))
	idb = ngAppendU32(idb, ngBlockIDB)
	idb = ngAppendU32(idb, 0)
	idb = ngAppendU16(idb, uint16(ifc.LinkType))
	idb = ngAppendU16(idb, 0) // reserved
	idb = ngAppendU32(idb, snaplen)
	idb = ngEndBlock(idb, o)
	w.put(idb)
	if w.err != nil {
		return 0, w.err
	}
	w.ifaces = append(w.ifaces, ngWriterIface{snaplen: snaplen, clock: clock})
	return len(w.ifaces) - 1, nil
}

// WritePacket writes a packet of interface 0 as an Enhanced Packet Block.
// Its captured length is len(data), clipped to the snapshot length; its
// original length is ci.Length, or len(data) when ci.Length is smaller.
func (w *NgWriter) WritePacket(ci CaptureInfo, data []byte) error {
	return w.WritePacketInterface(0, ci, data)
}

// iface returns interface id, or nil when nothing can be written for it
// (ifaceErr says why). It is small enough to be inlined on the per-packet
// path.
func (w *NgWriter) iface(id int) *ngWriterIface {
	if w.closed || w.err != nil || uint(id) >= uint(len(w.ifaces)) {
		return nil
	}
	return &w.ifaces[id]
}

// ifaceErr says why iface returned nil: the writer is closed, has failed,
// or has no interface id.
func (w *NgWriter) ifaceErr(id int) error {
	switch {
	case w.closed:
		return ErrClosed
	case w.err != nil:
		return w.err
	}
	return fmt.Errorf("pcap: no pcapng interface %d (the file has %d)", id, len(w.ifaces))
}

// WritePacketInterface writes a packet of interface id (see AddInterface).
// An error writing to the underlying io.Writer is kept and returned by
// every later call.
func (w *NgWriter) WritePacketInterface(id int, ci CaptureInfo, data []byte) error {
	ifc := w.iface(id)
	if ifc == nil {
		return w.ifaceErr(id)
	}
	caplen := len(data)
	origlen := ci.Length
	if origlen < caplen {
		origlen = caplen
	}
	if ifc.snaplen != 0 && caplen > int(ifc.snaplen) {
		caplen = int(ifc.snaplen)
	}
	pad := -caplen & 3
	total := 32 + caplen + pad
	if total > ngMaxBlock {
		return fmt.Errorf("pcap: packet of %d bytes too large for a pcapng block (at most %d)", caplen, ngMaxBlock)
	}
	wire := uint32(math.MaxUint32)
	if uint64(origlen) < math.MaxUint32 {
		wire = uint32(origlen)
	}
	sec, nsec := splitNano(ci.Timestamp)
	ts := ifc.clock.ticksNano(sec, nsec)
	if ifc.packets == 0 {
		ifc.first = ts
	}
	ifc.last = ts
	ifc.packets++

	if len(w.buf)+total > cap(w.buf) {
		if w.flush() != nil {
			return w.err
		}
	}
	b := w.buf
	b = ngAppendU32(b, ngBlockEPB)
	b = ngAppendU32(b, uint32(total))
	b = ngAppendU32(b, uint32(id))
	b = ngAppendU32(b, uint32(ts>>32))
	b = ngAppendU32(b, uint32(ts))
	b = ngAppendU32(b, uint32(caplen))
	b = ngAppendU32(b, wire)
	if total > cap(b)-len(b)+28 {
		// Larger than the buffer: the data goes straight out.
		w.buf = b
		if w.flush() != nil {
			return w.err
		}
		if _, err := w.w.Write(data[:caplen]); err != nil {
			w.err = err
			return err
		}
		b = w.buf
	} else {
		b = append(b, data[:caplen]...)
	}
	b = append(b, ngZero[:pad]...)
	w.buf = ngAppendU32(b, uint32(total))
	return nil
}

var ngZero [4]byte

// Dump writes a packet of interface 0 like WritePacket, with the signature
// of a Dispatch callback: h.Dispatch(-1, w.Dump). Its first error is kept
// and returned by Flush, Close and Err; packets after it are dropped.
func (w *NgWriter) Dump(data []byte, ci CaptureInfo) {
	if w.err != nil {
		return
	}
	if err := w.WritePacketInterface(0, ci, data); err != nil {
		w.err = err
	}
}

// WriteStatistics writes an Interface Statistics Block for interface id:
// isb_ifrecv = st.PacketsReceived, isb_ifdrop = st.PacketsDropped +
// st.PacketsIfDropped, isb_osdrop = st.PacketsDropped, and, when packets
// of the interface were written, the timestamps of the first and last of
// them as isb_starttime and isb_endtime. The block's own timestamp is the
// current time. Negative counters are left out.
func (w *NgWriter) WriteStatistics(id int, st Stats) error {
	ifc := w.iface(id)
	if ifc == nil {
		return w.ifaceErr(id)
	}
	var o []byte
	if ifc.packets > 0 {
		o = appendNgOpt(o, ngOptISBStartTime, ngAppendTS(nil, ifc.first))
		o = appendNgOpt(o, ngOptISBEndTime, ngAppendTS(nil, ifc.last))
	}
	if st.PacketsReceived >= 0 {
		o = appendNgOpt(o, ngOptISBIfRecv, ngAppendU64(nil, uint64(st.PacketsReceived)))
	}
	if st.PacketsDropped >= 0 && st.PacketsIfDropped >= 0 {
		o = appendNgOpt(o, ngOptISBIfDrop, ngAppendU64(nil, uint64(st.PacketsDropped)+uint64(st.PacketsIfDropped)))
	}
	if st.PacketsDropped >= 0 {
		o = appendNgOpt(o, ngOptISBOSDrop, ngAppendU64(nil, uint64(st.PacketsDropped)))
	}
	isb := make([]byte, 0, 28+len(o))
	isb = ngAppendU32(isb, ngBlockISB)
	isb = ngAppendU32(isb, 0)
	isb = ngAppendU32(isb, uint32(id))
	isb = ngAppendTS(isb, ifc.clock.ticks(time.Now()))
	isb = ngEndBlock(isb, o)
	w.put(isb)
	return w.err
}

// Flush writes the buffered output to the underlying io.Writer.
func (w *NgWriter) Flush() error {
	if w.err != nil {
		return w.err
	}
	return w.flush()
}

// Close flushes the output. It does not close the underlying io.Writer.
// Writing after Close returns ErrClosed.
func (w *NgWriter) Close() error {
	if w.closed {
		return w.err
	}
	err := w.Flush()
	w.closed = true
	return err
}

// Err returns the first error writing to the underlying io.Writer, or the
// first error of Dump.
func (w *NgWriter) Err() error { return w.err }

func (w *NgWriter) flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.w.Write(w.buf)
	if err == nil && n < len(w.buf) {
		err = io.ErrShortWrite
	}
	w.buf = w.buf[:0]
	if err != nil {
		w.err = err
	}
	return err
}

// put appends a whole block to the buffer, flushing first when it does not
// fit, and writing it directly when it is larger than the buffer.
func (w *NgWriter) put(b []byte) {
	if w.err != nil {
		return
	}
	if len(w.buf)+len(b) > cap(w.buf) && w.flush() != nil {
		return
	}
	if len(b) > cap(w.buf) {
		if _, err := w.w.Write(b); err != nil {
			w.err = err
		}
		return
	}
	w.buf = append(w.buf, b...)
}

func ngAppendU16(b []byte, v uint16) []byte { return binary.NativeEndian.AppendUint16(b, v) }
func ngAppendU32(b []byte, v uint32) []byte { return binary.NativeEndian.AppendUint32(b, v) }
func ngAppendU64(b []byte, v uint64) []byte { return binary.NativeEndian.AppendUint64(b, v) }

// ngAppendTS appends a timestamp as pcapng stores it: the high 32 bits,
// then the low 32 bits.
func ngAppendTS(b []byte, ts uint64) []byte {
	return ngAppendU32(ngAppendU32(b, uint32(ts>>32)), uint32(ts))
}

// appendNgOpt appends an option, padded to 32 bits.
func appendNgOpt(b []byte, code uint16, v []byte) []byte {
	b = ngAppendU16(b, code)
	b = ngAppendU16(b, uint16(len(v)))
	b = append(b, v...)
	return append(b, ngZero[:-len(v)&3]...)
}

// appendNgStringOpt appends a string option unless s is empty.
func appendNgStringOpt(b []byte, code uint16, s string) ([]byte, error) {
	if s == "" {
		return b, nil
	}
	if len(s) > 0xffff {
		return b, fmt.Errorf("pcap: string of %d bytes too long for a pcapng option", len(s))
	}
	return appendNgOpt(b, code, []byte(s)), nil
}

// ngEndBlock completes a block whose fixed part is in b: it appends the
// options o (with opt_endofopt when there are any) and the trailing length,
// and sets the length in the header.
func ngEndBlock(b, o []byte) []byte {
	if len(o) > 0 {
		b = append(b, o...)
		b = ngAppendU32(b, ngOptEnd)
	}
	b = ngAppendU32(b, 0)
	binary.NativeEndian.PutUint32(b[4:], uint32(len(b)))
	binary.NativeEndian.PutUint32(b[len(b)-4:], uint32(len(b)))
	return b
}

// ---------------------------------------------------------------------------
// Reading

// NgReader reads a pcapng file: any number of sections, each in either
// byte order, with Enhanced, Simple and (obsolete) Packet Blocks. Blocks it
// does not use (name resolution, custom, decryption secrets, unknown types)
// are skipped.
//
// Packet data is read into a buffer that grows only as the input delivers
// bytes, up to the 16 MiB a block may hold; ZeroCopyReadPacketData hands out
// slices of it.
//
// Each section has its own interfaces; a packet's CaptureInfo.InterfaceIndex
// is its interface's index in Interfaces, which lists those of all
// sections. A Simple Packet Block belongs to the section's first interface
// and has no timestamp: its CaptureInfo.Timestamp is 0.
//
// Unlike libpcap, the reader accepts interfaces of different link types
// and snapshot lengths (readPacket reports each packet's link type), and a
// captured length above the interface's snapshot length as long as the
// block holds the data.
type NgReader struct {
	r     io.Reader
	buf   []byte
	start int   // buf[start:end] is read but not consumed
	end   int   //
	base  int64 // file offset of buf[0]
	total int64 // bytes read from r
	rerr  error // error of the last read from r
	err   error // sticky format error

	endian // the current section's byte order
	ifaces []NgInterface
	clocks []ngClock // per interface, as ifaces
	first  int       // index in ifaces of the current section's interface 0

	sections []NgSection
}

// NgSection describes a section of a pcapng file: its Section Header
// Block.
type NgSection struct {
	Hardware    string // shb_hardware
	OS          string // shb_os
	Application string // shb_userappl: the program that wrote the section
	BigEndian   bool   // the section's byte order
}

// NewNgReader reads the Section Header Block at the start of a pcapng file
// and the blocks up to its first Interface Description Block, so LinkType
// and Snaplen describe interface 0. A file without interfaces is read as
// one without packets.
func NewNgReader(r io.Reader) (*NgReader, error) {
	nr := &NgReader{r: r, buf: make([]byte, 0, readerInitialBuf)}
	nr.buf = nr.buf[:cap(nr.buf)]
	if err := nr.fill(4); err != nil {
		if err == io.EOF {
			return nil, nr.truncated(0, "the file is too short for a pcapng section header block")
		}
		return nil, err
	}
	if t := binary.LittleEndian.Uint32(nr.buf); t != ngBlockSHB {
		return nil, &FormatError{Format: "pcapng", Offset: 0, Msg: fmt.Sprintf("unknown magic 0x%08x", t)}
	}
	for len(nr.ifaces) == 0 {
		typ, b, err := nr.block()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if typ == ngBlockEPB || typ == ngBlockSPB || typ == ngBlockOPB {
			break // left for the first read: it will fail
		}
		off := nr.offset()
		nr.start += len(b)
		if err := nr.control(typ, b, off); err != nil {
			return nil, err
		}
	}
	return nr, nil
}

// LinkType returns the link type of the file's first interface (0 when
// it has none).
func (r *NgReader) LinkType() LinkType {
	if len(r.ifaces) == 0 {
		return 0
	}
	return r.ifaces[0].LinkType
}

// Snaplen returns the snapshot length of the file's first interface; an
// interface without a limit reports DefaultSnaplen, as libpcap does.
func (r *NgReader) Snaplen() int {
	if len(r.ifaces) == 0 || r.ifaces[0].Snaplen <= 0 {
		return DefaultSnaplen
	}
	return r.ifaces[0].Snaplen
}

// Interfaces returns the interfaces read so far, across all sections.
// The CaptureInfo.InterfaceIndex of a packet is its interface's index in
// this list.
func (r *NgReader) Interfaces() []NgInterface {
	return append([]NgInterface(nil), r.ifaces...)
}

// Sections returns the sections read so far; NgInterface.Section indexes
// this list.
func (r *NgReader) Sections() []NgSection {
	return append([]NgSection(nil), r.sections...)
}

// ReadPacketData returns the next packet in a new slice.
func (r *NgReader) ReadPacketData() ([]byte, CaptureInfo, error) {
	return copyPacket(r.ZeroCopyReadPacketData())
}

// ZeroCopyReadPacketData returns the next packet. The data points into the
// reader's buffer and is valid until the next read.
//
// At the end of the input the error is io.EOF; a malformed or truncated
// file gives a *FormatError (for a truncated one, errors.Is(err,
// io.ErrUnexpectedEOF) holds). Errors are final: every later read
// returns the same one.
func (r *NgReader) ZeroCopyReadPacketData() ([]byte, CaptureInfo, error) {
	var ci CaptureInfo
	data, _, err := r.readPacket(&ci)
	return data, ci, err
}

func (r *NgReader) readPacket(ci *CaptureInfo) ([]byte, LinkType, error) {
	if r.err != nil {
		return nil, 0, r.err
	}
	for {
		typ, b, err := r.block()
		if err != nil {
			r.err = err
			return nil, 0, err
		}
		off := r.offset()
		r.start += len(b) // b stays valid until the next fill
		var id, caplen, origlen uint32
		var ts uint64
		var data []byte
		switch typ {
		case ngBlockEPB, ngBlockOPB:
			if len(b) < 32 {
				return r.fail(off+4, "packet block length %d is shorter than 32", len(b))
			}
			if typ == ngBlockEPB {
				id = r.u32(b[8:])
			} else {
				id = uint32(r.u16(b[8:]))
			}
			ts = uint64(r.u32(b[12:]))<<32 | uint64(r.u32(b[16:]))
			caplen, origlen = r.u32(b[20:]), r.u32(b[24:])
			if room := len(b) - 32; uint64(caplen) > uint64(room) {
				return r.fail(off+20, "caplen %d larger than the %d bytes the block holds", caplen, room)
			}
			data = b[28 : 28+caplen : 28+caplen]
		case ngBlockSPB:
			if len(b) < 16 {
				return r.fail(off+4, "simple packet block length %d is shorter than 16", len(b))
			}
			origlen = r.u32(b[8:])
		default:
			if err := r.control(typ, b, off); err != nil {
				r.err = err
				return nil, 0, err
			}
			continue
		}
		if n := uint32(len(r.ifaces) - r.first); id >= n {
			if typ == ngBlockSPB {
				return r.fail(off, "simple packet block in a section without interfaces")
			}
			return r.fail(off+8, "packet refers to interface %d but the section has %d", id, n)
		}
		g := r.first + int(id)
		ifc := &r.ifaces[g]
		if typ == ngBlockSPB {
			caplen = origlen
			if sn := ifc.Snaplen; sn > 0 && uint64(caplen) > uint64(sn) {
				caplen = uint32(sn)
			}
			if room := len(b) - 16; uint64(caplen) > uint64(room) {
				return r.fail(off+8, "simple packet block original length %d needs %d bytes but the block holds %d", origlen, caplen, room)
			}
			data = b[12 : 12+caplen : 12+caplen]
			ci.Timestamp = 0
		} else {
			ci.Timestamp = r.clocks[g].nanos(ts)
		}
		// Field by field: cheaper than assigning a whole CaptureInfo.
		ci.CaptureLength = int(caplen)
		ci.Length = int(origlen)
		ci.InterfaceIndex = g
		ci.vlan, ci.meta = 0, 0
		return data, ifc.LinkType, nil
	}
}

// fail records and returns a format error of the current block.
func (r *NgReader) fail(off int64, format string, args ...any) ([]byte, LinkType, error) {
	r.err = &FormatError{Format: "pcapng", Offset: off, Msg: fmt.Sprintf(format, args...)}
	return nil, 0, r.err
}

func ngError(off int64, format string, args ...any) error {
	return &FormatError{Format: "pcapng", Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// truncated reports an input that ends inside a block.
func (r *NgReader) truncated(off int64, msg string) error {
	return &FormatError{Format: "pcapng", Offset: off, Msg: "truncated: " + msg, Err: io.ErrUnexpectedEOF}
}

// offset returns the file offset of the next unconsumed byte.
func (r *NgReader) offset() int64 { return r.base + int64(r.start) }

// block makes the next block available whole and returns its type and
// bytes (header to trailer) without consuming it. At a clean end of the
// input it returns io.EOF.
func (r *NgReader) block() (uint32, []byte, error) {
	off := r.offset()
	if r.end-r.start < 12 {
		if err := r.fill(12); err != nil && (err != io.EOF || r.end-r.start < 8) {
			if err != io.EOF {
				return 0, nil, err
			}
			if r.end == r.start {
				return 0, nil, io.EOF
			}
			return 0, nil, r.truncated(off, fmt.Sprintf("%d bytes at the end of the file are too few for a block header", r.end-r.start))
		}
	}
	h := r.buf[r.start:r.end]
	typ := r.u32(h)
	if typ == ngBlockSHB {
		if len(h) < 12 {
			return 0, nil, r.truncated(off, "section header block cut short")
		}
		switch m := binary.LittleEndian.Uint32(h[8:]); m {
		case ngByteOrderMagic:
			r.big = false
		case bits.ReverseBytes32(ngByteOrderMagic):
			r.big = true
		default:
			return 0, nil, ngError(off+8, "unknown byte-order magic 0x%08x", m)
		}
	}
	n := r.u32(h[4:])
	switch {
	case n < 12:
		return 0, nil, ngError(off+4, "block length %d is shorter than 12", n)
	case n%4 != 0:
		return 0, nil, ngError(off+4, "block length %d is not a multiple of 4", n)
	case n > ngMaxBlock:
		return 0, nil, ngError(off+4, "block length %d exceeds the maximum of %d", n, ngMaxBlock)
	case typ == ngBlockSHB && n < 28:
		return 0, nil, ngError(off+4, "section header block length %d is shorter than 28", n)
	}
	if err := r.fill(int(n)); err != nil {
		if err != io.EOF {
			return 0, nil, err
		}
		return 0, nil, r.truncated(off+4, fmt.Sprintf("block length %d runs past the end of the file (%d bytes left)", n, r.end-r.start))
	}
	b := r.buf[r.start : r.start+int(n)]
	if t := r.u32(b[n-4:]); t != n {
		return 0, nil, ngError(off+int64(n)-4, "block length %d at the end differs from %d at the start", t, n)
	}
	return typ, b, nil
}

// fill makes at least n unconsumed bytes available, reading as needed. It
// returns io.EOF, or the input's error, when the input ends first.
func (r *NgReader) fill(n int) error {
	if r.end-r.start >= n {
		return nil
	}
	if r.rerr != nil {
		return r.rerr
	}
	// Move what is left to the front, growing the buffer towards
	// readerChunk while the input keeps delivering.
	if len(r.buf) < readerChunk && r.total >= int64(len(r.buf)) {
		r.grow()
	} else if r.start > 0 {
		copy(r.buf, r.buf[r.start:r.end])
	}
	r.end -= r.start
	r.base += int64(r.start)
	r.start = 0
	empty := 0
	for r.end < n {
		if r.end == len(r.buf) {
			// Full of unconsumed bytes: a large block. Doubling keeps
			// the buffer within twice what the input delivered.
			r.grow()
		}
		m, err := r.r.Read(r.buf[r.end:])
		if m < 0 || m > len(r.buf)-r.end {
			return errors.New("pcap: reader returned an invalid count")
		}
		r.end += m
		r.total += int64(m)
		if err != nil {
			r.rerr = err
			if r.end >= n {
				return nil
			}
			return err
		}
		if m == 0 {
			if empty++; empty >= 100 {
				return io.ErrNoProgress
			}
		}
	}
	return nil
}

// grow doubles the buffer, moving the unconsumed bytes to its front.
func (r *NgReader) grow() {
	nb := make([]byte, 2*len(r.buf))
	copy(nb, r.buf[r.start:r.end])
	r.buf = nb
	r.end -= r.start
	r.base += int64(r.start)
	r.start = 0
}

// control handles a block that holds no packet: a section or interface
// description, statistics, or something to skip. off is the block's file
// offset.
func (r *NgReader) control(typ uint32, b []byte, off int64) error {
	switch typ {
	case ngBlockSHB:
		major, minor := r.u16(b[12:]), r.u16(b[14:])
		if major != 1 || (minor != 0 && minor != 2) {
			return ngError(off+12, "unsupported pcapng version %d.%d", major, minor)
		}
		sec := NgSection{BigEndian: r.big}
		err := r.options(b[24:len(b)-4], off+24, func(code uint16, v []byte, _ int64) error {
			switch code {
			case ngOptSHBHardware:
				sec.Hardware = ngString(v)
			case ngOptSHBOS:
				sec.OS = ngString(v)
			case ngOptSHBUserAppl:
				sec.Application = ngString(v)
			}
			return nil
		})
		if err != nil {
			return err
		}
		r.sections = append(r.sections, sec)
		r.first = len(r.ifaces)
	case ngBlockIDB:
		if len(b) < 20 {
			return ngError(off+4, "interface description block length %d is shorter than 20", len(b))
		}
		ifc := NgInterface{
			LinkType:     LinkType(r.u16(b[8:])),
			Snaplen:      int(r.u32(b[12:])),
			TSResolution: ngDefaultTSResol,
			Section:      len(r.sections) - 1,
		}
		err := r.options(b[16:len(b)-4], off+16, func(code uint16, v []byte, o int64) error {
			switch code {
			case ngOptIfName:
				ifc.Name = ngString(v)
			case ngOptIfDescription:
				ifc.Description = ngString(v)
			case ngOptIfOS:
				ifc.OS = ngString(v)
			case ngOptIfFilter:
				if len(v) > 0 && v[0] == 0 {
					ifc.Filter = ngString(v[1:])
				}
			case ngOptIfTSResol:
				if len(v) != 1 {
					return ngError(o, "if_tsresol option length %d is not 1", len(v))
				}
				ifc.TSResolution = v[0]
			case ngOptIfTSOffset:
				if len(v) != 8 {
					return ngError(o, "if_tsoffset option length %d is not 8", len(v))
				}
				ifc.TSOffset = int64(r.u64(v))
			}
			return nil
		})
		if err != nil {
			return err
		}
		clock, ok := newNgClock(ifc.TSResolution, ifc.TSOffset)
		if !ok {
			return ngError(off+16, "if_tsresol %#x is too fine for 64-bit timestamps", ifc.TSResolution)
		}
		r.ifaces = append(r.ifaces, ifc)
		r.clocks = append(r.clocks, clock)
	case ngBlockISB:
		if len(b) < 24 {
			return ngError(off+4, "interface statistics block length %d is shorter than 24", len(b))
		}
		id := r.u32(b[8:])
		if uint64(id) >= uint64(len(r.ifaces)-r.first) {
			return nil // statistics of no known interface: ignored
		}
		g := r.first + int(id)
		clock := &r.clocks[g]
		st := NgStatistics{
			Blocks:    r.ifaces[g].Statistics.Blocks + 1,
			Timestamp: clock.time(uint64(r.u32(b[12:]))<<32 | uint64(r.u32(b[16:]))),
			IfRecv:    -1, IfDrop: -1, OSDrop: -1, FilterAccept: -1, UsrDeliv: -1,
		}
		err := r.options(b[20:len(b)-4], off+20, func(code uint16, v []byte, o int64) error {
			if code < ngOptISBStartTime || code > ngOptISBUsrDeliv || len(v) != 8 {
				return nil
			}
			x := r.u64(v)
			if code == ngOptISBStartTime || code == ngOptISBEndTime {
				t := clock.time(uint64(r.u32(v))<<32 | uint64(r.u32(v[4:])))
				if code == ngOptISBStartTime {
					st.StartTime = t
				} else {
					st.EndTime = t
				}
				return nil
			}
			c := int64(-1)
			if x <= math.MaxInt64 {
				c = int64(x)
			}
			switch code {
			case ngOptISBIfRecv:
				st.IfRecv = c
			case ngOptISBIfDrop:
				st.IfDrop = c
			case ngOptISBOSDrop:
				st.OSDrop = c
			case ngOptISBFilterAccept:
				st.FilterAccept = c
			case ngOptISBUsrDeliv:
				st.UsrDeliv = c
			}
			return nil
		})
		if err != nil {
			return err
		}
		r.ifaces[g].Statistics = st
	}
	return nil
}

// options walks the options o of a block, which start at file offset off,
// calling fn (when not nil) for each until opt_endofopt or the end.
func (r *NgReader) options(o []byte, off int64, fn func(code uint16, v []byte, off int64) error) error {
	for len(o) >= 4 {
		code, n := r.u16(o), int(r.u16(o[2:]))
		if code == ngOptEnd {
			return nil
		}
		if 4+n > len(o) {
			return ngError(off, "option %d of length %d runs past the end of its block", code, n)
		}
		if fn != nil {
			if err := fn(code, o[4:4+n], off); err != nil {
				return err
			}
		}
		adv := min(4+n+(-n&3), len(o)) // the last option may lack its padding
		o = o[adv:]
		off += int64(adv)
	}
	return nil
}

// ngString converts a string option, dropping the NUL terminators some
// writers add.
func ngString(v []byte) string {
	return strings.TrimRight(string(v), "\x00")
}
