import type { ByteSource } from "../core/byte-source.js";
import type { LocalFinding } from "../core/finding.js";
import type { Limits } from "../core/limits.js";
import type { Policy } from "../policy/types.js";
import type { ReadHdf5 } from "./hdf5/read-hdf5.js";

/** A named byte source to analyse: a file, or a member found inside another artifact. */
export interface Artifact {
  /** The file the user named (path or URL). */
  file: string;
  /** Member path from the outside in; empty for the file itself. */
  member: string[];
  source: ByteSource;
  /** Format id suggested by the parent (e.g. zip says `data.pkl` is a pickle); bytes still decide. */
  hint?: string;
}

/** The first and last bytes of an artifact, for cheap format detection. */
export interface Probe {
  head: Uint8Array;
  tail: Uint8Array;
  size: number;
}

export interface ScanContext {
  limits: Limits;
  policy: Policy;
  /** Nesting depth of the artifact being analysed (0 for a file). */
  depth: number;
  /**
   * Bytes still allowed to be decompressed for the whole file, shared by every nested archive
   * and stream (a gzip in a zip in a tar draws on one budget). The engine creates it per file from
   * `limits.maxTotalInflatedBytes`; analysers called on their own fall back to a fresh one.
   */
  budget?: InflateBudget;
  /**
   * Reads HDF5 bytes with libhdf5 (see formats/hdf5/read-hdf5.ts). A crafted file can make that
   * C library loop forever inside WebAssembly, where nothing in the same thread can stop it, so
   * hosts that can (the CLI, the gate) pass a reader that runs it in a worker with a time limit
   * (sources/isolated-hdf5.ts). Without one, it runs in this thread.
   */
  readHdf5?: ReadHdf5;
}

/** A mutable allowance of decompressed bytes (see `ScanContext.budget`). */
export interface InflateBudget {
  remaining: number;
}

/** The context's shared decompression budget, created on first use. */
export function inflateBudget(ctx: ScanContext): InflateBudget {
  ctx.budget ??= { remaining: ctx.limits.maxTotalInflatedBytes };
  return ctx.budget;
}

/** A member an analyser found and hands back to the engine to detect and analyse. */
export interface Child {
  /** Name inside the parent, e.g. `archive/data.pkl`. */
  name: string;
  source: ByteSource;
  hint?: string;
}

export interface Analysis {
  /** Format id, possibly refined (e.g. `pytorch-zip` for a zip). */
  format: string;
  findings: LocalFinding[];
  children: Child[];
  /**
   * Set when, on closer look, the bytes are not this format at all (e.g. text that starts with a
   * pickle opcode byte but does nothing a loader would act on). The engine then tries no other
   * analyser and reports the artifact as unrecognised.
   */
  notThisFormat?: boolean;
  /** Set when the artifact could not be analysed at all: the verdict becomes `error`. */
  unanalysable?: boolean;
  /** Format-specific facts for reports (e.g. pickle protocol, stacked pickle count). */
  details?: Record<string, string | number | boolean>;
}

/** One module per format (STYLE.md "Our conventions"). */
export interface FormatAnalyser {
  /** Stable id, e.g. `pickle`, `zip`. */
  id: string;
  /** Bump when output for the same bytes can change (feeds caches). */
  version: number;
  description: string;
  /** Cheap test on the bytes; never on the name. */
  detect(probe: Probe): boolean;
  analyse(artifact: Artifact, ctx: ScanContext): Promise<Analysis>;
}
