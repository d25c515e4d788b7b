import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  gnuLongHeader,
  makeTar,
  paxData,
  paxHeader,
  tarHeader,
  tarMember,
} from "../../../test/fixtures/tar/make-tar.js";
import { memorySource } from "../../core/byte-source.js";
import { DEFAULT_LIMITS, type Limits } from "../../core/limits.js";
import {
  hasValidChecksum,
  openTar,
  parseNumericField,
  parsePaxRecords,
  type TarArchive,
} from "./tar-reader.js";

const FIXTURES = join(import.meta.dirname, "../../../test/fixtures/tar");
const enc = new TextEncoder();

async function read(bytes: Uint8Array, limits: Partial<Limits> = {}): Promise<TarArchive> {
  const r = await openTar(memorySource(bytes), { limits: { ...DEFAULT_LIMITS, ...limits } });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

const names = (a: TarArchive): string[] => a.entries.map((e) => e.name);
const rules = (a: TarArchive): string[] => a.findings.map((f) => f.rule);

describe("numeric fields (nti)", () => {
  const field = (s: string, n = 12): Uint8Array => {
    const b = new Uint8Array(n);
    b.set(enc.encode(s));
    return b;
  };
  it("reads octal with NULs, spaces, underscores and an optional 0o prefix", () => {
    expect(parseNumericField(field("0000644\0"))).toBe(0o644);
    expect(parseNumericField(field("  644  "))).toBe(0o644);
    expect(parseNumericField(field("0o1_7"))).toBe(0o17);
    expect(parseNumericField(field(""))).toBe(0);
    expect(parseNumericField(field("-7"))).toBe(-7);
  });
  it("rejects what Python's int(s, 8) rejects", () => {
    expect(parseNumericField(field("0008"))).toBeUndefined();
    expect(parseNumericField(field("12x"))).toBeUndefined();
    expect(parseNumericField(Uint8Array.of(0x31, 0xc3, 0xa9, 0))).toBeUndefined();
  });
  it("reads base-256, positive and negative", () => {
    const b = new Uint8Array(12);
    b[0] = 0x80;
    b[10] = 0x01;
    b[11] = 0x02;
    expect(parseNumericField(b)).toBe(0x0102);
    const neg = new Uint8Array(8).fill(0xff);
    expect(parseNumericField(neg)).toBe(-1);
  });
});

describe("pax records", () => {
  it("parses well-formed records and refuses bad framing, as hardened CPython does", () => {
    const into = new Map<string, string>();
    expect(parsePaxRecords(paxData({ path: "a/b", size: "12" }), into)).toBe(true);
    expect(Object.fromEntries(into)).toEqual({ path: "a/b", size: "12" });
    expect(parsePaxRecords(enc.encode("0 path=x\n"), new Map())).toBe(false);
    expect(parsePaxRecords(enc.encode("9 path=x!"), new Map())).toBe(false);
    expect(parsePaxRecords(enc.encode("99 path=x\n"), new Map())).toBe(false);
    expect(parsePaxRecords(enc.encode("8 =value\n"), new Map())).toBe(false);
    // records stop at a NUL (the block padding)
    expect(parsePaxRecords(Uint8Array.of(...paxData({ a: "1" }), 0, 0x41), new Map())).toBe(true);
  });
});

describe("openTar", () => {
  it("reads a tar written by Python's tarfile (the legacy checkpoint fixture)", async () => {
    const a = await read(readFileSync(join(FIXTURES, "benign/legacy_checkpoint.tar")));
    expect(names(a)).toEqual(["sys_info", "pickle", "tensors", "storages"]);
    expect(a.entries.every((e) => e.kind === "file" && e.readable)).toBe(true);
    expect(a.entries[0]).toMatchObject({ headerOffset: 0, dataOffset: 512 });
    expect(a.ending).toBe("end-marker");
    expect(a.dialects).toEqual(["ustar"]);
    expect(a.findings).toEqual([]);
  });

  it("reads v7 headers (no magic) and a directory written as a name with a trailing slash", async () => {
    const a = await read(
      makeTar([
        { name: "dir/", type: "", magic: "v7" },
        { name: "dir/a.txt", data: "hello", magic: "v7" },
      ]),
    );
    expect(a.entries.map((e) => [e.name, e.kind])).toEqual([
      ["dir", "directory"],
      ["dir/a.txt", "file"],
    ]);
    expect(a.dialects).toEqual(["v7"]);
  });

  it("joins the ustar prefix, except for GNU types", async () => {
    const a = await read(makeTar([{ name: "file.pkl", prefix: "deep/path", data: "x" }]));
    expect(names(a)).toEqual(["deep/path/file.pkl"]);
  });

  it("applies GNU long names and long link names", async () => {
    const long = `${"d/".repeat(80)}model.pkl`;
    const a = await read(
      makeTar([
        gnuLongHeader(long),
        { name: "truncated-name", data: "payload", magic: "gnu" },
        gnuLongHeader(`/${"t/".repeat(70)}`, "K"),
        { name: "link", type: "2", linkName: "short", magic: "gnu" },
      ]),
    );
    expect(names(a)).toEqual([long, "link"]);
    expect(a.entries[0]).toMatchObject({ headerOffset: 0, size: 7 });
    expect(a.entries[1]!.linkName).toBe(`/${"t/".repeat(70)}`);
    expect(a.dialects).toContain("gnu");
  });

  it("applies pax path, linkpath and size overrides; size moves the next header", async () => {
    const data = "0123456789abcdef";
    const a = await read(
      makeTar([
        paxHeader({ path: "pax/ünïcode.pkl", size: "16" }),
        // the ustar header lies about the size; pax wins, as for Python
        { name: "short", data, size: 3 },
        paxHeader({ linkpath: "target/file" }),
        { name: "l", type: "2" },
      ]),
    );
    expect(names(a)).toEqual(["pax/ünïcode.pkl", "l"]);
    expect(a.entries[0]!.size).toBe(16);
    expect(a.entries[1]!.linkName).toBe("target/file");
    expect(a.dialects).toContain("pax");
  });

  it("applies global pax headers to every member that follows and reports overrides", async () => {
    const a = await read(
      makeTar([
        paxHeader({ path: "everyone" }, "g"),
        { name: "a", data: "1" },
        { name: "b", data: "2" },
      ]),
    );
    expect(names(a)).toEqual(["everyone", "everyone"]);
    expect(rules(a)).toEqual(["tar.differential"]);
  });

  it("reads base-256 sizes", async () => {
    const a = await read(makeTar([{ name: "big", data: "abc", base256Size: true }]));
    expect(a.entries[0]!.size).toBe(3);
  });

  it("fails when the first header is not a tar header", async () => {
    const r = await openTar(memorySource(makeTar([{ name: "a", data: "x", badChecksum: true }])), {
      limits: DEFAULT_LIMITS,
    });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.rule).toBe("tar.malformed");
  });

  it("stops at a bad checksum after the first member, like Python, and says so", async () => {
    const a = await read(
      makeTar([
        { name: "a", data: "x" },
        { name: "hidden", data: "y", badChecksum: true },
        { name: "also-hidden", data: "z" },
      ]),
    );
    expect(names(a)).toEqual(["a"]);
    expect(a.ending).toBe("invalid-header");
    expect(a.end).toBe(1024);
    expect(rules(a)).toEqual(["tar.malformed"]);
  });

  it("reports a dangling extended header as refusing the archive", async () => {
    const a = await read(makeTar([{ name: "a", data: "x" }, paxHeader({ path: "p" })]));
    expect(names(a)).toEqual(["a"]);
    expect(rules(a)).toEqual(["tar.malformed"]);
    expect(a.findings[0]!.message).toMatch(/refuses the whole archive/);
  });

  it("reports truncated data and keeps the part present", async () => {
    const full = makeTar([{ name: "a.pkl", data: "x".repeat(1000) }], { endBlocks: 0 });
    const a = await read(full.subarray(0, 512 + 300));
    expect(a.entries[0]).toMatchObject({ size: 1000, available: 300 });
    expect(a.ending).toBe("truncated");
    expect(rules(a)).toEqual(["tar.truncated"]);
  });

  it("reports a header cut short", async () => {
    const full = makeTar(
      [
        { name: "a", data: "x" },
        { name: "b", data: "y" },
      ],
      { endBlocks: 0 },
    );
    const a = await read(full.subarray(0, 1024 + 100));
    expect(names(a)).toEqual(["a"]);
    expect(rules(a)).toEqual(["tar.truncated"]);
  });

  it("accepts an archive without end marker (Python does)", async () => {
    const a = await read(makeTar([{ name: "a", data: "x" }], { endBlocks: 0 }));
    expect(a.ending).toBe("eof");
    expect(a.findings).toEqual([]);
  });

  it("ignores the size of links and directories, like Python, and reports it", async () => {
    const hidden = tarMember({ name: "inside-link-data", data: "p" });
    const a = await read(
      makeTar([
        { name: "l", type: "2", linkName: "x", data: hidden },
        { name: "after", data: "q" },
      ]),
    );
    // Python reads the header right after the link's: the "data" is a member for it.
    expect(names(a)).toEqual(["l", "inside-link-data", "after"]);
    expect(rules(a)).toEqual(["tar.differential"]);
  });

  it("reads unknown type flags as regular files", async () => {
    const a = await read(makeTar([{ name: "odd", type: "Z", data: "data" }]));
    expect(a.entries[0]).toMatchObject({
      kind: "file",
      unknownType: true,
      readable: true,
      size: 4,
    });
  });

  it("locates old GNU sparse members without decoding them", async () => {
    const header = tarHeader({
      name: "sparse",
      type: "S",
      magic: "gnu",
      size: 512,
      edit: (b) => {
        b.set(enc.encode("00000001000\0"), 483); // real size 512
      },
    });
    const a = await read(
      makeTar([Uint8Array.of(...header, ...new Uint8Array(512)), { name: "next", data: "n" }]),
    );
    expect(a.entries.map((e) => [e.name, e.kind])).toEqual([
      ["sparse", "sparse"],
      ["next", "file"],
    ]);
  });

  it("stops at maxArchiveMembers", async () => {
    const a = await read(makeTar([{ name: "a" }, { name: "b" }, { name: "c" }]), {
      maxArchiveMembers: 2,
    });
    expect(names(a)).toEqual(["a", "b"]);
    expect(a.ending).toBe("limit");
    expect(rules(a)).toEqual(["limits.exceeded"]);
  });

  it("does not read extended headers over maxDecodedArgument", async () => {
    const a = await read(
      makeTar([{ name: "a", data: "x" }, paxHeader({ comment: "c".repeat(2000) }), { name: "b" }]),
      { maxDecodedArgument: 1000 },
    );
    expect(names(a)).toEqual(["a"]);
    expect(rules(a)).toEqual(["limits.exceeded"]);
  });

  it("validates checksums like Python (unsigned or signed sum)", () => {
    const h = tarHeader({ name: "\u00ff\u00fe", data: "" });
    expect(hasValidChecksum(h)).toBe(true);
    h[0] = 0x41;
    expect(hasValidChecksum(h)).toBe(false);
  });
});

describe("robustness (fast-check)", () => {
  const seed = makeTar([
    paxHeader({ path: "pax/name.pkl" }),
    { name: "a", data: "hello world" },
    gnuLongHeader("long/".repeat(30)),
    { name: "b", data: "x".repeat(600), magic: "gnu" },
    { name: "l", type: "2", linkName: "a" },
  ]);
  it("never throws and terminates on mutated archives", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.nat(),
        async (mutations, cut) => {
          const bytes = seed.slice();
          for (const [at, value] of mutations) bytes[at % bytes.length] = value;
          const r = await openTar(memorySource(bytes.subarray(0, bytes.length - (cut % 700))), {
            limits: DEFAULT_LIMITS,
          });
          if (r.ok) expect(r.value.end).toBeLessThanOrEqual(bytes.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("never throws on random bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 3000 }), async (bytes) => {
        await openTar(memorySource(bytes), { limits: DEFAULT_LIMITS });
      }),
      { numRuns: 200 },
    );
  });
});
