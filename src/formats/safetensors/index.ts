import { sliceSource } from "../../core/byte-source.js";
import type { LocalFinding } from "../../core/finding.js";
import type { Analysis, Artifact, Child, FormatAnalyser, Probe } from "../types.js";
import { checkSafetensorsHeader } from "./check-header.js";
import { SAFETENSORS_RULES } from "./rules.js";

/**
 * Largest header accepted, in bytes: the reference implementation's `MAX_HEADER_SIZE`
 * (100_000_000; larger headers are refused by the safetensors library, so a file claiming one is
 * not loadable safetensors). A candidate for `Limits` if it ever needs to be configurable.
 */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;
/** Uncovered regions (holes, trailing bytes) handed back as children, at most. */
const MAX_UNCOVERED_CHILDREN = 8;
/** Child name for the bytes after the last tensor. */
export const SAFETENSORS_TRAILING_CHILD = "(bytes after the tensors)";

const isJsonSpace = (b: number | undefined) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

function readU64(bytes: Uint8Array): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
}

const HEADER_WORDS = ['"dtype"', '"data_offsets"', '"__metadata__"'].map((w) =>
  new TextEncoder().encode(w),
);

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * An 8-byte little-endian header length N ≥ 2, then `{` (after at most a few whitespace bytes,
 * which old readers tolerate) followed by `"` or `}`: a JSON object with string keys. N must fit
 * in the file — or, so that a header claiming more bytes than the file holds is still reported
 * as broken safetensors, be below 2^53 with a safetensors header word (`"dtype"`,
 * `"data_offsets"`, `"__metadata__"`) in the probe. Text files never match: their eighth byte
 * would make N ≥ 2^61.
 */
export function detectSafetensors(probe: Probe): boolean {
  const { head } = probe;
  if (probe.size < 10 || head.length < 10) return false;
  const n = readU64(head);
  if (n < 2n || n >= 1n << 53n) return false;
  let i = 8;
  while (i < 24 && isJsonSpace(head[i])) i++;
  if (head[i] !== 0x7b) return false;
  i++;
  while (i < head.length && isJsonSpace(head[i])) i++;
  if (i < head.length && head[i] !== 0x22 && head[i] !== 0x7d) return false;
  if (n <= BigInt(probe.size - 8)) return true;
  return HEADER_WORDS.some((w) => contains(head, w));
}

function finding(key: keyof typeof SAFETENSORS_RULES, message: string, offset?: number) {
  const rule = SAFETENSORS_RULES[key];
  const f: LocalFinding = { rule: rule.id, severity: rule.severity, message };
  if (offset !== undefined) f.offset = offset;
  return f;
}

/**
 * Reads only the 8-byte length and the header, then checks them strictly
 * (`checkSafetensorsHeader`). A valid file has no findings. Bytes no tensor covers (holes, bytes
 * after the last tensor) are handed back as children, so a pickle or archive hidden there is
 * analysed too.
 */
export async function analyseSafetensors(artifact: Artifact): Promise<Analysis> {
  const { source } = artifact;
  const fail = (message: string, offset?: number): Analysis => ({
    format: "safetensors",
    findings: [finding("invalidHeader", message, offset)],
    children: [],
    unanalysable: true,
  });
  if (source.size < 8) return fail("The file is shorter than the 8-byte header length.");
  const n = readU64(await source.read(0, 8));
  const available = BigInt(source.size - 8);
  if (n > available) {
    return fail(
      `The header length is ${n} bytes, but only ${available} bytes follow it: the header runs past the end of the file.`,
      0,
    );
  }
  if (n > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    return fail(
      `The header length is ${n} bytes, more than the ${SAFETENSORS_MAX_HEADER_BYTES} the safetensors library accepts; the header was not read.`,
      0,
    );
  }
  const headerLength = Number(n);
  if (headerLength < 2) return fail(`The header length is ${headerLength}: too short for "{}".`, 0);
  const header = await source.read(8, headerLength);
  const dataStart = 8 + headerLength;
  const dataSize = source.size - dataStart;
  const check = checkSafetensorsHeader(header, { dataSize: BigInt(dataSize), headerOffset: 8 });

  const children: Child[] = [];
  for (const range of check.uncovered.slice(0, MAX_UNCOVERED_CHILDREN)) {
    const start = dataStart + Number(range.begin);
    const size = Number(range.end - range.begin);
    if (size <= 0) continue;
    children.push({
      name: range.trailing ? SAFETENSORS_TRAILING_CHILD : `(hole at offset ${start})`,
      source: sliceSource(source, start, size),
    });
  }

  const format = check.metadata.get("format");
  return {
    format: "safetensors",
    findings: check.findings,
    children,
    ...(check.parsed ? {} : { unanalysable: true }),
    details: {
      headerLength,
      tensors: check.tensors.length,
      dataBytes: dataSize,
      metadataKeys: check.metadata.size,
      ...(format === undefined ? {} : { metadataFormat: format.slice(0, 40) }),
    },
  };
}

export const safetensorsFormat: FormatAnalyser = {
  id: "safetensors",
  version: 1,
  description:
    "safetensors files, validated strictly from their header (tensor data is never read)",
  detect: detectSafetensors,
  analyse: analyseSafetensors,
};

export {
  type CheckHeaderOptions,
  checkSafetensorsHeader,
  SAFETENSORS_MAX_JSON_VALUES,
  type SafetensorsHeaderCheck,
  type SafetensorsTensor,
  type UncoveredRange,
} from "./check-header.js";
export { SAFETENSORS_DTYPE_BITS } from "./dtypes.js";
export { SAFETENSORS_RULES, type SafetensorsRule, type SafetensorsRuleKey } from "./rules.js";
export {
  duplicateEntries,
  type JsonEntry,
  type JsonError,
  type JsonObject,
  type JsonParseOptions,
  type JsonValue,
  jsonUnsignedInteger,
  type ParsedJson,
  parseJson,
} from "./strict-json.js";
