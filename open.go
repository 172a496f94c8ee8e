//go:build linux

package pcap

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/purecap/pcap/internal/afpacket"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Open starts a live capture on device ("any" for all interfaces) in the
// calling thread's network namespace.
//
// The socket is set up in libpcap's order: opened with protocol 0 so that
// nothing is queued (or counted as dropped) before the ring exists, then the
// ring version, reserve and size, the snapshot-length filter, and only then
// the bind that lets packets flow. Errors are *OpError values naming the
// device; errors.Is tells os.ErrPermission, ErrNoSuchDevice and
// ErrInterfaceDown apart.
func Open(device string, cfg Config) (h *Handle, err error) {
	if device == "" {
		return nil, &OpError{Op: "open", Device: device, Err: errors.New("empty device name")}
	}
	if err := cfg.normalize(); err != nil {
		return nil, &OpError{Op: "open", Device: device, Err: err}
	}
	o := opener{device: device, cfg: cfg, fd: -1}
	defer func() {
		if err != nil {
			o.cleanup()
		}
	}()
	return o.open()
}

func (c *Config) normalize() error {
	if c.Snaplen < 0 {
		return fmt.Errorf("negative snapshot length %d", c.Snaplen)
	}
	if c.Snaplen == 0 || c.Snaplen > DefaultSnaplen {
		c.Snaplen = DefaultSnaplen
	}
	if c.BufferSize < 0 {
		return fmt.Errorf("negative buffer size %d", c.BufferSize)
	}
	if c.BufferSize == 0 {
		c.BufferSize = DefaultBufferSize
	}
	if c.Timeout < 0 {
		return fmt.Errorf("negative timeout %v", c.Timeout)
	}
	if c.BlockSize < 0 || c.BlockTimeout < 0 {
		return errors.New("negative block size or block timeout")
	}
	if c.TPacketVersion > TPacketV3 {
		return fmt.Errorf("unknown TPACKET version %d", c.TPacketVersion)
	}
	if c.Direction > DirectionOut {
		return fmt.Errorf("unknown direction %d", c.Direction)
	}
	return nil
}

// opener carries the state of Open so that a failure can undo it.
type opener struct {
	device string
	cfg    Config
	fd     int
	mem    []byte
	stats  *afpacket.LinkStats
}

func (o *opener) cleanup() {
	if o.stats != nil {
		o.stats.Close()
	}
	if o.mem != nil {
		unix.Munmap(o.mem)
	}
	if o.fd >= 0 {
		unix.Close(o.fd)
	}
}

func (o *opener) fail(op string, err error) error {
	if errno, ok := err.(unix.Errno); ok {
		err = os.NewSyscallError(op, errno)
		if errno == unix.ENODEV || errno == unix.ENXIO {
			err = fmt.Errorf("%w (%v)", ErrNoSuchDevice, errno)
		}
	}
	return &OpError{Op: "open", Device: o.device, Err: err}
}

func (o *opener) socket(typ int) error {
	fd, err := unix.Socket(unix.AF_PACKET, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return o.fail("socket", err)
	}
	o.fd = fd
	return nil
}

