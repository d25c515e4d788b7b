import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/**
 * Requests to the upstream Hub on a client's behalf. Redirects are followed by hand so the
 * client's `Authorization` only ever goes to the upstream's own origin (a CDN's signed URL must
 * not receive it), and nothing here logs or keeps it.
 */

export interface UpstreamRequest {
  method: "GET" | "HEAD" | "POST";
  headers: Record<string, string>;
  body?: Uint8Array<ArrayBuffer>;
  signal?: AbortSignal;
  /** Socket inactivity, in ms, after which the request fails. @default 60000 */
  idleTimeoutMs?: number;
}

const MAX_REDIRECTS = 5;

/** One request, no redirect followed (the caller decides what a redirect means). */
export function fetchOnce(
  fetchFn: typeof globalThis.fetch,
  url: string,
  request: UpstreamRequest,
): Promise<Response> {
  return fetchFn(url, {
    method: request.method,
    headers: request.headers,
    redirect: "manual",
    ...(request.body === undefined ? {} : { body: request.body }),
    ...(request.signal === undefined ? {} : { signal: request.signal }),
  });
}

/** Follows redirects; `Authorization`/`Cookie` are dropped once the URL leaves `trustedOrigin`. */
export async function fetchFollowing(
  fetchFn: typeof globalThis.fetch,
  url: string,
  request: UpstreamRequest,
  trustedOrigin: string,
): Promise<{ response: Response; url: string }> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const headers = { ...request.headers };
    if (new URL(current).origin !== trustedOrigin) {
      delete headers.authorization;
      delete headers.cookie;
    }
    const response = await fetchOnce(fetchFn, current, { ...request, headers });
    const location = response.headers.get("location");
    if (response.status < 300 || response.status >= 400 || location === null) {
      return { response, url: current };
    }
    if (hop >= MAX_REDIRECTS) throw new Error(`too many redirects from ${url}`);
    await response.body?.cancel().catch(() => {});
    current = new URL(location, current).toString();
  }
}

/** An upstream answer whose body is a Node stream (consume it or call `discard`). */
export interface StreamedResponse {
  status: number;
  headers: Headers;
  body: IncomingMessage;
  discard(): void;
}

const agents = {
  "http:": new HttpAgent({ keepAlive: true, maxSockets: 256 }),
  "https:": new HttpsAgent({ keepAlive: true, maxSockets: 256 }),
};

/**
 * One request over node:http(s) with keep-alive, no redirect followed: the gate's hot path
 * (probing files and streaming their bytes) without the cost of WHATWG streams.
 */
export function requestStream(url: string, request: UpstreamRequest): Promise<StreamedResponse> {
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  const agent = target.protocol === "https:" ? agents["https:"] : agents["http:"];
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: request.method,
        headers: request.headers,
        agent,
        ...(request.signal === undefined ? {} : { signal: request.signal }),
      },
      (res) => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value === undefined) continue;
          if (Array.isArray(value)) for (const v of value) headers.append(name, v);
          else headers.set(name, value);
        }
        resolve({
          status: res.statusCode ?? 502,
          headers,
          body: res,
          discard: () => {
            res.resume();
          },
        });
      },
    );
    // An upstream that stops answering (no headers, or a body that stalls) is given up on.
    req.setTimeout(request.idleTimeoutMs ?? 60_000, () =>
      req.destroy(
        new Error(
          `no answer from ${target.host} for ${(request.idleTimeoutMs ?? 60_000) / 1000} s`,
        ),
      ),
    );
    req.on("error", reject);
    req.end(request.body === undefined ? undefined : Buffer.from(request.body));
  });
}

/** {@link requestStream}, following redirects; credentials only to `trustedOrigin`. */
export async function requestStreamFollowing(
  url: string,
  request: UpstreamRequest,
  trustedOrigin: string,
): Promise<StreamedResponse> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const headers = { ...request.headers };
    if (new URL(current).origin !== trustedOrigin) {
      delete headers.authorization;
      delete headers.cookie;
    }
    const response = await requestStream(current, { ...request, headers });
    const location = response.headers.get("location");
    if (response.status < 300 || response.status >= 400 || location === null) return response;
    response.discard();
    if (hop >= MAX_REDIRECTS) throw new Error(`too many redirects from ${url}`);
    current = new URL(location, current).toString();
  }
}
