//go:build linux

package afpacket

import (
	"encoding/binary"
	"errors"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// LinkStats reads an interface's drop counters over rtnetlink. The socket is
// opened with the capture socket, so it queries the same network namespace
// whatever thread asks later.
type LinkStats struct {
	mu  sync.Mutex // guards fd, seq and buf
	fd  int
	seq uint32
	buf []byte
}

// OpenLinkStats opens a NETLINK_ROUTE socket in the calling thread's
// network namespace.
func OpenLinkStats() (*LinkStats, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	tv := unix.Timeval{Sec: 1}
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	return &LinkStats{fd: fd, buf: make([]byte, 64<<10)}, nil
}

// Close closes the socket.
func (l *LinkStats) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fd >= 0 {
		unix.Close(l.fd)
		l.fd = -1
	}
}

// Index of rx_fifo_errors and rx_missed_errors in struct rtnl_link_stats64.
const (
	statsRxFifoErrors   = 14
	statsRxMissedErrors = 15
)

var errNoStats = errors.New("no IFLA_STATS64 in the link message")

// Drops returns rx_missed_errors + rx_fifo_errors of interface ifindex.
func (l *LinkStats) Drops(ifindex int) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fd < 0 {
		return 0, unix.EBADF
	}
	l.seq++
	// struct nlmsghdr + struct ifinfomsg
	req := make([]byte, unix.SizeofNlMsghdr+unix.SizeofIfInfomsg)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.RTM_GETLINK)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST)
	ne.PutUint32(req[8:], l.seq)
	req[16] = unix.AF_UNSPEC
	ne.PutUint32(req[20:], uint32(ifindex))
	if err := unix.Sendto(l.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, err
	}
	for {
		n, _, err := unix.Recvfrom(l.fd, l.buf, 0)
		if err != nil {
			return 0, err
		}
		msgs, err := syscall.ParseNetlinkMessage(l.buf[:n])
		if err != nil {
			return 0, err
		}
		for _, m := range msgs {
			if m.Header.Seq != l.seq {
				continue
			}
			switch m.Header.Type {
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if e := int32(ne.Uint32(m.Data)); e != 0 {
						return 0, unix.Errno(-e)
					}
				}
				return 0, errNoStats
			case unix.RTM_NEWLINK:
				return linkDrops(m.Data)
			}
		}
	}
}

func linkDrops(data []byte) (uint64, error) {
	if len(data) < unix.SizeofIfInfomsg {
		return 0, errNoStats
	}
	attrs := data[unix.SizeofIfInfomsg:]
	ne := binary.NativeEndian
	for len(attrs) >= unix.SizeofRtAttr {
		alen := int(ne.Uint16(attrs[0:]))
		atype := ne.Uint16(attrs[2:])
		if alen < unix.SizeofRtAttr || alen > len(attrs) {
			break
		}
		if atype == unix.IFLA_STATS64 && alen >= unix.SizeofRtAttr+8*(statsRxMissedErrors+1) {
			v := attrs[unix.SizeofRtAttr:alen]
			return ne.Uint64(v[8*statsRxFifoErrors:]) + ne.Uint64(v[8*statsRxMissedErrors:]), nil
		}
		next := (alen + unix.RTA_ALIGNTO - 1) &^ (unix.RTA_ALIGNTO - 1)
		if next > len(attrs) {
			break
		}
		attrs = attrs[next:]
	}
	return 0, errNoStats
}
