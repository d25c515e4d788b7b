import { describe, expect, it } from "vitest";
import {
  ARGUMENTS,
  OP,
  OPCODE_BY_CODE,
  OPCODE_BY_NAME,
  OPCODE_NAMES,
  OPCODES,
  opcodeName,
} from "./opcodes.js";

describe("opcode table", () => {
  it("has all 68 opcodes of protocols 0–5 with unique names and codes", () => {
    expect(OPCODES).toHaveLength(68);
    expect(new Set(OPCODES.map((o) => o.name)).size).toBe(68);
    expect(new Set(OPCODES.map((o) => o.code)).size).toBe(68);
    expect(OPCODES.map((o) => o.name)).toEqual([...OPCODE_NAMES]);
  });

  it("derives a 256-entry lookup by code and lookups by name", () => {
    expect(OPCODE_BY_CODE).toHaveLength(256);
    expect(OPCODE_BY_CODE.filter(Boolean)).toHaveLength(68);
    for (const info of OPCODES) {
      expect(OPCODE_BY_CODE[info.code]).toBe(info);
      expect(OPCODE_BY_NAME[info.name]).toBe(info);
      expect(OP[info.name]).toBe(info.code);
    }
    expect(opcodeName(0x00)).toBe("0x00");
    expect(opcodeName(0x80)).toBe("PROTO");
  });

  it("matches pickletools for a sample of codes, protocols and arguments", () => {
    const sample: [string, number, number, string | null][] = [
      ["MARK", 0x28, 0, null],
      ["STOP", 0x2e, 0, null],
      ["GLOBAL", 0x63, 0, "stringnl_noescape_pair"],
      ["INST", 0x69, 0, "stringnl_noescape_pair"],
      ["BINPUT", 0x71, 1, "uint1"],
      ["LONG_BINGET", 0x6a, 1, "uint4"],
      ["PROTO", 0x80, 2, "uint1"],
      ["EXT4", 0x84, 2, "int4"],
      ["LONG4", 0x8b, 2, "long4"],
      ["BINBYTES", 0x42, 3, "bytes4"],
      ["SHORT_BINUNICODE", 0x8c, 4, "unicodestring1"],
      ["BINUNICODE8", 0x8d, 4, "unicodestring8"],
      ["STACK_GLOBAL", 0x93, 4, null],
      ["MEMOIZE", 0x94, 4, null],
      ["FRAME", 0x95, 4, "uint8"],
      ["BYTEARRAY8", 0x96, 5, "bytearray8"],
      ["NEXT_BUFFER", 0x97, 5, null],
      ["READONLY_BUFFER", 0x98, 5, null],
    ];
    for (const [name, code, proto, arg] of sample) {
      const info = OPCODE_BY_CODE[code]!;
      expect(info.name).toBe(name);
      expect(info.proto).toBe(proto);
      expect(info.arg?.name ?? null).toBe(arg);
    }
  });

  it("describes argument lengths as data", () => {
    expect(ARGUMENTS.uint8.length).toEqual({ type: "fixed", bytes: 8 });
    expect(ARGUMENTS.stringnl_noescape_pair.length).toEqual({ type: "line", lines: 2 });
    expect(ARGUMENTS.long4.length).toEqual({ type: "prefixed", prefixBytes: 4, signed: true });
    expect(ARGUMENTS.bytes8.length).toEqual({ type: "prefixed", prefixBytes: 8, signed: false });
    for (const info of OPCODES) {
      expect(info.doc.length).toBeGreaterThan(0);
      expect(Object.isFrozen(info)).toBe(true);
    }
  });

  it("has stack effects for every opcode", () => {
    expect(OPCODE_BY_NAME.REDUCE.stackBefore).toEqual(["any", "any"]);
    expect(OPCODE_BY_NAME.APPENDS.stackBefore).toEqual(["list", "mark", "stackslice"]);
    expect(OPCODE_BY_NAME.MARK.stackAfter).toEqual(["mark"]);
    expect(OPCODE_BY_NAME.NEWOBJ_EX.stackBefore).toHaveLength(3);
  });
});
