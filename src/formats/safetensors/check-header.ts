import type { LocalFinding, Severity } from "../../core/finding.js";
import { SAFETENSORS_DTYPE_BITS } from "./dtypes.js";
import { SAFETENSORS_RULES, type SafetensorsRuleKey } from "./rules.js";
import {
  duplicateEntries,
  type JsonEntry,
  type JsonObject,
  type JsonValue,
  jsonUnsignedInteger,
  parseJson,
} from "./strict-json.js";
import { invalidUtf8At } from "./utf8.js";

/** Findings of one rule kept per header; the rest are counted in one summary finding. */
const MAX_FINDINGS_PER_RULE = 20;
/** JSON values kept while parsing a header (a real header holds ~8 per tensor). */
export const SAFETENSORS_MAX_JSON_VALUES = 2_000_000;
/** JSON nesting accepted in a header (serde_json's default recursion limit). */
const MAX_JSON_DEPTH = 128;
const U64_MAX = (1n << 64n) - 1n;
const TENSOR_FIELDS = new Set(["dtype", "shape", "data_offsets"]);

export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: bigint[];
  /** Byte range relative to the start of the data area. */
  begin: bigint;
  end: bigint;
}

export interface UncoveredRange {
  /** Relative to the start of the data area. */
  begin: bigint;
  end: bigint;
  trailing: boolean;
}

export interface SafetensorsHeaderCheck {
  findings: LocalFinding[];
  /** Tensors whose entry was well-formed (dtype may still be unknown). */
  tensors: SafetensorsTensor[];
  metadata: Map<string, string>;
  /** False when the header is not a JSON object at all: nothing else was checked. */
  parsed: boolean;
  /** Data-area bytes no tensor covers (holes and trailing bytes), in order. */
  uncovered: UncoveredRange[];
}

export interface CheckHeaderOptions {
  /** Size of the data area (file size − 8 − header length). */
  dataSize: bigint;
  /** Absolute offset of the header's first byte. @default 8 */
  headerOffset?: number;
  /** JSON values kept in memory. @default SAFETENSORS_MAX_JSON_VALUES */
  maxJsonValues?: number;
}

class Collector {
  readonly findings: LocalFinding[] = [];
  private readonly counts = new Map<SafetensorsRuleKey, number>();

  add(key: SafetensorsRuleKey, message: string, offset?: number, severity?: Severity): void {
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    if (n > MAX_FINDINGS_PER_RULE) return;
    const rule = SAFETENSORS_RULES[key];
    this.findings.push({
      rule: rule.id,
      severity: severity ?? rule.severity,
      message,
      ...(offset === undefined ? {} : { offset }),
    });
  }

  summarise(): void {
    for (const [key, n] of this.counts) {
      if (n <= MAX_FINDINGS_PER_RULE) continue;
      const rule = SAFETENSORS_RULES[key];
      this.findings.push({
        rule: rule.id,
        severity: rule.severity,
        message: `${n - MAX_FINDINGS_PER_RULE} more ${rule.id} problems in this header were not listed.`,
      });
    }
  }
}

