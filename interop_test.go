package pcap

// Interoperability of the savefile readers and writers with tcpdump and
// tshark: files written here are read by the tools, which must see the same
// packets (count, lengths, bytes, timestamps to the nanosecond, pcapng
// interface names and statistics); files the tools write are read here, and
// must give what the tools print for them.
//
// The tests that run a tool skip when it is not installed, except with
// CI=true, where they fail. TestInteropStoredFiles needs no tool: it reads
// files made by tcpdump, tshark and dumpcap, kept in testdata/savefile with
// what the tools printed for them (see the README there; regenerate with
// go test -run TestInteropStoredFiles -update-savefiles).

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/purecap/pcap/internal/filtertest"
)

var updateSavefiles = flag.Bool("update-savefiles", false, "rewrite the tool outputs in testdata/savefile with the installed tcpdump and tshark")

// needTool returns the path of a command the test needs. Without it the
// test is skipped, or fails with CI=true.
func needTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("interoperability test needs %s, not found in PATH (Debian: apt-get install tcpdump tshark)", name)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " — CI=true, so it may not skip")
	}
	t.Skip(msg)
	return ""
}

// runTool runs a command and returns its standard output. Its standard
// error is shown only when it fails: tshark warns there when run as root.
func runTool(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// toolPacket is a packet as a tool printed it. Fields the tool did not
// print are -1 or empty.
type toolPacket struct {
	TS      int64 // ns since 1970
	Len     int   // original length
	CapLen  int
	Data    []byte
	IfID    int
	IfName  string
	HaveLen bool // Len was printed
}

func (p toolPacket) String() string {
	d := p.Data
	more := ""
	if len(d) > 64 {
		d, more = d[:64], fmt.Sprintf("... (%d bytes)", len(p.Data))
	}
	return fmt.Sprintf("ts %s len %d caplen %d if %d %q data %x%s", fmtNanos(p.TS), p.Len, p.CapLen, p.IfID, p.IfName, d, more)
}

func fmtNanos(ns int64) string { return fmt.Sprintf("%d.%09d", ns/1e9, ns%1e9) }

// parseNanos parses seconds with a fraction ("1700000000.123456789").
func parseNanos(s string) (int64, error) {
	sec, frac, _ := strings.Cut(s, ".")
	if len(frac) > 9 {
		return 0, fmt.Errorf("timestamp %q: more than 9 decimals", s)
	}
	frac += strings.Repeat("0", 9-len(frac))
	a, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("timestamp %q: %v", s, err)
	}
	b, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("timestamp %q: %v", s, err)
	}
	return a*1e9 + b, nil
}

var (
	tcpdumpHead = regexp.MustCompile(`^(\d+\.\d{9}) (.*)$`)
	tcpdumpHex  = regexp.MustCompile(`^\t0x([0-9a-f]{4,}):  ([0-9a-f ]+)$`)
	// The length tcpdump -e prints after an Ethernet II header is the
	// frame's original length (after an 802.3 header, the length field).
	tcpdumpEtherLen = regexp.MustCompile(`^[0-9a-f:]{17} > [0-9a-f:]{17}, ethertype [^,]*, length (\d+)`)
)

// tcpdumpArgs are the options tcpdump reads a file with: timestamps in
// seconds to the nanosecond, link-layer headers, and every captured byte
// in hex.
var tcpdumpArgs = []string{"-nn", "-tt", "--time-stamp-precision=nano", "-e", "-xx"}

// tcpdumpRead returns the packets of a file as tcpdump prints them.
func tcpdumpRead(t testing.TB, path string) []toolPacket {
	t.Helper()
	out := runTool(t, "tcpdump", append([]string{"-r", path}, tcpdumpArgs...)...)
	pkts, err := parseTcpdump(out)
	if err != nil {
		t.Fatalf("tcpdump -r %s: %v", path, err)
	}
	return pkts
}

