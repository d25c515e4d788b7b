import { basename } from "node:path";
import type { FileResult, RemoteInfo, RepositoryInfo } from "../scan/results.js";
import type { OpenedInput, ScanInput, ScanReport } from "../scan/scan.js";
import { summarise } from "../scan/scan.js";
import { openFile } from "../sources/file-source.js";
import { hfCacheDir, walkHfCache } from "../sources/hf-cache.js";
import {
  HubAccessError,
  type HubFile,
  type HubListing,
  hubEndpoint,
  hubFileUrl,
  hubReportPath,
  hubToken,
  isHubReference,
  listHubRepo,
  parseHubReference,
} from "../sources/hf-hub.js";
import { sha256OfUrl } from "../sources/http-download.js";
import {
  ByteBudget,
  type HttpRangeSourceOptions,
  HttpStatusError,
  openHttpSource,
} from "../sources/http-range-source.js";
import { expandPaths } from "../sources/walk.js";
import { UsageError } from "./errors.js";
import type { Progress } from "./progress.js";

/** What the scan reads besides local paths: hf:// repos, URLs, the Hugging Face cache. */
export interface InputOptions {
  /** Files, folders, `hf://org/name[@rev]` and `http(s)://` URLs, in order. */
  specs: string[];
  /** Also scan the local Hugging Face cache. */
  hfCache?: boolean;
  /** `--token` (else HF_TOKEN). */
  token?: string;
  /** Hash local files (not remote ones, which would mean downloading them). */
  hash: boolean;
  /** Download LFS files to check their SHA-256 (cache: check blobs against their names). */
  verifyHashes: boolean;
  /** Most bytes range reads may fetch in this run. */
  maxRemoteBytes: number;
  env: NodeJS.ProcessEnv;
  fetch?: typeof globalThis.fetch;
  progress?: Progress;
  /** Retry delay base for tests. */
  retryBaseMs?: number;
}

export interface PreparedInputs {
  inputs: ScanInput[];
  repositories: RepositoryInfo[];
  budget: ByteBudget;
  /** Applies what was deferred (cache files sharing a scanned blob) to the engine's report. */
  finish: (report: ScanReport) => ScanReport;
}

/** 1 GiB: a repository of safetensors or zip checkpoints costs megabytes; a pickle is read whole. */
export const DEFAULT_MAX_REMOTE_BYTES = 1024 * 1024 * 1024;

export function isUrl(spec: string): boolean {
  return /^https?:\/\//i.test(spec);
}

export function isRemoteSpec(spec: string): boolean {
  return isHubReference(spec) || isUrl(spec);
}

/**
 * Turns what the user named into scan inputs: local paths expanded, hf:// repositories listed at
 * one commit (each file read by ranges), URLs read by ranges, and the cache walked with each blob
 * scanned once.
 */
