import { memorySource } from "../../core/byte-source.js";
import type { LocalFinding } from "../../core/finding.js";
import {
  type Analysis,
  type Artifact,
  type FormatAnalyser,
  inflateBudget,
  type Probe,
  type ScanContext,
} from "../types.js";
import { DEFAULT_MAX_INFLATE_RATIO, RATIO_GUARD_MIN_OUTPUT } from "../zip/inflate.js";
import { decodeWithSevenZip } from "./decode-seven-zip.js";
import type { DecodeOptions, DecodeOutcome } from "./decode-types.js";
import { inflateStream } from "./inflate-stream.js";
import { COMPRESSED_RULES, type CompressedRuleKey } from "./rules.js";
import { type CompressionKind, sniffCompression } from "./sniff-compression.js";

/** Child name when the file name has no extension to strip. */
export const DECOMPRESSED_CHILD = "(decompressed)";

/**
 * Largest compressed file decoded with 7-Zip: it is copied whole into the WASM module's memory
 * file system. @default 1 GiB
 */
export const DEFAULT_MAX_COMPRESSED_INPUT = 1024 * 1024 * 1024;

/**
 * Output/input ratio above which a stream counts as a bomb. Deflate cannot exceed about 1032:1.
 * LZMA reaches about 7000:1 on long runs of zeros. bzip2's run-length stage lets zero runs reach
 * far higher ratios, so only a ratio no real model data approaches is flagged.
 */
export const MAX_RATIO: Readonly<Record<CompressionKind, number>> = Object.freeze({
  gzip: DEFAULT_MAX_INFLATE_RATIO,
  zlib: DEFAULT_MAX_INFLATE_RATIO,
  "joblib-zfile": DEFAULT_MAX_INFLATE_RATIO,
  xz: 20_000,
  lzma: 20_000,
  bzip2: 200_000,
});

/** Extensions stripped to name the child, per format (`.tgz` → `.tar`). */
const EXTENSIONS: Readonly<Record<CompressionKind, readonly [string, string][]>> = {
  gzip: [
    [".tgz", ".tar"],
    [".taz", ".tar"],
    [".gz", ""],
    [".gzip", ""],
    [".z", ""],
  ],
  bzip2: [
    [".tbz2", ".tar"],
    [".tbz", ".tar"],
    [".tb2", ".tar"],
    [".bz2", ""],
    [".bz", ""],
    [".bzip2", ""],
  ],
  xz: [
    [".txz", ".tar"],
    [".xz", ""],
  ],
  lzma: [
    [".tlz", ".tar"],
    [".lzma", ""],
  ],
  zlib: [
    [".zz", ""],
    [".zlib", ""],
    [".z", ""],
  ],
  "joblib-zfile": [],
};

export interface CompressedFormatOptions {
  /** Largest input decoded with 7-Zip (gzip, bzip2, xz, lzma). @default 1 GiB */
  maxInputBytes?: number;
}

export function detectCompressed(probe: Probe): boolean {
  return sniffCompression(probe.head) !== undefined;
}

function finding(
  key: CompressedRuleKey,
  message: string,
  offset?: number,
  severity?: LocalFinding["severity"],
): LocalFinding {
  const rule = COMPRESSED_RULES[key];
  return {
    rule: rule.id,
    severity: severity ?? rule.severity,
    message,
    ...(offset === undefined ? {} : { offset }),
  };
}

/** The artifact's name without its compression extension, or `(decompressed)`. */
export function decompressedName(artifact: Artifact, kind: CompressionKind): string {
  const path = artifact.member.at(-1) ?? artifact.file;
  const base = path.split(/[\\/]/).at(-1) ?? "";
  const lower = base.toLowerCase();
  for (const [ext, replacement] of EXTENSIONS[kind]) {
    if (lower.endsWith(ext) && base.length > ext.length) {
      return base.slice(0, base.length - ext.length) + replacement;
    }
  }
  return DECOMPRESSED_CHILD;
}

const LABEL: Readonly<Record<CompressionKind, string>> = {
  gzip: "gzip",
  bzip2: "bzip2",
  xz: "xz",
  lzma: "lzma",
  zlib: "zlib",
  "joblib-zfile": "joblib z-file (zlib)",
};

/**
 * Decompresses a gzip, bzip2, xz, lzma-alone, zlib or joblib z-file stream in memory, within
 * `maxMemberBytes`, `maxTotalInflatedBytes` and a ratio guard, and hands the bytes back as one
 * child for the engine to detect (a `.tar.gz` becomes gzip → tar → members). A truncated or
 * corrupt stream is a finding, and what was decompressed before the fault is still analysed.
 */