func parseTcpdump(out []byte) ([]toolPacket, error) {
	var pkts []toolPacket
	for n, line := range strings.Split(string(out), "\n") {
		if line == "" {
			continue
		}
		if m := tcpdumpHex.FindStringSubmatch(line); m != nil {
			if len(pkts) == 0 {
				return nil, fmt.Errorf("line %d: hex before the first packet", n+1)
			}
			b, err := hex.DecodeString(strings.ReplaceAll(m[2], " ", ""))
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", n+1, err)
			}
			p := &pkts[len(pkts)-1]
			// A protocol printer can dump bytes in the same form; the
			// dump of the whole packet (-xx) comes last.
			if m[1] == "0000" {
				p.Data = p.Data[:0]
			} else if off, _ := strconv.ParseUint(m[1], 16, 32); int(off) != len(p.Data) {
				return nil, fmt.Errorf("line %d: offset 0x%s after %d bytes", n+1, m[1], len(p.Data))
			}
			p.Data = append(p.Data, b...)
			p.CapLen = len(p.Data)
			continue
		}
		if strings.HasPrefix(line, "\t") || strings.HasPrefix(line, " ") {
			continue // a protocol's continuation line
		}
		m := tcpdumpHead.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("line %d: unexpected %q", n+1, line)
		}
		ts, err := parseNanos(m[1])
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", n+1, err)
		}
		p := toolPacket{TS: ts, Len: -1, IfID: -1, Data: []byte{}}
		if l := tcpdumpEtherLen.FindStringSubmatch(m[2]); l != nil {
			p.Len, _ = strconv.Atoi(l[1])
			p.HaveLen = true
		}
		pkts = append(pkts, p)
	}
	return pkts, nil
}

// tsharkRead returns the packets of a file as tshark dissects them: its
// frame fields and the raw bytes, from its JSON output.
func tsharkRead(t testing.TB, path string) []toolPacket {
	t.Helper()
	out := runTool(t, "tshark", "-n", "-r", path, "-T", "json", "-x", "-J", "frame")
	pkts, err := parseTshark(out)
	if err != nil {
		t.Fatalf("tshark -r %s: %v", path, err)
	}
	return pkts
}

// tsharkNoBytes is what tshark's JSON output has instead of the bytes of a
// frame too long for it to print.
const tsharkNoBytes = "field length invalid!"

func parseTshark(out []byte) ([]toolPacket, error) {
	var frames []struct {
		Source struct {
			Layers struct {
				Raw   []json.RawMessage `json:"frame_raw"`
				Frame map[string]any    `json:"frame"`
			} `json:"layers"`
		} `json:"_source"`
	}
	if err := json.Unmarshal(out, &frames); err != nil {
		return nil, err
	}
	pkts := make([]toolPacket, 0, len(frames))
	for i, f := range frames {
		l := f.Source.Layers
		field := func(name string) string { s, _ := l.Frame[name].(string); return s }
		num := func(name string) (int, error) {
			v, err := strconv.Atoi(field(name))
			if err != nil {
				return 0, fmt.Errorf("frame %d: %s = %q", i+1, name, field(name))
			}
			return v, nil
		}
		var p toolPacket
		var err error
		if p.TS, err = parseNanos(field("frame.time_epoch")); err != nil {
			return nil, fmt.Errorf("frame %d: %v", i+1, err)
		}
		if p.Len, err = num("frame.len"); err != nil {
			return nil, err
		}
		if p.CapLen, err = num("frame.cap_len"); err != nil {
			return nil, err
		}
		p.HaveLen = true
		p.IfID = -1
		if field("frame.interface_id") != "" {
			if p.IfID, err = num("frame.interface_id"); err != nil {
				return nil, err
			}
		}
		// The name is in the subtree of the interface id.
		if tree, ok := l.Frame["frame.interface_id_tree"].(map[string]any); ok {
			p.IfName, _ = tree["frame.interface_name"].(string)
		}
		if p.IfName == "unknown" { // what tshark shows for an interface without if_name
			p.IfName = ""
		}
		p.Data = []byte{}
		if len(l.Raw) > 0 {
			var h string
			if err := json.Unmarshal(l.Raw[0], &h); err != nil {
				return nil, fmt.Errorf("frame %d: frame_raw: %v", i+1, err)
			}
			if h == tsharkNoBytes {
				// tshark prints no bytes for a frame longer than 65535.
				p.Data = nil
			} else if p.Data, err = hex.DecodeString(h); err != nil {
				return nil, fmt.Errorf("frame %d: frame_raw: %v", i+1, err)
			}
		}
		pkts = append(pkts, p)
	}
	return pkts, nil
}

