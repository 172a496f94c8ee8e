package bpf

// Instruction classes (the low three bits of an opcode).
const (
	classLD   = 0x00
	classLDX  = 0x01
	classST   = 0x02
	classSTX  = 0x03
	classALU  = 0x04
	classJMP  = 0x05
	classRET  = 0x06
	classMISC = 0x07
)

// Load sizes.
const (
	sizeW = 0x00
	sizeH = 0x08
	sizeB = 0x10
)

// Load addressing modes.
const (
	modeIMM = 0x00
	modeABS = 0x20
	modeIND = 0x40
	modeMEM = 0x60
	modeLEN = 0x80
	modeMSH = 0xa0
)

// ALU operations.
const (
	aluADD = 0x00
	aluSUB = 0x10
	aluMUL = 0x20
	aluDIV = 0x30
	aluOR  = 0x40
	aluAND = 0x50
	aluLSH = 0x60
	aluRSH = 0x70
	aluNEG = 0x80
	aluMOD = 0x90
	aluXOR = 0xa0
)

// Jump operations.
const (
	jmpJA   = 0x00
	jmpJEQ  = 0x10
	jmpJGT  = 0x20
	jmpJGE  = 0x30
	jmpJSET = 0x40
)

// Operand sources.
const (
	srcK = 0x00
	srcX = 0x08
	srcA = 0x10 // return value taken from A
)

// Miscellaneous operations.
const (
	miscTAX = 0x00
	miscTXA = 0x80
)

// Every opcode the kernel accepts in a classic program, spelled out.
const (
	opLdW    = classLD | sizeW | modeABS
	opLdH    = classLD | sizeH | modeABS
	opLdB    = classLD | sizeB | modeABS
	opLdLen  = classLD | sizeW | modeLEN
	opLdIndW = classLD | sizeW | modeIND
	opLdIndH = classLD | sizeH | modeIND
	opLdIndB = classLD | sizeB | modeIND
	opLdImm  = classLD | modeIMM
	opLdMem  = classLD | modeMEM
	opLdxImm = classLDX | modeIMM
	opLdxMem = classLDX | modeMEM
	opLdxLen = classLDX | sizeW | modeLEN
	opLdxMsh = classLDX | sizeB | modeMSH
	opSt     = classST
	opStx    = classSTX

	opAddK = classALU | aluADD | srcK
	opSubK = classALU | aluSUB | srcK
	opMulK = classALU | aluMUL | srcK
	opDivK = classALU | aluDIV | srcK
	opOrK  = classALU | aluOR | srcK
	opAndK = classALU | aluAND | srcK
	opLshK = classALU | aluLSH | srcK
	opRshK = classALU | aluRSH | srcK
	opModK = classALU | aluMOD | srcK
	opXorK = classALU | aluXOR | srcK
	opAddX = classALU | aluADD | srcX
	opSubX = classALU | aluSUB | srcX
	opMulX = classALU | aluMUL | srcX
	opDivX = classALU | aluDIV | srcX
	opOrX  = classALU | aluOR | srcX
	opAndX = classALU | aluAND | srcX
	opLshX = classALU | aluLSH | srcX
	opRshX = classALU | aluRSH | srcX
	opModX = classALU | aluMOD | srcX
	opXorX = classALU | aluXOR | srcX
	opNeg  = classALU | aluNEG

	opJa    = classJMP | jmpJA
	opJeqK  = classJMP | jmpJEQ | srcK
	opJgtK  = classJMP | jmpJGT | srcK
	opJgeK  = classJMP | jmpJGE | srcK
	opJsetK = classJMP | jmpJSET | srcK
	opJeqX  = classJMP | jmpJEQ | srcX
	opJgtX  = classJMP | jmpJGT | srcX
	opJgeX  = classJMP | jmpJGE | srcX
	opJsetX = classJMP | jmpJSET | srcX

	opRetK = classRET | srcK
	opRetA = classRET | srcA

	opTax = classMISC | miscTAX
	opTxa = classMISC | miscTXA
)

// Linux special offsets, as the uint32 K of a load. An absolute load at
// AncillaryOffset+n reads ancillary datum n (one of the Ad* numbers); loads
// at NetOffset+k and LinkOffset+k read packet bytes relative to the
// network-layer and link-layer headers.
const (
	AncillaryOffset = 0xfffff000 // SKF_AD_OFF, -0x1000
	NetOffset       = 0xfff00000 // SKF_NET_OFF, -0x100000
	LinkOffset      = 0xffe00000 // SKF_LL_OFF, -0x200000

	// skfADMax bounds the SKF_AD_* numbers (SKF_AD_MAX).
	skfADMax = 64
)

// Ancillary data numbers (SKF_AD_*): an absolute load at AncillaryOffset
// plus one of these reads the datum instead of packet bytes.
const (
	AdProtocol       = 0  // SKF_AD_PROTOCOL
	AdPktType        = 4  // SKF_AD_PKTTYPE
	AdIfIndex        = 8  // SKF_AD_IFINDEX
	AdNlAttr         = 12 // SKF_AD_NLATTR
	AdNlAttrNest     = 16 // SKF_AD_NLATTR_NEST
	AdMark           = 20 // SKF_AD_MARK
	AdQueue          = 24 // SKF_AD_QUEUE
	AdHAType         = 28 // SKF_AD_HATYPE
	AdRXHash         = 32 // SKF_AD_RXHASH
	AdCPU            = 36 // SKF_AD_CPU
	AdALUXorX        = 40 // SKF_AD_ALU_XOR_X
	AdVLANTag        = 44 // SKF_AD_VLAN_TAG
	AdVLANTagPresent = 48 // SKF_AD_VLAN_TAG_PRESENT
	AdPayOffset      = 52 // SKF_AD_PAY_OFFSET
	AdRandom         = 56 // SKF_AD_RANDOM
	AdVLANTPID       = 60 // SKF_AD_VLAN_TPID
)

// ancillaryNames holds the names libpcap's bpf_image gives ancillary loads
// ("ld [proto]"), indexed by SKF_AD_* number; "" marks an unknown slot.
var ancillaryNames = [skfADMax]string{
	AdProtocol:       "proto",
	AdPktType:        "type",
	AdIfIndex:        "ifidx",
	AdNlAttr:         "nla",
	AdNlAttrNest:     "nlan",
	AdMark:           "mark",
	AdQueue:          "queue",
	AdHAType:         "hatype",
	AdRXHash:         "rxhash",
	AdCPU:            "cpu",
	AdALUXorX:        "xor_x",
	AdVLANTag:        "vlan_tci",
	AdVLANTagPresent: "vlanp",
	AdPayOffset:      "poff",
	AdRandom:         "random",
	AdVLANTPID:       "vlan_tpid",
}

// ancillaryName returns the libpcap name of the ancillary load at absolute
// offset k, or "" when k names none.
func ancillaryName(k uint32) string {
	if k < AncillaryOffset || k >= AncillaryOffset+skfADMax {
		return ""
	}
	return ancillaryNames[k-AncillaryOffset]
}
