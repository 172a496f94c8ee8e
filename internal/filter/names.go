package filter

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// etherProtos are the names "ether proto \name" accepts.
var etherProtos = map[string]uint32{
	"aarp": etherAARP, "arp": etherARP, "atalk": etherAtalk, "decnet": etherDECnet,
	"ip": etherIP, "ip6": etherIPv6, "lat": etherLAT, "loopback": 0x9000,
	"mopdl": etherMOPDL, "moprc": etherMOPRC, "rarp": etherRARP, "sca": etherSCA,
}

// llcProtos are the LLC SAP names "ether proto \name" also accepts.
var llcProtos = map[string]uint32{
	"iso": sapISONS, "stp": sap8021D, "ipx": sapIPX, "netbeui": sapNetBEUI,
}

// isoProtos are the names "iso proto \name" accepts.
var isoProtos = map[string]uint32{"clnp": 0x81, "esis": 0x82, "isis": 0x83}

// builtinProtocols are used when /etc/protocols is missing.
var builtinProtocols = map[string]uint32{
	"ip": 0, "hopopt": 0, "icmp": 1, "igmp": 2, "ggp": 3, "ipencap": 4, "st": 5,
	"tcp": 6, "egp": 8, "igp": 9, "pup": 12, "udp": 17, "hmp": 20, "xns-idp": 22,
	"rdp": 27, "iso-tp4": 29, "dccp": 33, "xtp": 36, "ddp": 37, "idpr-cmtp": 38,
	"ipv6": 41, "ipv6-route": 43, "ipv6-frag": 44, "idrp": 45, "rsvp": 46,
	"gre": 47, "esp": 50, "ah": 51, "skip": 57, "ipv6-icmp": 58, "ipv6-nonxt": 59,
	"ipv6-opts": 60, "rspf": 73, "vmtp": 81, "eigrp": 88, "ospf": 89,
	"ax.25": 93, "ipip": 94, "etherip": 97, "encap": 98, "pim": 103,
	"ipcomp": 108, "vrrp": 112, "l2tp": 115, "isis": 124, "sctp": 132, "fc": 133,
	"mobility-header": 135, "udplite": 136, "mpls-in-ip": 137, "manet": 138,
	"hip": 139, "shim6": 140, "wesp": 141, "rohc": 142, "ethernet": 143,
}

// builtinServices are used when /etc/services is missing: name to port,
// for both TCP and UDP unless listed in tcpOnlyServices.
var builtinServices = map[string]uint32{
	"echo": 7, "discard": 9, "daytime": 13, "ftp-data": 20, "ftp": 21, "ssh": 22,
	"telnet": 23, "smtp": 25, "time": 37, "domain": 53, "bootps": 67,
	"bootpc": 68, "tftp": 69, "gopher": 70, "finger": 79, "http": 80, "www": 80,
	"kerberos": 88, "pop3": 110, "sunrpc": 111, "auth": 113, "nntp": 119,
	"ntp": 123, "netbios-ns": 137, "netbios-dgm": 138, "netbios-ssn": 139,
	"imap2": 143, "imap": 143, "snmp": 161, "snmp-trap": 162, "bgp": 179,
	"irc": 194, "ldap": 389, "https": 443, "microsoft-ds": 445, "isakmp": 500,
	"syslog": 514, "submission": 587, "ldaps": 636, "imaps": 993, "pop3s": 995,
	"openvpn": 1194, "radius": 1812, "nfs": 2049, "mysql": 3306,
	"postgresql": 5432, "http-alt": 8080,
}

var tcpOnlyServices = map[string]bool{
	"ftp-data": true, "ftp": true, "ssh": true, "telnet": true, "smtp": true,
	"http": true, "www": true, "https": true, "auth": true, "nntp": true,
	"imap2": true, "imap": true, "bgp": true, "ldaps": true, "imaps": true,
	"pop3s": true, "submission": true, "http-alt": true, "gopher": true,
	"finger": true, "pop3": true, "netbios-ssn": true, "microsoft-ds": true,
	"mysql": true, "postgresql": true,
}

type servicePorts struct{ tcp, udp int }

var (
	namesOnce sync.Once
	services  map[string]servicePorts
	protocols map[string]uint32
)

