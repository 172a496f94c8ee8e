//go:build linux

// Package afpacket holds the Linux system interface of the capture engine:
// AF_PACKET socket options, interface ioctls, and the few kernel constants and
// layouts that golang.org/x/sys/unix does not export.
package afpacket

import (
	"encoding/binary"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Kernel constants missing from x/sys/unix.
const (
	// TPacketAlignment is TPACKET_ALIGNMENT: headers and frames are aligned to it.
	TPacketAlignment = unix.TPACKET_ALIGNMENT

	// SizeofSockaddrLL is sizeof(struct sockaddr_ll).
	SizeofSockaddrLL = unix.SizeofSockaddrLinklayer

	// SizeofBlockDesc is the size of struct tpacket_block_desc with its
	// tpacket_hdr_v1: the header at the start of every TPACKET_V3 block.
	SizeofBlockDesc = 48

	// MaxSnaplen is libpcap's MAXIMUM_SNAPLEN.
	MaxSnaplen = 262144

	// VLANTagLen is the length of an 802.1Q tag.
	VLANTagLen = 4

	// SKF_AD_* ancillary load offsets (linux/filter.h).
	SKFAdOff            = -0x1000
	SKFAdProtocol       = 0
	SKFAdPktType        = 4
	SKFAdIfIndex        = 8
	SKFAdVLANTag        = 44
	SKFAdVLANTagPresent = 48
	SKFAdVLANTPID       = 60
	ethtoolFlagLRO      = 1 << 15
	ethtoolValueSize    = 8 // struct ethtool_value {u32 cmd; u32 data;}
	ifNameSize          = unix.IFNAMSIZ
	ethtoolGUFO         = 0x21
	ethtoolGGSO         = 0x23
)

// TPacketAlign rounds x up to TPACKET_ALIGNMENT.
func TPacketAlign(x int) int {
	return (x + TPacketAlignment - 1) &^ (TPacketAlignment - 1)
}

// HdrLen returns TPACKETv_HDRLEN for a ring version (unix.TPACKET_V1..V3): the
// aligned frame header followed by a struct sockaddr_ll.
func HdrLen(version int) int {
	switch version {
	case unix.TPACKET_V1:
		return TPacketAlign(unix.SizeofTpacketHdr) + SizeofSockaddrLL
	case unix.TPACKET_V2:
		return TPacketAlign(unix.SizeofTpacket2Hdr) + SizeofSockaddrLL
	default:
		return TPacketAlign(unix.SizeofTpacket3Hdr) + SizeofSockaddrLL
	}
}

// Htons converts a 16-bit value to network byte order.
func Htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return *(*uint16)(unsafe.Pointer(&b[0]))
}

// SetsockoptTpacketReq sets PACKET_RX_RING (or TX) with a V1/V2 request.
func SetsockoptTpacketReq(fd, opt int, req *unix.TpacketReq) error {
	return unix.SetsockoptTpacketReq(fd, unix.SOL_PACKET, opt, req)
}

// SetsockoptTpacketReq3 sets PACKET_RX_RING with a V3 request.
func SetsockoptTpacketReq3(fd, opt int, req *unix.TpacketReq3) error {
	return unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, opt, req)
}

// Stats reads and resets the kernel's PACKET_STATISTICS counters.
// freezes is only meaningful for TPACKET_V3.
func Stats(fd int, v3 bool) (packets, drops, freezes uint32, err error) {
	if v3 {
		st, err := unix.GetsockoptTpacketStatsV3(fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
		if err != nil {
			return 0, 0, 0, err
		}
		return st.Packets, st.Drops, st.Freeze_q_cnt, nil
	}
	st, err := unix.GetsockoptTpacketStats(fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return 0, 0, 0, err
	}
	return st.Packets, st.Drops, 0, nil
}

// IfIndex returns the index of the named interface in the socket's namespace.
func IfIndex(fd int, name string) (int, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, err
	}
	return int(ifr.Uint32()), nil
}

