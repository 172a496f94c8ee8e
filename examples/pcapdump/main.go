// Command pcapdump prints a line per packet captured on an interface, like a
// small tcpdump:
//
//	pcapdump -i lo -c 10 -gen udp
//
// captures 10 UDP packets on the loopback device, sending itself UDP
// datagrams to 127.0.0.1 meanwhile (-gen) so that it finishes on an idle
// machine. As with tcpdump, the arguments after the flags form a filter
// expression (pcap-filter(7)); without one every packet is captured. It needs
// CAP_NET_RAW (run it as root).
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
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
	)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: pcapdump [flags] [filter expression]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	expr := strings.Join(flag.Args(), " ")
	if err := run(*device, *count, *duration, *snaplen, *promisc, *sll2, *gen, expr); err != nil {
		fmt.Fprintln(os.Stderr, "pcapdump:", err)
		os.Exit(1)
	}
}

func run(device string, count int, duration time.Duration, snaplen int, promisc, sll2, gen bool, expr string) error {
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

	lt := h.LinkType()
	n, err := h.Loop(count, func(data []byte, ci pcap.CaptureInfo) {
		fmt.Printf("%s %s\n", ci.Timestamp.Format("15:04:05.000000000"), describe(lt, data, ci))
	})
	if err != nil && !errors.Is(err, pcap.ErrBreak) {
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
		fmt.Fprintf(&b, "%v", ci.PacketType)
		proto, payload = binary.BigEndian.Uint16(data[14:]), data[16:]
	case pcap.LinkTypeLinuxSLL2:
		if len(data) < 20 {
			return fmt.Sprintf("truncated packet, length %d", ci.Length)
		}
		fmt.Fprintf(&b, "ifindex %d %v", ci.InterfaceIndex, ci.PacketType)
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
