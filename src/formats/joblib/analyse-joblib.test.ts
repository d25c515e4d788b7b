import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { memorySource } from "../../core/byte-source.js";
import { DEFAULT_LIMITS, type Limits } from "../../core/limits.js";
import { BUILTIN_POLICY } from "../../policy/index.js";
import { PickleBuilder, reducePickle } from "../pickle/pickle-builder.js";
import { PICKLE_RULES } from "../pickle/rules.js";
import type { ScanContext } from "../types.js";
import { analyseJoblib } from "./analyse-joblib.js";
import { joblibFormat } from "./index.js";
import { JOBLIB_RULE, JOBLIB_RULES } from "./rules.js";

/**
 * Joblib streams built opcode by opcode, the way `NumpyPickler` writes them (protocol 2, GLOBAL):
 * a dict of arrays, each a `NumpyArrayWrapper` NEWOBJ + state BUILD, then its data.
 */

const context = (limits: Partial<Limits> = {}): ScanContext => ({
  limits: { ...DEFAULT_LIMITS, ...limits },
  policy: BUILTIN_POLICY,
  depth: 0,
});

const analyse = (bytes: Uint8Array, limits?: Partial<Limits>) =>
  analyseJoblib(memorySource(bytes), context(limits));

const rules = (r: { findings: { rule: string }[] }) => r.findings.map((f) => f.rule);

interface ArraySpec {
  dtype?: string;
  /** Dimensions, or a builder step writing the shape value itself. */
  shape: number[] | ((b: PickleBuilder) => PickleBuilder);
  /** `numpy_array_alignment_bytes`: a number, `null` (None), or absent (joblib ≤ 1.1). */
  alignment?: number | null;
  /** dtype state flags (63 for objects). */
  flags?: number;
  /** dtype state elsize (the item size of flexible types; -1 for others). */
  elsize?: number;
  /** Bytes written after the BUILD instead of computed data (e.g. a nested pickle). */
  payload?: Uint8Array;
  itemsize?: number;
  /** Leave the data out (truncated file). */
  noData?: boolean;
}

function shapeTuple(b: PickleBuilder, dims: number[]): PickleBuilder {
  if (dims.length === 0) return b.op("EMPTY_TUPLE");
  if (dims.length <= 3) {
    for (const d of dims) b.int(d);
    return b.op(dims.length === 1 ? "TUPLE1" : dims.length === 2 ? "TUPLE2" : "TUPLE3");
  }
  b.op("MARK");
  for (const d of dims) b.int(d);
  return b.op("TUPLE");
}

/** Writes one wrapper, its BUILD, and its data (padding included). */
function writeArray(b: PickleBuilder, spec: ArraySpec): PickleBuilder {
  const dtype = spec.dtype ?? "f8";
  b.global("joblib.numpy_pickle", "NumpyArrayWrapper").op("EMPTY_TUPLE").op("NEWOBJ");
  b.op("EMPTY_DICT").op("MARK");
  b.unicode("subclass").global("numpy", "ndarray");
  b.unicode("shape");
  if (typeof spec.shape === "function") spec.shape(b);
  else shapeTuple(b, spec.shape);
  b.unicode("order").unicode("C");
  b.unicode("dtype").global("numpy", "dtype").unicode(dtype).op("NEWFALSE").op("NEWTRUE");
  b.op("TUPLE3").op("REDUCE");
  b.op("MARK")
    .int(3)
    .unicode("<")
    .op("NONE")
    .op("NONE")
    .op("NONE")
    .int(spec.elsize ?? -1)
    .int(-1);
  b.int(spec.flags ?? 0)
    .op("TUPLE")
    .op("BUILD");
  b.unicode("allow_mmap").op("NEWTRUE");
  if (spec.alignment !== undefined) {
    b.unicode("numpy_array_alignment_bytes");
    if (spec.alignment === null) b.op("NONE");
    else b.int(spec.alignment);
  }
  b.op("SETITEMS").op("BUILD");
  if (spec.payload) return b.raw(spec.payload);
  if (spec.alignment !== undefined && spec.alignment !== null) {
    const pad = spec.alignment - ((b.length + 1) % spec.alignment);
    b.raw([pad, ...new Array<number>(pad).fill(0xff)]);
  }
  if (spec.noData || typeof spec.shape === "function") return b;
  const count = spec.shape.reduce((x, y) => x * y, 1);
  return b.raw(new Array<number>(count * (spec.itemsize ?? 8)).fill(0x2e)); // '.' = STOP, if misread
}

