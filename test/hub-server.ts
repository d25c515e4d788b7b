/**
 * A local look-alike of the Hugging Face Hub, for tests and benches that must not reach the
 * internet. It serves fixture repositories from a folder with the shapes the real Hub and
 * `@huggingface/hub` use:
 *
 * - `GET /api/{models|datasets|spaces}/{repo}` and `…/revision/{rev}`: repo info (`sha`, `siblings`)
 * - `GET /api/…/{repo}/tree/{rev}[/path]?recursive=…`: entries with `type`, `path`, `size`, `oid`
 *   and, for LFS files, `lfs: { oid (SHA-256), size, pointerSize }`; paged with a `Link` header
 * - `POST /api/…/{repo}/paths-info/{rev}`: the same entries for given paths
 * - `HEAD|GET /[datasets/|spaces/]{repo}/resolve/{rev}/{path}`: the file, with `Range` (206,
 *   `Content-Range`), `X-Repo-Commit`, `ETag`; LFS files answer 302 to a signed `/cdn/…` URL (on
 *   this server or, with `separateCdn`, on another origin) with `X-Linked-Size`/`X-Linked-Etag`
 * - gated, private and forbidden repos (401/403 as the Hub words them), 404 with `X-Error-Code`
 *   (`RepoNotFound`, `RevisionNotFound`, `EntryNotFound`), and 429 for the first N requests.
 *
 * Layout on disk: `<repos>/<org>/<name>/<files>` for models, `<repos>/datasets/<org>/<name>/…` and
 * `<repos>/spaces/<org>/<name>/…` for the other repo types. Every repo has one commit (a SHA-1 of
 * its file list), reachable as `main`, by its id, and by the names in `refs`.
 *
 * Self-contained (node: imports only) so bench scripts can transpile and start it too.
 */
import { createHash } from "node:crypto";
import { createReadStream, type Stats } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, relative, sep } from "node:path";

export type RepoAccess = "public" | "gated" | "private" | "forbidden";

export interface HubServerOptions {
  /** Folder of fixture repos: `<repos>/<org>/<name>/<files>`. */
  repos: string;
  /** Access per repo id (`org/name`, or `datasets/org/name`); default public. */
  access?: Record<string, RepoAccess>;
  /** Tokens the server accepts (`Authorization: Bearer …`). @default ["hf_test_token"] */
  tokens?: string[];
  /** Tokens that have accepted a gated repo's terms; other valid tokens get 403. @default tokens */
  gatedAllowed?: string[];
  /** Extra names (branches, tags) for each repo's commit: `{ "org/name": ["v1.0", "dev"] }`. */
  refs?: Record<string, string[]>;
  /** Files at least this large are stored in LFS (redirected to the CDN). @default 1024 */
  lfsThreshold?: number;
  /**
   * The LFS SHA-256 the API claims for a file, instead of the real one (to fake tampering, or to
   * spare hashing a huge generated file). Return undefined to compute it.
   */
  lfsOid?: (repo: string, path: string, size: number) => string | undefined;
  /** Answer 429 to the first N requests (any route). */
  rateLimitFirst?: number;
  /** Retry-After (seconds) sent with 429s. @default 0 */
  retryAfter?: number;
  /** Serve the CDN on a second origin (another port), as the real Hub does. */
  separateCdn?: boolean;
  /** Ignore `Range` and always send whole files with 200. */
  ignoreRange?: boolean;
  /** Tree entries per page (`Link: <…>; rel="next"`). @default 1000 */
  pageSize?: number;
  /** Status for a repo that does not exist (the real Hub answers 401 without a token). @default 404 */
  missingRepoStatus?: 401 | 404;
}

export interface HubRequestLog {
  method: string;
  /** Path and query as received. */
  url: string;
  status: number;
  range?: string;
  authorization?: string;
  /** Body bytes sent. */
  bytes: number;
  /** `hub` or `cdn` (the CDN's own origin with `separateCdn`). */
  origin: "hub" | "cdn";
}