const show = (s: string) => JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}…` : s);

function isSpace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/**
 * Checks a safetensors header (the N bytes after the 8-byte length) strictly against the
 * format: UTF-8, a JSON object starting with `{` and padded only with spaces, no duplicate keys,
 * `__metadata__` string → string, known dtypes, each range exactly shape × dtype size, and the
 * ranges tiling the data area with no overlap, hole or trailing bytes. Never reads tensor data.
 */
export function checkSafetensorsHeader(
  header: Uint8Array,
  options: CheckHeaderOptions,
): SafetensorsHeaderCheck {
  const base = options.headerOffset ?? 8;
  const out = new Collector();
  const result: SafetensorsHeaderCheck = {
    findings: out.findings,
    tensors: [],
    metadata: new Map(),
    parsed: false,
    uncovered: [],
  };

  const badUtf8 = invalidUtf8At(header);
  if (badUtf8 >= 0) {
    out.add(
      "invalidHeader",
      `The header is not valid UTF-8 (byte ${base + badUtf8}); the safetensors library refuses it, other JSON readers may not.`,
      base + badUtf8,
    );
    return result;
  }
  let first = 0;
  while (isSpace(header[first])) first++;
  if (header[first] !== 0x7b) {
    out.add(
      "invalidHeader",
      "The header is not a JSON object (it must start with '{').",
      base + first,
    );
    return result;
  }
  if (first > 0) {
    out.add(
      "nonconforming",
      `The header starts with ${first} whitespace byte(s) before '{': the specification forbids it; safetensors ≥ 0.4 refuses the file, older readers accept it.`,
      base,
    );
  }

  const parsed = parseJson(header, {
    maxDepth: MAX_JSON_DEPTH,
    maxNodes: options.maxJsonValues ?? SAFETENSORS_MAX_JSON_VALUES,
  });
  if (!parsed.ok) {
    const e = parsed.error;
    out.add(
      e.limit ? "limitsExceeded" : "invalidHeader",
      e.limit
        ? `The header was not fully read: ${e.message}.`
        : `The header is not valid JSON: ${e.message} (byte ${base + e.offset}). The safetensors library refuses it; lenient JSON readers may not.`,
      base + e.offset,
    );
    return result;
  }
  const root = parsed.value.value;
  if (root.kind !== "object") {
    out.add("invalidHeader", "The header is not a JSON object.", base);
    return result;
  }
  result.parsed = true;

  for (let i = parsed.value.end; i < header.length; i++) {
    if (header[i] !== 0x20) {
      out.add(
        "nonconforming",
        `The header is padded with byte 0x${header[i]!.toString(16).padStart(2, "0")}; the specification allows only spaces (0x20).`,
        base + i,
      );
      break;
    }
  }

  for (const dup of duplicateEntries(root)) {
    out.add(
      "duplicateKey",
      `The header names ${show(dup.key)} more than once: JSON readers keep different copies, so tools disagree on this ${dup.key === "__metadata__" ? "metadata" : "tensor"}.`,
      base + dup.keyOffset,
    );
  }

  for (const entry of root.entries) {
    if (entry.key === "__metadata__") checkMetadata(entry, result, out, base);
    else checkTensorEntry(entry, result, out, base);
  }

  checkCoverage(result, options.dataSize, out, base + header.length);
  out.summarise();
  return result;
}

function checkMetadata(
  entry: JsonEntry,
  result: SafetensorsHeaderCheck,
  out: Collector,
  base: number,
): void {
  const value = entry.value;
  if (value.kind === "null") return;
  if (value.kind !== "object") {
    out.add(
      "badMetadata",
      `__metadata__ is a JSON ${value.kind}, not a map of strings.`,
      base + value.offset,
    );
    return;
  }
  for (const dup of duplicateEntries(value)) {
    out.add(
      "duplicateKey",
      `__metadata__ names ${show(dup.key)} more than once.`,
      base + dup.keyOffset,
    );
  }
  for (const m of value.entries) {
    if (m.value.kind !== "string") {
      out.add(
        "badMetadata",
        `__metadata__[${show(m.key)}] is a JSON ${m.value.kind}; the format allows only strings.`,
        base + m.value.offset,
      );
      continue;
    }
    result.metadata.set(m.key, m.value.value);
  }
}

function field(object: JsonObject, name: string): JsonValue | undefined {
  return object.entries.find((e) => e.key === name)?.value;
}

function checkTensorEntry(
  entry: JsonEntry,
  result: SafetensorsHeaderCheck,
  out: Collector,
  base: number,
): void {
  const name = entry.key;
  const info = entry.value;
  if (info.kind !== "object") {
    out.add(
      "invalidHeader",
      `Tensor ${show(name)} is described by a JSON ${info.kind}, not an object with dtype, shape and data_offsets.`,
      base + info.offset,
    );
    return;
  }
  for (const dup of duplicateEntries(info)) {
    out.add(
      "duplicateKey",
      `Tensor ${show(name)} has field ${show(dup.key)} twice; the safetensors library refuses the file.`,
      base + dup.keyOffset,
    );
  }
  const extra = info.entries.filter((e) => !TENSOR_FIELDS.has(e.key));
  if (extra.length > 0) {
    out.add(
      "nonconforming",
      `Tensor ${show(name)} has field(s) the format does not define (${extra
        .slice(0, 5)
        .map((e) => show(e.key))
        .join(", ")}); loaders ignore them.`,
      base + extra[0]!.keyOffset,
    );
  }

  const dtypeValue = field(info, "dtype");
  const shapeValue = field(info, "shape");
  const offsetsValue = field(info, "data_offsets");
  if (dtypeValue?.kind !== "string") {
    out.add(
      "invalidHeader",
      `Tensor ${show(name)} has no dtype string.`,
      base + (dtypeValue ?? info).offset,
    );
    return;
  }
  const shape: bigint[] = [];
  if (shapeValue?.kind !== "array") {
    out.add(
      "invalidHeader",
      `Tensor ${show(name)} has no shape array.`,
      base + (shapeValue ?? info).offset,
    );
    return;
  }
  for (const dim of shapeValue.items) {
    const n = jsonUnsignedInteger(dim);
    if (n === undefined || n > U64_MAX) {
      out.add(
        "invalidHeader",
        `Tensor ${show(name)} has a shape entry that is not an unsigned 64-bit integer.`,
        base + dim.offset,
      );
      return;
    }
    shape.push(n);
  }
  const offsets =
    offsetsValue?.kind === "array" && offsetsValue.items.length === 2
      ? offsetsValue.items.map(jsonUnsignedInteger)
      : undefined;
  const [begin, end] = offsets ?? [];
  if (begin === undefined || end === undefined || begin > U64_MAX || end > U64_MAX) {
    out.add(
      "invalidHeader",
      `Tensor ${show(name)} has no data_offsets pair of unsigned 64-bit integers.`,
      base + (offsetsValue ?? info).offset,
    );
    return;
  }
  const tensor: SafetensorsTensor = { name, dtype: dtypeValue.value, shape, begin, end };
  result.tensors.push(tensor);
  const at = base + offsetsValue!.offset;

  const bits = SAFETENSORS_DTYPE_BITS.get(dtypeValue.value);
  if (bits === undefined) {
    out.add(
      "unknownDtype",
      `Tensor ${show(name)} has dtype ${show(dtypeValue.value)}, which the safetensors format does not define; its size was not checked.`,
      base + dtypeValue.offset,
    );
  }
  if (begin > end) {
    out.add("badRange", `Tensor ${show(name)} ends (${end}) before it begins (${begin}).`, at);
    return;
  }
  if (bits === undefined) return;
  let elements = 1n;
  for (const d of shape) {
    elements *= d;
    if (elements > U64_MAX) {
      out.add(
        "badRange",
        `Tensor ${show(name)}'s shape overflows 64 bits (${shape.join(" × ")}).`,
        at,
      );
      return;
    }
  }
  const totalBits = elements * BigInt(bits);
  if (totalBits % 8n !== 0n) {
    out.add(
      "badRange",
      `Tensor ${show(name)} holds ${elements} elements of ${bits} bits, which is not a whole number of bytes.`,
      at,
    );
    return;
  }
  if (totalBits / 8n !== end - begin) {
    out.add(
      "badRange",
      `Tensor ${show(name)} is ${dtypeValue.value} [${shape.join(", ")}] = ${totalBits / 8n} bytes, but its range [${begin}, ${end}) holds ${end - begin}.`,
      at,
    );
  }
}

