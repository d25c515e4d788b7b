import { type ByteSource, ByteSourceError } from "../core/byte-source.js";

/**
 * A random-access byte source over HTTP range requests (`Range: bytes=a-b`), so the analysers can
 * vet a 10 GB checkpoint on a server while fetching only the bytes its format needs: a safetensors
 * header, a zip's central directory and its pickles, a GGUF header.
 *
 * Reads are served from fixed-size blocks (a small LRU cache); the missing blocks of one read are
 * fetched in as few requests as possible (adjacent blocks coalesced). Redirects are followed by
 * hand, so `Authorization` (and `Cookie`) travel only to the origin of the URL that was opened —
 * the Hub sends LFS files to a CDN on another origin. 429, 5xx and network errors are retried with
 * exponential back-off, honouring `Retry-After`. A shared {@link ByteBudget} caps what one run may
 * transfer. A server that ignores `Range` is never read whole unless the file is at most one block.
 */

export interface HttpRangeSourceOptions {
  /** Request headers sent to the opened URL's origin only (e.g. `Authorization`). */
  headers?: Record<string, string>;
  /** @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /** Bytes per cached block and granularity of range requests. @default 65536 */
  blockSize?: number;
  /** Blocks kept in the LRU cache. @default 64 */
  cacheBlocks?: number;
  /** Retries of one request on 429, 5xx and network errors. @default 4 */
  retries?: number;
  /** First back-off delay in ms, doubled each retry (Retry-After wins when given). @default 250 */
  retryBaseMs?: number;
  /** Longest wait between retries, in ms, whatever Retry-After asks. @default 30000 */
  retryMaxMs?: number;
  /** Shared per-run byte budget; exceeding it throws {@link BudgetExceededError}. */
  budget?: ByteBudget;
  /** Called with the bytes actually transferred (response bodies), as they arrive. */
  onBytes?: (n: number) => void;
}

/** Thrown when a run would transfer more bytes than its {@link ByteBudget} allows. */
export class BudgetExceededError extends ByteSourceError {
  readonly code = "MODELVET_BUDGET_EXCEEDED";
  constructor(
    readonly limit: number,
    readonly used: number,
    readonly wanted: number,
  ) {
    super(
      `the remote byte budget of ${formatBytes(limit)} is spent (${formatBytes(used)} fetched, ` +
        `${formatBytes(wanted)} more needed); raise it (modelvet scan --max-remote-bytes) to read further`,
    );
    this.name = "BudgetExceededError";
  }
}

