import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { memorySource } from "../core/byte-source.js";
import {
  BodyTooLargeError,
  readBody,
  sendError,
  sendJson,
  type UpstreamAnswer,
} from "./gate-server.js";
import type { DecisionAction, GateStore, RepoType, ScanRecord, TokenRecord } from "./gate-store.js";
import { encodePath, parseHfUri, typePrefix } from "./hub-paths.js";
import type { Logger } from "./log.js";
import { authenticate } from "./tokens.js";
import { fetchFollowing } from "./upstream.js";
import {
  type ScannerOptions,
  scanSourceAndStore,
  UpstreamError,
  type VetTarget,
  type Vetter,
} from "./vetter.js";

/** What the API needs from the gate. */
export interface ApiContext {
  store: GateStore;
  vetter: Vetter;
  probe: (
    target: { repoType: RepoType; repo: string; prefix: string; revision: string; rawPath: string },
    authorization: string | undefined,
  ) => Promise<
    | { kind: "file"; target: VetTarget; contentUrl: string; headers: Headers }
    | { kind: "answer"; response: UpstreamAnswer }
  >;
  upstreamBase: string;
  fetchFn: typeof globalThis.fetch;
  logger: Logger;
  /** Scans uploads in this process. */
  scanner: ScannerOptions;
}

/** Largest upload `POST /gate/v1/scans/upload` takes (held in memory while scanned). */
export const MAX_UPLOAD_BYTES = 256 * 1024 * 1024;

/** Files one `POST /gate/v1/scans` may cover. */
export const MAX_REPO_FILES = 10_000;

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The gate's own JSON API under `/gate/v1` (docs/gate.md). Every call needs
 * `Authorization: Bearer mvg_…`; exceptions need an admin token.
 */
export async function handleApi(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  ctx: ApiContext,
): Promise<void> {
  const token = await authenticate(ctx.store, req.headers.authorization);
  if (token === null) {
    res.setHeader("www-authenticate", 'Bearer realm="modelvet-gate"');
    return sendError(
      res,
      401,
      "a valid gate token is required (modelvet token create)",
      "Unauthorized",
    );
  }
  try {
    await route(req, res, url, ctx, token);
  } catch (error) {
    if (error instanceof ApiError) return sendError(res, error.status, error.message);
    if (error instanceof BodyTooLargeError) return sendError(res, 413, error.message);
    throw error;
  }
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  ctx: ApiContext,
  token: TokenRecord,
): Promise<void> {
  const parts = url.pathname.split("/").slice(3).map(decodeURIComponent);
  const method = req.method ?? "GET";
  const q = url.searchParams;
  const limit = Math.min(1000, Math.max(1, Number(q.get("limit") ?? 100) || 100));
  const [resource, id] = parts;

  if (resource === "whoami" && method === "GET") {
    return sendJson(res, 200, { id: token.id, role: token.role, name: token.name });
  }
  if (resource === "scans" && id === undefined && method === "POST") {
    const body = await readJson(req);
    return sendJson(res, 200, await scanRepo(body, ctx));
  }
  if (resource === "scans" && id === "upload" && method === "POST") {
    return sendJson(res, 200, await scanUpload(req, q.get("name"), ctx));
  }
  if (resource === "scans" && id === undefined && method === "GET") {
    const filter: Parameters<GateStore["listScans"]>[0] = {};
    const repo = q.get("repo");
    if (repo !== null) filter.repo = repo;
    const revision = q.get("revision");
    if (revision !== null) filter.revision = revision;
    const type = q.get("type");
    if (type !== null) filter.repoType = repoTypeOf(type);
    const blocked = q.get("blocked");
    if (blocked !== null) filter.blocked = blocked === "true" || blocked === "1";
    const scans = await ctx.store.listScans(filter, limit);
    return sendJson(res, 200, { scans: scans.map(summary) });
  }
  if (resource === "scans" && id !== undefined && method === "GET") {
    const scan = await ctx.store.getScanById(id);
    if (scan === null) throw new ApiError(404, `no scan ${id}`);
    return sendJson(res, 200, { ...summary(scan), result: scan.result });
  }
  if (resource === "blocked" && method === "GET") {
    const filter: { action: DecisionAction; since?: string } = { action: "blocked" };
    const since = q.get("since");
    if (since !== null) filter.since = since;
    return sendJson(res, 200, { blocked: await ctx.store.listDecisions(filter, limit) });
  }
  if (resource === "decisions" && method === "GET") {
    const filter: { action?: DecisionAction } = {};
    const action = q.get("action");
    if (action === "served" || action === "blocked" || action === "excepted")
      filter.action = action;
    return sendJson(res, 200, { decisions: await ctx.store.listDecisions(filter, limit) });
  }
  if (resource === "exceptions" && id === undefined && method === "GET") {
    return sendJson(res, 200, { exceptions: await ctx.store.listExceptions() });
  }
  if (resource === "exceptions" && id === undefined && method === "POST") {
    requireAdmin(token);
    const body = await readJson(req);
    const exception = await ctx.store.addException({ ...exceptionFrom(body), createdBy: token.id });
    ctx.logger.log("info", "exception added", {
      id: exception.id,
      repo: exception.repo,
      path: exception.path,
      expires: exception.expires,
      by: token.id,
    });
    return sendJson(res, 201, exception);
  }
  if (resource === "exceptions" && id !== undefined && method === "DELETE") {
    requireAdmin(token);
    if (!(await ctx.store.revokeException(id, token.id))) {
      throw new ApiError(404, `no live exception ${id}`);
    }
    return sendJson(res, 200, { revoked: id });
  }
  if (resource === "audit" && method === "GET") {
    requireAdmin(token);
    return sendJson(res, 200, { audit: await ctx.store.listAudit(limit) });
  }
  throw new ApiError(404, `no such API call: ${method} ${url.pathname}`);
}

