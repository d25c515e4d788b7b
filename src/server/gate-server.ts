import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { handleApi } from "./api.js";
import type { GateException, GateStore, ScanRecord } from "./gate-store.js";
import { encodePath, parseResolvePath, type ResolvePath, unquoteEtag } from "./hub-paths.js";
import { type Logger, SILENT_LOGGER } from "./log.js";
import { GateMetrics } from "./metrics.js";
import { serveWebApp } from "./static.js";
import { fetchOnce, requestStream, requestStreamFollowing } from "./upstream.js";
import {
  type GatePolicy,
  type ScanQueue,
  UpstreamError,
  type VetTarget,
  Vetter,
} from "./vetter.js";

export interface GateOptions {
  /** Base URL of the Hub to front. @default "https://huggingface.co" */
  upstream?: string;
  store: GateStore;
  policy: GatePolicy;
  /** Where scans run (in process, or a shared job queue). */
  queue: ScanQueue;
  /** One blocked file blocks every file of its repo at that commit. @default false */
  blockRepo?: boolean;
  /** The gate's own URL as clients reach it; default: from each request's `Host`. */
  publicUrl?: string;
  logger?: Logger;
  metrics?: GateMetrics;
  /** @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /** Folder of the built web app served at `/`, or false for none. @default webRoot() */
  webRoot?: string | false;
}

export interface Gate {
  server: Server;
  store: GateStore;
  metrics: GateMetrics;
  vetter: Vetter;
  /** Starts listening; resolves with the base URL. */
  listen(port: number, host?: string): Promise<string>;
  /** Stops accepting, lets requests in flight finish, stops the queue and closes the store. */
  close(): Promise<void>;
}

/** The status and headers of an upstream answer (its body already consumed or discarded). */
export interface UpstreamAnswer {
  status: number;
  headers: Headers;
}

export const DEFAULT_UPSTREAM = "https://huggingface.co";

/** Response headers relayed from the upstream's answer about a file. */
const FILE_HEADERS = [
  "x-repo-commit",
  "x-linked-etag",
  "x-linked-size",
  "etag",
  "content-type",
  "content-disposition",
  "last-modified",
  "x-request-id",
];

/** Response headers relayed from metadata answers (the body is relayed as well). */
const API_HEADERS = [
  "content-type",
  "x-repo-commit",
  "etag",
  "x-error-code",
  "x-error-message",
  "x-total-count",
  "x-request-id",
  "cache-control",
];

const MAX_API_BODY = 4 * 1024 * 1024;

/** What the Hub sends browsers: any origin, no cookies, and the headers clients read exposed. */
const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": [
    "X-Repo-Commit",
    "X-Request-Id",
    "X-Error-Code",
    "X-Error-Message",
    "X-Total-Count",
    "ETag",
    "Link",
    "Accept-Ranges",
    "Content-Range",
    "Content-Length",
    "X-Linked-Size",
    "X-Linked-ETag",
    "X-Modelvet-Verdict",
    "X-Modelvet-Scan",
  ].join(","),
};
const CORS_PREFLIGHT_HEADERS = {
  "access-control-allow-methods": "GET, HEAD, POST, OPTIONS",
  "access-control-allow-headers": "Authorization, Range, Content-Type, Accept",
  "access-control-max-age": "86400",
};

