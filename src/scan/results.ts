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

/** Why a finding does not count: an `ignore` entry of the policy file, or a baseline. */
export interface Suppression {
  kind: "ignore" | "baseline";
  /** The ignore's reason, or which baseline holds the finding. */
  reason: string;
  /** Last day (YYYY-MM-DD) the ignore applies, when it has one. */
  expires?: string;
}

/** A finding kept in the report for the record, but left out of verdicts and exit codes. */
export type SuppressedFinding = Finding & { suppression: Suppression };

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
  /**
   * Findings an ignore or the baseline set aside (scan/apply-policy.ts); they are not in
   * `findings` and count for neither the verdict nor the exit code. Absent when none.
   */
  suppressed?: SuppressedFinding[];
  /** For a file read over HTTP (a Hub repository or a URL): where from, and what it cost. */
  remote?: RemoteInfo;
}

/** Where a remote file was read from (schema: `$defs/remote`). */
export interface RemoteInfo {
  /** The URL the bytes were read from (before redirects). */
  url: string;
  /** The Hub commit the file was read at. */
  commit?: string;
  /** The content's ETag as the server gave it. */
  etag?: string;
  /** The SHA-256 the Hub's LFS metadata declares for the file. */
  lfsSha256?: string;
  /** Whether `--verify-hashes` found the downloaded bytes equal to `lfsSha256`. */
  hashVerified?: boolean;
  /** Bytes transferred to analyse the file (range reads; a hash check's download not counted). */
  bytesFetched: number;
}

/** A Hub repository (or a revision in the local Hugging Face cache) that a scan covered. */
export interface RepositoryInfo {
  source: "hub" | "hf-cache";
  type: "model" | "dataset" | "space";
  /** `org/name`. */
  id: string;
  /** The revision asked for (hub: as given, `main` by default; cache: absent). */
  revision?: string;
  /** The commit scanned. */
  commit: string;
  /** Branch and tag names the cache records for the commit. */
  refs?: string[];
  /** The Hub endpoint (hub) or the snapshot folder (hf-cache). */
  location: string;
  /** Files of this repository revision in the report. */
  files: number;
}