// ourRead returns the packets of a file as OpenOffline reads them, with the
// pcapng interface names from NgReader.
func ourRead(t testing.TB, path string) []toolPacket {
	t.Helper()
	h, err := OpenOffline(path)
	if err != nil {
		t.Fatalf("OpenOffline(%s): %v", path, err)
	}
	defer h.Close()
	var pkts []toolPacket
	_, err = h.Loop(-1, func(data []byte, ci CaptureInfo) {
		pkts = append(pkts, toolPacket{
			TS: ci.Timestamp, Len: ci.Length, CapLen: ci.CaptureLength,
			Data: bytes.Clone(data), IfID: ci.InterfaceIndex, HaveLen: true,
		})
	})
	if err != io.EOF {
		t.Fatalf("%s: Loop: %v, want io.EOF", path, err)
	}
	if _, ifs := readSavefile(t, path); ifs != nil {
		for i := range pkts {
			if id := pkts[i].IfID; id >= 0 && id < len(ifs) {
				pkts[i].IfName = ifs[id].Name
			}
		}
	}
	return pkts
}

// comparePackets checks that a tool saw the packets we expect. What the
// tool did not print (tcpdump: interfaces; lengths of non-Ethernet
// frames) is not compared.
func comparePackets(t testing.TB, what string, got, want []toolPacket) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d packets, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		ok := g.TS == w.TS && g.CapLen == w.CapLen && (g.Data == nil || bytes.Equal(g.Data, w.Data))
		if g.HaveLen && w.HaveLen && g.Len != w.Len {
			ok = false
		}
		if g.IfID >= 0 && w.IfID >= 0 && (g.IfID != w.IfID || g.IfName != w.IfName) {
			ok = false
		}
		if !ok {
			t.Errorf("%s: packet %d:\n got  %v\n want %v", what, i+1, g, w)
			if bad++; bad == 5 {
				t.Fatalf("%s: too many differences", what)
			}
		}
	}
}

// interopIface is an interface of a pcapng file we write.
type interopIface struct {
	name, desc string
	nano       bool
	linkType   LinkType
	stats      Stats
}

// interopPacket is a packet we write, and what a reader must see.
type interopPacket struct {
	ci    CaptureInfo
	data  []byte
	iface int
}

// interopPackets returns the packets the write tests use: Ethernet frames
// of an experimental ethertype from 14 to 1514 bytes, some cut short of
// their original length, the module's edge-case Ethernet packets, and the
// shared filter corpus's when it is there, with timestamps that use every
// nanosecond digit, spread over the given interfaces.
func interopPackets(t testing.TB, nIfaces int) []interopPacket {
	t.Helper()
	var datas [][]byte
	var lens []int
	for i := range 80 {
		n := 14 + (i*173)%1501
		b := make([]byte, n)
		copy(b, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5})
		for j := 14; j < n; j++ {
			b[j] = byte(i*7 + j)
		}
		orig := n
		if i%5 == 3 { // cut: the wire had more
			orig = n + 1 + i*11
		}
		datas = append(datas, b)
		lens = append(lens, orig)
	}
	for _, p := range filtertest.EdgePackets("EN10MB") {
		if len(p.Data) < 14 { // tcpdump prints no Ethernet header for these
			continue
		}
		datas = append(datas, p.Data)
		lens = append(lens, max(p.WireLen, len(p.Data)))
	}
	if shared, err := filtertest.SharedDir(); err == nil {
		if _, pkts, err := filtertest.ReadPcapFile(filepath.Join(shared, "corpus", "en10mb.pcap")); err == nil {
			for _, p := range pkts[:min(len(pkts), 60)] {
				if len(p.Data) >= 14 {
					datas = append(datas, p.Data)
					lens = append(lens, max(p.WireLen, len(p.Data)))
				}
			}
		}
	}
	t0 := time.Unix(1700000000, 123456789)
	pkts := make([]interopPacket, len(datas))
	for i, d := range datas {
		ts := t0.Add(time.Duration(i) * 987654321 * time.Nanosecond)
		if i%17 == 16 {
			ts = ts.Truncate(time.Second).Add(999999999) // carries when rounded
		}
		pkts[i] = interopPacket{
			ci:    CaptureInfo{Timestamp: ts.UnixNano(), CaptureLength: len(d), Length: lens[i]},
			data:  d,
			iface: i % nIfaces,
		}
	}
	return pkts
}