/** The ranges must tile the data area exactly: sorted, each starting where the last ended. */
function checkCoverage(
  result: SafetensorsHeaderCheck,
  dataSize: bigint,
  out: Collector,
  dataStart: number,
): void {
  const ranges = result.tensors
    .filter((t) => t.begin <= t.end)
    .sort((a, b) => (a.begin < b.begin ? -1 : a.begin > b.begin ? 1 : a.end < b.end ? -1 : 1));
  let covered = 0n;
  let previous: SafetensorsTensor | undefined;
  for (const t of ranges) {
    if (t.end > dataSize) {
      out.add(
        "badRange",
        `Tensor ${show(t.name)} claims bytes [${t.begin}, ${t.end}) but the data area holds only ${dataSize}.`,
        dataStart + Number(t.begin > dataSize ? dataSize : t.begin),
      );
    }
    if (t.begin > covered) {
      const end = t.begin > dataSize ? dataSize : t.begin;
      if (end > covered) result.uncovered.push({ begin: covered, end, trailing: false });
      out.add(
        "badRange",
        `Bytes [${covered}, ${t.begin}) of the data area belong to no tensor (a hole): the format forbids holes, which can hide another file.`,
        dataStart + Number(covered),
      );
    } else if (t.begin < covered && t.end > t.begin) {
      out.add(
        "badRange",
        `Tensor ${show(t.name)} [${t.begin}, ${t.end}) overlaps ${previous ? show(previous.name) : "another tensor"}: two tensors share bytes.`,
        dataStart + Number(t.begin),
      );
    }
    if (t.end > covered) {
      covered = t.end;
      previous = t;
    }
  }
  if (covered < dataSize) {
    result.uncovered.push({ begin: covered, end: dataSize, trailing: true });
    const rule = SAFETENSORS_RULES.trailingData;
    out.findings.push({
      rule: rule.id,
      severity: rule.severity,
      message: `${dataSize - covered} byte(s) follow the last tensor (from offset ${dataStart + Number(covered)}): no loader reads them. They were analysed as a separate artifact.`,
      offset: dataStart + Number(covered),
    });
  }
}
