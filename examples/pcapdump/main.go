// Command pcapdump prints a line per packet captured on an interface, like a
// small tcpdump:
//
//	pcapdump -i lo -c 10 -gen udp
//
// captures 10 UDP packets on the loopback device, sending itself UDP
// datagrams to 127.0.0.1 meanwhile (-gen) so that it finishes on an idle
// machine. As with tcpdump, the arguments after the flags form a filter
// expression (pcap-filter(7)); without one every packet is captured. A live
// capture needs CAP_NET_RAW (run it as root).
//
// With -w it writes the packets to a savefile instead of printing them
// (-ng for pcapng, -C, -G and -W to rotate files as tcpdump does); with -r it
// reads a pcap or pcapng file instead of an interface:
//
//	pcapdump -i lo -c 100 -gen -w /tmp/lo.pcapng -ng
//	pcapdump -r /tmp/lo.pcapng udp
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/purecap/pcap"
)

func main() {
	var (
		device   = flag.String("i", "lo", "interface to capture on (\"any\" for all)")
		count    = flag.Int("c", 0, "stop after this many packets (0: no limit)")
		duration = flag.Duration("t", 10*time.Second, "stop after this long (0: no limit)")
		snaplen  = flag.Int("s", 0, "snapshot length (0: whole packets)")
		promisc  = flag.Bool("p", false, "promiscuous mode")
		sll2     = flag.Bool("sll2", false, "with -i any: use the LINUX_SLL2 header")
		gen      = flag.Bool("gen", false, "send UDP datagrams to 127.0.0.1 while capturing, so that there is traffic")
		read     = flag.String("r", "", "read packets from this pcap or pcapng file instead of an interface")
		dump1    = flag.Bool("d", false, "print the filter program as tcpdump -d does, and exit")
		dump2    = flag.Bool("dd", false, "print the filter program as a C array, as tcpdump -dd does, and exit")
		dump3    = flag.Bool("ddd", false, "print the filter program in decimal, as tcpdump -ddd does, and exit")
		ltName   = flag.String("y", "", "with -d, -dd or -ddd: the link type to compile for (EN10MB, LINUX_SLL, LINUX_SLL2, RAW, NULL, LOOP, ...) instead of the interface's or file's")
	)
	var w writeOpts
	flag.StringVar(&w.path, "w", "", "write packets to this file instead of printing them")
	flag.BoolVar(&w.ng, "ng", false, "with -w: write pcapng rather than pcap")
	flag.BoolVar(&w.nano, "nano", false, "with -w: nanosecond timestamps")
	flag.Int64Var(&w.sizeMB, "C", 0, "with -w: start a new file when this one would exceed this many millions of bytes")
	flag.DurationVar(&w.every, "G", 0, "with -w: start a new file this often (the name can hold strftime verbs such as %H%M%S)")
	flag.IntVar(&w.files, "W", 0, "with -C or -G: keep at most this many files")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: pcapdump [flags] [filter expression]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	expr := strings.Join(flag.Args(), " ")
	var err error
	if format, ok := dumpFormat(*dump1, *dump2, *dump3); ok {
		err = printProgram(format, *ltName, *read, *device, *snaplen, expr)
	} else if *read != "" {
		err = readFile(*read, *count, w, expr)
	} else {
		err = run(*device, *count, *duration, *snaplen, *promisc, *sll2, *gen, w, expr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pcapdump:", err)
		os.Exit(1)
	}
}

// dumpFormat returns the format -d, -dd or -ddd asks for, if one does.
func dumpFormat(d, dd, ddd bool) (pcap.BPFFormat, bool) {
	switch {
	case ddd:
		return pcap.BPFDecimal, true
	case dd:
		return pcap.BPFC, true
	case d:
		return pcap.BPFText, true
	}
	return 0, false
}

// printProgram compiles expr for link type ltName, or else for the link
// type of the file or interface, and prints the program as tcpdump does.
func printProgram(format pcap.BPFFormat, ltName, file, device string, snaplen int, expr string) error {
	var lt pcap.LinkType
	switch {
	case ltName != "":
		var err error
		if lt, err = parseLinkType(ltName); err != nil {
			return err
		}
	case file != "":
		h, err := pcap.OpenOffline(file)
		if err != nil {
			return err
		}
		lt = h.LinkType()
		h.Close()
	default:
		h, err := pcap.Open(device, pcap.Config{Snaplen: snaplen, Immediate: true})
		if err != nil {
			return err
		}
		lt = h.LinkType()
		h.Close()
	}
	prog, err := pcap.CompileFilter(lt, snaplen, expr)
	if err != nil {
		return err
	}
	fmt.Print(pcap.FormatBPF(prog, format))
	return nil
}

// parseLinkType reads -y: a LINKTYPE number or a name tcpdump uses, such
// as EN10MB.
func parseLinkType(s string) (pcap.LinkType, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return pcap.LinkType(n), nil
	}
	for _, t := range []pcap.LinkType{
		pcap.LinkTypeNull, pcap.LinkTypeEthernet, pcap.LinkTypePPP, pcap.LinkTypeRaw,
		pcap.LinkTypeIEEE802_11, pcap.LinkTypeLoop, pcap.LinkTypeLinuxSLL,
		pcap.LinkTypeIEEE802_11Radio, pcap.LinkTypeCANSocketCAN, pcap.LinkTypeIPv4,
		pcap.LinkTypeIPv6, pcap.LinkTypeNetlink, pcap.LinkTypeLinuxSLL2,
	} {
		if strings.EqualFold(t.String(), s) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("-y %s: unknown link type", s)
}

// writeOpts are the flags of -w.
type writeOpts struct {
	path   string
	ng     bool
	nano   bool
	sizeMB int64
	every  time.Duration
	files  int
}

// output returns the callback that handles each packet, printing it or
// writing it to a file, and a function to call at the end.
func output(lt pcap.LinkType, snaplen int, w writeOpts, stats func() (pcap.Stats, error)) (func([]byte, pcap.CaptureInfo), func() error, error) {
	if w.path == "" {
		print := func(data []byte, ci pcap.CaptureInfo) {
			fmt.Printf("%s %s\n", ci.Time().Format("15:04:05.000000000"), describe(lt, data, ci))
		}
		return print, func() error { return nil }, nil
	}
	opts := pcap.DumperOptions{MaxBytes: w.sizeMB * 1e6, Interval: w.every, MaxFiles: w.files, Stats: stats}
	if w.ng {
		opts.Format = pcap.DumpPcapNG
	}
	if w.nano {
		opts.WriterOptions = append(opts.WriterOptions, pcap.WithNanosecondTimestamps())
	}
	d, err := pcap.NewFileDumper(w.path, lt, snaplen, opts)
	if err != nil {
		return nil, nil, err
	}
	return d.Dump, d.Close, nil
}

// readFile prints or copies the packets of a savefile.
func readFile(path string, count int, w writeOpts, expr string) error {
	h, err := pcap.OpenOffline(path)
	if err != nil {
		return err
	}
	defer h.Close()
	if expr != "" {
		if err := h.SetFilter(expr); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "reading from file %s, link-type %v, snapshot length %d\n", path, h.LinkType(), h.SnapLen())
	fn, done, err := output(h.LinkType(), h.SnapLen(), w, nil)
	if err != nil {
		return err
	}
	n, err := h.Loop(count, fn)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	if derr := done(); err == nil {
		err = derr
	}
	fmt.Fprintf(os.Stderr, "%d packets read\n", n)
	return err
}

func run(device string, count int, duration time.Duration, snaplen int, promisc, sll2, gen bool, w writeOpts, expr string) error {
	cfg := pcap.Config{Snaplen: snaplen, Promisc: promisc, Timeout: 100 * time.Millisecond}
	if sll2 {
		cfg.LinkType = pcap.LinkTypeLinuxSLL2
	}
	h, err := pcap.Open(device, cfg)
	if err != nil {
		return err
	}
	defer h.Close()
	if expr != "" {
		if err := h.SetFilter(expr); err != nil {
			return err
		}
	}
	ring := h.Ring()
	fmt.Fprintf(os.Stderr, "listening on %s, link-type %v, snapshot length %d bytes, %v ring of %d KiB\n",
		device, h.LinkType(), h.SnapLen(), ring.Version, ring.Size()>>10)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	go func() { <-stop; h.BreakLoop() }()
	if duration > 0 {
		t := time.AfterFunc(duration, h.BreakLoop)
		defer t.Stop()
	}
	if gen {
		done := make(chan struct{})
		defer close(done)
		go sendTraffic(done)
	}

	fn, done, err := output(h.LinkType(), h.SnapLen(), w, h.Stats)
	if err != nil {
		return err
	}
	n, err := h.Loop(count, fn)
	if derr := done(); err == nil || errors.Is(err, pcap.ErrBreak) {
		err = derr
	}
	if err != nil {
		return err
	}
	st, err := h.Stats()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d packets captured\n%d packets received by filter\n%d packets dropped by kernel\n",
		n, st.PacketsReceived, st.PacketsDropped)
	return nil
}