// writeInterop writes pkts to path in the given format and returns what a
// reader must see. pcapng files get the given interfaces (all Ethernet
// unless linkType says otherwise) with their statistics.
func writeInterop(t testing.TB, path string, ng bool, snaplen int, ifaces []interopIface, pkts []interopPacket) []toolPacket {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	first := ifaces[0]
	opts := []WriterOption{WithInterfaceName(first.name), WithInterfaceDescription(first.desc), WithApplication("purecap interop test")}
	if first.nano {
		opts = append(opts, WithNanosecondTimestamps())
	}
	lt := first.linkType
	if lt == 0 {
		lt = LinkTypeEthernet
	}
	var (
		w  *Writer
		nw *NgWriter
	)
	if ng {
		if nw, err = NewNgWriter(f, lt, snaplen, opts...); err != nil {
			t.Fatal(err)
		}
		for _, ifc := range ifaces[1:] {
			res := uint8(6)
			if ifc.nano {
				res = 9
			}
			lt := ifc.linkType
			if lt == 0 {
				lt = LinkTypeEthernet
			}
			if _, err := nw.AddInterface(NgInterface{Name: ifc.name, Description: ifc.desc, LinkType: lt, Snaplen: snaplen, TSResolution: res}); err != nil {
				t.Fatal(err)
			}
		}
	} else if w, err = NewWriter(f, lt, snaplen, opts...); err != nil {
		t.Fatal(err)
	}
	var want []toolPacket
	for _, p := range pkts {
		if ng {
			err = nw.WritePacketInterface(p.iface, p.ci, p.data)
		} else {
			err = w.WritePacket(p.ci, p.data)
		}
		if err != nil {
			t.Fatal(err)
		}
		ifc := ifaces[p.iface]
		ts := p.ci.Time()
		if !ifc.nano {
			ts = ts.Truncate(time.Microsecond)
		}
		capLen := len(p.data)
		if snaplen > 0 {
			capLen = min(capLen, snaplen)
		}
		tp := toolPacket{TS: ts.UnixNano(), Len: p.ci.Length, CapLen: capLen, Data: p.data[:capLen], HaveLen: true, IfID: -1}
		if ng {
			tp.IfID, tp.IfName = p.iface, ifc.name
		}
		want = append(want, tp)
	}
	if ng {
		for id, ifc := range ifaces {
			if err := nw.WriteStatistics(id, ifc.stats); err != nil {
				t.Fatal(err)
			}
		}
		err = nw.Close()
	} else {
		err = w.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return want
}

// TestInteropToolsReadOurs writes pcap and pcapng files, with microsecond
// and nanosecond timestamps, and checks what tcpdump and tshark read in them.
func TestInteropToolsReadOurs(t *testing.T) {
	type fileCase struct {
		name    string
		ng      bool
		snaplen int
		ifaces  []interopIface
		tcpdump bool // libpcap reads it (one link type for all interfaces)
	}
	cases := []fileCase{
		{"pcap-us", false, 262144, []interopIface{{}}, true},
		{"pcap-ns", false, 262144, []interopIface{{nano: true}}, true},
		{"pcap-ns-snaplen", false, 200, []interopIface{{nano: true}}, true},
		{"pcapng-us", true, 0, []interopIface{{name: "pa", desc: "veth end a"}}, true},
		{"pcapng-ns", true, 262144, []interopIface{{name: "pa", nano: true}}, true},
		{"pcapng-multi", true, 1000, []interopIface{
			{name: "eth0", desc: "first", nano: true, stats: Stats{PacketsReceived: 1001, PacketsDropped: 17, PacketsIfDropped: 4}},
			{name: "eth1", desc: "second", stats: Stats{PacketsReceived: 2002, PacketsDropped: 0}},
			{name: "veth-très-long-name", nano: true, stats: Stats{PacketsReceived: 3003, PacketsDropped: 33, PacketsIfDropped: 0}},
		}, true},
		// libpcap refuses interfaces of different link types: tshark only.
		{"pcapng-linktypes", true, 0, []interopIface{
			{name: "eth0", nano: true},
			{name: "any", linkType: LinkTypeLinuxSLL2},
			{name: "tun0", linkType: LinkTypeRaw, nano: true},
		}, false},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			pkts := interopPackets(t, len(c.ifaces))
			path := filepath.Join(dir, c.name)
			want := writeInterop(t, path, c.ng, c.snaplen, c.ifaces, pkts)
			if c.snaplen < 262144 {
				cut := 0
				for _, p := range want {
					if p.CapLen < p.Len {
						cut++
					}
				}
				if cut < 10 {
					t.Fatalf("only %d packets cut by the snapshot length", cut)
				}
			}
			// libpcap reads a pcapng file only if all its interfaces have
			// the same link type.
			t.Run("tcpdump", func(t *testing.T) {
				if !c.tcpdump {
					return
				}
				needTool(t, "tcpdump")
				got := tcpdumpRead(t, path)
				tw := make([]toolPacket, len(want))
				for i, p := range want {
					p.IfID = -1 // tcpdump does not print it
					tw[i] = p
				}
				for i := range got {
					if i < len(tw) && !got[i].HaveLen {
						tw[i].HaveLen = false
					}
				}
				comparePackets(t, "tcpdump", got, tw)
			})
			t.Run("tshark", func(t *testing.T) {
				needTool(t, "tshark")
				got := tsharkRead(t, path)
				tw := want
				if !c.ng { // tshark gives a pcap file's packets interface 0
					tw = make([]toolPacket, len(want))
					for i, p := range want {
						p.IfID = -1
						tw[i] = p
					}
				}
				comparePackets(t, "tshark", got, tw)
				if c.ng {
					checkTsharkInterfaces(t, path, c.ifaces)
				}
			})
		})
	}
}

