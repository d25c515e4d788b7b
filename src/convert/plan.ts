/**
 * Builds a conversion plan from a file's bytes: which tensors, with which dtype, shape, strides and
 * storage bytes. The format is detected from the bytes (a PyTorch zip or legacy checkpoint, a
 * `.npy`, an `.npz`, a pickle or joblib file of arrays); the pickles are read by the restricted
 * evaluator, so nothing runs and anything beyond the tensor constructors is refused.
 */

import { type ByteSource, memorySource, sliceSource } from "../core/byte-source.js";
import { DEFAULT_LIMITS } from "../core/limits.js";
import { err, ok, type Result } from "../core/result.js";
import { readNpyHeader } from "../formats/numpy/npy-header.js";
import { findPytorchLayout } from "../formats/zip/pytorch-layout.js";
import {
  createInflateBudget,
  openZip,
  readZipMember,
  type ZipArchive,
  type ZipEntry,
} from "../formats/zip/zip-reader.js";
import { collectTensors } from "./collect-tensors.js";
import { DTYPE_SIZE, numpyElement } from "./dtypes.js";
import { type ArrayVal, evaluatePickles, type StorageVal, type Val } from "./restricted-pickle.js";
import type { ConversionPlan, ConvertOptions, Refusal, StorageBytes, TensorPlan } from "./types.js";

type Plan = Result<ConversionPlan, Refusal>;

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
/** The legacy format's first pickle: PROTO, then the magic number as LONG1 (or protocol 0 text). */
const LEGACY_MAGIC = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
const LEGACY_TEXT = "L119547037146038801333356L";

const startsWith = (head: Uint8Array, magic: readonly number[], at = 0): boolean =>
  magic.every((b, i) => head[at + i] === b);

/** C-order element strides of `shape`. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = step;
    step *= shape[i]!;
  }
  return strides;
}

/** Plans the conversion of the file in `source`. Never throws on bad input. */
export async function planConversion(
  source: ByteSource,
  options: ConvertOptions = {},
): Promise<Plan> {
  const head = await source.read(0, 64);
  if (startsWith(head, ZIP_MAGIC)) return planZip(source, options);
  if (startsWith(head, NPY_MAGIC)) return planNpy(source, "array");
  if (
    head[0] === 0x80 &&
    (startsWith(head, LEGACY_MAGIC, 2) || startsWith(head, LEGACY_MAGIC, 11))
  ) {
    return planLegacy(source, options);
  }
  if (new TextDecoder("latin1").decode(head).startsWith(LEGACY_TEXT)) {
    return planLegacy(source, options);
  }
  if (head[0] === 0x80) return planPickle(source, options);
  if (head[0] === 0x78 || startsWith(head, [0x1f, 0x8b]) || startsWith(head, [0x5a, 0x46])) {
    return err({
      reason:
        "a compressed stream (zlib/gzip/joblib compression): decompress it first, or save uncompressed",
    });
  }
  return err({
    reason:
      "not a format modelvet converts (PyTorch zip or legacy checkpoint, .npy, .npz, pickle or joblib of arrays)",
  });
}

function sharedCount(tensors: readonly TensorPlan[]): number {
  const users = new Map<string, number>();
  for (const t of tensors) users.set(t.storage.label, (users.get(t.storage.label) ?? 0) + 1);
  let shared = 0;
  for (const n of users.values()) if (n > 1) shared += n;
  return shared;
}

/** Checks a view against its storage's bytes. */
function checkView(t: TensorPlan): Refusal | undefined {
  const numel = t.shape.reduce((a, b) => a * b, 1);
  if (numel === 0) return undefined;
  let last = t.offset;
  for (let i = 0; i < t.shape.length; i++) last += (t.shape[i]! - 1) * t.strides[i]!;
  if (last >= t.storage.numel || (last + 1) * t.storage.elementSize > t.storage.source.size) {
    return {
      reason: `"${t.name}" reaches element ${last} of ${t.storage.label}, whose data holds ${Math.floor(t.storage.source.size / t.storage.elementSize)} elements`,
    };
  }
  return undefined;
}

