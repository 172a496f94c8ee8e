package pcap

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// DumpFormat is the file format a FileDumper writes.
type DumpFormat int

const (
	// DumpPcap writes classic pcap files (Writer), as tcpdump -w does.
	DumpPcap DumpFormat = iota
	// DumpPcapNG writes pcapng files (NgWriter), as dumpcap and tshark do.
	DumpPcapNG
)

func (f DumpFormat) String() string {
	switch f {
	case DumpPcap:
		return "pcap"
	case DumpPcapNG:
		return "pcapng"
	}
	return "DumpFormat(" + strconv.Itoa(int(f)) + ")"
}

// DumperOptions configure a FileDumper. The zero value writes everything to
// a single pcap file, as tcpdump -w does.
type DumperOptions struct {
	// Format selects pcap (the default) or pcapng files.
	Format DumpFormat

	// MaxBytes, when > 0, starts a new file before a packet that would
	// make the current one larger than MaxBytes bytes (tcpdump -C, which
	// counts in units of 1,000,000 bytes), the statistics block written at
	// its end included. Unlike tcpdump's files, which pass the limit by up
	// to one packet, a file never exceeds MaxBytes unless its first packet
	// alone does.
	MaxBytes int64

	// Interval, when > 0, starts a new file once a packet's timestamp is
	// Interval or more past the start of the current file (tcpdump -G); a
	// packet with no timestamp (0) counts as dumped now.
	// The file name is then a time template: see NewFileDumper.
	Interval time.Duration

	// MaxFiles, when > 0, keeps at most this many files (tcpdump -W).
	// Numbered files (MaxBytes, or Interval with a name that has no time
	// verb) form a ring: path0, path1, ... path<MaxFiles-1>, then path0
	// again, overwritten, with the number zero-padded to the width of
	// MaxFiles as tcpdump does. Files named after the time are deleted,
	// oldest first, once there are more than MaxFiles of them (tcpdump
	// -G -W instead stops capturing). Only files this dumper wrote are
	// counted and deleted.
	MaxFiles int

	// Location is the time zone in which time verbs are expanded
	// (nil: time.Local, as tcpdump's strftime).
	Location *time.Location

	// Perm is the mode of new files before the umask (0: 0644).
	Perm os.FileMode

	// Stats, if set, is called before each pcapng file is closed and its
	// counters are written to the file in an interface statistics block:
	// pass the live handle's Stats method. The counters are the handle's,
	// cumulative since it was opened, as dumpcap writes them. Ignored for
	// pcap files, and when it returns an error.
	Stats func() (Stats, error)

	// OnRotate, if set, is called with the name of each file once it is
	// complete and closed, at a rotation and at Close (tcpdump -z). It
	// runs in the goroutine calling Dump or Close: a slow task such as
	// compressing the file belongs in a goroutine of its own.
	OnRotate func(path string)

	// WriterOptions are passed to NewWriter or NewNgWriter for every file:
	// WithNanosecondTimestamps, WithInterfaceName, WithBufferSize, ...
	WriterOptions []WriterOption
}

// FileDumper writes packets to savefiles, starting new files by size or by
// time and keeping a bounded number of them: what tcpdump does with -w,
// -C, -G and -W. Its Dump method has the signature of a Dispatch callback:
//
//	d, err := pcap.NewFileDumper("/var/tmp/trace.pcap", h.LinkType(), h.SnapLen(),
//		pcap.DumperOptions{MaxBytes: 100e6, MaxFiles: 10})
//	if err != nil {
//		return err
//	}
//	for {
//		if _, err := h.Dispatch(-1, d.Dump); err != nil || d.Err() != nil {
//			break
//		}
//	}
//	if err := d.Close(); err != nil {
//		return err
//	}
//
// Dump allocates nothing per packet, except when it starts a new file.
// The first error stops the dumper: later packets are dropped and Err,
// Flush and Close return it. A FileDumper is not safe for concurrent use.
type FileDumper struct {
	template string
	linkType LinkType
	snaplen  int
	opts     DumperOptions
	loc      *time.Location
	timed    bool // the name is a time template
	width    int  // digits of the file number, 0: no number on the first file

	now func() time.Time // the clock

	f       *os.File
	w       *Writer   // DumpPcap
	nw      *NgWriter // DumpPcapNG
	name    string    // current file
	base    string    // current file name before its number
	num     int       // current file number
	start   time.Time // start of the current file's interval
	size    int64     // bytes in the current file
	packets int64     // packets in the current file
	recHdr  int       // bytes a record adds besides the packet data
	trailer int64     // bytes written when a file is closed (pcapng statistics)
	files   []string  // files kept, oldest first (MaxFiles > 0)
	err     error
	closed  bool
}