export async function analyseCompressed(
  artifact: Artifact,
  ctx: ScanContext,
  options: CompressedFormatOptions = {},
): Promise<Analysis> {
  const { source } = artifact;
  const sniff = sniffCompression(await source.read(0, 64));
  if (!sniff) return { format: "compressed", findings: [], children: [], notThisFormat: true };
  const { kind, dataOffset } = sniff;
  const label = LABEL[kind];
  const budget = inflateBudget(ctx);
  const maxOutput = Math.max(0, Math.min(ctx.limits.maxMemberBytes, budget.remaining));
  const decodeOptions: DecodeOptions = {
    maxOutput,
    maxRatio: MAX_RATIO[kind],
    ratioGuardMinOutput: RATIO_GUARD_MIN_OUTPUT,
  };
  const findings: LocalFinding[] = [];
  // 7-Zip needs the whole input in its memory file system: at most maxInputBytes of it.
  const maxInput = options.maxInputBytes ?? DEFAULT_MAX_COMPRESSED_INPUT;
  const inputSize = Math.min(source.size, maxInput);
  const sevenZipInput = async (): Promise<Uint8Array> => {
    if (inputSize < source.size) {
      findings.push(
        finding(
          "limitsExceeded",
          `The ${label} file is ${source.size} bytes; only its first ${inputSize} were decompressed (in-memory decoding limit).`,
        ),
      );
    }
    return source.read(0, inputSize);
  };
  let outcome: DecodeOutcome;
  if (kind === "zlib" || kind === "joblib-zfile") {
    outcome = await inflateStream(
      "deflate",
      source,
      dataOffset,
      source.size - dataOffset,
      decodeOptions,
    );
  } else if (kind === "gzip") {
    outcome = await decodeGzip(source, sevenZipInput, decodeOptions);
  } else {
    outcome = await decodeWithSevenZip(kind, await sevenZipInput(), decodeOptions);
  }
  // A stream cut by the input limit ends early because of us, not because it is truncated.
  if (inputSize < source.size && outcome.stop === "truncated")
    outcome = { ...outcome, stop: "limit" };

  const produced = outcome.bytes.length;
  budget.remaining = Math.max(0, budget.remaining - produced);
  const compressed = source.size - dataOffset;
  switch (outcome.stop) {
    case "end":
      break;
    case "limit":
      if (produced > RATIO_GUARD_MIN_OUTPUT && produced > compressed * MAX_RATIO[kind]) {
        findings.push(bombFinding(label, produced, compressed));
      } else if (produced >= maxOutput) {
        findings.push(
          finding(
            "limitsExceeded",
            `The ${label} stream decompresses to more than ${maxOutput} bytes (maxMemberBytes / maxTotalInflatedBytes): only the first ${produced} were analysed.`,
          ),
        );
      }
      break;
    case "ratio":
      findings.push(bombFinding(label, produced, compressed));
      break;
    case "truncated":
      findings.push(
        finding(
          "truncated",
          `The ${label} stream ends early${detail(outcome)}: the ${produced} bytes decompressed before that were analysed.`,
        ),
      );
      break;
    case "corrupt":
      findings.push(
        finding(
          "corrupt",
          `The ${label} stream is corrupt${detail(outcome)}: the ${produced} bytes decompressed before the error were analysed.`,
        ),
      );
      break;
    case "trailing":
      findings.push(
        finding(
          "trailingData",
          `Data follows the end of the ${label} stream${detail(outcome)}: loaders stop before it or fail on it, and it was not analysed.`,
        ),
      );
      break;
    case "unavailable":
      findings.push(
        finding("unanalysable", `The ${label} decoder is not available here${detail(outcome)}.`),
      );
      return { format: kind, findings, children: [], unanalysable: true };
  }

  const failed = outcome.stop === "truncated" || outcome.stop === "corrupt";
  if (failed && produced === 0) {
    // zlib has no real magic number: a stream that yields nothing was not zlib after all.
    if (kind === "zlib") return { format: kind, findings: [], children: [], notThisFormat: true };
    findings.push(
      finding(
        "unanalysable",
        `Nothing could be decompressed from this ${label} stream: nothing was vetted.`,
      ),
    );
    return { format: kind, findings, children: [], unanalysable: true };
  }
  return {
    format: kind,
    findings,
    children: [{ name: decompressedName(artifact, kind), source: memorySource(outcome.bytes) }],
    details: {
      compressedBytes: compressed,
      decompressedBytes: produced,
      complete: outcome.stop === "end" || outcome.stop === "trailing",
    },
  };
}

/**
 * gzip through `DecompressionStream` first: it stops exactly where a truncated stream ends (7-Zip's
 * deflate decoder emits a few hundred bytes of filler there). When it fails otherwise — typically
 * on bytes after the last member — 7-Zip decodes again, reading every member and saying that data
 * follows.
 */
async function decodeGzip(
  source: Artifact["source"],
  input: () => Promise<Uint8Array>,
  options: DecodeOptions,
): Promise<DecodeOutcome> {
  const first = await inflateStream("gzip", source, 0, source.size, options);
  if (first.stop !== "corrupt" && first.stop !== "unavailable") return first;
  const second = await decodeWithSevenZip("gzip", await input(), options);
  return second.stop === "trailing" || first.stop === "unavailable" ? second : first;
}

function detail(outcome: DecodeOutcome): string {
  return outcome.message ? ` (${outcome.message})` : "";
}

function bombFinding(label: string, produced: number, compressed: number): LocalFinding {
  return finding(
    "bomb",
    `The ${label} stream expands ${produced} bytes from ${compressed} compressed (over ${Math.floor(produced / Math.max(1, compressed))}:1), an implausible ratio: decompression stopped and only that prefix was analysed.`,
  );
}

/** The analyser with its options (the in-memory input bound). */
export function createCompressedFormat(options: CompressedFormatOptions = {}): FormatAnalyser {
  return {
    id: "compressed",
    version: 1,
    description:
      "gzip, bzip2, xz, lzma-alone, zlib and joblib z-file streams, decompressed in memory within limits",
    detect: detectCompressed,
    analyse: (artifact, ctx) => analyseCompressed(artifact, ctx, options),
  };
}

export const compressedFormat: FormatAnalyser = createCompressedFormat();

export { COMPRESSED_RULES } from "./rules.js";
export {
  type CompressionKind,
  type CompressionSniff,
  sniffCompression,
} from "./sniff-compression.js";
