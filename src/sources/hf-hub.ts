import {
  datasetInfo,
  HubApiError,
  type ListFileEntry,
  listFiles,
  modelInfo,
  spaceInfo,
} from "@huggingface/hub";
import { parseRetryAfter } from "./http-range-source.js";

/**
 * The Hugging Face Hub side of remote scanning: `hf://` references, the endpoint and token from
 * the environment, and a repository's file list at one commit, through the official
 * `@huggingface/hub` client. File bytes are read separately, by ranges (http-range-source.ts).
 */

export type HubRepoType = "model" | "dataset" | "space";

/** `hf://[datasets/|spaces/]org/name[@revision]`, parsed. */
export interface HubRepoRef {
  type: HubRepoType;
  /** `org/name` (or a legacy un-namespaced `name`). */
  id: string;
  /** Branch, tag or commit as the user wrote it; undefined for the default branch. */
  revision?: string;
}

export interface HubFile {
  path: string;
  size: number;
  /** Git blob id (SHA-1). */
  oid?: string;
  /** Present for files stored in LFS: `oid` is the SHA-256 of the file's content. */
  lfs?: { oid: string; size: number; pointerSize: number };
}

export interface HubListing {
  ref: HubRepoRef;
  /** The commit `ref.revision` resolved to; every file is read at this commit. */
  commit: string;
  endpoint: string;
  files: HubFile[];
}

export interface HubClientOptions {
  /** @default hubEndpoint(process.env) */
  endpoint?: string;
  token?: string;
  fetch?: typeof globalThis.fetch;
  /** Retries of an API call on 429/5xx/network errors. @default 4 */
  retries?: number;
  /** @default 250 */
  retryBaseMs?: number;
}

/** The user's mistake or a refusal by the Hub, worded as what to do about it. */
export class HubAccessError extends Error {
  readonly code = "MODELVET_HUB_ACCESS";
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "HubAccessError";
  }
}

export const HF_SCHEME = "hf://";
const DEFAULT_ENDPOINT = "https://huggingface.co";

export function isHubReference(spec: string): boolean {
  return spec.startsWith(HF_SCHEME);
}

/** Parses `hf://org/name@rev`; throws {@link HubAccessError} for a malformed reference. */
export function parseHubReference(spec: string): HubRepoRef {
  if (!isHubReference(spec)) throw new HubAccessError(`${spec}: not an hf:// reference`);
  let rest = spec.slice(HF_SCHEME.length);
  let type: HubRepoType = "model";
  for (const [prefix, t] of [
    ["datasets/", "dataset"],
    ["spaces/", "space"],
    ["models/", "model"],
  ] as const) {
    if (rest.startsWith(prefix)) {
      type = t;
      rest = rest.slice(prefix.length);
      break;
    }
  }
  let revision: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    revision = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (revision === "") {
      throw new HubAccessError(`${spec}: empty revision after '@' (give a branch, tag or commit)`);
    }
  }
  const id = rest.replace(/\/+$/, "");
  const parts = id.split("/");
  if (
    parts.length > 2 ||
    parts.some((p) => !/^[A-Za-z0-9][\w.-]*$/.test(p) || p.includes("..") || p.endsWith("."))
  ) {
    throw new HubAccessError(
      `${spec}: expected hf://org/name or hf://org/name@revision (datasets/ or spaces/ may lead)`,
    );
  }
  const ref: HubRepoRef = { type, id };
  if (revision !== undefined) ref.revision = revision;
  return ref;
}

/** `hf://org/name@commit/path`: how a Hub file is named in reports. */
export function hubReportPath(ref: HubRepoRef, commit: string, path?: string): string {
  const prefix = ref.type === "model" ? "" : `${ref.type}s/`;
  return `${HF_SCHEME}${prefix}${ref.id}@${commit}${path === undefined ? "" : `/${path}`}`;
}

/** `HF_ENDPOINT` (a mirror or private hub) or https://huggingface.co, without a trailing slash. */
export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  const value = env.HF_ENDPOINT?.trim();
  return (value ? value : DEFAULT_ENDPOINT).replace(/\/+$/, "");
}