// checkTsharkInterfaces checks the interfaces and statistics of one of our
// pcapng files as Wireshark's tools report them: capinfos lists the
// interfaces (name, description, link type, time precision, number of
// statistics blocks), and tshark's dissector of the pcapng format itself
// (-X read_format:"MIME Files Format"), the only place the Wireshark tools
// print an Interface Statistics Block's counters, gives isb_ifrecv,
// isb_ifdrop and isb_osdrop.
func checkTsharkInterfaces(t *testing.T, path string, ifaces []interopIface) {
	t.Helper()
	if _, err := exec.LookPath("capinfos"); err == nil {
		out := string(runTool(t, "capinfos", path))
		if !strings.Contains(out, fmt.Sprintf("Number of interfaces in file: %d\n", len(ifaces))) {
			t.Errorf("capinfos %s: want %d interfaces:\n%s", path, len(ifaces), out)
		}
		for i, ifc := range ifaces {
			_, block, _ := strings.Cut(out, fmt.Sprintf("Interface #%d info:\n", i))
			block, _, _ = strings.Cut(block, "Interface #")
			prec := "microseconds (6)"
			if ifc.nano {
				prec = "nanoseconds (9)"
			}
			for _, line := range []string{"Name = " + ifc.name, "Time precision = " + prec, "Number of stat entries = 1"} {
				if !strings.Contains(block, line+"\n") {
					t.Errorf("capinfos %s: interface %d: no line %q in\n%s", path, i, line, block)
				}
			}
			if ifc.desc != "" && !strings.Contains(block, "Description = "+ifc.desc+"\n") {
				t.Errorf("capinfos %s: interface %d: no description %q in\n%s", path, i, ifc.desc, block)
			}
		}
	} else if os.Getenv("CI") == "true" {
		t.Error("capinfos not found in PATH (it comes with tshark) — CI=true, so it may not skip")
	}

	withStats := false
	for _, ifc := range ifaces {
		withStats = withStats || ifc.stats != Stats{}
	}
	if !withStats {
		return // tshark is slow to start: once, for the file with counters
	}
	out := string(runTool(t, "tshark", "-r", path, "-X", "read_format:MIME Files Format", "-V"))
	var isbs []string
	for _, b := range strings.Split(out, "Block: ")[1:] {
		if strings.HasPrefix(b, "Interface Statistics Block") {
			isbs = append(isbs, b)
		}
	}
	if len(isbs) != len(ifaces) {
		t.Fatalf("tshark: %d interface statistics blocks, want %d", len(isbs), len(ifaces))
	}
	for i, ifc := range ifaces {
		b := isbs[i]
		for _, line := range []string{
			fmt.Sprintf("Interface: %d\n", i),
			fmt.Sprintf("Number of Received Packets: %d\n", ifc.stats.PacketsReceived),
			fmt.Sprintf("Number of Dropped Packets: %d\n", ifc.stats.PacketsDropped+ifc.stats.PacketsIfDropped),
			fmt.Sprintf("Number of Dropped Packets by OS: %d\n", ifc.stats.PacketsDropped),
		} {
			if !strings.Contains(b, line) {
				t.Errorf("tshark: statistics block %d: no %q in\n%s", i, strings.TrimSpace(line), b)
			}
		}
	}
}

