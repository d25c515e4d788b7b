import type { Finding } from "../core/finding.js";
import type { Verdict } from "../core/verdict.js";

/** What the engine learnt about one artifact: a file or a member inside one. */
export interface ArtifactResult {
  /** Member path from the outside in; empty for the file itself. */
  member: string[];
  /** Detected format id, or null when the bytes match no format modelvet knows. */
  format: string | null;
  size: number;
  verdict: Verdict;
  /** Findings of this artifact only (members carry their own). */
  findings: Finding[];
  children: ArtifactResult[];
  details?: Record<string, string | number | boolean>;
}

/** One scanned file, as reported (schema: docs/result-schema.json). */
export interface FileResult {
  /** The path or URL as the user named it. */
  path: string;
  size: number;
  /** Lowercase hex SHA-256 of the whole file, when hashing was on. */
  sha256?: string;
  /** Format of the file itself, or null when unrecognised. */
  format: string | null;
  /** The worst verdict of the file and every member inside it. */
  verdict: Verdict;
  /** Every finding in the file, members included (see `location.member`). */
  findings: Finding[];
  /** Per-member results for archives; empty for plain files. */
  children: ArtifactResult[];
  details?: Record<string, string | number | boolean>;
  timings: { analyseMs: number };
}