// NewFileDumper creates the first file and returns a dumper writing
// packets of the given link type and snapshot length into it.
//
// Without Interval, the first file is named path and the following ones
// path1, path2, ... (path0, path1, ... with MaxFiles), as tcpdump names
// them. With Interval, path is a time template: the verbs %Y (year), %m
// (month), %d (day), %H, %M, %S (hour, minute, second), %y (two-digit
// year), %j (day of the year), %s (seconds since 1970) and %% are replaced
// by the start time of each file, the time of its first packet (the clock's
// for the first file); a file started within the same name (MaxBytes, or a
// template that stays the same) gets a number after the name, as above.
func NewFileDumper(path string, linkType LinkType, snaplen int, opts DumperOptions) (*FileDumper, error) {
	return newFileDumper(path, linkType, snaplen, opts, time.Now)
}

// newFileDumper is NewFileDumper with a clock.
func newFileDumper(path string, linkType LinkType, snaplen int, opts DumperOptions, now func() time.Time) (*FileDumper, error) {
	d := &FileDumper{
		template: path,
		linkType: linkType,
		snaplen:  snaplen,
		opts:     opts,
		loc:      opts.Location,
		now:      now,
	}
	if err := d.init(); err != nil {
		return nil, err
	}
	if err := d.open(d.now()); err != nil {
		return nil, err
	}
	return d, nil
}

// init checks the options and derives the naming scheme.
func (d *FileDumper) init() error {
	o := &d.opts
	switch {
	case d.template == "":
		return errors.New("pcap: NewFileDumper: empty path")
	case o.Format != DumpPcap && o.Format != DumpPcapNG:
		return fmt.Errorf("pcap: NewFileDumper: unknown format %v", o.Format)
	case o.MaxBytes < 0 || o.Interval < 0 || o.MaxFiles < 0:
		return errors.New("pcap: NewFileDumper: MaxBytes, Interval and MaxFiles must not be negative")
	case o.MaxFiles > 0 && o.MaxBytes == 0 && o.Interval == 0:
		return errors.New("pcap: NewFileDumper: MaxFiles needs MaxBytes or Interval")
	}
	if d.snaplen <= 0 {
		d.snaplen = DefaultSnaplen
	}
	if d.loc == nil {
		d.loc = time.Local
	}
	if o.Perm == 0 {
		o.Perm = 0o644
	}
	if o.Interval > 0 {
		verbs, err := checkTemplate(d.template)
		if err != nil {
			return fmt.Errorf("pcap: NewFileDumper: %w", err)
		}
		d.timed = verbs > 0
	}
	if o.MaxFiles > 0 && !d.timed {
		d.width = len(strconv.Itoa(o.MaxFiles))
	}
	if o.Format == DumpPcapNG {
		d.recHdr = 32 // enhanced packet block without options
	} else {
		d.recHdr = 16
	}
	if o.Format == DumpPcapNG && o.Stats != nil {
		n, err := ngStatsSize(d.linkType, d.snaplen)
		if err != nil {
			return fmt.Errorf("pcap: NewFileDumper: %w", err)
		}
		d.trailer = n
	}
	return nil
}