/** Tensors and arrays of a pickle's value, with their storages resolved. */
async function planFromValue(
  root: Val,
  format: ConversionPlan["format"],
  options: ConvertOptions,
  pickleSource: ByteSource,
  storageFor: (s: StorageVal) => Promise<Result<StorageBytes, Refusal>>,
  rootName = "tensor",
): Promise<Plan> {
  const collected = collectTensors(root, {
    dropNonTensors: options.dropNonTensors === true,
    rootName: root.k === "ndarray" ? "array" : rootName,
  });
  if (!collected.ok) return collected;
  const tensors: TensorPlan[] = [];
  const storages = new Map<string, StorageBytes>();
  for (const { name, value } of collected.value.tensors) {
    let plan: TensorPlan;
    if (value.k === "tensor") {
      const key = value.storage.key;
      let storage = storages.get(key);
      if (storage === undefined) {
        const resolved = await storageFor(value.storage);
        if (!resolved.ok) return resolved;
        storage = resolved.value;
        storages.set(key, storage);
      }
      plan = {
        name,
        dtype: value.storage.dtype!,
        shape: value.shape,
        strides: value.strides,
        offset: value.offset,
        storage,
      };
    } else {
      const array = arrayPlan(name, value, pickleSource);
      if (!array.ok) return array;
      plan = array.value;
    }
    const bad = checkView(plan);
    if (bad) return err(bad);
    tensors.push(plan);
  }
  return ok({
    format,
    tensors,
    dropped: collected.value.dropped,
    sharedStorages: sharedCount(tensors),
  });
}

function arrayPlan(
  name: string,
  a: ArrayVal,
  pickleSource: ByteSource,
): Result<TensorPlan, Refusal> {
  const state = a.state!;
  const element = state.element;
  if (typeof element === "string") return err({ reason: `"${name}" is an array of ${element}` });
  const size = DTYPE_SIZE[element.dtype];
  const numel = state.shape.reduce((x, y) => x * y, 1);
  const data = state.data;
  const source =
    "bytes" in data
      ? memorySource(data.bytes)
      : sliceSource(pickleSource, data.offset, data.length);
  if (source.size !== numel * size) {
    return err({
      reason: `"${name}": the array's shape needs ${numel * size} bytes, its data has ${source.size}`,
      offset: a.at,
    });
  }
  const strides = state.fortran
    ? contiguousStrides([...state.shape].reverse()).reverse()
    : contiguousStrides(state.shape);
  return ok({
    name,
    dtype: element.dtype,
    shape: state.shape,
    strides,
    offset: 0,
    storage: {
      source,
      numel,
      elementSize: size,
      bigEndian: element.bigEndian,
      label: `array "${name}"`,
    },
  });
}

async function planPickle(source: ByteSource, options: ConvertOptions): Promise<Plan> {
  const evaluated = await evaluatePickles(source, { maxInlineBytes: options.maxInlineBytes });
  if (!evaluated.ok) return evaluated;
  const root = evaluated.value.results[0]!;
  return planFromValue(root, "pickle", options, source, async (s) =>
    err({
      reason: `a torch storage ("${s.key}") in a plain pickle, with no data to read`,
      offset: s.at,
    }),
  );
}