// eachEntry calls fn with the fields of each entry of an /etc/services or
// /etc/protocols style file (comments dropped, at least two fields), and
// reports whether the file could be read.
func eachEntry(path string, fn func(fields []string)) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if fs := strings.Fields(line); len(fs) >= 2 {
			fn(fs)
		}
	}
	return true
}

// loadNames reads the system's service and protocol names, or takes the
// built-in ones where the system has none.
func loadNames() {
	services = map[string]servicePorts{}
	read := eachEntry("/etc/services", func(fs []string) {
		portStr, proto, ok := strings.Cut(fs[1], "/")
		port, err := strconv.Atoi(portStr)
		if !ok || err != nil {
			return
		}
		for _, name := range append([]string{fs[0]}, fs[2:]...) {
			sp, seen := services[name]
			if !seen {
				sp = servicePorts{-1, -1}
			}
			switch {
			case proto == "tcp" && sp.tcp < 0:
				sp.tcp = port
			case proto == "udp" && sp.udp < 0:
				sp.udp = port
			}
			services[name] = sp
		}
	})
	if !read {
		for name, port := range builtinServices {
			sp := servicePorts{int(port), int(port)}
			if tcpOnlyServices[name] {
				sp.udp = -1
			}
			services[name] = sp
		}
	}
	protocols = map[string]uint32{}
	read = eachEntry("/etc/protocols", func(fs []string) {
		n, err := strconv.Atoi(fs[1])
		if err != nil || n < 0 || n > 255 {
			return
		}
		for _, name := range append([]string{fs[0]}, fs[2:]...) {
			if _, seen := protocols[name]; !seen {
				protocols[name] = uint32(n)
			}
		}
	})
	if !read {
		protocols = builtinProtocols
	}
}

// lookupPort finds a service's port and the protocol it is registered for
// (protoUndef when TCP and UDP share the number).
func lookupPort(name string) (uint32, int, bool) {
	namesOnce.Do(loadNames)
	sp, ok := services[name]
	if !ok {
		return 0, 0, false
	}
	switch {
	case sp.tcp >= 0:
		if sp.udp == sp.tcp {
			return uint32(sp.tcp), protoUndef, true
		}
		return uint32(sp.tcp), ipprotoTCP, true
	case sp.udp >= 0:
		return uint32(sp.udp), ipprotoUDP, true
	}
	return 0, 0, false
}

// lookupPortRange parses "lo-hi" with numbers or service names.
func lookupPortRange(name string) (lo, hi uint32, proto int, ok bool) {
	a, b, found := strings.Cut(name, "-")
	if !found {
		return 0, 0, 0, false
	}
	if x, err := strconv.ParseUint(a, 10, 32); err == nil {
		if y, err := strconv.ParseUint(b, 10, 32); err == nil {
			return uint32(x), uint32(y), protoUndef, true
		}
	}
	lo, p1, ok1 := lookupPort(a)
	hi, p2, ok2 := lookupPort(b)
	if !ok1 || !ok2 {
		return 0, 0, 0, false
	}
	if p1 != p2 {
		p1 = protoUndef
	}
	return lo, hi, p1, true
}

func lookupProtocol(name string) (uint32, bool) {
	namesOnce.Do(loadNames)
	v, ok := protocols[name]
	return v, ok
}

// resolveHost resolves a name with /etc/hosts, then DNS.
func resolveHost(name string) []netip.Addr {
	if a, err := netip.ParseAddr(name); err == nil {
		return []netip.Addr{a.Unmap()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", name)
	if err != nil {
		return nil
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs
}

// lookupEther finds a host's Ethernet address in /etc/ethers; tests replace
// it.
var lookupEther = func(name string) ([6]byte, bool) { return etherByName("/etc/ethers", name) }

// etherByName reads an ethers(5) file: lines of an Ethernet address and a
// host name, "#" starting a comment. Names are matched case-insensitively.
func etherByName(path, name string) ([6]byte, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return [6]byte{}, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 || !strings.EqualFold(f[1], name) {
			continue
		}
		if mac, ok := parseEtherAddr(f[0]); ok {
			return mac, true
		}
	}
	return [6]byte{}, false
}

// parseEtherAddr parses six hexadecimal bytes of one or two digits
// separated by colons, as ethers(5) writes them.
func parseEtherAddr(s string) ([6]byte, bool) {
	var mac [6]byte
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return mac, false
	}
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil || len(p) == 0 || len(p) > 2 {
			return mac, false
		}
		mac[i] = byte(v)
	}
	return mac, true
}
