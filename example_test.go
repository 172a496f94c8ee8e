package pcap_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/purecap/pcap"
	"golang.org/x/net/bpf"
)

// Capture 100 packets on eth0, reading them in place.
func ExampleOpen() {
	h, err := pcap.Open("eth0", pcap.Config{Snaplen: 1600, Timeout: 100 * time.Millisecond})
	if errors.Is(err, os.ErrPermission) {
		log.Fatal("capturing needs CAP_NET_RAW: ", err)
	}
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	n, err := h.Loop(100, func(data []byte, ci pcap.CaptureInfo) {
		fmt.Println(ci.Time().Format(time.RFC3339Nano), ci.CaptureLength, ci.Length, ci.VLAN().ID())
	})
	fmt.Println(n, "packets", err)
}

// Stop a capture from another goroutine: Dispatch returns the packets it
// delivered so far and ErrBreak.
func ExampleHandle_BreakLoop() {
	h, err := pcap.OpenLive("any", 65535, false, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	time.AfterFunc(5*time.Second, h.BreakLoop)
	total := 0
	for {
		n, err := h.Dispatch(-1, func(data []byte, ci pcap.CaptureInfo) {})
		total += n
		if errors.Is(err, pcap.ErrBreak) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
	}
	st, _ := h.Stats()
	fmt.Printf("%d delivered, %d received, %d dropped\n", total, st.PacketsReceived, st.PacketsDropped)
}

// Keep only IPv4 packets, with a program run by the kernel.
func ExampleHandle_SetBPF() {
	h, err := pcap.OpenLive("eth0", 262144, false, time.Second)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	prog, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},                         // ethertype
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0800, SkipFalse: 1}, // IPv4?
		bpf.RetConstant{Val: 262144},                               // accept
		bpf.RetConstant{Val: 0},                                    // drop
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := h.SetBPF(prog); err != nil {
		log.Fatal(err)
	}
}

func ExampleLinkType_String() {
	fmt.Println(pcap.LinkTypeEthernet, pcap.LinkTypeLinuxSLL2, pcap.LinkType(147))
	// Output: EN10MB LINUX_SLL2 LINKTYPE_147
}

func ExampleVLANTag_ID() {
	tag := pcap.VLANTag{Present: true, TCI: 0x6064, TPID: 0x8100}
	fmt.Println(tag.ID(), tag.TCI>>13)
	// Output: 100 3
}