// IfName returns the name of the interface with the given index.
func IfName(fd, index int) (string, error) {
	var ifr [40]byte // struct ifreq
	*(*int32)(unsafe.Pointer(&ifr[16])) = int32(index)
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCGIFNAME, uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
		return "", e
	}
	n := 0
	for n < ifNameSize && ifr[n] != 0 {
		n++
	}
	return string(ifr[:n]), nil
}

// HardwareType returns the ARPHRD_* type of the named interface.
func HardwareType(fd int, name string) (uint16, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 0, err
	}
	// struct sockaddr in the union: sa_family is the ARPHRD type.
	return ifr.Uint16(), nil
}

// MTU returns the MTU of the named interface.
func MTU(fd int, name string) (int, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFMTU, ifr); err != nil {
		return 0, err
	}
	return int(ifr.Uint32()), nil
}

// Flags returns the IFF_* flags of the named interface.
func Flags(fd int, name string) (uint32, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return 0, err
	}
	return uint32(ifr.Uint16()), nil
}

// Offload reports whether any receive or segmentation offload (TSO, UFO,
// GSO, GRO, LRO) is on, in which case the kernel can hand the socket packets
// larger than the MTU.
func Offload(fd int, name string) bool {
	for _, cmd := range []uint32{unix.ETHTOOL_GTSO, ethtoolGUFO, ethtoolGGSO, unix.ETHTOOL_GGRO, unix.ETHTOOL_GFLAGS} {
		v, err := ethtoolValue(fd, name, cmd)
		if err != nil {
			continue // not supported by the driver: treat as off
		}
		if cmd == unix.ETHTOOL_GFLAGS {
			if v&ethtoolFlagLRO != 0 {
				return true
			}
			continue
		}
		if v != 0 {
			return true
		}
	}
	return false
}

func ethtoolValue(fd int, name string, cmd uint32) (uint32, error) {
	// The kernel follows a pointer inside ifreq to the ethtool_value: keep
	// both on the heap, where they do not move.
	ev := new([ethtoolValueSize]byte)
	*(*uint32)(unsafe.Pointer(&ev[0])) = cmd
	ifr := new([40]byte)
	copy(ifr[:ifNameSize-1], name)
	*(*uintptr)(unsafe.Pointer(&ifr[16])) = uintptr(unsafe.Pointer(&ev[0]))
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr[0])))
	runtime.KeepAlive(ev)
	if e != 0 {
		return 0, e
	}
	return *(*uint32)(unsafe.Pointer(&ev[4])), nil
}

// BoundIfIndex returns the interface index the socket is bound to; the kernel
// reports -1 once that interface has been unregistered.
func BoundIfIndex(fd int) (int, error) {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return 0, err
	}
	ll, ok := sa.(*unix.SockaddrLinklayer)
	if !ok {
		return 0, unix.EINVAL
	}
	return ll.Ifindex, nil
}

// SocketError reads and clears the socket's pending error (SO_ERROR). It
// never blocks, so it is made as a raw system call: one that does not tell
// the Go scheduler, which would otherwise wake its monitor thread on every
// wait of a capture loop.
func SocketError(fd int) (unix.Errno, error) {
	var v int32
	l := uint32(4)
	_, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_ERROR,
		uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, e
	}
	return unix.Errno(v), nil
}

// VLANExtensions reports whether the kernel's socket filters can read the
// VLAN tag the kernel took out of a packet (SKF_AD_VLAN_TAG and
// SKF_AD_VLAN_TAG_PRESENT). SO_BPF_EXTENSIONS gives the end of the
// ancillary data the kernel knows; kernels without the option (before
// 3.14) are taken to lack them.
func VLANExtensions(fd int) bool {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BPF_EXTENSIONS)
	return err == nil && v > SKFAdVLANTagPresent
}