// interopInputs writes the inputs the tools convert: a pcap file with
// nanosecond timestamps of our own, and returns it with the shared corpus
// files there are.
func interopInputs(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	ns := filepath.Join(dir, "ours-ns.pcap")
	writeInterop(t, ns, false, 262144, []interopIface{{nano: true}}, interopPackets(t, 1))
	inputs := []string{ns}
	if shared, err := filtertest.SharedDir(); err == nil {
		m, _ := filepath.Glob(filepath.Join(shared, "corpus", "*.pcap"))
		inputs = append(inputs, m...)
	}
	return inputs
}

// TestInteropReadTcpdump reads files tcpdump wrote, in microseconds and
// nanoseconds, and compares them with what tcpdump prints for them.
func TestInteropReadTcpdump(t *testing.T) {
	needTool(t, "tcpdump")
	dir := t.TempDir()
	for _, in := range interopInputs(t) {
		for _, nano := range []bool{false, true} {
			name := strings.TrimSuffix(filepath.Base(in), ".pcap")
			args := []string{"-r", in, "-w"}
			if nano {
				name += "-ns"
				args = append([]string{"--time-stamp-precision=nano"}, args...)
			}
			t.Run(name, func(t *testing.T) {
				out := filepath.Join(dir, name+".pcap")
				runTool(t, "tcpdump", append(args, out)...)
				got := ourRead(t, out)
				for i := range got {
					got[i].IfID = -1
				}
				want := tcpdumpRead(t, out)
				if len(want) == 0 {
					t.Fatal("tcpdump printed no packet")
				}
				for i := range want {
					if i < len(got) && !want[i].HaveLen {
						got[i].HaveLen = false
					}
				}
				comparePackets(t, "ours vs tcpdump", got, want)
				f, err := os.Open(out)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				r, err := NewReader(f)
				if err != nil {
					t.Fatal(err)
				}
				if r.Nanosecond() != nano {
					t.Errorf("Nanosecond() = %v, want %v", r.Nanosecond(), nano)
				}
			})
		}
	}
}

// TestInteropReadTshark reads files tshark wrote (pcapng, its default, pcap
// and nanosecond pcap) and compares them with what tshark prints for them.
func TestInteropReadTshark(t *testing.T) {
	needTool(t, "tshark")
	dir := t.TempDir()
	for k, in := range interopInputs(t) {
		formats := []string{"", "pcap", "nsecpcap"}
		if k > 0 { // a corpus file: tshark is slow to start, pcapng is enough
			formats = formats[:1]
		}
		for _, format := range formats {
			name := strings.TrimSuffix(filepath.Base(in), ".pcap")
			args := []string{"-r", in}
			if format != "" {
				name += "-" + format
				args = append(args, "-F", format)
			} else {
				name += "-pcapng"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				out := filepath.Join(dir, name)
				runTool(t, "tshark", append(args, "-w", out)...)
				got := ourRead(t, out)
				want := tsharkRead(t, out)
				if len(want) == 0 {
					t.Fatal("tshark printed no packet")
				}
				if format != "" {
					for i := range got {
						got[i].IfID = -1
					}
					for i := range want {
						want[i].IfID = -1
					}
				}
				comparePackets(t, "ours vs tshark", got, want)
			})
		}
	}
}

// The files of testdata/savefile and the tool outputs kept with them:
// NAME.tcpdump.txt is what `tcpdump -r NAME -nn -tt
// --time-stamp-precision=nano -e -xx` printed, NAME.tshark.json what
// `tshark -n -r NAME -T json -x -J frame` printed, minus the fields that
// change from one run to the next.
const savefileDir = "testdata/savefile"

// TestInteropStoredFiles reads the files tcpdump, tshark and dumpcap wrote
// in testdata/savefile and compares them with what the tools printed for
// them, kept next to them.
func TestInteropStoredFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(savefileDir, "*.pcap*"))
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, path := range files {
		if strings.HasSuffix(path, ".txt") || strings.HasSuffix(path, ".json") {
			continue
		}
		n++
		t.Run(filepath.Base(path), func(t *testing.T) {
			got := ourRead(t, path)
			for _, tool := range []string{"tcpdump", "tshark"} {
				out := path + "." + tool + ".txt"
				if *updateSavefiles {
					if fresh := toolOutput(t, tool, path); fresh != nil {
						if err := os.WriteFile(out, fresh, 0o644); err != nil {
							t.Fatal(err)
						}
					}
				}
				stored, err := os.ReadFile(out)
				if os.IsNotExist(err) {
					continue // the tool cannot read this file
				}
				if err != nil {
					t.Fatal(err)
				}
				compareStored(t, tool, "stored output "+filepath.Base(out), stored, got)
			}
		})
	}
	if n < 6 {
		t.Errorf("%d files in %s, want at least 6", n, savefileDir)
	}
}

