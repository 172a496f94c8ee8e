package filter

import (
	"testing"
)

// FuzzCompile feeds arbitrary expressions to Compile: it must not panic,
// and any program it returns must be one the kernel takes.
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
		// Every packet gets a verdict without trouble, the one of the
		// unoptimized program (when that one is not too long) unless that
		// one faults.
		plain, _ := CompileWith(linkType, 0, expr, Options{unoptimized: true})
		for _, p := range syntheticPackets(linkType)[:20] {
			v := run(prog, p.data, p.wireLen, p.meta)
			if v != 0 && v != DefaultSnaplen {
				t.Fatalf("Compile(%d, %q) returns %d", linkType, expr, v)
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
