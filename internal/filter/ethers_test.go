package filter

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestEtherHostName(t *testing.T) {
	byName, err := Compile(LinkTypeEthernet, 0, "ether src gw1 or ether dst GW1 and tcp")
	if err != nil {
		t.Fatal(err)
	}
	byAddr, err := Compile(LinkTypeEthernet, 0, "ether src 02:11:22:33:44:55 or ether dst 02:11:22:33:44:55 and tcp")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(byName, byAddr) {
		t.Errorf("ether host by name:\n%s\nby address:\n%s", disasm(byName), disasm(byAddr))
	}
	for _, c := range []struct {
		lt   uint32
		expr string
		want string
	}{
		{LinkTypeEthernet, "ether host nosuch", `unknown ether host "nosuch"`},
		{LinkTypeLinuxSLL, "ether host gw1", "supports link-level host name"},
		{LinkTypeEthernet, "gateway gw1", "'gateway' not supported"},
	} {
		_, err := Compile(c.lt, 0, c.expr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want an error with %q", c.expr, err, c.want)
		}
	}
}

func TestEtherByName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ethers")
	data := "# comment\n8:0:20:1:2:3  sun1\n\n00:1b:21:ab:CD:ef Router # main router\nzz:00:00:00:00:00 bad\n00:11:22:33:44 short\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		want [6]byte
		ok   bool
	}{
		{"sun1", [6]byte{8, 0, 0x20, 1, 2, 3}, true},
		{"router", [6]byte{0, 0x1b, 0x21, 0xab, 0xcd, 0xef}, true},
		{"bad", [6]byte{}, false},
		{"short", [6]byte{}, false},
		{"missing", [6]byte{}, false},
	} {
		got, ok := etherByName(path, c.name)
		if got != c.want || ok != c.ok {
			t.Errorf("etherByName(%q) = %x, %v; want %x, %v", c.name, got, ok, c.want, c.ok)
		}
	}
	if _, ok := etherByName(filepath.Join(t.TempDir(), "none"), "sun1"); ok {
		t.Error("found a name in a missing file")
	}
}
