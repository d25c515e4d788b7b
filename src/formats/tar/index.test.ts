import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  makeTar,
  paxHeader,
  type TarMemberSpec,
  tarHeader,
} from "../../../test/fixtures/tar/make-tar.js";
import { memorySource, readAll } from "../../core/byte-source.js";
import { DEFAULT_LIMITS, type Limits } from "../../core/limits.js";
import type { Policy } from "../../policy/types.js";
import { PickleBuilder, reducePickle } from "../pickle/pickle-builder.js";
import { STORAGE_ELEMENT_SIZE } from "../pytorch/storage-types.js";
import type { Analysis, Probe, ScanContext } from "../types.js";
import { analyseTar, detectTar, TRAILING_CHILD, tarFormat } from "./index.js";

const FIXTURES = join(import.meta.dirname, "../../../test/fixtures/tar");

/** Everything under `torch.` is fine, `posix.system` is dangerous, anything else unknown. */
const policy: Policy = {
  classifyGlobal: (module, name) =>
    module === "posix" && name === "system"
      ? { class: "dangerous", severity: "critical", rule: null, reason: "test: runs a shell" }
      : module.startsWith("torch")
        ? { class: "allowed", severity: null, rule: null, reason: "test" }
        : { class: "unknown", severity: "medium", rule: null, reason: "test" },
};

function ctx(limits: Partial<Limits> = {}): ScanContext {
  return { limits: { ...DEFAULT_LIMITS, ...limits }, policy, depth: 0 };
}

async function analyse(bytes: Uint8Array, limits: Partial<Limits> = {}): Promise<Analysis> {
  return tarFormat.analyse({ file: "t.tar", member: [], source: memorySource(bytes) }, ctx(limits));
}

const rules = (a: Analysis): string[] => a.findings.map((f) => f.rule);
const probe = (bytes: Uint8Array): Probe => ({
  head: bytes.subarray(0, 65558),
  tail: bytes,
  size: bytes.length,
});

describe("detectTar", () => {
  it("matches the ustar magic or a valid v7 checksum, nothing else", () => {
    expect(detectTar(probe(makeTar([{ name: "a", data: "x" }])))).toBe(true);
    expect(detectTar(probe(makeTar([{ name: "a", data: "x", magic: "v7" }])))).toBe(true);
    expect(
      detectTar(probe(makeTar([{ name: "a", data: "x", magic: "v7", badChecksum: true }]))),
    ).toBe(false);
    expect(detectTar(probe(new Uint8Array(1024)))).toBe(false);
    expect(detectTar(probe(reducePickle("os", "system", "x")))).toBe(false);
    expect(tarFormat.id).toBe("tar");
  });
});

