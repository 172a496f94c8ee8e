//go:build linux

package filter

import (
	"errors"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestGeneveKernelAccepts attaches programs with geneve to a socket: the
// kernel must take them, which needs every scratch slot stored before it
// is read on every path.
func TestGeneveKernelAccepts(t *testing.T) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Skipf("no socket: %v", err)
	}
	defer unix.Close(fd)
	attach := func(lt uint32, expr string, opts Options) {
		t.Helper()
		prog, err := CompileWith(lt, 0, expr, opts)
		if err != nil {
			t.Fatalf("%s %q: %v", linkTypeName(lt), expr, err)
		}
		fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
			if errors.Is(err, os.ErrPermission) {
				t.Skip("attaching a filter needs CAP_NET_RAW here")
			}
			t.Errorf("%s: kernel refuses the program for %q: %v\n%s", linkTypeName(lt), expr, err, disasm(prog))
		}
	}
	for _, lt := range []uint32{LinkTypeEthernet, LinkTypeLinuxSLL, LinkTypeLinuxSLL2, LinkTypeRaw, LinkTypeNull} {
		for _, expr := range []string{
			"geneve", "geneve 1 and tcp port 80", "geneve or ip", "not geneve and udp", "geneve and ether host 00:11:22:33:44:55",
			"geneve and vlan and ip", "geneve and geneve 5 and udp port 53", "ip6 and geneve and tcp[13] & 2 != 0",
			"geneve and (decnet host 1.2 or llc ui or l1)", "geneve or decnet src 10.5", "geneve and vlan 100 and geneve",
		} {
			attach(lt, expr, Options{})
		}
	}
	// A live Linux filter, where the first vlan comes from the kernel.
	for _, expr := range []string{"vlan and geneve and ip", "vlan 100 and geneve 1 and vlan 200 and tcp", "geneve and vlan and udp"} {
		attach(LinkTypeEthernet, expr, Options{LinuxVLAN: true})
	}
}