/** `{"a0": array0, "a1": array1, …}` then STOP. */
function joblibStream(specs: ArraySpec[], after?: (b: PickleBuilder) => void): Uint8Array {
  const b = new PickleBuilder().proto(2).op("EMPTY_DICT").op("MARK");
  specs.forEach((spec, i) => {
    b.unicode(`a${i}`);
    writeArray(b, spec);
  });
  b.op("SETITEMS");
  after?.(b);
  return b.op("STOP").bytes();
}

describe("analyseJoblib: inline arrays", () => {
  it("skips raw data without padding (numpy_array_alignment_bytes absent, joblib ≤ 1.1)", async () => {
    const bytes = joblibStream([{ shape: [3, 4] }]);
    const r = await analyse(bytes);
    expect(r.findings).toEqual([]);
    expect(r.unanalysable).toBe(false);
    expect(r.arrays).toHaveLength(1);
    const a = r.arrays[0]!;
    expect([a.dataOffset - a.offset, a.dataBytes, a.dtype, a.shape]).toEqual([
      0,
      96,
      '"f8"',
      [3n, 4n],
    ]);
    expect(r.pickle.pickles[0]!.complete).toBe(true);
    expect(r.pickle.endOffset).toBe(bytes.length);
  });

  it("skips the padding byte and padding, then the data", async () => {
    const r = await analyse(
      joblibStream([{ dtype: "f4", shape: [5], alignment: 16, itemsize: 4 }]),
    );
    expect(r.findings).toEqual([]);
    const a = r.arrays[0]!;
    expect(a.dataOffset % 16).toBe(0);
    expect(a.dataOffset - a.offset).toBeGreaterThanOrEqual(1);
    expect(a.dataBytes).toBe(20);
  });

  it("reads no padding byte when numpy_array_alignment_bytes is None", async () => {
    const r = await analyse(joblibStream([{ shape: [2], alignment: null }]));
    expect(r.findings).toEqual([]);
    expect(r.arrays[0]!.dataOffset).toBe(r.arrays[0]!.offset);
  });

  it("follows several arrays of different dtypes, 0-d and empty ones", async () => {
    const r = await analyse(
      joblibStream([
        { dtype: "f4", shape: [4, 5], alignment: 16, itemsize: 4 },
        { dtype: "i8", shape: [], alignment: 16 },
        { dtype: "b1", shape: [7], alignment: 16, itemsize: 1 },
        { dtype: "c16", shape: [0, 3], alignment: 16, itemsize: 16 },
        { dtype: "U3", shape: [2, 1, 1, 2], itemsize: 12, elsize: 12 },
      ]),
    );
    expect(r.findings).toEqual([]);
    expect(r.arrays.map((a) => [a.dtype, a.dataBytes])).toEqual([
      ['"f4"', 80],
      ['"i8"', 8],
      ['"b1"', 7],
      ['"c16"', 0],
      ['"U3"', 48],
    ]);
  });

  it("finds a payload pickled after an array", async () => {
    const r = await analyse(
      joblibStream([{ shape: [8, 8], alignment: 16 }], (b) => {
        b.unicode("x").global("posix", "system").unicode("touch /tmp/x").op("TUPLE1").op("REDUCE");
        b.op("SETITEM");
      }),
    );
    expect(rules(r)).toEqual(["pickle.dangerous-global"]);
    expect(r.findings[0]!.evidence?.pseudocode).toContain("touch");
  });

  it("analyses an object array's nested pickle and reports its payload", async () => {
    const nested = reducePickle("posix", "system", "touch /tmp/x");
    const bytes = joblibStream([
      { shape: [2], alignment: 16 },
      { dtype: "O8", shape: [3], flags: 63, alignment: 16, payload: nested },
      { shape: [1], alignment: 16 },
    ]);
    const r = await analyse(bytes);
    expect(rules(r)).toEqual(["joblib.object-array", "pickle.dangerous-global"]);
    const critical = r.findings.find((f) => f.severity === "critical")!;
    expect(critical.evidence?.global).toBe("posix.system");
    expect(critical.evidence?.pseudocode).toContain("touch /tmp/x");
    const obj = r.arrays[1]!;
    expect([obj.nestedPickle, obj.dataBytes, obj.dataOffset]).toEqual([
      true,
      nested.length,
      obj.offset,
    ]);
    expect(r.arrays).toHaveLength(3);
    expect(r.pickle.endOffset).toBe(bytes.length);
  });

  it("stops where a nested pickle is malformed (pickle.load raises there)", async () => {
    const b = new PickleBuilder().proto(2);
    writeArray(b, { dtype: "O8", shape: [1], flags: 63, payload: new Uint8Array(0) });
    const nestedAt = b.length;
    b.proto(2).global("posix", "system");
    const badAt = b.length;
    const r = await analyse(b.raw([0xff]).op("STOP").bytes());
    expect(rules(r)).toEqual(["pickle.dangerous-global", "pickle.malformed"]);
    expect(r.findings.map((f) => f.offset)).toEqual([nestedAt + 2, badAt]);
    expect(r.arrays).toEqual([]);
  });

  it("reads a wrapper created with copyreg._reconstructor (protocols 0 and 1)", async () => {
    const b = new PickleBuilder().global("copy_reg", "_reconstructor");
    b.op("MARK").global("joblib.numpy_pickle", "NumpyArrayWrapper").global("__builtin__", "object");
    b.op("NONE").op("TUPLE").op("REDUCE").op("EMPTY_DICT").op("MARK");
    b.unicode("shape").int(3).op("TUPLE1");
    b.unicode("dtype").global("numpy", "dtype").unicode("i4").op("TUPLE1").op("REDUCE");
    b.op("SETITEMS").op("BUILD").raw(new Array<number>(12).fill(0x2e)).op("STOP");
    const r = await analyse(b.bytes());
    expect(r.findings).toEqual([]);
    expect(r.arrays[0]!.dataBytes).toBe(12);
  });

  it("takes attributes from the constructor when the pickle calls the class", async () => {
    const b = new PickleBuilder().proto(2).global("joblib.numpy_pickle", "NumpyArrayWrapper");
    b.op("MARK").global("numpy", "ndarray").int(2).int(2).op("TUPLE2").unicode("F");
    b.global("numpy", "dtype").unicode("i2").op("TUPLE1").op("REDUCE").op("TUPLE").op("REDUCE");
    b.op("NONE").op("BUILD");
    const padAt = b.length;
    const pad = 16 - ((padAt + 1) % 16); // default numpy_array_alignment_bytes=16
    b.raw([pad, ...new Array<number>(pad).fill(0), ...new Array<number>(8).fill(0x2e)]).op("STOP");
    const r = await analyse(b.bytes());
    expect(r.findings).toEqual([]);
    expect([r.arrays[0]!.dataOffset, r.arrays[0]!.dataBytes]).toEqual([padAt + 1 + pad, 8]);
  });

  it("takes a flexible dtype's item size from its state, as numpy.dtype.__setstate__ does", async () => {
    const r = await analyse(joblibStream([{ dtype: "V8", elsize: 24, shape: [2], itemsize: 24 }]));
    expect(r.findings).toEqual([]);
    expect(r.arrays[0]!.dataBytes).toBe(48);
    // A negative item size in the state: modelvet refuses to guess.
    const bad = await analyse(joblibStream([{ dtype: "V8", shape: [2] }]));
    expect(rules(bad)).toEqual([JOBLIB_RULE.unknownArrayLayout]);
    expect(bad.unanalysable).toBe(true);
  });
});

