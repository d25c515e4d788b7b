import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The browser app (in-browser scanner and gate dashboard) as a static site: `npm run build:web`
 * writes it to `dist-web/` at the package root. From `src/server/` and `dist/server/` alike that
 * is two folders up.
 */
export function webRoot(): string {
  return fileURLToPath(new URL("../../dist-web/", import.meta.url));
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * Sent with every file of the app. The policy also binds the scan worker (a meta tag would not):
 * code only from this origin; network only to this origin (the gate API) and to the Hugging Face
 * Hub and its CDN (GETs for `hf://` scans: a listing and byte ranges); no framing.
 */
export const WEB_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; " +
    "connect-src 'self' https://huggingface.co https://*.huggingface.co https://*.hf.co; " +
    "img-src 'self' data:; style-src 'self'; object-src 'none'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
};

/** The app's own paths: the page and its hashed assets. Everything else is left to the caller. */
export function isWebAppPath(pathname: string): boolean {
  return pathname === "/" || pathname === "/index.html" || pathname.startsWith("/assets/");
}

/**
 * Serves a GET or HEAD of the app from `root`. Resolves false (nothing sent) when the path is not
 * one of the app's, so a server can mount it in front of its own routes; a missing asset is a 404.
 */
export async function serveWebApp(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  root: string = webRoot(),
): Promise<boolean> {
  if (!isWebAppPath(pathname)) return false;
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
    res.end("method not allowed\n");
    return true;
  }
  const base = resolve(root);
  let relative: string;
  try {
    relative = pathname === "/" ? "index.html" : decodeURIComponent(pathname.slice(1));
  } catch {
    relative = "\0";
  }
  const file = resolve(join(base, relative));
  const info =
    relative.includes("\0") || !file.startsWith(base + sep)
      ? null
      : await stat(file).catch(() => null);
  if (info === null || !info.isFile()) {
    const missingApp = pathname === "/" || pathname === "/index.html";
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8", ...WEB_SECURITY_HEADERS });
    res.end(
      missingApp
        ? "The web app is not built: run `npm run build:web` (writes dist-web/).\n"
        : "not found\n",
    );
    return true;
  }
  res.writeHead(200, {
    "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
    "content-length": String(info.size),
    // Assets carry a content hash in their names; the page itself must be revalidated.
    "cache-control": pathname.startsWith("/assets/")
      ? "public, max-age=31536000, immutable"
      : "no-cache",
    ...WEB_SECURITY_HEADERS,
  });
  if (req.method === "HEAD") {
    res.end();
    return true;
  }
  await new Promise<void>((done, fail) => {
    createReadStream(file).on("error", fail).on("end", done).pipe(res);
  });
  return true;
}