/** Builds the gate: a node:http server in front of the upstream Hub. */
export function createGate(options: GateOptions): Gate {
  const upstream = new URL(options.upstream ?? DEFAULT_UPSTREAM);
  const upstreamBase = upstream.toString().replace(/\/$/, "");
  const upstreamOrigin = upstream.origin;
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const logger = options.logger ?? SILENT_LOGGER;
  const metrics = options.metrics ?? new GateMetrics();
  const { store } = options;
  const vetter = new Vetter(store, options.queue);
  let closing = false;

  const gateBase = (req: IncomingMessage) =>
    (options.publicUrl ?? `http://${req.headers.host ?? "localhost"}`).replace(/\/$/, "");

  const server = createServer((req, res) => {
    const started = performance.now();
    let route = "other";
    res.on("finish", () => {
      metrics.requests.inc({ route, method: req.method ?? "", status: String(res.statusCode) });
      logger.log("info", "request", {
        method: req.method,
        path: (req.url ?? "").split("?")[0],
        route,
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
      });
    });
    const url = new URL(req.url ?? "/", "http://gate.local");
    const path = url.pathname;
    const run = async () => {
      if (path === "/healthz") {
        route = "health";
        return sendJson(res, 200, { status: "ok" });
      }
      if (path === "/readyz") {
        route = "health";
        if (closing) return sendJson(res, 503, { status: "shutting down" });
        try {
          await store.ping();
          return sendJson(res, 200, { status: "ready" });
        } catch (error) {
          return sendJson(res, 503, { status: "store unavailable", error: String(error) });
        }
      }
      if (path === "/metrics") {
        route = "metrics";
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
        res.end(metrics.render());
        return;
      }
      if (path === "/gate/v1" || path.startsWith("/gate/v1/")) {
        route = "gate-api";
        return handleApi(req, res, url, {
          store,
          vetter,
          probe,
          upstreamBase,
          fetchFn,
          logger,
          scanner: { store, policy: options.policy, metrics, logger },
        });
      }
      const target = parseResolvePath(path);
      if (path.startsWith("/api/") || target !== null) {
        // Browsers may use the Hub surface from any page, as they may use the Hub itself.
        for (const [name, value] of Object.entries(CORS_HEADERS)) res.setHeader(name, value);
        if (req.method === "OPTIONS") {
          route = "cors";
          res.writeHead(204, CORS_PREFLIGHT_HEADERS);
          res.end();
          return;
        }
      }
      if (path.startsWith("/api/")) {
        route = "hub-api";
        return proxyApi(req, res, url);
      }
      if (target !== null) {
        route = "resolve";
        return serveFile(req, res, target, url);
      }
      // The browser app (scanner and dashboard) at `/` and `/assets/`; Hub paths above win.
      if (options.webRoot !== false && (await serveWebApp(req, res, path, options.webRoot))) {
        route = "web";
        return;
      }
      return sendError(
        res,
        404,
        "modelvet gate: this path is not served (only Hub downloads and /gate/v1)",
        "NotFound",
      );
    };
    run().catch((error: unknown) => {
      if (error instanceof UpstreamError) {
        metrics.upstreamErrors.inc();
        logger.log("warn", "upstream error", { error: error.message, status: error.status });
        if (!res.headersSent) {
          const status = error.status === 504 ? 504 : 502;
          sendError(
            res,
            status,
            `modelvet gate: upstream error: ${error.message}`,
            "UpstreamError",
          );
        } else res.destroy();
        return;
      }
      logger.log("error", "internal error", {
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
      if (!res.headersSent) sendError(res, 500, "modelvet gate: internal error", "InternalError");
      else res.destroy();
    });
  });

  /** Headers sent upstream for a client: its Authorization and nothing that changes the bytes. */
  function upstreamHeaders(req: IncomingMessage, extra: Record<string, string> = {}) {
    const headers: Record<string, string> = {
      "accept-encoding": "identity",
      "user-agent": `modelvet-gate (${req.headers["user-agent"] ?? "unknown client"})`,
      ...extra,
    };
    const auth = req.headers.authorization;
    if (auth !== undefined) headers.authorization = auth;
    return headers;
  }

  async function upstreamCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      throw new UpstreamError(
        `${what}: ${error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error)}`,
      );
    }
  }

  /** Rewrites an upstream URL (absolute, or relative to the upstream) to the gate's. */
  function toGate(location: string, base: string, req: IncomingMessage): string {
    const resolved = new URL(location, base);
    if (resolved.origin !== upstreamOrigin) return location;
    return `${gateBase(req)}${resolved.pathname}${resolved.search}`;
  }

  /** What the upstream says about a file: its commit, hash, size, and where the bytes are. */
  async function probe(
    target: Pick<ResolvePath, "repoType" | "repo" | "prefix" | "revision" | "rawPath">,
    authorization: string | undefined,
  ): Promise<
    | { kind: "file"; target: VetTarget; contentUrl: string; headers: Headers }
    | { kind: "answer"; response: UpstreamAnswer }
  > {
    const url = `${upstreamBase}/${target.prefix}${encodePath(target.repo)}/resolve/${encodeURIComponent(target.revision)}/${target.rawPath}`;
    const headers: Record<string, string> = { "accept-encoding": "identity", accept: "*/*" };
    if (authorization !== undefined) headers.authorization = authorization;
    const response = await upstreamCall("probing the file upstream", () =>
      requestStream(url, { method: "HEAD", headers }),
    );
    response.discard();
    const location = response.headers.get("location");
    const redirect = response.status >= 300 && response.status < 400 && location !== null;
    const crossOrigin = redirect && new URL(location, url).origin !== upstreamOrigin;
    if (response.status >= 500) {
      throw new UpstreamError(
        `the upstream answered ${response.status} for ${target.repo}`,
        response.status,
      );
    }
    if (!(response.status === 200 || crossOrigin)) return { kind: "answer", response };
    const commit = response.headers.get("x-repo-commit") ?? target.revision;
    const hash =
      unquoteEtag(response.headers.get("x-linked-etag")) ??
      unquoteEtag(response.headers.get("etag"));
    if (hash === null || hash === "") {
      // Without a content hash a stored verdict could outlive the bytes it was given for.
      throw new UpstreamError(`the upstream gave no ETag for ${target.repo}/${target.rawPath}`);
    }
    const size = Number(
      response.headers.get("x-linked-size") ?? response.headers.get("content-length") ?? 0,
    );
    const pinned = `${upstreamBase}/${target.prefix}${encodePath(target.repo)}/resolve/${encodeURIComponent(commit)}/${target.rawPath}`;
    return {
      kind: "file",
      target: {
        repoType: target.repoType,
        repo: target.repo,
        revision: commit,
        path: decodeURIComponent(target.rawPath),
        contentHash: hash,
        size,
        url: pinned,
      },
      // A CDN URL is content-addressed and signed; a same-origin file is fetched at its commit,
      // so the bytes served are the bytes vetted even if the branch moves meanwhile.
      contentUrl: crossOrigin ? new URL(location!, url).toString() : pinned,
      headers: response.headers,
    };
  }

  async function serveFile(
    req: IncomingMessage,
    res: ServerResponse,
    asked: ResolvePath,
    url: URL,
  ): Promise<void> {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return sendError(res, 405, "modelvet gate: downloads only (GET, HEAD)", "MethodNotAllowed");
    }
    const authorization = req.headers.authorization;
    const probed = await probe(asked, authorization);
    if (probed.kind === "answer") return relayAnswer(req, res, probed.response, url);
    const { target } = probed;
    const decisionBase = {
      repoType: target.repoType,
      repo: target.repo,
      revision: target.revision,
      path: target.path,
      method: req.method,
    };

    const scan = await vetter.verdict(target, authorization);
    let refusal: { scan: ScanRecord; repoWide: boolean } | null = scan.blocked
      ? { scan, repoWide: false }
      : null;
    if (refusal === null && options.blockRepo) {
      const other = await store.blockedInRepo(target.repoType, target.repo, target.revision);
      if (other !== null) refusal = { scan: other, repoWide: true };
    }
    let exception: GateException | null = null;
    if (refusal !== null) {
      exception = await store.findException(refusal.repoWide ? { ...refusal.scan } : target);
      if (exception === null && refusal.repoWide) exception = await store.findException(target);
    }
    if (refusal !== null && exception === null && req.method === "HEAD") {
      // Metadata is not the file: answer HEAD so that clients which look before they fetch
      // (huggingface_hub, transformers) go on to the GET, whose 403 they show with the reason.
      // Refusing the HEAD made huggingface_hub report a connection problem instead.
      const headers: Record<string, string> = {
        "x-modelvet-verdict": `${refusal.scan.verdict} (download refused)`,
        "x-modelvet-scan": refusal.scan.id,
        "content-length": String(target.size),
      };
      for (const name of FILE_HEADERS) {
        const value = probed.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      res.writeHead(200, headers);
      res.end();
      return;
    }
    if (refusal !== null && exception === null) {
      metrics.blocks.inc({ rule: refusal.scan.rule ?? refusal.scan.verdict });
      const where = `${target.repo}/${target.path}@${target.revision.slice(0, 12)}`;
      const message = refusal.repoWide
        ? `modelvet gate refused ${where}: the repository is blocked at this commit because ${refusal.scan.path} failed the scan: ${refusal.scan.message}`
        : `modelvet gate refused ${where}: ${refusal.scan.message}`;
      await store.recordDecision({
        ...decisionBase,
        scanId: refusal.scan.id,
        action: "blocked",
        reason: refusal.repoWide ? `repo blocked by ${refusal.scan.path}` : refusal.scan.message,
        exceptionId: null,
      });
      logger.log("info", "blocked", {
        repo: target.repo,
        revision: target.revision,
        path: target.path,
        rule: refusal.scan.rule,
        repoWide: refusal.repoWide,
      });
      const findings = await store.findings(refusal.scan.id);
      return sendError(res, 403, message, "ModelvetBlocked", {
        modelvet: {
          verdict: refusal.scan.verdict,
          rule: refusal.scan.rule,
          global: refusal.scan.global,
          scanId: refusal.scan.id,
          file: refusal.scan.path,
          repoBlocked: refusal.repoWide,
          findings: findings.slice(0, 20),
        },
      });
    }
    await store.recordDecision({
      ...decisionBase,
      scanId: scan.id,
      action: exception === null ? "served" : "excepted",
      reason: exception?.reason ?? null,
      exceptionId: exception?.id ?? null,
    });

    const relayed: Record<string, string> = {
      "accept-ranges": "bytes",
      "x-modelvet-verdict": exception === null ? scan.verdict : `${scan.verdict} (exception)`,
      "x-modelvet-scan": scan.id,
    };
    for (const name of FILE_HEADERS) {
      const value = probed.headers.get(name);
      if (value !== null) relayed[name] = value;
    }
    if (req.method === "HEAD") {
      relayed["content-length"] = String(target.size);
      res.writeHead(200, relayed);
      res.end();
      return;
    }

    const range = req.headers.range;
    const abort = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    const response = await upstreamCall("fetching the file upstream", () =>
      requestStreamFollowing(
        probed.contentUrl,
        {
          method: "GET",
          headers: upstreamHeaders(req, range === undefined ? {} : { range }),
          signal: abort.signal,
        },
        upstreamOrigin,
      ),
    );
    if (response.status >= 500 || (response.status >= 300 && response.status !== 416)) {
      response.discard();
      throw new UpstreamError(`the upstream answered ${response.status} for the file's bytes`, 502);
    }
    for (const name of ["content-length", "content-range", "content-type"]) {
      const value = response.headers.get(name);
      if (value !== null) relayed[name] = value;
    }
    res.writeHead(response.status, relayed);
    const body = response.body;
    body.on("data", (chunk: Buffer) => {
      metrics.bytesServed.inc({}, chunk.length);
      metrics.bytesFetched.inc({ purpose: "serve" }, chunk.length);
    });
    body.on("error", () => res.destroy());
    body.pipe(res);
  }

  /** An upstream answer that is not a file (an error, a same-origin redirect), relayed. */
  async function relayAnswer(
    req: IncomingMessage,
    res: ServerResponse,
    response: UpstreamAnswer,
    url: URL,
  ): Promise<void> {
    const headers: Record<string, string> = {};
    for (const name of API_HEADERS) {
      const value = response.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    const location = response.headers.get("location");
    if (location !== null)
      headers.location = toGate(location, `${upstreamBase}${url.pathname}`, req);
    if (response.status >= 400 && req.method === "GET") {
      // A HEAD has no body; give GET clients the Hub's message as JSON.
      const message =
        response.headers.get("x-error-message") ?? `upstream answered ${response.status}`;
      return sendError(
        res,
        response.status,
        message,
        response.headers.get("x-error-code") ?? undefined,
      );
    }
    res.writeHead(response.status, headers);
    res.end();
  }

  /** Metadata (`/api/…`): relayed, with upstream URLs in headers and bodies pointing at the gate. */
  async function proxyApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? "GET";
    const isPathsInfo = /\/paths-info\//.test(url.pathname);
    if (url.pathname.startsWith("/api/resolve-cache/")) {
      return sendError(
        res,
        404,
        "modelvet gate: use /{repo}/resolve/… (vetted) instead",
        "NotFound",
      );
    }
    if (!(method === "GET" || method === "HEAD" || (method === "POST" && isPathsInfo))) {
      return sendError(
        res,
        405,
        "modelvet gate: read-only (uploads and changes go to the Hub directly)",
        "MethodNotAllowed",
      );
    }
    let body: Uint8Array<ArrayBuffer> | undefined;
    const extra: Record<string, string> = {};
    if (method === "POST") {
      body = await readBody(req, MAX_API_BODY);
      const type = req.headers["content-type"];
      if (type !== undefined) extra["content-type"] = type;
    }
    const accept = req.headers.accept;
    if (accept !== undefined) extra.accept = accept;
    const upstreamUrl = `${upstreamBase}${url.pathname}${url.search}`;
    const response = await upstreamCall("querying the upstream API", () =>
      fetchOnce(fetchFn, upstreamUrl, {
        method: method as "GET" | "HEAD" | "POST",
        headers: upstreamHeaders(req, extra),
        ...(body === undefined ? {} : { body }),
      }),
    );
    if (response.status >= 500) {
      await response.body?.cancel().catch(() => {});
      throw new UpstreamError(`the upstream API answered ${response.status}`, response.status);
    }
    const headers: Record<string, string> = {};
    for (const name of API_HEADERS) {
      const value = response.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    const gate = gateBase(req);
    const location = response.headers.get("location");
    if (location !== null) headers.location = toGate(location, upstreamUrl, req);
    const link = response.headers.get("link");
    if (link !== null) headers.link = link.split(upstreamBase).join(gate);
    const text = method === "HEAD" ? "" : await response.text();
    // Any absolute upstream URL inside metadata would send clients around the gate.
    const out = Buffer.from(text.split(upstreamBase).join(gate));
    headers["content-length"] = String(out.length);
    res.writeHead(response.status, headers);
    res.end(method === "HEAD" ? undefined : out);
  }

  return {
    server,
    store,
    metrics,
    vetter,
    listen(port, host = "127.0.0.1") {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          const address = server.address() as AddressInfo;
          const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
          resolve(`http://${shown}:${address.port}`);
        });
      });
    },
    async close() {
      closing = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await options.queue.stop();
      await store.close();
    },
  };
}

/** A JSON error as the Hub words them: `{ error }` plus `X-Error-Message` (what clients show). */
export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  code?: string,
  extra: Record<string, unknown> = {},
): void {
  const headers: Record<string, string> = { "x-error-message": headerSafe(message) };
  if (code !== undefined) headers["x-error-code"] = code;
  sendJson(res, status, { error: message, ...extra }, headers);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = Buffer.from(`${JSON.stringify(value)}\n`);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": String(body.length),
  });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

/** Header values must be one line of visible ASCII. */
function headerSafe(text: string): string {
  const safe = text.replace(/[^\x20-\x7e]+/g, " ").trim();
  return safe.length > 1000 ? `${safe.slice(0, 997)}...` : safe;
}

export async function readBody(
  req: IncomingMessage,
  limit: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) throw new BodyTooLargeError(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body over ${limit} bytes`);
  }
}
