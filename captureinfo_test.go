package pcap

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestCaptureInfoFitsRegisters checks what lets Go pass a CaptureInfo to a
// Dispatch callback in registers: at most six fields (with the data slice's
// three, the nine integer registers of amd64), each one machine word or
// less. A larger CaptureInfo goes through memory, copied for every packet.
func TestCaptureInfoFitsRegisters(t *testing.T) {
	typ := reflect.TypeFor[CaptureInfo]()
	if typ.NumField() > 6 {
		t.Errorf("CaptureInfo has %d fields; with the data slice's 3 words they no longer fit 9 registers", typ.NumField())
	}
	for i := range typ.NumField() {
		f := typ.Field(i)
		switch f.Type.Kind() {
		case reflect.Int, reflect.Int64, reflect.Uint64, reflect.Uint32, reflect.Uint16, reflect.Uint8:
		default:
			t.Errorf("field %s is a %v, not a single register", f.Name, f.Type)
		}
	}
}

func TestCaptureInfoAccessors(t *testing.T) {
	var ci CaptureInfo
	if ci.VLAN() != (VLANTag{}) || ci.PacketType() != PacketHost || ci.RxHash() != 0 {
		t.Fatalf("zero CaptureInfo: %v %v %v", ci.VLAN(), ci.PacketType(), ci.RxHash())
	}
	tag := VLANTag{Present: true, TCI: 0xe123, TPID: 0x88a8}
	ci.SetVLAN(tag)
	ci.SetPacketType(PacketOutgoing)
	ci.SetRxHash(0xdeadbeef)
	if ci.VLAN() != tag || ci.VLAN().ID() != 0x123 || ci.PacketType() != PacketOutgoing || ci.RxHash() != 0xdeadbeef {
		t.Fatalf("got %+v %v %#x", ci.VLAN(), ci.PacketType(), ci.RxHash())
	}
	// Each setter leaves the others alone.
	ci.SetPacketType(PacketMulticast)
	ci.SetRxHash(7)
	if ci.VLAN() != tag || ci.PacketType() != PacketMulticast || ci.RxHash() != 7 {
		t.Fatalf("after setting again: %+v %v %#x", ci.VLAN(), ci.PacketType(), ci.RxHash())
	}
	// VLAN 0 is a tag; a tag that is not Present is none, whatever it holds.
	ci.SetVLAN(VLANTag{Present: true})
	if got := ci.VLAN(); !got.Present || got.TCI != 0 || got.TPID != 0 {
		t.Errorf("VLAN 0: %+v", got)
	}
	ci.SetVLAN(VLANTag{TCI: 5, TPID: 0x8100})
	if ci.VLAN() != (VLANTag{}) {
		t.Errorf("absent tag: %+v", ci.VLAN())
	}
}

func TestCaptureInfoTime(t *testing.T) {
	ts := time.Date(2026, 11, 21, 12, 34, 56, 789012345, time.UTC)
	var ci CaptureInfo
	ci.SetTime(ts)
	if ci.Timestamp != ts.UnixNano() || !ci.Time().Equal(ts) {
		t.Errorf("SetTime(%v): Timestamp %d, Time %v", ts, ci.Timestamp, ci.Time())
	}
	for _, c := range []struct {
		t    time.Time
		want int64
	}{
		{time.Unix(0, 0), 0},
		{time.Unix(-1, 999_999_999), -1},
		{time.Time{}, math.MinInt64},
		{time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), math.MinInt64},
		{time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64},
		{time.Unix(0, math.MaxInt64), math.MaxInt64},
		{time.Unix(0, math.MinInt64), math.MinInt64},
	} {
		ci.SetTime(c.t)
		if ci.Timestamp != c.want {
			t.Errorf("SetTime(%v): %d, want %d", c.t, ci.Timestamp, c.want)
		}
	}
	const maxSec = math.MaxInt64 / 1_000_000_000
	for _, c := range []struct{ sec, nsec, want int64 }{
		{1, 2, 1_000_000_002},
		{-1, 999_999_999, -1},
		{maxSec, 0, maxSec * 1e9},
		{maxSec + 1, 0, math.MaxInt64},
		{math.MaxInt64, 999_999_999, math.MaxInt64},
		{math.MinInt64, 0, math.MinInt64},
		{0, 1_500_000_000, 1_500_000_000},
	} {
		if got := secNano(c.sec, c.nsec); got != c.want {
			t.Errorf("secNano(%d, %d) = %d, want %d", c.sec, c.nsec, got, c.want)
		}
	}
}

func TestCaptureInfoString(t *testing.T) {
	ci := CaptureInfo{Timestamp: 1_500_000_000_123_456_789, CaptureLength: 60, Length: 64, InterfaceIndex: 3}
	ci.SetPacketType(PacketBroadcast)
	ci.SetVLAN(VLANTag{Present: true, TCI: 0x2064, TPID: 0x8100})
	ci.SetRxHash(0xabc)
	s := ci.String()
	for _, want := range []string{"2017-07-14T02:40:00.123456789Z", "caplen 60", "len 64", "ifindex 3", "broadcast", "vlan 100", "rxhash 0x00000abc"} {
		if !strings.Contains(s, want) {
			t.Errorf("%q lacks %q", s, want)
		}
	}
}

// TestNgClockNanos checks that pcapng timestamps outside what int64
// nanoseconds hold are clamped, not wrapped around.
func TestNgClockNanos(t *testing.T) {
	for _, c := range []struct {
		resol  uint8
		offset int64
		ticks  uint64
		want   int64
	}{
		{9, 0, 1_500_000_000_123_456_789, 1_500_000_000_123_456_789},
		{6, 0, 1_500_000_000_123_456, 1_500_000_000_123_456_000},
		{6, -10, 1_000_000, -9_000_000_000},
		{9, 0, math.MaxUint64, math.MaxInt64},
		{0, 0, math.MaxUint64, math.MaxInt64},
		{0, math.MaxInt64, math.MaxUint64, math.MaxInt64},
		{0, math.MinInt64, 5, math.MinInt64},
		{0, math.MinInt64, math.MaxUint64, math.MaxInt64}, // 2^63-1 s
		{0, math.MinInt64, 1 << 63, 0},
		{0x80 | 20, 0, 3 << 20, 3_000_000_000},
	} {
		clk, ok := newNgClock(c.resol, c.offset)
		if !ok {
			t.Fatalf("resolution %#x refused", c.resol)
		}
		if got := clk.nanos(c.ticks); got != c.want {
			t.Errorf("resol %#x offset %d: nanos(%d) = %d, want %d", c.resol, c.offset, c.ticks, got, c.want)
		}
	}
}
