package filter

import (
	"strings"
	"testing"

	ibpf "github.com/purecap/pcap/internal/bpf"
)

// FuzzCompile feeds arbitrary expressions to Compile: it must not panic,
// any program it returns must be valid, with a backward jump only for
// protochain's loop, and the program Options.Unroll gives must be one the
// kernel takes, with the same verdicts.
func FuzzCompile(f *testing.F) {
	for _, c := range allCases(f) {
		f.Add(uint8(c.lt&0xff), c.expr)
	}
	f.Add(uint8(1), "tcp port 80 or 443 and not (host 10.0.0.1 or 10.0.0.2)")
	f.Add(uint8(1), "vlan and mpls and pppoes and ip[0:4] % 3 ^ 2 = 1")
	f.Add(uint8(1), "len > 100 and geneve 1 and vlan and tcp port 80 or ether broadcast")
	f.Add(uint8(2), "decnet src 1.2 or decnet dst host 63.1023 and l1 or psnp")
	f.Add(uint8(1), "llc ui or llc rnr or llc i and not isis proto 20")
	f.Fuzz(func(t *testing.T, lt uint8, expr string) {
		types := []uint32{LinkTypeEthernet, LinkTypeLinuxSLL, LinkTypeLinuxSLL2, LinkTypeRaw, LinkTypeNull, LinkTypeLoop}
		linkType := types[int(lt)%len(types)]
		prog, err := Compile(linkType, 0, expr)
		if err != nil {
			return
		}
		if err := validProgram(prog); err != nil {
			t.Fatalf("Compile(%d, %q): %v\n%s", linkType, expr, err, disasm(prog))
		}
		if ibpf.HasBackwardJump(prog) && !strings.Contains(expr, "protochain") {
			t.Fatalf("Compile(%d, %q) loops without protochain\n%s", linkType, expr, disasm(prog))
		}
		unrolled, err := CompileWith(linkType, 0, expr, Options{Unroll: true})
		if err != nil {
			t.Fatalf("Compile(%d, %q) succeeds, with Unroll: %v", linkType, expr, err)
		}
		if err := ibpf.ValidateKernel(unrolled); err != nil && !bogusAncillary(unrolled) {
			t.Fatalf("Compile(%d, %q) with Unroll: %v\n%s", linkType, expr, err, disasm(unrolled))
		}
		// Every packet gets a verdict without trouble, the one of the
		// unoptimized program (when that one is not too long) unless that
		// one faults.
		plain, _ := CompileWith(linkType, 0, expr, Options{unoptimized: true})
		for _, p := range syntheticPackets(linkType)[:20] {
			v := run(prog, p.data, p.wireLen, p.meta)
			if v != 0 && v != DefaultSnaplen {
				t.Fatalf("Compile(%d, %q) returns %d", linkType, expr, v)
			}
			if w := run(unrolled, p.data, p.wireLen, p.meta); w != v {
				t.Fatalf("Compile(%d, %q) returns %d, with Unroll %d, on % x", linkType, expr, v, w, p.data)
			}
			if plain == nil {
				continue
			}
			if u := run(plain, p.data, p.wireLen, p.meta); u != v && !faults(plain, p) {
				t.Fatalf("Compile(%d, %q) returns %d, unoptimized %d, on % x\noptimized:\n%s\nunoptimized:\n%s",
					linkType, expr, v, u, p.data, disasm(prog), disasm(plain))
			}
		}
	})
}