/** `--token`, else `HF_TOKEN`, else the older `HUGGING_FACE_HUB_TOKEN`. */
export function hubToken(
  option: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  for (const value of [option, env.HF_TOKEN, env.HUGGING_FACE_HUB_TOKEN]) {
    const trimmed = value?.trim();
    if (trimmed) return trimmed;
  }
  return undefined;
}

/** The download URL of a file at a commit (`…/resolve/<commit>/<path>`). */
export function hubFileUrl(
  endpoint: string,
  ref: HubRepoRef,
  commit: string,
  path: string,
): string {
  const prefix = ref.type === "model" ? "" : `${ref.type}s/`;
  const encodedPath = path.split("/").map(encodeURIComponent).join("/");
  return `${endpoint}/${prefix}${ref.id}/resolve/${encodeURIComponent(commit)}/${encodedPath}`;
}

/** The repository's page, where gated terms are accepted. */
export function hubRepoPage(endpoint: string, ref: HubRepoRef): string {
  const prefix = ref.type === "model" ? "" : `${ref.type}s/`;
  return `${endpoint}/${prefix}${ref.id}`;
}

/**
 * Resolves `ref.revision` (default branch when absent) to a commit and lists every file there,
 * with sizes and LFS SHA-256s. Access problems become {@link HubAccessError}s that say what to do.
 */
export async function listHubRepo(
  ref: HubRepoRef,
  options: HubClientOptions = {},
): Promise<HubListing> {
  const endpoint = (options.endpoint ?? hubEndpoint()).replace(/\/+$/, "");
  const errorCodes = new Map<string, string>();
  const fetch = hubFetch(endpoint, options, errorCodes);
  const name = ref.id;
  const common = { hubUrl: endpoint, fetch, additionalFields: ["sha"] as "sha"[] };
  const revision = ref.revision ?? "HEAD";
  let commit: string | undefined;
  try {
    const info =
      ref.type === "model"
        ? await modelInfo({ name, revision, ...common })
        : ref.type === "dataset"
          ? await datasetInfo({ name, revision, ...common })
          : await spaceInfo({ name, revision, ...common });
    commit = (info as { sha?: string }).sha;
  } catch (error) {
    throw explain(error, ref, endpoint, options.token !== undefined, errorCodes);
  }
  if (typeof commit !== "string" || !/^[0-9a-f]{40}$/i.test(commit)) {
    throw new HubAccessError(
      `${hubReportPath(ref, ref.revision ?? "main")}: the Hub at ${endpoint} did not say which commit this revision is`,
    );
  }
  const files: HubFile[] = [];
  try {
    for await (const entry of listFiles({
      repo: { type: ref.type, name },
      revision: commit,
      recursive: true,
      hubUrl: endpoint,
      fetch,
    })) {
      if (entry.type === "file") files.push(toHubFile(entry));
    }
  } catch (error) {
    throw explain(error, ref, endpoint, options.token !== undefined, errorCodes);
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { ref, commit: commit.toLowerCase(), endpoint, files };
}

function toHubFile(entry: ListFileEntry): HubFile {
  const file: HubFile = { path: entry.path, size: entry.size };
  if (entry.oid !== undefined) file.oid = entry.oid;
  if (entry.lfs !== undefined && /^[0-9a-f]{64}$/i.test(entry.lfs.oid)) {
    file.lfs = {
      oid: entry.lfs.oid.toLowerCase(),
      size: entry.lfs.size,
      pointerSize: entry.lfs.pointerSize,
    };
  }
  return file;
}

/**
 * The fetch given to `@huggingface/hub`: the token goes only to the endpoint's origin (the library
 * is given none, so it never checks its form), 429/5xx/network errors are retried with back-off
 * (Retry-After honoured), and each refusal's `X-Error-Code` is kept to word the error.
 */
function hubFetch(
  endpoint: string,
  options: HubClientOptions,
  errorCodes: Map<string, string>,
): typeof globalThis.fetch {
  const base = options.fetch ?? globalThis.fetch.bind(globalThis);
  const origin = new URL(endpoint).origin;
  const retries = Math.max(0, options.retries ?? 4);
  const retryBase = options.retryBaseMs ?? 250;
  return async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const headers = new Headers(init?.headers);
    if (options.token !== undefined && new URL(url).origin === origin) {
      headers.set("Authorization", `Bearer ${options.token}`);
    }
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await base(url, { ...init, headers });
      } catch (error) {
        if (attempt >= retries) {
          const cause = error instanceof Error ? ((error.cause as Error) ?? error) : error;
          throw new HubAccessError(
            `cannot reach the Hub at ${endpoint}: ${cause instanceof Error ? cause.message : String(cause)}` +
              " (set HF_ENDPOINT for a mirror or private hub)",
          );
        }
        await sleep(retryBase * 2 ** attempt);
        continue;
      }
      if ((response.status === 429 || response.status >= 500) && attempt < retries) {
        const wait = parseRetryAfter(response.headers.get("retry-after"));
        await response.body?.cancel().catch(() => {});
        await sleep(Math.min(30_000, wait ?? retryBase * 2 ** attempt));
        continue;
      }
      if (!response.ok) {
        const code = response.headers.get("x-error-code");
        if (code !== null) errorCodes.set(response.url || url, code);
      }
      return response;
    }
  };
}

