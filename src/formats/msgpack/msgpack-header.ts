/**
 * One msgpack value header (https://github.com/msgpack/msgpack/blob/master/spec.md), decoded from
 * bytes without reading any payload: strings, binaries and extensions report their length, maps
 * and arrays their element count. Scalars (nil, booleans, ints, floats) are complete in the header.
 */
export type MsgpackHeader =
  | { kind: "nil" }
  | { kind: "bool"; value: boolean }
  | { kind: "int"; value: number }
  | { kind: "float" }
  | { kind: "str"; length: number }
  | { kind: "bin"; length: number }
  | { kind: "array"; length: number }
  | { kind: "map"; length: number }
  | { kind: "ext"; type: number; length: number }
  | { kind: "never-used" };

/** Bytes a header may take: the marker plus up to 8 bytes (uint64, float64) or ext32's 5. */
export const MAX_HEADER_BYTES = 9;

/** Size of the header starting with `marker`, or 1 for the never-used byte 0xc1. */
export function headerLength(marker: number): number {
  if (marker <= 0x7f || marker >= 0xe0) return 1; // fixint
  if (marker <= 0x9f || (marker >= 0xa0 && marker <= 0xbf)) return 1; // fixmap, fixarray, fixstr
  switch (marker) {
    case 0xc0:
    case 0xc2:
    case 0xc3:
    case 0xc1:
      return 1;
    case 0xcc:
    case 0xd0:
    case 0xc4:
    case 0xd9:
      return 2;
    case 0xcd:
    case 0xd1:
    case 0xc5:
    case 0xda:
    case 0xdc:
    case 0xde:
      return 3;
    case 0xc7:
      return 3; // ext8: len, type
    case 0xc8:
      return 4; // ext16
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
      return 2; // fixext: type
    case 0xca:
    case 0xce:
    case 0xd2:
    case 0xc6:
    case 0xdb:
    case 0xdd:
    case 0xdf:
      return 5;
    case 0xc9:
      return 6; // ext32
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return 9;
    default:
      return 1;
  }
}

const u16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;
const u32 = (b: Uint8Array, i: number): number =>
  ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
const i8 = (v: number): number => (v << 24) >> 24;

/** Decodes the header at the start of `b`, which must hold at least `headerLength(b[0])` bytes. */
export function decodeHeader(b: Uint8Array): MsgpackHeader {
  const m = b[0]!;
  if (m <= 0x7f) return { kind: "int", value: m };
  if (m >= 0xe0) return { kind: "int", value: m - 0x100 };
  if (m <= 0x8f) return { kind: "map", length: m & 0x0f };
  if (m <= 0x9f) return { kind: "array", length: m & 0x0f };
  if (m <= 0xbf) return { kind: "str", length: m & 0x1f };
  switch (m) {
    case 0xc0:
      return { kind: "nil" };
    case 0xc2:
      return { kind: "bool", value: false };
    case 0xc3:
      return { kind: "bool", value: true };
    case 0xc4:
      return { kind: "bin", length: b[1]! };
    case 0xc5:
      return { kind: "bin", length: u16(b, 1) };
    case 0xc6:
      return { kind: "bin", length: u32(b, 1) };
    case 0xc7:
      return { kind: "ext", length: b[1]!, type: i8(b[2]!) };
    case 0xc8:
      return { kind: "ext", length: u16(b, 1), type: i8(b[3]!) };
    case 0xc9:
      return { kind: "ext", length: u32(b, 1), type: i8(b[5]!) };
    case 0xca:
    case 0xcb:
      return { kind: "float" };
    case 0xcc:
      return { kind: "int", value: b[1]! };
    case 0xcd:
      return { kind: "int", value: u16(b, 1) };
    case 0xce:
      return { kind: "int", value: u32(b, 1) };
    case 0xcf:
      return { kind: "int", value: u32(b, 1) * 2 ** 32 + u32(b, 5) };
    case 0xd0:
      return { kind: "int", value: i8(b[1]!) };
    case 0xd1:
      return { kind: "int", value: (u16(b, 1) << 16) >> 16 };
    case 0xd2:
      return { kind: "int", value: u32(b, 1) | 0 };
    case 0xd3:
      return { kind: "int", value: (u32(b, 1) | 0) * 2 ** 32 + u32(b, 5) };
    case 0xd4:
      return { kind: "ext", length: 1, type: i8(b[1]!) };
    case 0xd5:
      return { kind: "ext", length: 2, type: i8(b[1]!) };
    case 0xd6:
      return { kind: "ext", length: 4, type: i8(b[1]!) };
    case 0xd7:
      return { kind: "ext", length: 8, type: i8(b[1]!) };
    case 0xd8:
      return { kind: "ext", length: 16, type: i8(b[1]!) };
    case 0xd9:
      return { kind: "str", length: b[1]! };
    case 0xda:
      return { kind: "str", length: u16(b, 1) };
    case 0xdb:
      return { kind: "str", length: u32(b, 1) };
    case 0xdc:
      return { kind: "array", length: u16(b, 1) };
    case 0xdd:
      return { kind: "array", length: u32(b, 1) };
    case 0xde:
      return { kind: "map", length: u16(b, 1) };
    case 0xdf:
      return { kind: "map", length: u32(b, 1) };
    default:
      return { kind: "never-used" };
  }
}