describe("tarFormat.analyse", () => {
  it("hands every file back as a window of the archive, skipping directories and links", async () => {
    const a = await analyse(
      makeTar([
        { name: "model/", type: "5" },
        { name: "model/data.pkl", data: "payload" },
        { name: "model/link", type: "2", linkName: "data.pkl" },
      ]),
    );
    expect(a.format).toBe("tar");
    expect(a.children.map((c) => c.name)).toEqual(["model/data.pkl"]);
    expect(new TextDecoder().decode(await readAll(a.children[0]!.source))).toBe("payload");
    expect(rules(a)).toEqual(["tar.link"]);
    expect(a.findings[0]!.severity).toBe("medium");
    expect(a.details).toMatchObject({ members: 3, directories: 1, links: 1, ending: "end-marker" });
  });

  it("reports traversal, absolute paths, escaping links and devices", async () => {
    const a = await analyse(
      makeTar([
        { name: "../../evil.pkl", data: "x" },
        { name: "/etc/cron.d/x", data: "y" },
        { name: "l", type: "2", linkName: "/etc/passwd" },
        { name: "h", type: "1", linkName: "../outside" },
        { name: "dev", type: "3" },
        { name: "fifo", type: "6" },
      ]),
    );
    expect(rules(a)).toEqual([
      "tar.path-traversal",
      "tar.absolute-path",
      "tar.link",
      "tar.link",
      "tar.device",
      "tar.device",
    ]);
    expect(
      a.findings.filter((f) => f.rule === "tar.link").every((f) => f.severity === "high"),
    ).toBe(true);
    expect(a.findings[2]!.message).toContain('"/etc/passwd"');
    expect(a.findings[2]!.evidence?.pseudocode).toBe(
      'os.symlink("/etc/passwd", os.path.join(dest, "l"))',
    );
    expect(a.findings[0]!.evidence?.pseudocode).toBe(
      'open(os.path.join(dest, "../../evil.pkl"), "wb").write(data)',
    );
  });

  it("names duplicate members apart and reports them once", async () => {
    const a = await analyse(
      makeTar([
        { name: "data.pkl", data: "1" },
        { name: "./data.pkl", data: "2" },
        { name: "data.pkl", data: "3" },
      ]),
    );
    expect(a.children.map((c) => c.name)).toEqual(["data.pkl", "./data.pkl#2", "data.pkl#3"]);
    expect(rules(a)).toEqual(["tar.duplicate-name"]);
  });

  it("hands bytes after the end marker back as a child and reports them", async () => {
    const hidden = reducePickle("posix", "system", "id");
    const a = await analyse(makeTar([{ name: "ok.txt", data: "fine" }], { append: hidden }));
    expect(rules(a)).toEqual(["tar.trailing-data"]);
    expect(a.children.map((c) => c.name)).toEqual(["ok.txt", TRAILING_CHILD]);
    expect(await readAll(a.children[1]!.source)).toEqual(hidden);
  });

  it("hands members behind a header Python stops at back as trailing bytes", async () => {
    const a = await analyse(
      makeTar([
        { name: "a", data: "x" },
        { name: "b", data: "y", badChecksum: true },
      ]),
    );
    expect(rules(a)).toEqual(["tar.malformed", "tar.trailing-data"]);
    expect(a.children.map((c) => c.name)).toEqual(["a", TRAILING_CHILD]);
  });

  it("ignores zero padding after the end marker", async () => {
    const a = await analyse(makeTar([{ name: "a", data: "x" }], { endBlocks: 20 }));
    expect(a.findings).toEqual([]);
  });

  it("is unanalysable when the bytes are no tar at all", async () => {
    const a = await analyseTar(
      { file: "x", member: [], source: memorySource(makeTar([{ name: "a", badChecksum: true }])) },
      ctx(),
    );
    expect(a.unanalysable).toBe(true);
    expect(rules(a)).toEqual(["tar.malformed", "archive.unanalysable"]);
  });

  it("reports sparse members and unknown types", async () => {
    const sparse = tarHeader({ name: "s", type: "S", magic: "gnu", size: 0 });
    const a = await analyse(makeTar([sparse, { name: "odd", type: "Q", data: "q" }]));
    expect(rules(a)).toEqual(["tar.sparse", "tar.unknown-type"]);
    expect(a.children.map((c) => c.name)).toEqual(["odd"]);
    const only = await analyse(makeTar([sparse]));
    expect(only.unanalysable).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// PyTorch legacy tar checkpoints
// ---------------------------------------------------------------------------------------------

const int64 = (n: number | bigint): number[] => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, BigInt(n), true);
  return [...b];
};
const int32 = (n: number): number[] => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n, true);
  return [...b];
};
const countPickle = (n: number): number[] => [
  ...new PickleBuilder().proto(2).int(n).op("STOP").bytes(),
];
const storageRecord = (key: number, type: string, module = "torch"): number[] => [
  ...new PickleBuilder()
    .proto(2)
    .int(key)
    .unicode("cpu")
    .global(module, type)
    .op("TUPLE3")
    .op("STOP")
    .bytes(),
];
const storage = (key: number, type: string, numel: number): number[] => [
  ...storageRecord(key, type),
  ...int64(numel),
  ...new Array<number>(numel * (STORAGE_ELEMENT_SIZE[type] ?? 1)).fill(7),
];
const emptyList = (): number[] => [
  ...new PickleBuilder().proto(2).op("EMPTY_LIST").op("STOP").bytes(),
];
const tensor = (key: number, storageId: number, sizes: number[]): number[] => [
  ...new PickleBuilder()
    .proto(2)
    .int(key)
    .int(storageId)
    .global("torch", "FloatTensor")
    .op("TUPLE3")
    .op("STOP")
    .bytes(),
  ...int32(sizes.length),
  0,
  0,
  0,
  0,
  ...sizes.flatMap((s) => int64(s)),
  ...sizes.flatMap(() => int64(1)),
  ...int64(0),
];
const dictPickle = (): Uint8Array =>
  new PickleBuilder().proto(2).op("EMPTY_DICT").op("STOP").bytes();

function legacyTar(storages: number[], tensors: number[], extra: TarMemberSpec[] = []): Uint8Array {
  return makeTar([
    { name: "sys_info", data: dictPickle() },
    { name: "pickle", data: dictPickle() },
    { name: "tensors", data: Uint8Array.from(tensors) },
    { name: "storages", data: Uint8Array.from(storages) },
    ...extra,
  ]);
}

