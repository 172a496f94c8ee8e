package pcap

import (
	"net"
)

// Interface describes a device that can be captured on, as gopacket/pcap's
// Interface does.
type Interface struct {
	Name        string
	Description string
	Index       int
	Flags       uint32 // net.Flags bits of the device, 0 for "any"
	Addresses   []InterfaceAddress
}

// InterfaceAddress is an address of an interface.
type InterfaceAddress struct {
	IP        net.IP
	Netmask   net.IPMask
	Broadaddr net.IP // IPv4 broadcast address, if any
	P2P       net.IP // peer of a point-to-point link, if any
}

// FindAllDevs lists the devices of the calling thread's network namespace
// that can be captured on, followed by the "any" pseudo-device, like
// pcap_findalldevs: up devices first.
func FindAllDevs() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, &OpError{Op: "findalldevs", Device: "", Err: err}
	}
	var up, down []Interface
	for _, ifc := range ifs {
		dev := Interface{Name: ifc.Name, Index: ifc.Index, Flags: uint32(ifc.Flags)}
		if ifc.Flags&net.FlagLoopback != 0 {
			dev.Description = "loopback"
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ia := InterfaceAddress{IP: ipn.IP, Netmask: ipn.Mask}
			if ip4 := ipn.IP.To4(); ip4 != nil && ifc.Flags&net.FlagBroadcast != 0 && len(ipn.Mask) == net.IPv4len {
				b := make(net.IP, net.IPv4len)
				for i := range b {
					b[i] = ip4[i] | ^ipn.Mask[i]
				}
				ia.Broadaddr = b
			}
			dev.Addresses = append(dev.Addresses, ia)
		}
		if ifc.Flags&net.FlagUp != 0 {
			up = append(up, dev)
		} else {
			down = append(down, dev)
		}
	}
	all := append(up, down...)
	all = append(all, Interface{Name: "any", Description: "Pseudo-device that captures on all interfaces", Flags: uint32(net.FlagUp | net.FlagRunning)})
	return all, nil
}