/** How many bytes one run may fetch over the network, shared by every remote source. */
export class ByteBudget {
  #used = 0;
  constructor(readonly limit: number) {
    if (!(limit >= 0)) throw new RangeError(`byte budget must be >= 0, got ${limit}`);
  }
  get used(): number {
    return this.#used;
  }
  get remaining(): number {
    return Math.max(0, this.limit - this.#used);
  }
  /** Throws {@link BudgetExceededError} if `n` more bytes would pass the limit, else counts them. */
  take(n: number): void {
    if (this.#used + n > this.limit) throw new BudgetExceededError(this.limit, this.#used, n);
    this.#used += n;
  }
  /** Throws if `n` more bytes would pass the limit, without counting them. */
  check(n: number): void {
    if (this.#used + n > this.limit) throw new BudgetExceededError(this.limit, this.#used, n);
  }
}

/** A response the source could not use (after retries): status and URL kept for callers. */
export class HttpStatusError extends ByteSourceError {
  readonly code = "MODELVET_HTTP_STATUS";
  constructor(
    readonly status: number,
    readonly url: string,
    readonly headers: Headers,
    message?: string,
  ) {
    super(message ?? `HTTP ${status}${statusText(status)} for ${url}`);
    this.name = "HttpStatusError";
  }
}

/** The server answered a range request with the whole file, which the source refuses to read. */
export class RangeNotSupportedError extends ByteSourceError {
  readonly code = "MODELVET_RANGE_NOT_SUPPORTED";
  constructor(
    readonly url: string,
    readonly size: number | undefined,
  ) {
    super(
      `${url}: the server ignores HTTP Range requests and would send the whole file` +
        `${size === undefined ? "" : ` (${formatBytes(size)})`}; modelvet reads remote files only ` +
        "by ranges — download it and scan the local copy instead",
    );
    this.name = "RangeNotSupportedError";
  }
}

export interface OpenedHttpSource {
  source: ByteSource;
  /** The final URL after redirects, which later range requests go to. */
  url: string;
  size: number;
  /** The content's ETag (the final response's, else the first response's `X-Linked-Etag`). */
  etag?: string;
  /**
   * Headers of the first response, the one to the URL as opened (before any redirect): on the Hub
   * it carries `X-Repo-Commit`, `X-Linked-Size` and `X-Linked-Etag`.
   */
  headers: Headers;
  /** Headers of the final response (after redirects); the same object when there was none. */
  finalHeaders: Headers;
}

const DEFAULT_BLOCK = 64 * 1024;
const MAX_REDIRECTS = 10;
const SENSITIVE = new Set(["authorization", "cookie", "proxy-authorization"]);

/**
 * Opens `url` for range reading. One request (a `Range: bytes=0-…` GET for the first block, which
 * is kept in the cache) finds the size, the final URL and the ETag; no HEAD is needed.
 */
export async function openHttpSource(
  url: string,
  options: HttpRangeSourceOptions = {},
): Promise<OpenedHttpSource> {
  const client = new RangeClient(url, options);
  const first = await client.open();
  return {
    source: client.source(first.size),
    url: client.finalUrl,
    size: first.size,
    ...(first.etag === undefined ? {} : { etag: first.etag }),
    headers: first.headers,
    finalHeaders: first.finalHeaders,
  };
}

interface Block {
  bytes: Uint8Array;
}

class RangeClient {
  readonly blockSize: number;
  readonly cacheBlocks: number;
  readonly fetchFn: typeof globalThis.fetch;
  finalUrl: string;
  etag: string | undefined;
  size = 0;
  readonly #cache = new Map<number, Block>();
  readonly #inflight = new Map<number, Promise<Uint8Array>>();

  constructor(
    readonly url: string,
    readonly options: HttpRangeSourceOptions,
  ) {
    this.blockSize = Math.max(1, Math.floor(options.blockSize ?? DEFAULT_BLOCK));
    this.cacheBlocks = Math.max(1, Math.floor(options.cacheBlocks ?? 64));
    this.fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.finalUrl = url;
  }

  async open(): Promise<{
    size: number;
    etag?: string;
    headers: Headers;
    finalHeaders: Headers;
  }> {
    const { response, firstHeaders } = await this.#request(this.url, 0, this.blockSize - 1, true);
    const finalHeaders = response.headers;
    this.etag =
      finalHeaders.get("etag") ??
      firstHeaders.get("x-linked-etag") ??
      firstHeaders.get("etag") ??
      undefined;
    if (response.status === 206) {
      const range = parseContentRange(response.headers.get("content-range"));
      if (range === null || range.start !== 0 || range.total === undefined) {
        await discard(response);
        throw new ByteSourceError(
          `${this.finalUrl}: the server's Content-Range (${response.headers.get("content-range")}) does not give the file size`,
        );
      }
      this.size = range.total;
      const bytes = await this.#body(response, range.end - range.start + 1);
      this.#store(0, bytes);
    } else if (response.status === 200) {
      // Range ignored: only a file of at most one block may be taken whole.
      const bytes = await this.#smallWholeBody(response);
      this.size = bytes.length;
      this.#store(0, bytes);
    } else if (response.status === 416) {
      // Range not satisfiable at offset 0: an empty file.
      const range = parseContentRange(response.headers.get("content-range"));
      await discard(response);
      if (range?.total !== 0 && range !== null) {
        throw new HttpStatusError(416, this.finalUrl, response.headers);
      }
      this.size = 0;
    } else {
      await discard(response);
      throw new HttpStatusError(response.status, this.finalUrl, response.headers);
    }
    const result: { size: number; etag?: string; headers: Headers; finalHeaders: Headers } = {
      size: this.size,
      headers: firstHeaders,
      finalHeaders,
    };
    if (this.etag !== undefined) result.etag = this.etag;
    return result;
  }

  source(size: number): ByteSource {
    return {
      size,
      read: (offset, length) => this.read(offset, length),
    };
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const start = Math.max(0, Math.min(Math.floor(offset), this.size));
    const end = Math.max(start, Math.min(start + Math.max(0, Math.floor(length)), this.size));
    if (end === start) return new Uint8Array(0);
    const firstBlock = Math.floor(start / this.blockSize);
    const lastBlock = Math.floor((end - 1) / this.blockSize);
    const parts = await this.#blocks(firstBlock, lastBlock);
    if (parts.length === 1) {
      const base = firstBlock * this.blockSize;
      return parts[0]!.subarray(start - base, end - base);
    }
    const out = new Uint8Array(end - start);
    let written = 0;
    for (let b = firstBlock; b <= lastBlock; b++) {
      const block = parts[b - firstBlock]!;
      const base = b * this.blockSize;
      const from = Math.max(start, base) - base;
      const to = Math.min(end, base + block.length) - base;
      out.set(block.subarray(from, to), written);
      written += to - from;
    }
    return out;
  }

  /** Blocks first..last, from the cache, from requests in flight, or fetched (runs coalesced). */
  async #blocks(first: number, last: number): Promise<Uint8Array[]> {
    const result: (Uint8Array | Promise<Uint8Array>)[] = [];
    let runStart = -1;
    const flush = (runEnd: number) => {
      if (runStart < 0) return;
      const from = runStart;
      runStart = -1;
      const run = this.#fetchRun(from, runEnd);
      for (let b = from; b <= runEnd; b++) {
        const p = run.then((blocks) => blocks[b - from]!);
        this.#inflight.set(b, p);
        result[b - first] = p;
      }
      const forget = () => {
        for (let b = from; b <= runEnd; b++) this.#inflight.delete(b);
      };
      run.then(forget, forget);
    };
    for (let b = first; b <= last; b++) {
      const cached = this.#cache.get(b);
      if (cached !== undefined) {
        // LRU: refresh.
        this.#cache.delete(b);
        this.#cache.set(b, cached);
        flush(b - 1);
        result[b - first] = cached.bytes;
        continue;
      }
      const pending = this.#inflight.get(b);
      if (pending !== undefined) {
        flush(b - 1);
        result[b - first] = pending;
        continue;
      }
      if (runStart < 0) runStart = b;
    }
    flush(last);
    return Promise.all(result);
  }

  /** One range request for blocks first..last; returns each block's bytes. */
  async #fetchRun(first: number, last: number): Promise<Uint8Array[]> {
    const from = first * this.blockSize;
    const to = Math.min(this.size, (last + 1) * this.blockSize) - 1;
    this.options.budget?.check(to - from + 1);
    const { response } = await this.#request(this.finalUrl, from, to, false);
    if (response.status === 200) {
      // Range ignored on a later request: acceptable only for a file within one block.
      const whole = await this.#smallWholeBody(response);
      return this.#split(first, last, whole.subarray(from, to + 1));
    }
    if (response.status !== 206) {
      await discard(response);
      throw new HttpStatusError(response.status, this.finalUrl, response.headers);
    }
    const range = parseContentRange(response.headers.get("content-range"));
    if (range === null || range.start !== from || range.end < to) {
      await discard(response);
      throw new ByteSourceError(
        `${this.finalUrl}: asked for bytes ${from}-${to}, the server sent ${response.headers.get("content-range") ?? "no Content-Range"}`,
      );
    }
    if (range.total !== undefined && range.total !== this.size) {
      await discard(response);
      throw new ByteSourceError(
        `${this.finalUrl}: the file changed while it was read (size ${this.size}, now ${range.total})`,
      );
    }
    const bytes = await this.#body(response, range.end - range.start + 1);
    return this.#split(first, last, bytes.subarray(0, to - from + 1));
  }

  #split(first: number, last: number, bytes: Uint8Array): Uint8Array[] {
    const blocks: Uint8Array[] = [];
    const count = last - first + 1;
    // A long run (a large read) is not cached whole: that would pin its buffer and flush the
    // cache; only its first and last blocks (copied) are kept.
    const cacheAll = count <= Math.max(1, Math.floor(this.cacheBlocks / 4));
    for (let i = 0; i < count; i++) {
      const block = bytes.subarray(i * this.blockSize, (i + 1) * this.blockSize);
      blocks.push(block);
      if (cacheAll) this.#store(first + i, block);
      else if (i === 0 || i === count - 1) this.#store(first + i, block.slice());
    }
    return blocks;
  }