describe("PyTorch legacy tar checkpoints", () => {
  it("reads the fixture made in torch < 0.4's layout: pickles as children, records walked", async () => {
    const a = await analyse(readFileSync(join(FIXTURES, "benign/legacy_checkpoint.tar")));
    expect(a.format).toBe("pytorch-legacy-tar");
    expect(a.findings).toEqual([]);
    expect(a.children.map((c) => c.name)).toEqual(["sys_info", "pickle"]);
    expect(a.details).toMatchObject({ legacyStorages: 2, legacyTensors: 3, legacyComplete: true });
  });

  it("walks every storage type by its element size", async () => {
    const types = Object.keys(STORAGE_ELEMENT_SIZE);
    const storages = [
      ...countPickle(types.length),
      ...types.flatMap((t, i) => storage(i, t, 3)),
      ...emptyList(),
    ];
    const a = await analyse(legacyTar(storages, [...countPickle(1), ...tensor(9, 0, [2, 3])]));
    expect(a.findings).toEqual([]);
    expect(a.details).toMatchObject({
      legacyStorages: types.length,
      legacyTensors: 1,
      legacyComplete: true,
    });
  });

  it("finds a payload in a storage record", async () => {
    const evil = [...reducePickle("posix", "system", "touch x")];
    const a = await analyse(legacyTar([...countPickle(1), ...evil], countPickle(0)));
    expect(rules(a)).toContain("pickle.dangerous-global");
    const f = a.findings.find((x) => x.rule === "pickle.dangerous-global")!;
    expect(f.message).toMatch(/^In legacy checkpoint member "storages"/);
    expect(f.evidence?.global).toBe("posix.system");
  });

  it("stops at an unknown storage type", async () => {
    const a = await analyse(
      legacyTar(
        [...countPickle(1), ...storageRecord(1, "EvilStorage", "evil"), ...int64(1)],
        countPickle(0),
      ),
    );
    expect(rules(a)).toEqual(["pickle.unknown-global", "pytorch.storage-layout"]);
    expect(a.details).toMatchObject({ legacyComplete: false });
  });

  it("stops when a storage claims more bytes than the member has", async () => {
    const a = await analyse(
      legacyTar(
        [...countPickle(1), ...storageRecord(1, "FloatStorage"), ...int64(1_000_000)],
        countPickle(0),
      ),
    );
    expect(rules(a)).toEqual(["pytorch.storage-layout"]);
    expect(a.findings[0]!.message).toMatch(/1000000 elements/);
  });

  it("reports and analyses bytes torch never reads after the last record", async () => {
    const hidden = [...reducePickle("posix", "system", "hidden")];
    const a = await analyse(
      legacyTar([...countPickle(0), ...emptyList()], [...countPickle(0), ...hidden]),
    );
    expect(rules(a)).toEqual(["pytorch.trailing-data", "pickle.dangerous-global"]);
  });

  it("reads a non-constant count as malformed and analyses the rest as pickles", async () => {
    const a = await analyse(
      legacyTar([...reducePickle("posix", "system", "x"), ...emptyList()], countPickle(0)),
    );
    expect(rules(a)).toEqual(["pickle.dangerous-global", "pytorch.storage-layout"]);
  });

  it("bounds the record count by maxArchiveMembers", async () => {
    const storages = [
      ...countPickle(5),
      ...storage(1, "ByteStorage", 1),
      ...storage(2, "ByteStorage", 1),
    ];
    const a = await analyse(legacyTar(storages, countPickle(0)), {
      maxArchiveMembers: 10,
      maxStackedPickles: 64,
    });
    expect(rules(a)).toEqual(["pickle.malformed"]);
    const limited = await analyse(legacyTar(storages, countPickle(0)), { maxArchiveMembers: 2 });
    expect(rules(limited)).toContain("limits.exceeded");
  });

  it("uses the last member of a name, like TarFile.getmember, and reports the duplicate", async () => {
    const good = [...countPickle(0), ...emptyList()];
    const tar = legacyTar([0x80, 0x02, 0x4b], countPickle(0), [
      { name: "./storages", data: Uint8Array.from(good) },
    ]);
    const a = await analyse(tar);
    expect(rules(a)).toEqual(["tar.duplicate-name"]);
    expect(a.children.map((c) => c.name)).toEqual(["sys_info", "pickle", "storages"]);
  });

  it("reports a storages member that is a link", async () => {
    const tar = makeTar([
      { name: "pickle", data: dictPickle() },
      { name: "tensors", data: Uint8Array.from(countPickle(0)) },
      { name: "storages", type: "2", linkName: "/proc/self/environ" },
    ]);
    const a = await analyse(tar);
    expect(rules(a)).toContain("pytorch.storage-layout");
    expect(rules(a)).toContain("tar.link");
  });

  it("is recognised through pax headers too", async () => {
    const tar = makeTar([
      paxHeader({ path: "pickle" }),
      { name: "x", data: dictPickle() },
      { name: "tensors", data: Uint8Array.from(countPickle(0)) },
      { name: "storages", data: Uint8Array.from([...countPickle(0), ...emptyList()]) },
    ]);
    const a = await analyse(tar);
    expect(a.format).toBe("pytorch-legacy-tar");
    expect(a.findings).toEqual([]);
  });
});

describe("robustness (fast-check)", () => {
  it("never throws on mutated legacy checkpoints", async () => {
    const seed = readFileSync(join(FIXTURES, "benign/legacy_checkpoint.tar"));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.nat(),
        async (mutations, cut) => {
          const bytes = Uint8Array.from(seed);
          for (const [at, value] of mutations) bytes[at % bytes.length] = value;
          const a = await analyse(bytes.subarray(0, bytes.length - (cut % 4096)));
          expect(["tar", "pytorch-legacy-tar"]).toContain(a.format);
        },
      ),
      { numRuns: 150 },
    );
  });
});
