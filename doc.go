// Package pcap captures packets on Linux in pure Go, with libpcap's model and
// API shape and no cgo: no C toolchain, no libpcap.so.
//
// # Opening
//
// Open (or OpenLive, shaped like pcap_open_live) starts a live capture on an
// interface, or on all of them with the "any" device:
//
//	h, err := pcap.Open("eth0", pcap.Config{Snaplen: 1600, Promisc: true, Timeout: 100 * time.Millisecond})
//	if err != nil {
//		return err // errors.Is(err, os.ErrPermission): the program needs CAP_NET_RAW
//	}
//	defer h.Close()
//
// The handle reads from an AF_PACKET socket through a ring the kernel shares
// with the process (TPACKET_V3 by default, V2 in immediate mode, V1 on
// request): packets are read where the kernel put them, without a copy and
// without a system call per packet. Config documents every setting and its
// default; Handle.Ring reports the ring actually obtained.
//
// # Reading
//
// Dispatch mirrors pcap_dispatch: it hands each packet to a callback, with
// data that points into the ring and is valid during the call only:
//
//	n, err := h.Dispatch(-1, func(data []byte, ci pcap.CaptureInfo) {
//		// len(data) == ci.CaptureLength; ci.Time() is when it was captured
//	})
//
// CaptureInfo has gopacket's field names, with the timestamp in nanoseconds
// since the epoch (Time converts it); the VLAN tag, packet type and flow
// hash are methods. It is small enough for Go to pass in registers, so the
// callback costs no copy of it.
//
// Loop repeats Dispatch up to a count. ReadPacketData returns a copy the
// caller owns; ZeroCopyReadPacketData returns data valid until the next read.
// Neither Dispatch nor ZeroCopyReadPacketData allocates per packet.
//
// With the "any" device the data starts with a Linux cooked header (SLL, or
// SLL2 with Config.LinkType). VLAN tags the kernel strips are put back in the
// data, for Ethernet, SLL and SLL2, and reported by CaptureInfo.VLAN.
//
// # Filters
//
// CompileFilter compiles a filter expression in tcpdump's language
// (pcap-filter(7)) into a classic BPF program with libpcap's semantics, for
// a link type; FormatBPF prints a program as tcpdump -d, -dd or -ddd do, to
// compare with libpcap's. Handle.SetFilter compiles an expression for the
// handle and attaches it, in the kernel when the kernel can run it (adapted
// to a cooked socket on "any") and in user space otherwise; SetBPF attaches
// a program in the kernel as it is. With either, packets that arrived before
// the filter was set are never delivered after. NewBPF gives a
// filter that runs in user space, on packets from a savefile for one:
//
//	f, err := pcap.NewBPF(pcap.LinkTypeEthernet, 0, "tcp port 80 and not host 10.0.0.1")
//	if err != nil {
//		return err // the message gives the position of the error
//	}
//	if f.Matches(ci, data) {
//		// ...
//	}
//
// # Savefiles
//
// NewWriter writes packets to a pcap file, as pcap_dump does; its Dump
// method is a Dispatch callback:
//
//	w, err := pcap.NewWriter(f, h.LinkType(), h.SnapLen())
//	if err != nil {
//		return err
//	}
//	_, err = h.Dispatch(-1, w.Dump)
//	// ...
//	err = w.Close() // flushes; f stays open
//
// OpenOffline opens a pcap or pcapng file as an OfflineHandle, with the
// methods of a live Handle (Dispatch, Loop, BreakLoop, ReadPacketData,
// SetFilter, ...); at the end of the file reads return io.EOF.
// PacketHandle is the interface both satisfy. NewReader reads a pcap file
// without a handle. A malformed file is reported with a *FormatError giving
// the offset of the fault.
//
// # Concurrency
//
// One goroutine reads a handle at a time (reads are serialized). BreakLoop,
// Close and Stats may be called from any goroutine at any time: a read
// parked waiting for packets wakes at once, a callback in progress finishes
// its packet, and the ring is unmapped only once no reader uses it. Waiting
// goes through the Go runtime's network poller, so a handle blocked in
// Dispatch holds no OS thread.
//
// # Errors
//
// Errors from Open and reads are *OpError values naming the operation and
// the device. Use errors.Is with ErrClosed, ErrTimeout, ErrBreak,
// ErrNoSuchDevice, ErrInterfaceDown, ErrCorruptRing and os.ErrPermission.
// An interface taken down during a capture only pauses it; one that is
// removed ends the read with ErrNoSuchDevice.
package pcap