function requireAdmin(token: TokenRecord): void {
  if (token.role !== "admin") throw new ApiError(403, "this call needs an admin token");
}

function summary(scan: ScanRecord) {
  const { result: _result, ...rest } = scan;
  return { ...rest, findings: scan.result.findings.length };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const bytes = await readBody(req, 1024 * 1024);
  try {
    const value: unknown = JSON.parse(Buffer.from(bytes).toString("utf8"));
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {}
  throw new ApiError(400, "the body must be a JSON object");
}

function repoTypeOf(value: unknown): RepoType {
  if (value === undefined || value === "model") return "model";
  if (value === "dataset" || value === "space") return value;
  throw new ApiError(400, `type must be model, dataset or space, not ${String(value)}`);
}

function optionalString(body: Record<string, unknown>, key: string): string | null {
  const value = body[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || value === "") throw new ApiError(400, `${key} must be a string`);
  return value;
}

/** Checks an exception request: repo, reason and a future expiry are required. */
export function exceptionFrom(body: Record<string, unknown>, now = new Date()) {
  const repo = optionalString(body, "repo");
  if (repo === null) throw new ApiError(400, "repo is required");
  const reason = optionalString(body, "reason");
  if (reason === null || reason.trim().length < 3) {
    throw new ApiError(400, "reason is required (say why the file may pass)");
  }
  const expiresRaw = optionalString(body, "expires");
  if (expiresRaw === null)
    throw new ApiError(400, "expires is required (YYYY-MM-DD or an ISO time)");
  const expires = /^\d{4}-\d{2}-\d{2}$/.test(expiresRaw)
    ? new Date(`${expiresRaw}T23:59:59.999Z`)
    : new Date(expiresRaw);
  if (Number.isNaN(expires.getTime()))
    throw new ApiError(400, `expires: not a date: ${expiresRaw}`);
  if (expires <= now) throw new ApiError(400, "expires must be in the future");
  return {
    repoType: repoTypeOf(body.type),
    repo,
    revision: optionalString(body, "revision"),
    path: optionalString(body, "path"),
    contentHash: optionalString(body, "contentHash"),
    reason: reason.trim(),
    expires: expires.toISOString(),
  };
}

/**
 * `POST /gate/v1/scans {"target": "hf://org/name@rev"}`: lists the repo upstream and vets every
 * file the way downloads are vetted (stored verdicts are reused). `hfToken`, when given, is used
 * for the upstream only and never stored.
 */
async function scanRepo(body: Record<string, unknown>, ctx: ApiContext) {
  const target = typeof body.target === "string" ? parseHfUri(body.target) : null;
  if (target === null) throw new ApiError(400, "target must be hf://org/name[@revision]");
  const hfToken = typeof body.hfToken === "string" ? body.hfToken : undefined;
  const authorization = hfToken === undefined ? undefined : `Bearer ${hfToken}`;
  const prefix = typePrefix(target.repoType);
  const paths: string[] = [];
  let next: string | null =
    `${ctx.upstreamBase}/api/${target.repoType}s/${encodePath(target.repo)}/tree/${encodeURIComponent(target.revision)}?recursive=true`;
  while (next !== null) {
    const headers: Record<string, string> = { accept: "application/json" };
    if (authorization !== undefined) headers.authorization = authorization;
    let response: Response;
    try {
      ({ response } = await fetchFollowing(
        ctx.fetchFn,
        next,
        { method: "GET", headers },
        new URL(ctx.upstreamBase).origin,
      ));
    } catch (error) {
      throw new UpstreamError(`listing ${target.repo}: ${String(error)}`);
    }
    if (response.status >= 500)
      throw new UpstreamError(`listing ${target.repo}: ${response.status}`);
    if (!response.ok) {
      throw new ApiError(
        response.status,
        `listing ${target.repo} upstream: ${response.headers.get("x-error-message") ?? response.status}`,
      );
    }
    const entries = (await response.json()) as { type: string; path: string }[];
    for (const e of entries) if (e.type === "file") paths.push(e.path);
    if (paths.length > MAX_REPO_FILES) {
      throw new ApiError(413, `more than ${MAX_REPO_FILES} files; scan a narrower revision`);
    }
    const link = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("link") ?? "");
    next = link ? new URL(link[1]!, ctx.upstreamBase).toString() : null;
  }
  const files: Record<string, unknown>[] = new Array(paths.length);
  let revision = target.revision;
  let index = 0;
  const worker = async () => {
    while (index < paths.length) {
      const i = index++;
      const path = paths[i]!;
      const probed = await ctx.probe(
        { ...target, prefix, rawPath: encodePath(path) },
        authorization,
      );
      if (probed.kind === "answer") {
        files[i] = { path, error: `upstream answered ${probed.response.status}` };
        continue;
      }
      revision = probed.target.revision;
      const scan = await ctx.vetter.verdict(probed.target, authorization);
      files[i] = {
        path,
        verdict: scan.verdict,
        blocked: scan.blocked,
        rule: scan.rule,
        message: scan.message,
        scanId: scan.id,
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, paths.length) }, worker));
  return {
    target: body.target,
    repoType: target.repoType,
    repo: target.repo,
    revision,
    blocked: files.some((f) => f.blocked === true),
    files,
  };
}

/**
 * `POST /gate/v1/scans/upload?name=model.pkl` with the file as the body: scanned in this process
 * under the gate's policy and stored by SHA-256 (repo type `upload`), so the same bytes are
 * scanned once.
 */
async function scanUpload(req: IncomingMessage, name: string | null, ctx: ApiContext) {
  if (name === null || name === "" || name.length > 500) {
    throw new ApiError(400, "name (the file name, for the report) is required: ?name=model.pkl");
  }
  const bytes = await readBody(req, MAX_UPLOAD_BYTES);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const key = {
    repoType: "upload" as const,
    repo: "upload",
    revision: "upload",
    path: name,
    contentHash: sha256,
    size: bytes.length,
  };
  const scan =
    (await ctx.store.getScan(key)) ??
    (await scanSourceAndStore(key, memorySource(bytes), () => 0, performance.now(), ctx.scanner));
  return {
    name,
    sha256,
    size: bytes.length,
    verdict: scan.verdict,
    blocked: scan.blocked,
    rule: scan.rule,
    message: scan.message,
    scanId: scan.id,
    result: scan.result,
  };
}