// compareStored compares what we read in a file with a tool's output for
// it, in the form toolOutput gives.
func compareStored(t *testing.T, tool, what string, out []byte, got []toolPacket) {
	t.Helper()
	var (
		want []toolPacket
		err  error
	)
	w := got
	if tool == "tcpdump" {
		if want, err = parseTcpdump(out); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		w = make([]toolPacket, len(got))
		for i, p := range got {
			p.IfID = -1
			if i < len(want) && !want[i].HaveLen {
				p.HaveLen = false
			}
			w[i] = p
		}
	} else if want, err = parseTsharkSummary(out); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(want) == 0 {
		t.Fatalf("%s: no packets", what)
	}
	comparePackets(t, "ours vs "+what, w, want)
}

// toolOutput returns what a tool prints for a file, as stored in
// testdata/savefile, or nil if the tool cannot read it.
func toolOutput(t *testing.T, tool, path string) []byte {
	t.Helper()
	switch tool {
	case "tcpdump":
		needTool(t, "tcpdump")
		cmd := exec.Command("tcpdump", append([]string{"-r", path}, tcpdumpArgs...)...)
		out, err := cmd.Output()
		if err != nil {
			return nil
		}
		return out
	default:
		needTool(t, "tshark")
		pkts := tsharkRead(t, path)
		var b bytes.Buffer
		for _, p := range pkts {
			fmt.Fprintf(&b, "%s\t%d\t%d\t%d\t%s\t%x\n", fmtNanos(p.TS), p.Len, p.CapLen, p.IfID, p.IfName, p.Data)
		}
		return b.Bytes()
	}
}

// parseTsharkSummary parses the stored form of tshark's output: one line
// per packet, "time_epoch len cap_len interface_id interface_name hex".
func parseTsharkSummary(out []byte) ([]toolPacket, error) {
	var pkts []toolPacket
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 6 {
			return nil, fmt.Errorf("line %q: want 6 fields", sc.Text())
		}
		var p toolPacket
		var err error
		if p.TS, err = parseNanos(f[0]); err != nil {
			return nil, err
		}
		p.Len, _ = strconv.Atoi(f[1])
		p.CapLen, _ = strconv.Atoi(f[2])
		p.IfID, _ = strconv.Atoi(f[3])
		p.IfName = f[4]
		p.HaveLen = true
		if p.Data, err = hex.DecodeString(f[5]); err != nil {
			return nil, err
		}
		pkts = append(pkts, p)
	}
	return pkts, sc.Err()
}

// TestInteropDumpcapInterfaces reads the interfaces and statistics dumpcap
// wrote: capinfos and tshark's pcapng dissector show if_name pa and lo, and
// statistics blocks with isb_ifrecv 14 and 6 and isb_ifdrop 0.
func TestInteropDumpcapInterfaces(t *testing.T) {
	pkts, ifs := readSavefile(t, filepath.Join(savefileDir, "dumpcap-multi.pcapng"))
	if len(pkts) != 20 || len(ifs) != 2 {
		t.Fatalf("%d packets, %d interfaces; want 20 and 2", len(pkts), len(ifs))
	}
	for i, want := range []struct {
		name       string
		recv, drop int64
	}{{"pa", 14, 0}, {"lo", 6, 0}} {
		ifc := ifs[i]
		st := ifc.Statistics
		if ifc.Name != want.name || ifc.LinkType != LinkTypeEthernet || ifc.TSResolution != 9 ||
			st.Blocks != 1 || st.IfRecv != want.recv || st.IfDrop != want.drop {
			t.Errorf("interface %d: %+v, want name %s, Ethernet, resolution 9, one statistics block with %d received and %d dropped",
				i, ifc, want.name, want.recv, want.drop)
		}
		if st.StartTime.IsZero() || st.EndTime.Before(st.StartTime) {
			t.Errorf("interface %d: start %v, end %v", i, st.StartTime, st.EndTime)
		}
	}
}
