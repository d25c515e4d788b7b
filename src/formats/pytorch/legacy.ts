import type { ByteSource } from "../../core/byte-source.js";
import type { LocalFinding } from "../../core/finding.js";
import type { PickleReport } from "../pickle/analyse-pickle.js";
import { analysePickle } from "../pickle/analyse-pickle.js";
import type { SymValue } from "../pickle/values.js";
import type { FormatAnalyser, Probe } from "../types.js";
import { PYTORCH_RULE } from "./rules.js";
import { storageElementSize } from "./storage-types.js";

/**
 * PyTorch's legacy format (`torch.save(..., _use_new_zipfile_serialization=False)`): five pickles
 * one after another — the magic number, the protocol version, sys_info, the object, the sorted
 * storage keys — then each storage's raw bytes (int64 element count, then the data). `torch.load`
 * unpickles all five, so all five are analysed; the storage bytes are skipped by their declared
 * sizes, never read.
 */
const MAGIC_LONG1 = Uint8Array.of(
  0x8a,
  0x0a,
  0x6c,
  0xfc,
  0x9c,
  0x46,
  0xf9,
  0x20,
  0x6a,
  0xa8,
  0x50,
  0x19,
);
const MAGIC_TEXT = new TextEncoder().encode("L119547037146038801333356L\n");
const LEGACY_PICKLES = 5;

function indexOf(haystack: Uint8Array, needle: Uint8Array, within: number): number {
  const last = Math.min(haystack.length - needle.length, within);
  outer: for (let i = 0; i <= last; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** The magic-number pickle opens the file (after PROTO and a possible FRAME). */
export function detectPytorchLegacy(probe: Probe): boolean {
  return indexOf(probe.head, MAGIC_LONG1, 16) >= 0 || indexOf(probe.head, MAGIC_TEXT, 4) >= 0;
}

interface StorageRef {
  key: string;
  elementSize: number | undefined;
  typeName: string;
}

/** `('storage', storage_type, key, location, numel, …)` persistent ids, by key. */
function storageRefs(report: PickleReport): Map<string, StorageRef> {
  const refs = new Map<string, StorageRef>();
  for (const p of report.persistentIds) {
    if (p.pickle !== 3 || p.pid.kind !== "tuple") continue;
    const [tag, type, key] = p.pid.items;
    if (
      tag?.kind !== "str" ||
      tag.value !== "storage" ||
      key?.kind !== "str" ||
      key.value === null
    ) {
      continue;
    }
    const elementSize =
      type?.kind === "global" ? storageElementSize(type.module, type.name) : undefined;
    const typeName = type?.kind === "global" ? `${type.module}.${type.name}` : "an unknown type";
    refs.set(key.value, { key: key.value, elementSize, typeName });
  }
  return refs;
}

/** The keys list as the loader will iterate it, when the preview holds all of it. */
function keysInOrder(result: SymValue | undefined, refs: Map<string, StorageRef>): string[] {
  if (result?.kind === "list" && result.items.length === result.count) {
    const keys = result.items.map((v) => (v.kind === "str" ? v.value : null));
    if (keys.every((k): k is string => k !== null)) return keys;
  }
  // More keys than the symbolic list keeps: torch.save writes them sorted (Python str order,
  // by code point — the same as JavaScript's default sort for these ASCII keys).
  return [...refs.keys()].sort();
}

async function readInt64(source: ByteSource, offset: number): Promise<number | undefined> {
  const bytes = await source.read(offset, 8);
  if (bytes.length < 8) return undefined;
  const value = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigInt64(0, true);
  return value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(value);
}

/** Steps over the storages; returns findings when the layout does not add up. */
async function checkStorages(source: ByteSource, report: PickleReport): Promise<LocalFinding[]> {
  const refs = storageRefs(report);
  const keys = keysInOrder(report.pickles[4]?.result, refs);
  let offset = report.endOffset;
  for (const key of keys) {
    const ref = refs.get(key);
    if (ref?.elementSize === undefined) {
      return [
        {
          rule: PYTORCH_RULE.storageLayout,
          severity: "medium",
          message: `Storage "${key}" ${ref ? `has ${ref.typeName}, whose element size modelvet does not know` : "is listed in the storage keys but no tensor refers to it"}; the storage data from offset ${offset} was not checked.`,
          offset,
        },
      ];
    }
    const count = await readInt64(source, offset);
    const size = count === undefined || count < 0 ? undefined : count * ref.elementSize;
    if (size === undefined || offset + 8 + size > source.size) {
      return [
        {
          rule: PYTORCH_RULE.storageLayout,
          severity: "medium",
          message: `Storage "${key}" at offset ${offset} declares more data than the file holds; torch.load would fail here.`,
          offset,
        },
      ];
    }
    offset += 8 + size;
  }
  if (offset < source.size) {
    return [
      {
        rule: PYTORCH_RULE.trailingData,
        severity: "medium",
        message: `${source.size - offset} bytes follow the last storage (from offset ${offset}). torch.load never reads them, but data hidden at the end of a checkpoint is a common way to smuggle a payload past other tools.`,
        offset,
      },
    ];
  }
  return [];
}

export const pytorchLegacyFormat: FormatAnalyser = {
  id: "pytorch-legacy",
  version: 1,
  description:
    "PyTorch legacy checkpoints (five stacked pickles, then raw storages), as torch.load reads them.",
  detect: detectPytorchLegacy,
  async analyse(artifact, ctx) {
    const report = await analysePickle(artifact.source, ctx, { maxPickles: LEGACY_PICKLES });
    const findings = [...report.findings];
    const complete = report.pickles.filter((p) => p.complete).length;
    if (complete === LEGACY_PICKLES && !report.fault && !report.limitHit) {
      findings.push(...(await checkStorages(artifact.source, report)));
    }
    return {
      format: "pytorch-legacy",
      findings,
      children: [],
      details: { pickles: report.pickles.length, opcodes: report.opcodeCount },
    };
  },
};