async function planLegacy(source: ByteSource, options: ConvertOptions): Promise<Plan> {
  const evaluated = await evaluatePickles(source, {
    pickles: 5,
    maxInlineBytes: options.maxInlineBytes,
  });
  if (!evaluated.ok) return evaluated;
  const [, , sysInfo, root, keysValue] = evaluated.value.results;
  let littleEndian = true;
  if (sysInfo?.k === "dict") {
    for (const [k, v] of sysInfo.entries) {
      if (k.k === "str" && k.v === "little_endian" && v.k === "bool") littleEndian = v.v;
    }
  }
  if (keysValue?.k !== "list" || keysValue.items.some((k) => k.k !== "str")) {
    return err({ reason: "the legacy checkpoint's storage-key list is not a list of strings" });
  }
  const keys = keysValue.items.map((k) => (k as { v: string }).v);
  // Element sizes by key, from the persistent ids the object pickle used.
  const sizes = new Map<string, { elementSize: number; numel: number }>();
  const noteStorages = (v: Val, depth: number): void => {
    if (depth > 64) return;
    if (v.k === "tensor") {
      const s = v.storage;
      const prev = sizes.get(s.key);
      const total = s.viewOffset + s.numel;
      if (!prev || prev.numel < total)
        sizes.set(s.key, { elementSize: s.elementSize, numel: total });
    } else if (v.k === "dict") {
      for (const [, value] of v.entries) noteStorages(value, depth + 1);
    } else if (v.k === "tuple" || v.k === "list") {
      for (const item of v.items) noteStorages(item, depth + 1);
    }
  };
  noteStorages(root!, 0);
  // The raw storages follow the pickles, in key order: an int64 element count, then the data.
  // torch >= 1.0 always writes them little-endian; a pre-1.0 torch on a big-endian machine wrote
  // them in native order, and its sys_info says little_endian False: then the counts tell.
  const located = new Map<string, { offset: number; count: number; bigEndian: boolean }>();
  let offset = evaluated.value.end;
  for (const key of keys) {
    const known = sizes.get(key);
    const head = await source.read(offset, 8);
    if (head.length < 8)
      return err({ reason: `storage "${key}" is cut short (offset ${offset})`, offset });
    const view = new DataView(head.buffer, head.byteOffset, 8);
    const le = view.getBigInt64(0, true);
    const be = view.getBigInt64(0, false);
    const elementSize = known?.elementSize ?? 1;
    const fits = (n: bigint): boolean =>
      n >= 0n && offset + 8 + Number(n) * elementSize <= source.size;
    let count = le;
    let bigEndian = false;
    if (!littleEndian && !fits(le) && fits(be)) {
      count = be;
      bigEndian = true;
    }
    const bytes = Number(count) * elementSize;
    if (count < 0n || !Number.isSafeInteger(bytes) || offset + 8 + bytes > source.size) {
      return err({
        reason: `storage "${key}" at offset ${offset} declares more data than the file holds`,
        offset,
      });
    }
    located.set(key, { offset: offset + 8, count: Number(count), bigEndian });
    offset += 8 + bytes;
  }
  return planFromValue(root!, "pytorch-legacy", options, source, async (s) => {
    const at = located.get(s.key);
    if (!at)
      return err({
        reason: `storage "${s.key}" is not in the checkpoint's storage list`,
        offset: s.at,
      });
    return ok({
      source: sliceSource(source, at.offset, at.count * s.elementSize),
      numel: at.count,
      elementSize: s.elementSize,
      bigEndian: at.bigEndian,
      label: `storage "${s.key}"`,
    });
  });
}

async function readMember(
  archive: ZipArchive,
  entry: ZipEntry,
  options: ConvertOptions,
): Promise<Result<ByteSource, Refusal>> {
  const limits = { maxMemberBytes: options.maxMemberBytes ?? DEFAULT_LIMITS.maxMemberBytes };
  const member = await readZipMember(archive, entry, {
    limits,
    budget: createInflateBudget({ maxTotalInflatedBytes: limits.maxMemberBytes }),
    maxCrcCheckBytes: 0,
  });
  if (!member.ok) {
    return err({
      reason: `member ${JSON.stringify(entry.name)} cannot be read: ${member.error.findings.map((f) => f.message).join("; ")}`,
      member: entry.name,
    });
  }
  if (!member.value.complete) {
    return err({
      reason: `member ${JSON.stringify(entry.name)} is truncated or over a limit`,
      member: entry.name,
    });
  }
  return ok(member.value.source);
}

