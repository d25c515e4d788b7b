import { createHash } from "node:crypto";
import { HttpStatusError, parseRetryAfter } from "./http-range-source.js";

export interface HashDownloadOptions {
  /** Sent to the URL's own origin only (redirect targets elsewhere get none of these). */
  headers?: Record<string, string>;
  fetch?: typeof globalThis.fetch;
  /** Retries before the body starts, on 429/5xx/network errors. @default 4 */
  retries?: number;
  /** @default 250 */
  retryBaseMs?: number;
  /** Called with the bytes received, as they arrive. */
  onBytes?: (n: number) => void;
}

const SENSITIVE = new Set(["authorization", "cookie", "proxy-authorization"]);

/**
 * Downloads `url` (following redirects, the Hub's LFS CDN included) straight into SHA-256 — the
 * bytes are never held — and returns the hex digest.
 */
export async function sha256OfUrl(url: string, options: HashDownloadOptions = {}): Promise<string> {
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const origin = new URL(url).origin;
  const retries = Math.max(0, options.retries ?? 4);
  const base = options.retryBaseMs ?? 250;
  for (let attempt = 0; ; attempt++) {
    let current = url;
    let response: Response | undefined;
    try {
      for (let hop = 0; hop <= 10; hop++) {
        const headers: Record<string, string> = { "Accept-Encoding": "identity" };
        const sameOrigin = new URL(current).origin === origin;
        for (const [k, v] of Object.entries(options.headers ?? {})) {
          if (sameOrigin || !SENSITIVE.has(k.toLowerCase())) headers[k] = v;
        }
        response = await fetchFn(current, { headers, redirect: "manual" });
        const location = response.headers.get("location");
        if ([301, 302, 303, 307, 308].includes(response.status) && location !== null) {
          await response.body?.cancel().catch(() => {});
          current = new URL(location, current).toString();
          response = undefined;
          continue;
        }
        break;
      }
    } catch (error) {
      if (attempt >= retries) {
        const reason = error instanceof Error ? ((error.cause as Error) ?? error).message : error;
        throw new Error(`${url}: network error while downloading to verify its hash: ${reason}`);
      }
      await sleep(base * 2 ** attempt);
      continue;
    }
    if (response === undefined) throw new Error(`${url}: too many redirects`);
    if ((response.status === 429 || response.status >= 500) && attempt < retries) {
      const wait = parseRetryAfter(response.headers.get("retry-after"));
      await response.body?.cancel().catch(() => {});
      await sleep(Math.min(30_000, wait ?? base * 2 ** attempt));
      continue;
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      throw new HttpStatusError(response.status, current, response.headers);
    }
    const hash = createHash("sha256");
    if (response.body !== null) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        hash.update(value);
        options.onBytes?.(value.length);
      }
    }
    return hash.digest("hex");
  }
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