  #store(index: number, bytes: Uint8Array): void {
    this.#cache.delete(index);
    this.#cache.set(index, { bytes });
    while (this.#cache.size > this.cacheBlocks) {
      const oldest = this.#cache.keys().next().value as number;
      this.#cache.delete(oldest);
    }
  }

  /**
   * Sends a range GET to `url` (following redirects by hand when `follow`), retrying 429, 5xx
   * and network errors. A 401/403/410 from a redirect target (an expired signed CDN URL) makes
   * one fresh start from the URL as opened.
   */
  async #request(
    url: string,
    from: number,
    to: number,
    follow: boolean,
  ): Promise<{ response: Response; firstHeaders: Headers }> {
    const retries = Math.max(0, this.options.retries ?? 4);
    let reResolved = false;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      let firstHeaders: Headers;
      try {
        ({ response, firstHeaders } = follow
          ? await this.#followRedirects(this.url, from, to)
          : await this.#send(url, from, to).then((r) => ({
              response: r,
              firstHeaders: r.headers,
            })));
      } catch (error) {
        if (
          error instanceof HttpStatusError ||
          error instanceof BudgetExceededError ||
          error instanceof TooManyRedirectsError
        ) {
          throw error;
        }
        if (attempt >= retries) throw networkError(url, error);
        await sleep(this.#backoff(attempt, null));
        continue;
      }
      if (
        !follow &&
        !reResolved &&
        this.finalUrl !== this.url &&
        (response.status === 401 || response.status === 403 || response.status === 410)
      ) {
        await discard(response);
        reResolved = true;
        follow = true;
        attempt--;
        continue;
      }
      if (isRetryable(response.status) && attempt < retries) {
        const wait = this.#backoff(attempt, response.headers.get("retry-after"));
        await discard(response);
        await sleep(wait);
        continue;
      }
      if (follow && this.size > 0) {
        // A re-resolve after the first open: the content must be the same file.
        const etag = response.headers.get("etag") ?? firstHeaders.get("x-linked-etag");
        if (this.etag !== undefined && etag !== null && etag !== this.etag) {
          await discard(response);
          throw new ByteSourceError(
            `${this.url}: the file changed while it was read (ETag ${etag})`,
          );
        }
      }
      return { response, firstHeaders };
    }
  }

  async #followRedirects(
    url: string,
    from: number,
    to: number,
  ): Promise<{ response: Response; firstHeaders: Headers }> {
    let current = url;
    let firstHeaders: Headers | undefined;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const response = await this.#send(current, from, to);
      firstHeaders ??= response.headers;
      const location = response.headers.get("location");
      if (isRedirect(response.status) && location !== null) {
        await discard(response);
        current = new URL(location, current).toString();
        continue;
      }
      this.finalUrl = current;
      return { response, firstHeaders };
    }
    throw new TooManyRedirectsError(`${url}: more than ${MAX_REDIRECTS} redirects`);
  }

  #send(url: string, from: number, to: number): Promise<Response> {
    const sameOrigin = new URL(url).origin === new URL(this.url).origin;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.options.headers ?? {})) {
      if (sameOrigin || !SENSITIVE.has(name.toLowerCase())) headers[name] = value;
    }
    headers.Range = `bytes=${from}-${to}`;
    headers["Accept-Encoding"] = "identity";
    return this.fetchFn(url, { method: "GET", headers, redirect: "manual" });
  }

  #backoff(attempt: number, retryAfter: string | null): number {
    const max = this.options.retryMaxMs ?? 30_000;
    const asked = parseRetryAfter(retryAfter);
    if (asked !== null) return Math.min(max, asked);
    const base = this.options.retryBaseMs ?? 250;
    const exp = base * 2 ** attempt;
    // Jitter (±25 %) so concurrent readers do not retry in step.
    return Math.min(max, exp * (0.75 + Math.random() * 0.5));
  }

  /** Reads a 206 body of `expected` bytes, counting it against the budget as it arrives. */
  async #body(response: Response, expected: number): Promise<Uint8Array> {
    const out = new Uint8Array(expected);
    let filled = 0;
    await this.#stream(response, (chunk) => {
      if (filled + chunk.length > expected) {
        throw new ByteSourceError(
          `${this.finalUrl}: the server sent more bytes than the range asked for`,
        );
      }
      out.set(chunk, filled);
      filled += chunk.length;
    });
    if (filled !== expected) {
      throw new ByteSourceError(
        `${this.finalUrl}: the response ended after ${filled} of ${expected} bytes`,
      );
    }
    return out;
  }

  /** Reads a 200 (Range ignored) body only if it fits in one block; else stops and throws. */
  async #smallWholeBody(response: Response): Promise<Uint8Array> {
    const declared = Number(response.headers.get("content-length") ?? Number.NaN);
    if (Number.isFinite(declared) && declared > this.blockSize) {
      await discard(response);
      throw new RangeNotSupportedError(this.finalUrl, declared);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    await this.#stream(response, (chunk) => {
      total += chunk.length;
      if (total > this.blockSize) {
        throw new RangeNotSupportedError(
          this.finalUrl,
          Number.isFinite(declared) ? declared : undefined,
        );
      }
      chunks.push(chunk);
    });
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  async #stream(response: Response, onChunk: (chunk: Uint8Array) => void): Promise<void> {
    if (response.body === null) return;
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.options.budget?.take(value.length);
        this.options.onBytes?.(value.length);
        onChunk(value);
      }
    } catch (error) {
      await reader.cancel().catch(() => {});
      throw error instanceof ByteSourceError ? error : networkError(this.finalUrl, error);
    } finally {
      reader.releaseLock();
    }
  }
}

/** `bytes a-b/total` (total may be `*`); null when absent or malformed. */
export function parseContentRange(
  value: string | null,
): { start: number; end: number; total: number | undefined } | null {
  if (value === null) return null;
  const unsatisfied = /^\s*bytes\s+\*\/(\d+)\s*$/i.exec(value);
  if (unsatisfied) return { start: 0, end: -1, total: Number(unsatisfied[1]) };
  const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(value);
  if (!m) return null;
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) return null;
  return { start, end, total: m[3] === "*" ? undefined : Number(m[3]) };
}

/** Retry-After in ms: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now);
}

class TooManyRedirectsError extends ByteSourceError {}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function isRetryable(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // already closed
  }
}

function networkError(url: string, error: unknown): Error {
  const cause = error instanceof Error ? ((error.cause as Error | undefined) ?? error) : error;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ByteSourceError(`${url}: network error: ${reason}`, { cause: error });
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    400: " Bad Request",
    401: " Unauthorized",
    403: " Forbidden",
    404: " Not Found",
    410: " Gone",
    416: " Range Not Satisfiable",
    429: " Too Many Requests",
    500: " Internal Server Error",
    502: " Bad Gateway",
    503: " Service Unavailable",
  };
  return texts[status] ?? "";
}

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