export interface HubServer {
  /** Base URL, e.g. `http://127.0.0.1:40123` (use as HF_ENDPOINT). */
  url: string;
  /** Base URL of the CDN (equal to `url` unless `separateCdn`). */
  cdnUrl: string;
  stats: { bytesServed: number; requests: number };
  /** Every request, in order. */
  log: HubRequestLog[];
  /** Resets `stats` and `log`. */
  resetStats(): void;
  /** The commit every revision of `repo` resolves to. */
  commitOf(repo: string): Promise<string>;
  close(): Promise<void>;
}

interface RepoFile {
  path: string;
  abs: string;
  size: number;
  mtimeMs: number;
}

interface RepoEntry {
  /** `org/name`, or `datasets/org/name`. */
  key: string;
  type: "model" | "dataset" | "space";
  id: string;
  folder: string;
  files: RepoFile[];
  commit: string;
}

const CDN_SIGNATURE = "modelvet-test-signature";

export async function startHubServer(options: HubServerOptions): Promise<HubServer> {
  const tokens = new Set(options.tokens ?? ["hf_test_token"]);
  const gatedAllowed = new Set(options.gatedAllowed ?? [...tokens]);
  const lfsThreshold = options.lfsThreshold ?? 1024;
  const pageSize = Math.max(1, options.pageSize ?? 1000);
  const stats = { bytesServed: 0, requests: 0 };
  const log: HubRequestLog[] = [];
  let rateLimited = 0;
  const sha256Cache = new Map<string, Promise<string>>();

  async function loadRepo(type: RepoEntry["type"], id: string): Promise<RepoEntry | null> {
    if (!/^[\w.-]+(\/[\w.-]+)?$/.test(id) || id.split("/").some((p) => p === ".." || p === "."))
      return null;
    const prefix = type === "model" ? "" : `${type}s/`;
    const folder = join(options.repos, ...`${prefix}${id}`.split("/"));
    let info: Stats;
    try {
      info = await stat(folder);
    } catch {
      return null;
    }
    if (!info.isDirectory()) return null;
    const files: RepoFile[] = [];
    await collect(folder, folder, files);
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const commit = createHash("sha1")
      .update(`${prefix}${id}\n`)
      .update(files.map((f) => `${f.path}\t${f.size}\t${f.mtimeMs}`).join("\n"))
      .digest("hex");
    return { key: `${prefix}${id}`, type, id, folder, files, commit };
  }

  function isLfs(file: RepoFile): boolean {
    return file.size >= lfsThreshold;
  }

  function sha256Of(file: RepoFile): Promise<string> {
    const key = `${file.abs}\0${file.size}\0${file.mtimeMs}`;
    let p = sha256Cache.get(key);
    if (p === undefined) {
      p = new Promise<string>((resolve, reject) => {
        const hash = createHash("sha256");
        createReadStream(file.abs, { highWaterMark: 1 << 20 })
          .on("data", (chunk) => hash.update(chunk))
          .on("error", reject)
          .on("end", () => resolve(hash.digest("hex")));
      });
      sha256Cache.set(key, p);
    }
    return p;
  }

  async function lfsOidOf(repo: RepoEntry, file: RepoFile): Promise<string> {
    return options.lfsOid?.(repo.key, file.path, file.size) ?? (await sha256Of(file));
  }

  function pointerOf(oid: string, size: number): string {
    return `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${size}\n`;
  }

  function gitBlobOid(content: Buffer | string): string {
    const bytes = typeof content === "string" ? Buffer.from(content) : content;
    return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
  }

  async function gitOidOf(repo: RepoEntry, file: RepoFile): Promise<string> {
    if (isLfs(file)) return gitBlobOid(pointerOf(await lfsOidOf(repo, file), file.size));
    const hash = createHash("sha1").update(`blob ${file.size}\0`);
    await new Promise<void>((resolve, reject) => {
      createReadStream(file.abs)
        .on("data", (c) => hash.update(c))
        .on("error", reject)
        .on("end", () => resolve());
    });
    return hash.digest("hex");
  }

  async function treeEntry(repo: RepoEntry, file: RepoFile) {
    const entry: Record<string, unknown> = {
      type: "file",
      oid: await gitOidOf(repo, file),
      size: file.size,
      path: file.path,
    };
    if (isLfs(file)) {
      const oid = await lfsOidOf(repo, file);
      entry.lfs = { oid, size: file.size, pointerSize: pointerOf(oid, file.size).length };
    }
    return entry;
  }

  function directoryEntry(repo: RepoEntry, path: string) {
    return {
      type: "directory",
      oid: createHash("sha1").update(`${repo.commit}:${path}`).digest("hex"),
      size: 0,
      path,
    };
  }

  function resolveRevision(repo: RepoEntry, rev: string): string | null {
    if (rev === "main" || rev === "HEAD" || rev === repo.commit) return repo.commit;
    if ((options.refs?.[repo.key] ?? []).includes(rev)) return repo.commit;
    return null;
  }

  /** Checks access; writes the error and returns false when denied. */
  function authorise(
    req: IncomingMessage,
    res: ServerResponse,
    repo: RepoEntry | null,
    key: string,
  ): repo is RepoEntry {
    const auth = req.headers.authorization;
    const token = auth?.startsWith("Bearer ") ? auth.slice(7) : undefined;
    if (token !== undefined && !tokens.has(token)) {
      sendError(res, 401, "Invalid credentials in Authorization header", undefined);
      return false;
    }
    if (repo === null) {
      const status = token === undefined ? (options.missingRepoStatus ?? 404) : 404;
      sendError(
        res,
        status,
        status === 401 ? "Invalid username or password." : "Repository not found",
        "RepoNotFound",
      );
      return false;
    }
    const access = options.access?.[key] ?? "public";
    if (access === "private" && token === undefined) {
      sendError(res, 401, "Repository not found", "RepoNotFound");
      return false;
    }
    if (access === "gated") {
      if (token === undefined) {
        sendError(
          res,
          401,
          `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
          "GatedRepo",
        );
        return false;
      }
      if (!gatedAllowed.has(token)) {
        sendError(
          res,
          403,
          `Access to model ${repo.id} is restricted and you are not in the authorized list. Visit ${baseUrl}/${repo.id} to ask for access.`,
          "GatedRepo",
        );
        return false;
      }
    }
    if (access === "forbidden") {
      sendError(res, 403, `Access to model ${repo.id} is disabled.`, "DisabledRepo");
      return false;
    }
    return true;
  }

  function sendError(res: ServerResponse, status: number, message: string, code?: string) {
    const headers: Record<string, string> = { "Content-Type": "application/json; charset=utf-8" };
    if (code !== undefined) headers["X-Error-Code"] = code;
    headers["X-Error-Message"] = message;
    sendBody(res, status, headers, Buffer.from(JSON.stringify({ error: message })));
  }

  function sendJson(res: ServerResponse, value: unknown, headers: Record<string, string> = {}) {
    sendBody(
      res,
      200,
      { "Content-Type": "application/json; charset=utf-8", ...headers },
      Buffer.from(JSON.stringify(value)),
    );
  }

  function sendBody(
    res: ServerResponse,
    status: number,
    headers: Record<string, string | number>,
    body: Buffer,
  ) {
    res.writeHead(status, { ...headers, "Content-Length": body.length });
    if (res.req.method === "HEAD") {
      res.end();
      return;
    }
    count(res, body.length);
    res.end(body);
  }

  function count(res: ServerResponse, n: number) {
    stats.bytesServed += n;
    const entry = logOf.get(res);
    if (entry) entry.bytes += n;
  }

  /** Sends a file (or a range of it) with 200/206/416. */
  function sendFile(
    req: IncomingMessage,
    res: ServerResponse,
    file: RepoFile,
    headers: Record<string, string>,
  ) {
    const range = options.ignoreRange ? null : parseRange(req.headers.range, file.size);
    const base: Record<string, string | number> = {
      ...headers,
      "Accept-Ranges": "bytes",
      "Content-Type": "application/octet-stream",
    };
    if (range === "unsatisfiable") {
      res.writeHead(416, { ...base, "Content-Range": `bytes */${file.size}`, "Content-Length": 0 });
      res.end();
      return;
    }
    const [start, end] = range ?? [0, file.size - 1];
    const length = Math.max(0, end - start + 1);
    if (range) base["Content-Range"] = `bytes ${start}-${end}/${file.size}`;
    res.writeHead(range ? 206 : 200, { ...base, "Content-Length": length });
    if (req.method === "HEAD" || length === 0) {
      res.end();
      return;
    }
    const stream = createReadStream(file.abs, { start, end, highWaterMark: 256 * 1024 });
    stream.on("data", (chunk) => count(res, chunk.length));
    stream.on("error", () => res.destroy());
    res.on("close", () => stream.destroy());
    stream.pipe(res);
  }

  const logOf = new WeakMap<ServerResponse, HubRequestLog>();
  let baseUrl = "";
  let cdnBase = "";

  async function handleHub(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://hub.local");
    const segments = url.pathname.split("/").slice(1);
    if (segments[0] === "cdn") return handleCdn(req, res);
    if (segments[0] === "api") return handleApi(req, res, url, segments.slice(1));
    // /[datasets/|spaces/]{org}/{name}/resolve/{rev}/{path}
    let type: RepoEntry["type"] = "model";
    let rest = segments.map(decodeURIComponent);
    if (rest[0] === "datasets" || rest[0] === "spaces") {
      type = rest[0] === "datasets" ? "dataset" : "space";
      rest = rest.slice(1);
    }
    const at = rest.indexOf("resolve");
    if (at < 1 || at > 2 || rest.length < at + 3) {
      sendError(res, 404, "Not found");
      return;
    }
    const id = rest.slice(0, at).join("/");
    const rev = rest[at + 1]!;
    const path = rest.slice(at + 2).join("/");
    const key = `${type === "model" ? "" : `${type}s/`}${id}`;
    const repo = await loadRepo(type, id);
    if (!authorise(req, res, repo, key)) return;
    const commit = resolveRevision(repo, rev);
    if (commit === null) {
      sendError(res, 404, `Invalid rev id: ${rev}`, "RevisionNotFound");
      return;
    }
    const file = repo.files.find((f) => f.path === path);
    if (!file) {
      sendError(res, 404, "Entry not found", "EntryNotFound");
      return;
    }
    const headers: Record<string, string> = { "X-Repo-Commit": commit };
    if (isLfs(file)) {
      const oid = await lfsOidOf(repo, file);
      headers.ETag = `"${gitBlobOid(pointerOf(oid, file.size))}"`;
      headers["X-Linked-Size"] = String(file.size);
      headers["X-Linked-Etag"] = `"${oid}"`;
      const target = new URL(
        `/cdn/${encodeURIComponent(key)}/${commit}/${encodeURI(path)}`,
        cdnBase,
      );
      target.searchParams.set("X-Amz-Signature", CDN_SIGNATURE);
      headers.Location = target.toString();
      res.writeHead(302, { ...headers, "Content-Length": 0 });
      res.end();
      return;
    }
    headers.ETag = `"${await gitOidOf(repo, file)}"`;
    sendFile(req, res, file, headers);
  }

  async function handleCdn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://cdn.local");
    const segments = url.pathname.split("/").slice(2);
    if (url.searchParams.get("X-Amz-Signature") !== CDN_SIGNATURE) {
      sendError(res, 403, "Signature does not match");
      return;
    }
    if (options.separateCdn && req.headers.authorization !== undefined) {
      // S3 refuses a request that carries both a signed URL and an Authorization header.
      sendError(res, 400, "Only one auth mechanism allowed");
      return;
    }
    const key = decodeURIComponent(segments[0] ?? "");
    const path = segments.slice(2).map(decodeURIComponent).join("/");
    const parts = key.split("/");
    const type: RepoEntry["type"] =
      parts[0] === "datasets" ? "dataset" : parts[0] === "spaces" ? "space" : "model";
    const repo = await loadRepo(type, type === "model" ? key : parts.slice(1).join("/"));
    const file = repo?.files.find((f) => f.path === path);
    if (!repo || !file) {
      sendError(res, 404, "NoSuchKey");
      return;
    }
    const oid = await lfsOidOf(repo, file);
    sendFile(req, res, file, { ETag: `"${oid}"` });
  }

  async function handleApi(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    segments: string[],
  ): Promise<void> {
    // {models|datasets|spaces}/{org}/{name}[/revision/{rev} | /tree/{rev}[/path] | /paths-info/{rev}]
    const kinds = { models: "model", datasets: "dataset", spaces: "space" } as const;
    const type = kinds[segments[0] as keyof typeof kinds];
    if (type === undefined) {
      sendError(res, 404, "Not found");
      return;
    }
    const rest = segments.slice(1).map(decodeURIComponent);
    const actionAt = rest.findIndex(
      (s, i) => i >= 1 && i <= 2 && (s === "revision" || s === "tree" || s === "paths-info"),
    );
    const idParts = actionAt < 0 ? rest : rest.slice(0, actionAt);
    const id = idParts.join("/");
    const action = actionAt < 0 ? "info" : rest[actionAt]!;
    const key = `${type === "model" ? "" : `${type}s/`}${id}`;
    const repo = await loadRepo(type, id);
    if (!authorise(req, res, repo, key)) return;
    const rev = actionAt < 0 ? "main" : (rest[actionAt + 1] ?? "main");
    const commit = resolveRevision(repo, rev);
    if (commit === null) {
      sendError(res, 404, `Invalid rev id: ${rev}`, "RevisionNotFound");
      return;
    }
    if (action === "info" || action === "revision") {
      const access = options.access?.[key] ?? "public";
      sendJson(res, {
        _id: createHash("sha1").update(key).digest("hex").slice(0, 24),
        id,
        ...(type === "model" ? { modelId: id } : {}),
        author: id.includes("/") ? id.split("/")[0] : undefined,
        sha: commit,
        lastModified: new Date(
          Math.max(0, ...repo.files.map((f) => f.mtimeMs)) || Date.now(),
        ).toISOString(),
        private: access === "private",
        gated: access === "gated" ? "manual" : false,
        disabled: false,
        downloads: 0,
        likes: 0,
        tags: [],
        siblings: repo.files.map((f) => ({ rfilename: f.path })),
      });
      return;
    }
    if (action === "tree") {
      const prefix = rest.slice(actionAt + 2).join("/");
      const recursive = url.searchParams.get("recursive") === "true";
      const entries = await listTree(repo, prefix, recursive);
      if (entries === null) {
        sendError(res, 404, `Entry not found: ${prefix}`, "EntryNotFound");
        return;
      }
      const cursor = Number(url.searchParams.get("cursor") ?? "0") || 0;
      const page = entries.slice(cursor, cursor + pageSize);
      const headers: Record<string, string> = {};
      if (cursor + pageSize < entries.length) {
        const next = new URL(url.pathname + url.search, baseUrl);
        next.searchParams.set("cursor", String(cursor + pageSize));
        headers.Link = `<${next.toString()}>; rel="next"`;
      }
      const json = [];
      for (const e of page) json.push(typeof e === "string" ? directoryEntry(repo, e) : e);
      sendJson(res, await Promise.all(json), headers);
      return;
    }
    // paths-info: JSON or form body with `paths`.
    if (req.method !== "POST") {
      sendError(res, 405, "Method not allowed");
      return;
    }
    const body = await readBody(req);
    let paths: string[] = [];
    const contentType = req.headers["content-type"] ?? "";
    if (contentType.includes("application/json")) {
      const parsed = JSON.parse(body || "{}") as { paths?: string[] | string };
      paths = Array.isArray(parsed.paths) ? parsed.paths : parsed.paths ? [parsed.paths] : [];
    } else {
      paths = new URLSearchParams(body).getAll("paths");
    }
    const out: unknown[] = [];
    for (const p of paths) {
      const file = repo.files.find((f) => f.path === p);
      if (file) out.push(await treeEntry(repo, file));
      else if (repo.files.some((f) => f.path.startsWith(`${p}/`)))
        out.push(directoryEntry(repo, p));
    }
    sendJson(res, out);
  }

  /** Tree entries under `prefix`: files as entry objects (promised), folders as their path. */
  async function listTree(
    repo: RepoEntry,
    prefix: string,
    recursive: boolean,
  ): Promise<(string | Promise<Record<string, unknown>>)[] | null> {
    const under = prefix === "" ? "" : `${prefix.replace(/\/+$/, "")}/`;
    const files = repo.files.filter((f) => f.path.startsWith(under));
    if (under !== "" && files.length === 0) return null;
    const out: (string | Promise<Record<string, unknown>>)[] = [];
    const dirs = new Set<string>();
    for (const f of files) {
      const rel = f.path.slice(under.length).split("/");
      for (let i = 1; i < rel.length; i++) {
        if (!recursive && i > 1) break;
        const dir = under + rel.slice(0, i).join("/");
        if (!dirs.has(dir)) {
          dirs.add(dir);
          out.push(dir);
        }
      }
      if (recursive || rel.length === 1) out.push(treeEntry(repo, f));
    }
    return out;
  }

  const onRequest =
    (origin: "hub" | "cdn") => async (req: IncomingMessage, res: ServerResponse) => {
      stats.requests++;
      const entry: HubRequestLog = {
        method: req.method ?? "GET",
        url: req.url ?? "/",
        status: 0,
        bytes: 0,
        origin,
      };
      if (req.headers.range !== undefined) entry.range = req.headers.range;
      if (req.headers.authorization !== undefined) entry.authorization = req.headers.authorization;
      log.push(entry);
      logOf.set(res, entry);
      res.on("finish", () => {
        entry.status = res.statusCode;
      });
      res.on("close", () => {
        entry.status ||= res.statusCode;
      });
      try {
        if (options.rateLimitFirst !== undefined && rateLimited < options.rateLimitFirst) {
          rateLimited++;
          res.writeHead(429, {
            "Retry-After": String(options.retryAfter ?? 0),
            "Content-Length": 0,
          });
          res.end();
          return;
        }
        if (origin === "cdn") await handleCdn(req, res);
        else await handleHub(req, res);
      } catch (error) {
        if (!res.headersSent) sendError(res, 500, String(error));
        else res.destroy();
      }
    };

  const hub = createServer(onRequest("hub"));
  const cdn = options.separateCdn ? createServer(onRequest("cdn")) : null;
  baseUrl = await listen(hub);
  cdnBase = cdn ? await listen(cdn) : baseUrl;

  return {
    url: baseUrl,
    cdnUrl: cdnBase,
    stats,
    log,
    resetStats() {
      stats.bytesServed = 0;
      stats.requests = 0;
      log.length = 0;
    },
    async commitOf(repoKey) {
      const parts = repoKey.split("/");
      const type: RepoEntry["type"] =
        parts[0] === "datasets" ? "dataset" : parts[0] === "spaces" ? "space" : "model";
      const repo = await loadRepo(type, type === "model" ? repoKey : parts.slice(1).join("/"));
      if (!repo) throw new Error(`no fixture repo ${repoKey}`);
      return repo.commit;
    },
    async close() {
      await Promise.all([close(hub), cdn ? close(cdn) : Promise.resolve()]);
    },
  };
}

async function collect(root: string, dir: string, out: RepoFile[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (e.name === ".git") continue;
    const abs = join(dir, e.name);
    if (e.isDirectory()) await collect(root, abs, out);
    else if (e.isFile() || e.isSymbolicLink()) {
      const info = await stat(abs).catch(() => null);
      if (info?.isFile()) {
        out.push({
          path: relative(root, abs).split(sep).join("/"),
          abs,
          size: info.size,
          mtimeMs: Math.floor(info.mtimeMs),
        });
      }
    }
  }
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`; null for none or several ranges (whole file sent). */
function parseRange(
  header: string | undefined,
  size: number,
): [number, number] | "unsatisfiable" | null {
  if (header === undefined) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0) return "unsatisfiable";
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) return "unsatisfiable";
  return [start, end];
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