// ngStatsSize returns the size of the statistics block NgWriter writes at
// the end of a file with packets.
func ngStatsSize(lt LinkType, snaplen int) (int64, error) {
	var cw countWriter
	w, err := NewNgWriter(&cw, lt, snaplen)
	if err != nil {
		return 0, err
	}
	if err := w.WritePacket(CaptureInfo{Timestamp: 1e9}, nil); err != nil {
		return 0, err
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	before := cw.n
	if err := w.WriteStatistics(0, Stats{}); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return cw.n - before, nil
}

// countWriter counts the bytes written to it.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// Name returns the name of the file being written.
func (d *FileDumper) Name() string { return d.name }

// Dump writes a packet to the current file, first starting a new file if
// the packet would take the file past MaxBytes or its timestamp is past
// the file's Interval. It has the signature of a Dispatch callback:
// h.Dispatch(-1, d.Dump). Errors are kept for Err, Flush and Close.
func (d *FileDumper) Dump(data []byte, ci CaptureInfo) {
	if d.err != nil {
		return
	}
	if d.closed {
		d.err = errDumperClosed{}
		return
	}
	n := len(data)
	if n > d.snaplen {
		n = d.snaplen
	}
	rec := int64(d.recHdr + n)
	if d.recHdr == 32 {
		rec = int64(d.recHdr + (n+3)&^3)
	}
	if d.packets > 0 {
		rotate := d.opts.MaxBytes > 0 && d.size+rec+d.trailer > d.opts.MaxBytes
		t := ci.Time()
		if ci.Timestamp == 0 && (rotate || d.opts.Interval > 0) {
			t = d.now()
		}
		if d.opts.Interval > 0 && t.Sub(d.start) >= d.opts.Interval {
			rotate = true
		}
		if rotate {
			if err := d.rotate(t); err != nil {
				d.err = err
				return
			}
		}
	}
	var err error
	if d.w != nil {
		err = d.w.WritePacket(ci, data)
	} else {
		err = d.nw.WritePacket(ci, data)
	}
	if err != nil {
		d.err = err
		return
	}
	d.size += rec
	d.packets++
}

// Rotate closes the current file and starts the next one now, whatever
// its size and age.
func (d *FileDumper) Rotate() error {
	if d.err != nil {
		return d.err
	}
	if d.closed {
		return errDumperClosed{}
	}
	if err := d.rotate(d.now()); err != nil {
		d.err = err
	}
	return d.err
}

// Flush writes what is buffered to the current file.
func (d *FileDumper) Flush() error {
	if d.err != nil || d.closed {
		return d.err
	}
	var err error
	if d.w != nil {
		err = d.w.Flush()
	} else {
		err = d.nw.Flush()
	}
	if err != nil {
		d.err = err
	}
	return d.err
}

// Err returns the first error the dumper met, if any.
func (d *FileDumper) Err() error { return d.err }

// Close completes and closes the current file. It returns the first error
// the dumper met, in Dump or here.
func (d *FileDumper) Close() error {
	if d.closed {
		return d.err
	}
	d.closed = true
	if err := d.finish(); d.err == nil {
		d.err = err
	}
	return d.err
}

// rotate closes the current file and opens the next one, started at t.
func (d *FileDumper) rotate(t time.Time) error {
	if err := d.finish(); err != nil {
		return err
	}
	return d.open(t)
}

// finish flushes and closes the current file, and reports it to OnRotate.
func (d *FileDumper) finish() error {
	if d.f == nil {
		return nil
	}
	var err error
	if d.w != nil {
		err = d.w.Close()
	} else {
		if d.opts.Stats != nil && d.err == nil {
			// A handle closed before the dumper has no counters to give:
			// the file is complete without them.
			if st, serr := d.opts.Stats(); serr == nil {
				err = d.nw.WriteStatistics(0, st)
			}
		}
		if cerr := d.nw.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := d.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("pcap: closing %s: %w", d.name, cerr)
	}
	d.f, d.w, d.nw = nil, nil, nil
	if err == nil && d.opts.OnRotate != nil {
		d.opts.OnRotate(d.name)
	}
	return err
}

// open creates the file that starts at t and writes its header.
func (d *FileDumper) open(t time.Time) error {
	base := d.template
	if d.timed {
		base = expandTime(d.template, t.In(d.loc))
	}
	num := 0
	if d.name != "" && base == d.base {
		num = d.num + 1
		if d.opts.MaxFiles > 0 && !d.timed {
			num %= d.opts.MaxFiles
		}
	}
	name := base
	if num > 0 || d.width > 0 {
		s := strconv.Itoa(num)
		for len(s) < d.width {
			s = "0" + s
		}
		name += s
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, d.opts.Perm)
	if err != nil {
		return fmt.Errorf("pcap: %w", err)
	}
	if d.opts.Format == DumpPcapNG {
		d.nw, err = NewNgWriter(f, d.linkType, d.snaplen, d.opts.WriterOptions...)
		if err == nil {
			err = d.nw.Flush()
		}
	} else {
		d.w, err = NewWriter(f, d.linkType, d.snaplen, d.opts.WriterOptions...)
		if err == nil {
			err = d.w.Flush()
		}
	}
	var size int64
	if err == nil {
		size, err = f.Seek(0, io.SeekCurrent)
	}
	if err != nil {
		f.Close()
		d.w, d.nw = nil, nil
		return fmt.Errorf("pcap: writing %s: %w", name, err)
	}
	d.f, d.name, d.base, d.num = f, name, base, num
	d.start, d.size, d.packets = t, size, 0
	if d.opts.MaxFiles > 0 {
		d.keep(name)
	}
	return nil
}

// keep records a new file and deletes the oldest ones beyond MaxFiles.
func (d *FileDumper) keep(name string) {
	for i, old := range d.files {
		if old == name { // reused: overwritten, not a new file
			d.files = append(d.files[:i], d.files[i+1:]...)
			break
		}
	}
	d.files = append(d.files, name)
	for len(d.files) > d.opts.MaxFiles {
		os.Remove(d.files[0])
		d.files = d.files[1:]
	}
}

// checkTemplate counts the time verbs of a file name template and rejects
// the verbs expandTime does not know.
func checkTemplate(s string) (int, error) {
	verbs := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		if i+1 == len(s) {
			return 0, fmt.Errorf("file name template %q ends with %%", s)
		}
		i++
		switch s[i] {
		case 'Y', 'm', 'd', 'H', 'M', 'S', 'y', 'j', 's':
			verbs++
		case '%':
		default:
			return 0, fmt.Errorf("file name template %q: unknown verb %%%c (want %%Y %%m %%d %%H %%M %%S %%y %%j %%s or %%%%)", s, s[i])
		}
	}
	return verbs, nil
}

// expandTime replaces the verbs of a checked template with t's fields.
func expandTime(s string, t time.Time) string {
	var b strings.Builder
	pad := func(v, n int) {
		x := strconv.Itoa(v)
		for i := len(x); i < n; i++ {
			b.WriteByte('0')
		}
		b.WriteString(x)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'Y':
			pad(t.Year(), 4)
		case 'm':
			pad(int(t.Month()), 2)
		case 'd':
			pad(t.Day(), 2)
		case 'H':
			pad(t.Hour(), 2)
		case 'M':
			pad(t.Minute(), 2)
		case 'S':
			pad(t.Second(), 2)
		case 'y':
			pad(t.Year()%100, 2)
		case 'j':
			pad(t.YearDay(), 3)
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// errDumperClosed is the error of a FileDumper used after Close; it
// matches ErrClosed.
type errDumperClosed struct{}

func (errDumperClosed) Error() string        { return "pcap: file dumper is closed" }
func (errDumperClosed) Is(target error) bool { return target == ErrClosed }
