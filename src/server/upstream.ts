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