describe("analyseJoblib: fail closed", () => {
  it("reports data running past the end of the file", async () => {
    const r = await analyse(joblibStream([{ shape: [1000], alignment: 16, noData: true }]));
    expect(rules(r)).toEqual([JOBLIB_RULE.invalidArray]);
    expect(r.findings[0]!.message).toContain("needs 8000 bytes");
    expect(r.unanalysable).toBe(false);
  });

  it("reports a file that ends where the padding byte should be", async () => {
    const b = new PickleBuilder().proto(2);
    writeArray(b, { shape: [1], alignment: 16, payload: new Uint8Array(0) });
    const r = await analyse(b.bytes());
    expect(rules(r)).toEqual([JOBLIB_RULE.invalidArray]);
    expect(r.findings[0]!.message).toContain("padding byte");
  });

  it("stops, unanalysable, when the shape is not a constant", async () => {
    const r = await analyse(
      joblibStream([
        {
          shape: (b) => b.global("builtins", "tuple").op("EMPTY_TUPLE").op("REDUCE"),
        },
      ]),
    );
    expect(rules(r)).toContain(JOBLIB_RULE.unknownArrayLayout);
    expect(r.unanalysable).toBe(true);
  });

  it("reports negative and overflowing shapes as arrays joblib cannot read", async () => {
    const twoTo40 = [0x6, 0, 0, 0, 0, 0, 0x01]; // LONG1 argument: 6 bytes, 2^40
    const shapes: ArraySpec["shape"][] = [
      [-2, -3],
      (b) =>
        b
          .op("LONG1", ...twoTo40)
          .op("LONG1", ...twoTo40)
          .op("TUPLE2"),
      (b) => b.unicode("12"),
      (b) => b.op("NONE"),
    ];
    for (const shape of shapes) {
      const r = await analyse(joblibStream([{ shape, noData: true }]));
      expect(rules(r)).toEqual([JOBLIB_RULE.invalidArray]);
      expect(r.unanalysable).toBe(false);
    }
  });

  it("follows an object array's nested pickle whatever its shape (joblib never reshapes it)", async () => {
    const payload = reducePickle("posix", "system", "touch /tmp/x");
    const shapes: ArraySpec["shape"][] = [[-1], (b) => b.unicode("7").op("TUPLE1")];
    for (const shape of shapes) {
      const r = await analyse(joblibStream([{ dtype: "O8", shape, flags: 63, payload }]));
      expect(rules(r)).toEqual([JOBLIB_RULE.objectArray, "pickle.dangerous-global"]);
      expect(r.pickle.pickles[0]!.complete).toBe(true);
    }
  });

  it("reports a dtype whose flags deny the objects it holds", async () => {
    const r = await analyse(joblibStream([{ dtype: "O8", shape: [2], flags: 0 }]));
    expect(rules(r)).toEqual([JOBLIB_RULE.dtypeFlagsMismatch]);
    expect(r.arrays[0]!.dataBytes).toBe(16);
  });

  it("follows a number dtype whose flags claim objects into the nested pickle", async () => {
    const r = await analyse(
      joblibStream([
        { dtype: "f8", shape: [1], flags: 1, payload: reducePickle("os", "system", "id") },
      ]),
    );
    expect(rules(r)).toEqual([
      JOBLIB_RULE.dtypeFlagsMismatch,
      JOBLIB_RULE.objectArray,
      "pickle.dangerous-global",
    ]);
  });

  it("stops when a wrapper's BUILD is inside a FRAME that goes on after it", async () => {
    const inner = new PickleBuilder();
    writeArray(inner, { shape: [1], noData: true });
    const body = inner.op("NONE").op("POP").bytes(); // two more opcodes inside the frame
    const b = new PickleBuilder().proto(4).frame(body.length).raw(body);
    const r = await analyse(b.raw(new Array<number>(8).fill(0)).op("STOP").bytes());
    expect(rules(r)).toEqual([JOBLIB_RULE.splitFrame]);
    expect(r.unanalysable).toBe(true);
  });

  it("accepts a FRAME that ends right after the wrapper's BUILD, as joblib.dump writes it", async () => {
    const inner = new PickleBuilder();
    writeArray(inner, { shape: [1], noData: true });
    const body = inner.bytes();
    const b = new PickleBuilder().proto(4).frame(body.length).raw(body);
    const r = await analyse(b.raw(new Array<number>(8).fill(0)).op("STOP").bytes());
    expect(r.findings).toEqual([]);
    expect(r.arrays[0]!.dataBytes).toBe(8);
  });

  it("stops when the same wrapper is built twice (memo reuse)", async () => {
    const b = new PickleBuilder().proto(2);
    writeArray(b, { shape: [1] });
    b.op("BINPUT", 0).op("POP").op("BINGET", 0).op("EMPTY_DICT").op("BUILD");
    const r = await analyse(b.raw(new Array<number>(8).fill(0)).op("STOP").bytes());
    expect(rules(r)).toEqual([JOBLIB_RULE.unexpectedWrapperUse]);
    expect(r.unanalysable).toBe(true);
  });

  it("flags the wrapper class used to turn another object into a wrapper", async () => {
    const b = new PickleBuilder().proto(2).global("collections", "OrderedDict").op("EMPTY_TUPLE");
    b.op("REDUCE").op("NONE").op("EMPTY_DICT").unicode("__class__");
    b.global("joblib.numpy_pickle", "NumpyArrayWrapper").op("SETITEM").op("TUPLE2").op("BUILD");
    const r = await analyse(b.op("STOP").bytes());
    expect(rules(r)).toContain(JOBLIB_RULE.unexpectedWrapperUse);
    expect(r.unanalysable).toBe(true);
  });

  it("stops when a state overrides the wrapper's read method", async () => {
    const b = new PickleBuilder().proto(2);
    b.global("joblib.numpy_pickle", "NumpyArrayWrapper").op("EMPTY_TUPLE").op("NEWOBJ");
    b.op("EMPTY_DICT").unicode("read").global("builtins", "print").op("SETITEM").op("BUILD");
    const r = await analyse(b.op("STOP").bytes());
    expect(rules(r)).toContain(JOBLIB_RULE.unknownArrayLayout);
    expect(r.unanalysable).toBe(true);
  });

  it("flags an object of a non-constant class that may be a wrapper", async () => {
    const b = new PickleBuilder().proto(4).unicode("joblib.numpy_pickle");
    b.global("builtins", "str").unicode("NumpyArrayWrapper").op("TUPLE1").op("REDUCE");
    b.op("STACK_GLOBAL").op("EMPTY_TUPLE").op("NEWOBJ").op("EMPTY_DICT").op("BUILD").op("STOP");
    const r = await analyse(b.bytes());
    expect(rules(r)).toContain(JOBLIB_RULE.unknownArrayLayout);
    expect(rules(r)).toContain("pickle.non-constant-global");
    expect(r.unanalysable).toBe(true);
  });

  it("reports an old-format wrapper that loads a companion file", async () => {
    const make = (filename: string) => {
      const b = new PickleBuilder().proto(2).global("joblib.numpy_pickle", "NDArrayWrapper");
      b.op("EMPTY_TUPLE").op("NEWOBJ").op("EMPTY_DICT").unicode("filename").unicode(filename);
      return b.op("SETITEM").op("BUILD").op("STOP").bytes();
    };
    const local = await analyse(make("model.pkl_01.npy"));
    const companion = local.findings.find((f) => f.rule === JOBLIB_RULE.companionFile)!;
    expect(companion.severity).toBe("medium");
    const escaping = await analyse(make("../../home/user/.cache/x.npy"));
    expect(escaping.findings.find((f) => f.rule === JOBLIB_RULE.companionFile)!.severity).toBe(
      "high",
    );
    expect(escaping.companionFiles).toBe(1);
  });

  it("bounds its findings and says how many were left out", async () => {
    const nested = reducePickle("builtins", "dict", "x");
    const specs = Array.from({ length: 12 }, () => ({
      dtype: "O8",
      shape: [1],
      flags: 63,
      payload: nested,
    }));
    const r = await analyse(joblibStream(specs), { maxFindingsPerArtifact: 5 });
    expect(r.arrayCount).toBe(12);
    expect(r.findings.at(-1)).toMatchObject({ rule: "limits.exceeded", severity: "high" });
  });

  it("never throws, and terminates, on mutated joblib streams", async () => {
    const seed = [
      ...joblibStream(
        [
          { dtype: "f4", shape: [3], alignment: 16, itemsize: 4 },
          {
            dtype: "O8",
            shape: [1],
            flags: 63,
            alignment: 16,
            payload: reducePickle("os", "system", "id"),
          },
          { dtype: "i2", shape: [2, 2], itemsize: 2 },
        ],
        (b) => b.unicode("z").op("NONE").op("SETITEM"),
      ),
    ];
    const known = new Set([...PICKLE_RULES, ...JOBLIB_RULES].map((x) => x.id));
    known.add("limits.exceeded");
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc
            .array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), {
              minLength: 1,
              maxLength: 4,
            })
            .map((edits) => {
              const copy = [...seed];
              for (const [i, v] of edits) copy[i] = v;
              return Uint8Array.from(copy);
            }),
          fc.nat(seed.length).map((n) => Uint8Array.from(seed.slice(0, n))),
          fc
            .tuple(fc.nat(seed.length), fc.uint8Array({ minLength: 1, maxLength: 24 }))
            .map(([at, ins]) => Uint8Array.from([...seed.slice(0, at), ...ins, ...seed.slice(at)])),
        ),
        async (bytes) => {
          const r = await analyse(bytes, { maxOpcodes: 20_000, maxDecodedArgument: 256 });
          for (const f of r.findings) expect(known.has(f.rule), f.rule).toBe(true);
          for (const a of r.arrays) {
            expect(a.dataOffset + a.dataBytes).toBeLessThanOrEqual(bytes.length);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe("joblibFormat", () => {
  const probe = (bytes: Uint8Array) => ({ head: bytes, tail: bytes, size: bytes.length });

  it("detects pickles that name joblib's array wrappers, and only those", () => {
    expect(joblibFormat.detect(probe(joblibStream([{ shape: [1] }])))).toBe(true);
    expect(joblibFormat.detect(probe(reducePickle("os", "system", "x")))).toBe(false);
    const text = new TextEncoder().encode("# NumpyArrayWrapper, in a text file");
    expect(joblibFormat.detect(probe(text))).toBe(false);
  });

  it("calls it joblib when it imports a wrapper, pickle when it only mentions the name", async () => {
    const source = memorySource(joblibStream([{ shape: [2] }]));
    const a = await joblibFormat.analyse({ file: "m.joblib", member: [], source }, context());
    expect([a.format, a.details?.arrays]).toEqual(["joblib", 1]);
    const mention = new PickleBuilder().proto(2).unicode("NumpyArrayWrapper").op("STOP").bytes();
    const b = await joblibFormat.analyse(
      { file: "m.pkl", member: [], source: memorySource(mention) },
      context(),
    );
    expect(b.format).toBe("pickle");
  });
});
