package pcap

// Stats are a handle's packet counters, cumulative since it was opened. The
// field names are those of gopacket/pcap.
type Stats struct {
	// PacketsReceived counts packets that passed the filter and were
	// offered to the ring, dropped ones included (libpcap's ps_recv).
	PacketsReceived int
	// PacketsDropped counts packets the kernel dropped because the ring was
	// full (ps_drop).
	PacketsDropped int
	// PacketsIfDropped counts packets the interface itself dropped
	// (rx_missed_errors and rx_fifo_errors) since the handle was opened
	// (ps_ifdrop). It stays 0 on the "any" device.
	PacketsIfDropped int
	// QueueFreezes counts how often a TPACKET_V3 ring was full and the
	// kernel froze its queue until a block was handed back.
	QueueFreezes int
}