async function planZip(source: ByteSource, options: ConvertOptions): Promise<Plan> {
  const opened = await openZip(source, {
    limits: { maxArchiveMembers: DEFAULT_LIMITS.maxArchiveMembers },
  });
  if (!opened.ok) return err({ reason: `not a readable zip: ${opened.error.message}` });
  const archive = opened.value;
  const layout = findPytorchLayout(archive.entries);
  if (layout === undefined) return planNpz(archive, options);
  if (layout.pickles.length !== 1) {
    return err({
      reason: `the zip holds ${layout.pickles.length} data.pkl members (${layout.roots.join(", ")}): which one torch.load reads depends on the member order, so modelvet does not guess`,
    });
  }
  const root = layout.roots[0]!;
  const pklEntry = layout.pickles[0]!;
  const pkl = await readMember(archive, pklEntry, options);
  if (!pkl.ok) return pkl;
  const evaluated = await evaluatePickles(pkl.value, { maxInlineBytes: options.maxInlineBytes });
  if (!evaluated.ok) return err({ ...evaluated.error, member: pklEntry.name });
  // torch >= 2.1 records the byte order of the storages; older versions wrote little-endian.
  let bigEndian = false;
  const byteorder = archive.entries.find((e) => e.name === `${root}/byteorder`);
  if (byteorder) {
    const b = await readMember(archive, byteorder, options);
    if (!b.ok) return b;
    const text = new TextDecoder().decode(await b.value.read(0, 16)).trim();
    if (text !== "little" && text !== "big") {
      return err({ reason: `${byteorder.name} says ${JSON.stringify(text)}, not little or big` });
    }
    bigEndian = text === "big";
  }
  const byName = new Map(archive.entries.map((e) => [e.name, e]));
  const plan = await planFromValue(
    evaluated.value.results[0]!,
    "pytorch-zip",
    options,
    pkl.value,
    async (s) => {
      const name = `${root}/data/${s.key}`;
      const entry = byName.get(name);
      if (!entry)
        return err({
          reason: `storage member ${name} is missing`,
          member: pklEntry.name,
          offset: s.at,
        });
      const data = await readMember(archive, entry, options);
      if (!data.ok) return data;
      return ok({
        source: data.value,
        numel: Math.floor(data.value.size / s.elementSize),
        elementSize: s.elementSize,
        bigEndian: bigEndian && s.elementSize > 1,
        label: `storage ${name}`,
      });
    },
  );
  if (!plan.ok && plan.error.offset !== undefined && plan.error.member === undefined) {
    return err({ ...plan.error, member: pklEntry.name });
  }
  return plan;
}

async function planNpy(source: ByteSource, name: string): Promise<Plan> {
  const header = await readNpyHeader(source, { maxHeaderBytes: 1024 * 1024 });
  if (!header.ok) return err({ reason: `not a readable .npy: ${header.error.message}` });
  const h = header.value;
  if (h.descr.kind !== "str") return err({ reason: `"${name}": a structured NumPy dtype` });
  const element = numpyElement(h.descr.value);
  if (typeof element === "string") return err({ reason: `"${name}" is an array of ${element}` });
  const shape = h.shape.map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d)))
    return err({ reason: `"${name}": its shape is too large` });
  const size = DTYPE_SIZE[element.dtype];
  const numel = shape.reduce((a, b) => a * b, 1);
  const bytes = numel * size;
  if (!Number.isSafeInteger(bytes) || h.dataOffset + bytes > source.size) {
    return err({
      reason: `"${name}": the header claims ${bytes} bytes of data, the file holds ${source.size - h.dataOffset}`,
    });
  }
  const strides = h.fortranOrder
    ? contiguousStrides([...shape].reverse()).reverse()
    : contiguousStrides(shape);
  const tensor: TensorPlan = {
    name,
    dtype: element.dtype,
    shape,
    strides,
    offset: 0,
    storage: {
      source: sliceSource(source, h.dataOffset, bytes),
      numel,
      elementSize: size,
      bigEndian: element.bigEndian && size > 1,
      label: name,
    },
  };
  return ok({ format: "npy", tensors: [tensor], dropped: [], sharedStorages: 0 });
}

async function planNpz(archive: ZipArchive, options: ConvertOptions): Promise<Plan> {
  const tensors: TensorPlan[] = [];
  const dropped: ConversionPlan["dropped"] = [];
  for (const entry of archive.entries) {
    if (entry.isDirectory) continue;
    if (!entry.name.endsWith(".npy")) {
      const reason = "an archive member that is not a .npy array";
      if (options.dropNonTensors) {
        dropped.push({ name: entry.name, reason });
        continue;
      }
      return err({ reason: `${JSON.stringify(entry.name)} is ${reason}`, member: entry.name });
    }
    const member = await readMember(archive, entry, options);
    if (!member.ok) return member;
    const name = entry.name.slice(0, -4);
    const planned = await planNpy(member.value, name);
    if (!planned.ok) {
      if (options.dropNonTensors) {
        dropped.push({ name, reason: planned.error.reason });
        continue;
      }
      return err({ ...planned.error, member: entry.name });
    }
    tensors.push(...planned.value.tensors);
  }
  if (tensors.length === 0 && dropped.length === 0) {
    return err({ reason: "the zip holds neither a PyTorch checkpoint nor .npy arrays" });
  }
  return ok({ format: "npz", tensors, dropped, sharedStorages: 0 });
}