function explain(
  error: unknown,
  ref: HubRepoRef,
  endpoint: string,
  hadToken: boolean,
  errorCodes: Map<string, string>,
): Error {
  if (error instanceof HubAccessError) return error;
  if (!(error instanceof HubApiError))
    return error instanceof Error ? error : new Error(String(error));
  const what = hubReportPath(ref, ref.revision ?? "main").replace(/@main$/, "");
  const page = hubRepoPage(endpoint, ref);
  const code = errorCodes.get(error.url) ?? [...errorCodes.values()].at(-1);
  const said = hubMessage(error);
  const status = error.statusCode;
  const kind = ref.type;
  if (status === 401) {
    if (code === "GatedRepo") {
      return new HubAccessError(
        `${what}: this ${kind} is gated: accept its terms at ${page} while logged in, then set HF_TOKEN ` +
          "(or pass --token) to an access token of that account",
        401,
      );
    }
    return new HubAccessError(
      hadToken
        ? `${what}: the Hub did not accept the token (401). Check that HF_TOKEN/--token is a valid ` +
            `access token with read access, and that the ${kind} exists (${page})`
        : `${what}: the Hub refused access (401): the ${kind} is private or gated, or does not exist. ` +
            `If it is gated, accept its terms at ${page}; then set HF_TOKEN (or pass --token) to an ` +
            "access token with read access",
      401,
    );
  }
  if (status === 403) {
    if (code === "GatedRepo") {
      return new HubAccessError(
        `${what}: this ${kind} is gated and the token's account has no access yet (403): accept its ` +
          `terms at ${page} (some need the authors' approval), then retry`,
        403,
      );
    }
    return new HubAccessError(
      `${what}: the Hub forbids access (403)${said ? `: ${said}` : ""}. Check that the token ` +
        `(HF_TOKEN/--token) may read it, at ${page}`,
      403,
    );
  }
  if (status === 404) {
    if (code === "RevisionNotFound") {
      return new HubAccessError(
        `${what}: no revision '${ref.revision ?? "main"}' (404): give an existing branch, tag or commit`,
        404,
      );
    }
    if (code === "EntryNotFound") {
      return new HubAccessError(`${what}: the Hub has no such file or folder (404)`, 404);
    }
    return new HubAccessError(
      `${what}: no such ${kind} on ${endpoint} (404). Check the name${
        hadToken ? "" : "; a private one needs HF_TOKEN (or --token)"
      }`,
      404,
    );
  }
  return new HubAccessError(
    `${what}: the Hub answered ${status}${said ? `: ${said}` : ""} (${error.url})`,
    status,
  );
}

/** The Hub's own words, without the trailer the library appends. */
function hubMessage(error: HubApiError): string {
  const data = error.data as { error?: unknown; message?: unknown } | undefined;
  const text = typeof data?.error === "string" ? data.error : undefined;
  return (text ?? "").trim();
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
