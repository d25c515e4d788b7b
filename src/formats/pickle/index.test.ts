import { describe, expect, it } from "vitest";
import { memorySource } from "../../core/byte-source.js";
import { DEFAULT_LIMITS } from "../../core/limits.js";
import { BUILTIN_POLICY } from "../../policy/index.js";
import type { Policy } from "../../policy/types.js";
import type { Artifact, Probe, ScanContext } from "../types.js";
import { pickleFormat } from "./index.js";
import { PickleBuilder, reducePickle } from "./pickle-builder.js";

const unknownPolicy: Policy = {
  classifyGlobal: () => ({
    class: "unknown",
    severity: "medium",
    rule: null,
    reason: "not allowlisted",
  }),
};
const ctx: ScanContext = { limits: DEFAULT_LIMITS, policy: unknownPolicy, depth: 0 };

const probe = (bytes: Uint8Array): Probe => ({
  head: bytes.subarray(0, 64),
  tail: bytes.subarray(Math.max(0, bytes.length - 64)),
  size: bytes.length,
});
const artifact = (bytes: Uint8Array): Artifact => ({
  file: "x.pkl",
  member: [],
  source: memorySource(bytes),
});
const text = (s: string) => new TextEncoder().encode(s);

describe("pickleFormat", () => {
  it("detects PROTO and protocol-0/1 opcodes, not other bytes", () => {
    expect(pickleFormat.detect(probe(Uint8Array.of(0x80, 4)))).toBe(true);
    expect(pickleFormat.detect(probe(text("(dp0\n")))).toBe(true);
    expect(pickleFormat.detect(probe(text("cos\nsystem\n")))).toBe(true);
    expect(pickleFormat.detect(probe(Uint8Array.of(0x8c, 1, 0x61)))).toBe(false); // protocol 4 opcode
    expect(pickleFormat.detect(probe(Uint8Array.of(0x00)))).toBe(false);
    expect(pickleFormat.detect(probe(text('{"a": 1}')))).toBe(false);
    expect(pickleFormat.detect(probe(new Uint8Array(0)))).toBe(false);
  });

  it("analyses a pickle: findings, details, no children", async () => {
    const a = await pickleFormat.analyse(artifact(reducePickle("mylib", "f", "x")), ctx);
    expect(a.format).toBe("pickle");
    expect(a.children).toEqual([]);
    expect(a.notThisFormat).toBeUndefined();
    expect(a.details).toEqual({ protocol: 2, pickles: 1, opcodes: 6 });
    expect(a.findings.map((f) => f.rule)).toEqual(["pickle.unknown-global"]);
  });

  it("hands constant bytes passed to a nested loader back as a child", async () => {
    const inner = reducePickle("os", "system", "id");
    const bytes = new PickleBuilder()
      .proto(4)
      .stackGlobal("pickle", "loads")
      .binbytes(inner)
      .op("TUPLE1")
      .op("REDUCE")
      .op("STOP")
      .bytes();
    const real: ScanContext = { ...ctx, policy: BUILTIN_POLICY };
    const a = await pickleFormat.analyse(artifact(bytes), real);
    expect(a.children.map((c) => c.name)).toEqual(["(bytes passed to pickle.loads at offset 44)"]);
    expect(await a.children[0]!.source.read(0, inner.length)).toEqual(inner);
  });

  it("gives the highest opcode protocol for pickles without PROTO", async () => {
    const a = await pickleFormat.analyse(artifact(text("(dp0\n.")), ctx);
    expect(a.details).toMatchObject({ protocol: 0, pickles: 1 });
  });

  it("says notThisFormat for text that faults before doing anything", async () => {
    for (const s of [
      "README: this model is great\n",
      "Some notes\n",
      "cat and dog\nfoo bar\n",
      "(\n",
    ]) {
      const a = await pickleFormat.analyse(artifact(text(s)), ctx);
      expect(a.notThisFormat, s).toBe(true);
    }
  });

  it("marks an unreadable source unanalysable", async () => {
    const a = await pickleFormat.analyse(
      { file: "x", member: [], source: { size: 4, read: () => Promise.reject(new Error("gone")) } },
      ctx,
    );
    expect(a.unanalysable).toBe(true);
    expect(a.findings.map((f) => f.rule)).toEqual(["pickle.malformed"]);
  });

  it("keeps a pickle that faults after an import or call", async () => {
    const bytes = new PickleBuilder()
      .global("os", "system")
      .unicode("id")
      .op("TUPLE1")
      .op("REDUCE")
      .bytes();
    const a = await pickleFormat.analyse(artifact(Uint8Array.from([...bytes, 0xff])), ctx);
    expect(a.notThisFormat).toBeUndefined();
    expect(a.findings.map((f) => f.rule)).toEqual(["pickle.unknown-global", "pickle.malformed"]);
  });
});
