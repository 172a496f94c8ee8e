//go:build linux

package filter

import (
	"errors"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestKernelAccepts attaches every program Compile produces with
// Options.Unroll for the conformance cases to a socket: the Linux kernel
// must take them all.
func TestKernelAccepts(t *testing.T) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Skipf("no socket: %v", err)
	}
	defer unix.Close(fd)
	n := 0
	for _, c := range append(allCases(t), confCase{LinkTypeEthernet, manyHosts(100), "long"}) {
		prog, err := CompileWith(c.lt, 0, c.expr, Options{Unroll: true})
		if err != nil {
			continue
		}
		fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
			switch {
			case errors.Is(err, os.ErrPermission):
				t.Skip("attaching a filter needs CAP_NET_RAW here")
			case errors.Is(err, unix.ENOMEM):
				// The socket's option memory (net.core.optmem_max) is too
				// small for this program.
				t.Logf("%s: %d instructions: %v", c.src, len(prog), err)
				continue
			case bogusAncillary(prog):
				// libpcap's program has the same load, which the
				// kernel refuses too.
				continue
			}
			t.Errorf("%s: kernel refuses the program for %q: %v\n%s", c.src, c.expr, err, disasm(prog))
		}
		n++
	}
	t.Logf("the kernel took %d programs", n)
}