export async function prepareInputs(options: InputOptions): Promise<PreparedInputs> {
  const budget = new ByteBudget(options.maxRemoteBytes);
  const endpoint = hubEndpoint(options.env);
  const token = hubToken(options.token, options.env);
  const inputs: ScanInput[] = [];
  const repositories: RepositoryInfo[] = [];
  const duplicates = new Map<string, string[]>(); // scanned path -> other snapshot paths
  const onBytes = (n: number) => options.progress?.bytes(n);
  const rangeOptions = (url: string): HttpRangeSourceOptions => {
    const o: HttpRangeSourceOptions = { budget, onBytes };
    if (options.fetch) o.fetch = options.fetch;
    if (options.retryBaseMs !== undefined) o.retryBaseMs = options.retryBaseMs;
    // The token goes to the Hub only (a CDN it redirects to gets none: see http-range-source).
    if (token !== undefined && sameOrigin(url, endpoint)) {
      o.headers = { Authorization: `Bearer ${token}` };
    }
    return o;
  };

  const local: string[] = [];
  const flushLocal = async () => {
    if (local.length === 0) return;
    for (const path of await expandPaths(local.splice(0))) {
      inputs.push({ path, open: () => openFile(path, { hash: options.hash }) });
    }
  };
  for (const spec of options.specs) {
    if (!isRemoteSpec(spec)) {
      local.push(spec);
      continue;
    }
    await flushLocal();
    if (isUrl(spec)) {
      inputs.push({ path: spec, open: () => openUrl(spec, rangeOptions(spec), options, endpoint) });
      continue;
    }
    let ref: ReturnType<typeof parseHubReference>;
    try {
      ref = parseHubReference(spec);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    options.progress?.note(`listing ${spec}`);
    const hubOptions: Parameters<typeof listHubRepo>[1] = { endpoint };
    if (token !== undefined) hubOptions.token = token;
    if (options.fetch) hubOptions.fetch = options.fetch;
    if (options.retryBaseMs !== undefined) hubOptions.retryBaseMs = options.retryBaseMs;
    const listing = await listHubRepo(ref, hubOptions);
    repositories.push({
      source: "hub",
      type: ref.type,
      id: ref.id,
      revision: ref.revision ?? "main",
      commit: listing.commit,
      location: endpoint,
      files: listing.files.length,
    });
    for (const file of listing.files) {
      inputs.push(hubInput(listing, file, rangeOptions, options));
    }
  }
  await flushLocal();

  if (options.hfCache) {
    const dir = hfCacheDir(options.env);
    options.progress?.note(`reading the Hugging Face cache at ${dir}`);
    let walk: Awaited<ReturnType<typeof walkHfCache>>;
    try {
      walk = await walkHfCache(dir);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const scannedBlobs = new Map<string, string>(); // blob -> the snapshot path scanned for it
    for (const revision of walk.revisions) {
      repositories.push({
        source: "hf-cache",
        type: revision.type,
        id: revision.id,
        commit: revision.commit,
        refs: revision.refs,
        location: revision.folder,
        files: revision.files.length + revision.dangling.length,
      });
      for (const file of revision.files) {
        const first = scannedBlobs.get(file.blobPath);
        if (first !== undefined) {
          duplicates.get(first)!.push(file.snapshotPath);
          continue;
        }
        scannedBlobs.set(file.blobPath, file.snapshotPath);
        duplicates.set(file.snapshotPath, []);
        const blobName = basename(file.blobPath);
        const expected =
          options.verifyHashes && /^[0-9a-f]{64}$/.test(blobName) ? blobName : undefined;
        inputs.push({
          path: file.snapshotPath,
          open: async () => {
            const opened = await openFile(file.blobPath, {
              hash: options.hash || expected !== undefined,
            });
            if (expected !== undefined) opened.expectedSha256 = expected;
            return opened;
          },
        });
      }
      for (const missing of revision.dangling) {
        inputs.push({
          path: missing.snapshotPath,
          open: () =>
            Promise.reject(
              new Error("the snapshot entry points to a blob that is not in the cache"),
            ),
        });
      }
    }
  }

  return {
    inputs,
    repositories,
    budget,
    finish: (report) => expandDuplicates(report, duplicates),
  };
}

function hubInput(
  listing: HubListing,
  file: HubFile,
  rangeOptions: (url: string) => HttpRangeSourceOptions,
  options: InputOptions,
): ScanInput {
  const url = hubFileUrl(listing.endpoint, listing.ref, listing.commit, file.path);
  const path = hubReportPath(listing.ref, listing.commit, file.path);
  return {
    path,
    open: async () => {
      let fetched = 0;
      const ranged = rangeOptions(url);
      const outer = ranged.onBytes;
      ranged.onBytes = (n) => {
        fetched += n;
        outer?.(n);
      };
      const opened = await openHttpSource(url, ranged).catch((error: unknown) => {
        throw explainHttp(error, url, listing.endpoint, ranged.headers !== undefined);
      });
      const remote: RemoteInfo = { url, commit: listing.commit, bytesFetched: 0 };
      if (opened.etag !== undefined) remote.etag = opened.etag;
      if (file.lfs) remote.lfsSha256 = file.lfs.oid;
      const input: OpenedInput = {
        source: opened.source,
        remote: () => ({ ...remote, bytesFetched: fetched }),
      };
      if (options.verifyHashes && file.lfs) {
        input.expectedSha256 = file.lfs.oid;
        input.sha256 = () => sha256OfUrl(url, downloadOptions(ranged, options));
      }
      return input;
    },
  };
}

async function openUrl(
  url: string,
  ranged: HttpRangeSourceOptions,
  options: InputOptions,
  endpoint: string,
): Promise<OpenedInput> {
  let fetched = 0;
  const outer = ranged.onBytes;
  ranged.onBytes = (n) => {
    fetched += n;
    outer?.(n);
  };
  const opened = await openHttpSource(url, ranged).catch((error: unknown) => {
    throw explainHttp(error, url, endpoint, ranged.headers !== undefined);
  });
  const remote: RemoteInfo = { url, bytesFetched: 0 };
  const commit = opened.headers.get("x-repo-commit");
  if (commit !== null && /^[0-9a-f]{40}$/i.test(commit)) remote.commit = commit.toLowerCase();
  if (opened.etag !== undefined) remote.etag = opened.etag;
  const linked = opened.headers.get("x-linked-etag")?.replace(/^(W\/)?"|"$/g, "");
  if (linked && /^[0-9a-f]{64}$/i.test(linked)) remote.lfsSha256 = linked.toLowerCase();
  const input: OpenedInput = {
    source: opened.source,
    remote: () => ({ ...remote, bytesFetched: fetched }),
  };
  if (options.verifyHashes) {
    input.sha256 = () => sha256OfUrl(url, downloadOptions(ranged, options));
    if (remote.lfsSha256 !== undefined) input.expectedSha256 = remote.lfsSha256;
  }
  return input;
}

function downloadOptions(ranged: HttpRangeSourceOptions, options: InputOptions) {
  const o: Parameters<typeof sha256OfUrl>[1] = {};
  if (ranged.headers) o.headers = ranged.headers;
  if (options.fetch) o.fetch = options.fetch;
  if (options.retryBaseMs !== undefined) o.retryBaseMs = options.retryBaseMs;
  const progress = options.progress;
  if (progress) o.onBytes = (n) => progress.bytes(n);
  return o;
}

/** A refusal while opening a file, with what to do about it when it came from the Hub. */
function explainHttp(error: unknown, url: string, endpoint: string, hadToken: boolean): unknown {
  if (!(error instanceof HttpStatusError) || !sameOrigin(url, endpoint)) return error;
  if (error.status === 401 || error.status === 403) {
    const gated = error.headers.get("x-error-code") === "GatedRepo";
    return new HubAccessError(
      `${url}: the Hub refused access (${error.status})${gated ? ": the repository is gated" : ""}. ` +
        (hadToken
          ? "Check that the token (HF_TOKEN/--token) has read access and, for a gated repository, that its terms are accepted on its page"
          : "Set HF_TOKEN (or pass --token) to an access token with read access; for a gated repository, accept its terms on its page first"),
      error.status,
    );
  }
  if (error.status === 404) {
    const code = error.headers.get("x-error-code");
    const what =
      code === "RevisionNotFound"
        ? "no such revision"
        : code === "EntryNotFound"
          ? "no such file"
          : "not found";
    return new HubAccessError(`${url}: ${what} (404)`, 404);
  }
  return error;
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/** Adds, after each scanned cache file, the same result under the other snapshots' paths. */
function expandDuplicates(report: ScanReport, duplicates: Map<string, string[]>): ScanReport {
  if (![...duplicates.values()].some((d) => d.length > 0)) return report;
  const files: FileResult[] = [];
  for (const file of report.files) {
    files.push(file);
    for (const other of duplicates.get(file.path) ?? []) files.push(retarget(file, other));
  }
  return { ...report, files, summary: summarise(files) };
}

function retarget(file: FileResult, path: string): FileResult {
  const json = JSON.stringify(file, (key, value) =>
    key === "file" && value === file.path ? path : value,
  );
  return { ...(JSON.parse(json) as FileResult), path };
}
