package pcap

import "strconv"

// LinkType is a link-layer header type, numbered as in pcap and pcapng files
// (the LINKTYPE_* values of the tcpdump.org registry).
type LinkType uint32

// Link types a Linux capture can produce, plus the common ones of savefiles.
const (
	LinkTypeNull            LinkType = 0   // BSD loopback: 4-byte host-order address family
	LinkTypeEthernet        LinkType = 1   // IEEE 802.3 Ethernet (DLT_EN10MB)
	LinkTypePPP             LinkType = 9   // PPP
	LinkTypeRaw             LinkType = 101 // raw IPv4 or IPv6, no link header
	LinkTypeIEEE802_11      LinkType = 105 // 802.11 without radio header
	LinkTypeLoop            LinkType = 108 // OpenBSD loopback: 4-byte network-order family
	LinkTypeLinuxSLL        LinkType = 113 // Linux "cooked" capture, 16-byte header
	LinkTypeIEEE802_11Radio LinkType = 127 // 802.11 with radiotap header
	LinkTypeCANSocketCAN    LinkType = 227 // SocketCAN
	LinkTypeIPv4            LinkType = 228 // raw IPv4
	LinkTypeIPv6            LinkType = 229 // raw IPv6
	LinkTypeNetlink         LinkType = 253 // Linux netlink
	LinkTypeLinuxSLL2       LinkType = 276 // Linux "cooked" capture v2, 20-byte header
)

var linkTypeNames = map[LinkType]string{
	LinkTypeNull:            "NULL",
	LinkTypeEthernet:        "EN10MB",
	LinkTypePPP:             "PPP",
	LinkTypeRaw:             "RAW",
	LinkTypeIEEE802_11:      "IEEE802_11",
	LinkTypeLoop:            "LOOP",
	LinkTypeLinuxSLL:        "LINUX_SLL",
	LinkTypeIEEE802_11Radio: "IEEE802_11_RADIO",
	LinkTypeCANSocketCAN:    "CAN_SOCKETCAN",
	LinkTypeIPv4:            "IPV4",
	LinkTypeIPv6:            "IPV6",
	LinkTypeNetlink:         "NETLINK",
	LinkTypeLinuxSLL2:       "LINUX_SLL2",
}

// String returns the name tcpdump uses for the link type (its -y argument),
// or the number for a type without a name here.
func (t LinkType) String() string {
	if s, ok := linkTypeNames[t]; ok {
		return s
	}
	return "LINKTYPE_" + strconv.FormatUint(uint64(t), 10)
}

// Direction selects which packets a live capture sees.
type Direction uint8

const (
	// DirectionInOut captures packets received and sent (the default).
	DirectionInOut Direction = iota
	// DirectionIn captures packets received by the host.
	DirectionIn
	// DirectionOut captures packets sent by the host.
	DirectionOut
)

func (d Direction) String() string {
	switch d {
	case DirectionInOut:
		return "inout"
	case DirectionIn:
		return "in"
	case DirectionOut:
		return "out"
	}
	return "Direction(" + strconv.Itoa(int(d)) + ")"
}

// PacketType is the kernel's classification of a captured packet
// (sll_pkttype): whom it was addressed to, or that the host sent it.
type PacketType uint8

// Packet types, with the kernel's PACKET_* values.
const (
	PacketHost      PacketType = 0 // addressed to this host
	PacketBroadcast PacketType = 1 // link-layer broadcast
	PacketMulticast PacketType = 2 // link-layer multicast
	PacketOtherHost PacketType = 3 // addressed to another host (seen in promiscuous mode)
	PacketOutgoing  PacketType = 4 // sent by this host
)

func (p PacketType) String() string {
	switch p {
	case PacketHost:
		return "host"
	case PacketBroadcast:
		return "broadcast"
	case PacketMulticast:
		return "multicast"
	case PacketOtherHost:
		return "otherhost"
	case PacketOutgoing:
		return "outgoing"
	}
	return "PacketType(" + strconv.Itoa(int(p)) + ")"
}

// TPacketVersion selects the layout of the kernel's receive ring.
type TPacketVersion uint8

const (
	// TPacketAuto picks TPacketV3, or TPacketV2 in immediate mode, falling
	// back to older versions the kernel lacks.
	TPacketAuto TPacketVersion = iota
	// TPacketV1 uses fixed-size frames with microsecond timestamps.
	TPacketV1
	// TPacketV2 uses fixed-size frames with nanosecond timestamps and VLAN data.
	TPacketV2
	// TPacketV3 packs variable-size packets into blocks the kernel hands over
	// whole: the fewest wakeups and the least ring memory per packet.
	TPacketV3
)

func (v TPacketVersion) String() string {
	switch v {
	case TPacketAuto:
		return "auto"
	case TPacketV1:
		return "TPACKET_V1"
	case TPacketV2:
		return "TPACKET_V2"
	case TPacketV3:
		return "TPACKET_V3"
	}
	return "TPacketVersion(" + strconv.Itoa(int(v)) + ")"
}
