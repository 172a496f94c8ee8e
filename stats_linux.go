package pcap

import "github.com/purecap/pcap/internal/afpacket"

// Stats returns the handle's counters. The kernel resets its own counters
// each time they are read; the handle adds them up.
func (h *Handle) Stats() (Stats, error) {
	if h.stop.Load()&stopClosed != 0 {
		return Stats{}, ErrClosed
	}
	h.statsMu.Lock()
	defer h.statsMu.Unlock()
	if err := h.pullKernelStats(); err != nil {
		return Stats{}, err
	}
	if h.linkStats != nil {
		if d, err := h.linkStats.Drops(h.ifindex); err == nil && d >= h.ifdropAt {
			h.stats.PacketsIfDropped = int(d - h.ifdropAt)
		}
	}
	return h.stats, nil
}

// pullKernelStats adds the kernel's counters to h.stats. statsMu is held.
func (h *Handle) pullKernelStats() error {
	var serr error
	if err := h.rc.Control(func(fd uintptr) { serr = h.pullKernelStatsFd(int(fd)) }); err != nil {
		return ErrClosed
	}
	return serr
}

func (h *Handle) pullKernelStatsFd(fd int) error {
	packets, drops, freezes, err := afpacket.Stats(fd, h.info.Version == TPacketV3)
	if err != nil {
		return h.opErr("stats", err)
	}
	h.stats.PacketsReceived += int(packets)
	h.stats.PacketsDropped += int(drops)
	h.stats.QueueFreezes += int(freezes)
	return nil
}