// sendTraffic sends a datagram to the discard port of 127.0.0.1 every 50 ms.
func sendTraffic(done <-chan struct{}) {
	c, err := net.Dial("udp4", "127.0.0.1:9")
	if err != nil {
		return
	}
	defer c.Close()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-done:
			return
		case <-tick.C:
			c.Write([]byte(fmt.Sprintf("pcapdump %d", i)))
		}
	}
}

// describe summarizes a packet: link header, then IPv4/IPv6 and ports.
func describe(lt pcap.LinkType, data []byte, ci pcap.CaptureInfo) string {
	var b strings.Builder
	var proto uint16
	var payload []byte
	switch lt {
	case pcap.LinkTypeEthernet:
		if len(data) < 14 {
			return fmt.Sprintf("truncated frame, length %d", ci.Length)
		}
		fmt.Fprintf(&b, "%s > %s", net.HardwareAddr(data[6:12]), net.HardwareAddr(data[0:6]))
		proto, payload = binary.BigEndian.Uint16(data[12:]), data[14:]
		for (proto == 0x8100 || proto == 0x88a8) && len(payload) >= 4 {
			fmt.Fprintf(&b, ", vlan %d", binary.BigEndian.Uint16(payload)&0xfff)
			proto, payload = binary.BigEndian.Uint16(payload[2:]), payload[4:]
		}
	case pcap.LinkTypeLinuxSLL:
		if len(data) < 16 {
			return fmt.Sprintf("truncated packet, length %d", ci.Length)
		}
		fmt.Fprintf(&b, "%v", ci.PacketType())
		proto, payload = binary.BigEndian.Uint16(data[14:]), data[16:]
	case pcap.LinkTypeLinuxSLL2:
		if len(data) < 20 {
			return fmt.Sprintf("truncated packet, length %d", ci.Length)
		}
		fmt.Fprintf(&b, "ifindex %d %v", ci.InterfaceIndex, ci.PacketType())
		proto, payload = binary.BigEndian.Uint16(data[0:]), data[20:]
	case pcap.LinkTypeRaw:
		if len(data) > 0 && data[0]>>4 == 6 {
			proto = 0x86dd
		} else {
			proto = 0x0800
		}
		payload = data
	default:
		return fmt.Sprintf("link type %v, length %d", lt, ci.Length)
	}
	fmt.Fprintf(&b, ", ethertype %#04x, length %d", proto, ci.Length)
	switch proto {
	case 0x0800:
		if len(payload) >= 20 && payload[0]>>4 == 4 {
			ihl := int(payload[0]&0xf) * 4
			fmt.Fprintf(&b, ": IP %s > %s", net.IP(payload[12:16]), net.IP(payload[16:20]))
			describeL4(&b, payload[9], payload[min(ihl, len(payload)):])
		}
	case 0x86dd:
		if len(payload) >= 40 {
			fmt.Fprintf(&b, ": IP6 %s > %s", net.IP(payload[8:24]), net.IP(payload[24:40]))
			describeL4(&b, payload[6], payload[40:])
		}
	case 0x0806:
		b.WriteString(": ARP")
	}
	return b.String()
}

func describeL4(b *strings.Builder, proto byte, l4 []byte) {
	switch proto {
	case 6, 17:
		name := map[byte]string{6: "TCP", 17: "UDP"}[proto]
		if len(l4) >= 4 {
			fmt.Fprintf(b, " %s %d > %d", name, binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:]))
		} else {
			fmt.Fprintf(b, " %s", name)
		}
	case 1:
		b.WriteString(" ICMP")
	case 58:
		b.WriteString(" ICMP6")
	default:
		fmt.Fprintf(b, " proto %d", proto)
	}
}