func (o *opener) open() (*Handle, error) {
	cfg := &o.cfg
	any := o.device == "any"
	if err := o.socket(unix.SOCK_RAW); err != nil {
		return nil, err
	}
	h := &Handle{device: o.device, snaplen: cfg.Snaplen, timeout: cfg.Timeout}

	// Link type.
	var arphrd uint16
	if any {
		switch cfg.LinkType {
		case 0, LinkTypeLinuxSLL:
			h.linkType = LinkTypeLinuxSLL
		case LinkTypeLinuxSLL2:
			h.linkType = LinkTypeLinuxSLL2
		default:
			return nil, o.fail("", fmt.Errorf("link type %v not available on the any device (LINUX_SLL or LINUX_SLL2)", cfg.LinkType))
		}
		h.cooked = true
	} else {
		idx, err := afpacket.IfIndex(o.fd, o.device)
		if err != nil {
			return nil, o.fail("ioctl", err)
		}
		h.ifindex = idx
		arphrd, err = afpacket.HardwareType(o.fd, o.device)
		if err != nil {
			return nil, o.fail("ioctl", err)
		}
		lt, cooked := linkTypeOf(arphrd)
		switch cfg.LinkType {
		case 0, lt:
			h.linkType, h.cooked = lt, cooked
		case LinkTypeLinuxSLL, LinkTypeLinuxSLL2:
			h.linkType, h.cooked = cfg.LinkType, true
		default:
			return nil, o.fail("", fmt.Errorf("link type %v not available (the device gives %v)", cfg.LinkType, lt))
		}
	}
	if h.cooked {
		// Cooked captures read from a datagram socket: the kernel strips
		// the link header and the header is built from sockaddr_ll.
		unix.Close(o.fd)
		o.fd = -1
		if err := o.socket(unix.SOCK_DGRAM); err != nil {
			return nil, err
		}
	}

	dec := decoder{snaplen: cfg.Snaplen, ethernet: h.linkType == LinkTypeEthernet, direction: cfg.Direction}
	switch h.linkType {
	case LinkTypeLinuxSLL:
		dec.cooked = sllHdrLen
	case LinkTypeLinuxSLL2:
		dec.cooked = sll2HdrLen
	}

	version, err := o.setVersion()
	if err != nil {
		return nil, err
	}
	// Room before the data for a re-inserted VLAN tag, and for the cooked
	// header beyond what the kernel leaves.
	reserve := afpacket.VLANTagLen
	if h.cooked {
		reserve += afpacket.VLANTagLen
	}
	if err := unix.SetsockoptInt(o.fd, unix.SOL_PACKET, unix.PACKET_RESERVE, reserve); err != nil {
		return nil, o.fail("setsockopt PACKET_RESERVE", err)
	}

	frameSnap := cfg.Snaplen
	if h.linkType == LinkTypeEthernet && !h.cooked && version != TPacketV3 {
		// An Ethernet frame is at most MTU+18 bytes, or 64 KiB with
		// segmentation offloads: frames need be no larger.
		mtu, err := afpacket.MTU(o.fd, o.device)
		if err != nil {
			return nil, o.fail("ioctl SIOCGIFMTU", err)
		}
		if afpacket.Offload(o.fd, o.device) && mtu < 65535 {
			mtu = 65535
		}
		if mtu+18 < frameSnap {
			frameSnap = mtu + 18
		}
	}
	geo := ringRequest{
		version:    version,
		cooked:     h.cooked,
		reserve:    reserve,
		snaplen:    frameSnap,
		bufferSize: cfg.BufferSize,
		blockSize:  cfg.BlockSize,
		pageSize:   os.Getpagesize(),
	}
	info, tov, err := o.setRing(geo)
	if err != nil {
		return nil, err
	}
	h.info, h.blockTimeout = info, tov
	mem, err := unix.Mmap(o.fd, 0, info.Size(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, o.fail("mmap", err)
	}
	o.mem = mem
	r, err := newRing(mem, info, dec)
	if err != nil {
		return nil, o.fail("", err)
	}

	// A filter that returns the snapshot length makes the kernel copy no
	// more than that into the ring.
	if cfg.Snaplen < DefaultSnaplen {
		prog, _ := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: uint32(cfg.Snaplen)}})
		if err := attachFilter(o.fd, prog); err != nil {
			return nil, o.fail("setsockopt SO_ATTACH_FILTER", err)
		}
		h.filter = prog
	}
	if cfg.Direction == DirectionIn {
		_ = unix.SetsockoptInt(o.fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1)
	}

	// Bind: packets start to flow.
	proto := cfg.Protocol
	if proto == 0 {
		proto = unix.ETH_P_ALL
	}
	if err := unix.Bind(o.fd, &unix.SockaddrLinklayer{Protocol: afpacket.Htons(proto), Ifindex: h.ifindex}); err != nil {
		return nil, o.fail("bind", err)
	}
	if e, err := unix.GetsockoptInt(o.fd, unix.SOL_SOCKET, unix.SO_ERROR); err != nil {
		return nil, o.fail("getsockopt SO_ERROR", err)
	} else if e != 0 {
		if unix.Errno(e) == unix.ENETDOWN {
			return nil, o.fail("", ErrInterfaceDown)
		}
		return nil, o.fail("bind", unix.Errno(e))
	}

	if cfg.Promisc && !any {
		mreq := unix.PacketMreq{Ifindex: int32(h.ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(o.fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return nil, o.fail("setsockopt PACKET_ADD_MEMBERSHIP", err)
		}
	}

	if !any {
		if ls, err := afpacket.OpenLinkStats(); err == nil {
			o.stats = ls
			if d, err := ls.Drops(h.ifindex); err == nil {
				h.ifdropAt = d
			}
		}
	}

	file := os.NewFile(uintptr(o.fd), "packet:"+o.device)
	rc, err := file.SyscallConn()
	if err != nil {
		file.Close()
		o.fd = -1
		return nil, o.fail("", err)
	}
	h.file, h.rc = file, rc
	h.ring, h.mem = r, mem
	h.nonblock = cfg.NonBlocking
	h.linkStats = o.stats
	o.fd, o.mem, o.stats = -1, nil, nil // owned by the handle now
	return h, nil
}

// tpFeatureFillRxHash is TP_FT_REQ_FILL_RXHASH: the kernel computes each
// packet's flow hash for a TPACKET_V3 ring.
const tpFeatureFillRxHash = 1

// setVersion selects the ring version: the one forced, or V3 (V2 in
// immediate mode) falling back to older versions the kernel lacks.
func (o *opener) setVersion() (TPacketVersion, error) {
	var try []TPacketVersion
	switch {
	case o.cfg.TPacketVersion != TPacketAuto:
		try = []TPacketVersion{o.cfg.TPacketVersion}
	case o.cfg.Immediate:
		try = []TPacketVersion{TPacketV2, TPacketV1}
	default:
		try = []TPacketVersion{TPacketV3, TPacketV2, TPacketV1}
	}
	var err error
	for _, v := range try {
		if err = unix.SetsockoptInt(o.fd, unix.SOL_PACKET, unix.PACKET_VERSION, kernelVersion(v)); err == nil {
			return v, nil
		}
	}
	return 0, o.fail("setsockopt PACKET_VERSION", err)
}

// setRing asks the kernel for the ring, shrinking it by 5% while it answers
// ENOMEM.
func (o *opener) setRing(req ringRequest) (RingInfo, time.Duration, error) {
	info := req.geometry()
	tov := o.cfg.BlockTimeout
	if tov == 0 {
		tov = o.cfg.Timeout
		if o.cfg.Immediate {
			// V3 forced in immediate mode: retire blocks as soon as the
			// kernel's timer allows.
			tov = time.Millisecond
		}
	}
	tovMs := uint32((tov + time.Millisecond - 1) / time.Millisecond)
	for {
		var err error
		if info.Version == TPacketV3 {
			err = afpacket.SetsockoptTpacketReq3(o.fd, unix.PACKET_RX_RING, &unix.TpacketReq3{
				Block_size:     uint32(info.BlockSize),
				Block_nr:       uint32(info.BlockNr),
				Frame_size:     uint32(info.FrameSize),
				Frame_nr:       uint32(info.FrameNr),
				Retire_blk_tov: tovMs,
				// Ask for the flow hash, which CaptureInfo.RxHash reports.
				Feature_req_word: tpFeatureFillRxHash,
			})
		} else {
			err = afpacket.SetsockoptTpacketReq(o.fd, unix.PACKET_RX_RING, &unix.TpacketReq{
				Block_size: uint32(info.BlockSize),
				Block_nr:   uint32(info.BlockNr),
				Frame_size: uint32(info.FrameSize),
				Frame_nr:   uint32(info.FrameNr),
			})
		}
		if err == nil {
			if info.Version != TPacketV3 {
				tovMs = 0
			}
			return info, time.Duration(tovMs) * time.Millisecond, nil
		}
		if err != unix.ENOMEM || info.BlockNr <= 1 {
			return RingInfo{}, 0, o.fail("setsockopt PACKET_RX_RING", err)
		}
		info = shrinkRing(info)
	}
}

func attachFilter(fd int, prog []bpf.RawInstruction) error {
	if len(prog) == 0 {
		return errors.New("empty filter program")
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: (*unix.SockFilter)(unsafeRawInstructions(prog))}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog)
}

// linkTypeOf maps an ARPHRD_* hardware type to the link type of the data the
// kernel gives a raw packet socket, and reports whether the device must be
// captured in cooked mode instead.
func linkTypeOf(arphrd uint16) (LinkType, bool) {
	switch arphrd {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
		return LinkTypeEthernet, false
	case unix.ARPHRD_NONE, unix.ARPHRD_TUNNEL, unix.ARPHRD_TUNNEL6, unix.ARPHRD_SIT,
		unix.ARPHRD_IPGRE, unix.ARPHRD_SLIP, unix.ARPHRD_CSLIP, unix.ARPHRD_SLIP6,
		unix.ARPHRD_CSLIP6, unix.ARPHRD_RAWIP:
		return LinkTypeRaw, false
	case unix.ARPHRD_IEEE80211_RADIOTAP:
		return LinkTypeIEEE802_11Radio, false
	case unix.ARPHRD_IEEE80211:
		return LinkTypeIEEE802_11, false
	case unix.ARPHRD_NETLINK:
		return LinkTypeNetlink, false
	case unix.ARPHRD_CAN:
		return LinkTypeCANSocketCAN, false
	}
	// PPP and anything without a known header: cooked.
	return LinkTypeLinuxSLL, true
}
