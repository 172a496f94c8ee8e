package capture

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestFrameHeaderInSync checks that gen/frame.h, used by the C programs,
// describes the same layout as the constants of this package.
func TestFrameHeaderInSync(t *testing.T) {
	src, err := os.ReadFile("../../gen/frame.h")
	if err != nil {
		t.Fatal(err)
	}
	defs := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^#define (BENCH_\w+) (.+?)\s*(?:/\*.*)?$`).FindAllStringSubmatch(string(src), -1) {
		defs[m[1]] = m[2]
	}
	// eval resolves a define made of numbers and other defines added up.
	var eval func(name string) int
	eval = func(name string) int {
		expr, ok := defs[name]
		if !ok {
			t.Fatalf("frame.h does not define %s", name)
		}
		sum := 0
		for _, term := range strings.Split(strings.Trim(expr, "()"), "+") {
			term = strings.TrimSpace(term)
			if n, err := strconv.Atoi(term); err == nil {
				sum += n
			} else {
				sum += eval(term)
			}
		}
		return sum
	}
	for name, want := range map[string]int{
		"BENCH_FRAME_LEN":    FrameLen,
		"BENCH_SEQ_OFFSET":   SeqOffset,
		"BENCH_UDP_SRC_PORT": UDPSrcPort,
		"BENCH_UDP_DST_PORT": UDPDstPort,
	} {
		if got := eval(name); got != want {
			t.Errorf("frame.h: %s = %d, Go constant = %d", name, got, want)
		}
	}
}

func TestFrame(t *testing.T) {
	for _, seq := range []uint64{0, 1, 1 << 40, ^uint64(0)} {
		f := Frame(seq)
		if len(f) != FrameLen {
			t.Fatalf("Frame(%d): %d bytes", seq, len(f))
		}
		if got, ok := Seq(f); !ok || got != seq {
			t.Errorf("Seq(Frame(%d)) = %d, %v", seq, got, ok)
		}
	}
}
