/**
 * The `.npy` preamble and header, read as `numpy.lib.format.read_array_header_*` reads them:
 * `\x93NUMPY`, major and minor version, a little-endian header length (u16 for 1.0, u32 for 2.0
 * and 3.0), then a Python dict literal (Latin-1; UTF-8 for 3.0) with exactly the keys `descr`,
 * `fortran_order` and `shape`. The literal is parsed as data, never evaluated.
 */

import type { ByteSource } from "../../core/byte-source.js";
import { err, ok, type Result } from "../../core/result.js";
import { type DtypeInfo, describeDescr } from "./dtype.js";
import { type PyValue, parsePyLiteral } from "./py-literal.js";

/** `\x93NUMPY`. */
export const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59] as const;
/** Header length above which `np.load` refuses the file unless `allow_pickle=True` (NumPy ≥ 1.24). */
export const NUMPY_MAX_HEADER_SIZE = 10_000;

export type NpyVersion = "1.0" | "2.0" | "3.0";

export interface NpyHeader {
  version: NpyVersion;
  /** Bytes of the header text. */
  headerLength: number;
  /** Where the array data starts. */
  dataOffset: number;
  descr: PyValue;
  /** `undefined` when the descr is valid Python but not understood here. */
  dtype: DtypeInfo | undefined;
  shape: bigint[];
  fortranOrder: boolean;
}

export interface NpyHeaderError {
  message: string;
  /** Where the data would start, when the header length could be read. */
  dataOffset?: number;
  /** The header is longer than the decoding limit (not malformed, just not read). */
  overLimit?: boolean;
  version?: string;
}

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A readable form of a literal for messages, bounded. */
export function showValue(value: PyValue, max = 120): string {
  const text = render(value, 0);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function render(v: PyValue, depth: number): string {
  if (depth > 4) return "…";
  switch (v.kind) {
    case "str":
      return JSON.stringify(v.value.length > 60 ? `${v.value.slice(0, 60)}…` : v.value);
    case "bytes":
      return `b<${v.value.length} bytes>`;
    case "int":
      return v.value.toString();
    case "float":
      return String(v.value);
    case "complex":
      return "<complex>";
    case "bool":
      return v.value ? "True" : "False";
    case "none":
      return "None";
    case "ellipsis":
      return "...";
    case "dict":
      return `{${v.entries
        .slice(0, 8)
        .map(([k, x]) => `${render(k, depth + 1)}: ${render(x, depth + 1)}`)
        .join(", ")}${v.entries.length > 8 ? ", …" : ""}}`;
    default: {
      const [open, close] =
        v.kind === "list" ? ["[", "]"] : v.kind === "set" ? ["{", "}"] : ["(", ")"];
      const items = v.items.slice(0, 8).map((x) => render(x, depth + 1));
      return `${open}${items.join(", ")}${v.items.length > 8 ? ", …" : v.kind === "tuple" && v.items.length === 1 ? "," : ""}${close}`;
    }
  }
}

/** Reads and checks the header; the error says what `np.load` would refuse. */
export async function readNpyHeader(
  source: ByteSource,
  options: { maxHeaderBytes: number },
): Promise<Result<NpyHeader, NpyHeaderError>> {
  const pre = await source.read(0, 12);
  if (pre.length < 10 || !NPY_MAGIC.every((b, i) => pre[i] === b)) {
    return err({ message: "the file is shorter than the .npy preamble" });
  }
  const major = pre[6]!;
  const minor = pre[7]!;
  const version = `${major}.${minor}`;
  if (minor !== 0 || major < 1 || major > 3) {
    return err({
      message: `unsupported format version ${version} (NumPy reads 1.0, 2.0 and 3.0)`,
      version,
    });
  }
  const npyVersion = version as NpyVersion;
  const view = new DataView(pre.buffer, pre.byteOffset, pre.length);
  let lengthBytes: number;
  let headerLength: number;
  if (major === 1) {
    lengthBytes = 2;
    headerLength = view.getUint16(8, true);
  } else {
    if (pre.length < 12) return err({ message: "the file ends inside the header length", version });
    lengthBytes = 4;
    headerLength = view.getUint32(8, true);
  }
  const dataOffset = 8 + lengthBytes + headerLength;
  if (dataOffset > source.size) {
    return err({
      message: `the header claims ${headerLength} bytes but the file ends after ${source.size - 8 - lengthBytes}`,
      version,
    });
  }
  if (headerLength > options.maxHeaderBytes) {
    return err({
      message: `the header is ${headerLength} bytes, over the decoding limit (${options.maxHeaderBytes})`,
      dataOffset,
      overLimit: true,
      version,
    });
  }
  const raw = await source.read(8 + lengthBytes, headerLength);
  let text: string;
  try {
    text = major === 3 ? utf8.decode(raw) : latin1.decode(raw);
  } catch {
    return err({ message: "the version 3.0 header is not valid UTF-8", dataOffset, version });
  }
  const parsed = parsePyLiteral(text, { allowLongSuffix: major <= 2 });
  if (!parsed.ok)
    return err({
      message: `the header is not a Python literal (${parsed.error})`,
      dataOffset,
      version,
    });
  const dict = parsed.value;
  if (dict.kind !== "dict") {
    return err({
      message: `the header is not a dictionary: ${showValue(dict)}`,
      dataOffset,
      version,
    });
  }
  const fields = new Map<string, PyValue>();
  const keys: string[] = [];
  for (const [k, v] of dict.entries) {
    const name = k.kind === "str" ? k.value : showValue(k);
    if (k.kind !== "str" || !["descr", "fortran_order", "shape"].includes(k.value)) {
      return err({ message: `the header has an unexpected key ${name}`, dataOffset, version });
    }
    if (!fields.has(name)) keys.push(name);
    fields.set(name, v);
  }
  const descr = fields.get("descr");
  const fortran = fields.get("fortran_order");
  const shapeValue = fields.get("shape");
  if (!descr || !fortran || !shapeValue) {
    return err({
      message: `the header lacks keys (has ${keys.join(", ") || "none"})`,
      dataOffset,
      version,
    });
  }
  if (
    shapeValue.kind !== "tuple" ||
    !shapeValue.items.every((x) => x.kind === "int" || x.kind === "bool")
  ) {
    return err({
      message: `shape is not a tuple of ints: ${showValue(shapeValue)}`,
      dataOffset,
      version,
    });
  }
  const shape = shapeValue.items.map((x) =>
    x.kind === "int" ? x.value : x.kind === "bool" && x.value ? 1n : 0n,
  );
  if (shape.some((d) => d < 0n)) {
    return err({
      message: `shape has a negative dimension: ${showValue(shapeValue)}`,
      dataOffset,
      version,
    });
  }
  if (fortran.kind !== "bool") {
    return err({
      message: `fortran_order is not a bool: ${showValue(fortran)}`,
      dataOffset,
      version,
    });
  }
  const dtype = describeDescr(descr);
  if (descr.kind !== "str" && descr.kind !== "list" && descr.kind !== "tuple") {
    return err({
      message: `descr is not a dtype descriptor: ${showValue(descr)}`,
      dataOffset,
      version,
    });
  }
  if (dtype === undefined && descr.kind !== "str") {
    return err({
      message: `descr is not a valid dtype descriptor: ${showValue(descr)}`,
      dataOffset,
      version,
    });
  }
  return ok({
    version: npyVersion,
    headerLength,
    dataOffset,
    descr,
    dtype,
    shape,
    fortranOrder: fortran.value,
  });
}
