import { mkdtempSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveWebApp } from "../src/server/static.js";

/** Builds the web app (web/) into a fresh temporary folder and returns it. */
export async function buildWebApp(): Promise<string> {
  const { build } = await import("vite");
  const outDir = mkdtempSync(join(tmpdir(), "modelvet-web-"));
  await build({
    configFile: join(import.meta.dirname, "../web/vite.config.ts"),
    build: { outDir, emptyOutDir: true },
    logLevel: "error",
  });
  return outDir;
}

/**
 * A local static server for the built app (the same handler `modelvet serve` mounts). With
 * `proxyTo`, every other path is relayed to that server (a Hub look-alike), so the page reaches it
 * on its own origin.
 */
export async function serveApp(
  root: string,
  options: { proxyTo?: string } = {},
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const { pathname } = new URL(req.url ?? "/", "http://localhost");
    serveWebApp(req, res, pathname, root).then(
      (served) => {
        if (served) return;
        if (options.proxyTo === undefined) {
          res.writeHead(404);
          res.end();
          return;
        }
        const upstream = new URL(req.url ?? "/", options.proxyTo);
        const relay = request(
          upstream,
          { method: req.method, headers: { ...req.headers, host: upstream.host } },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        relay.on("error", () => res.destroy());
        req.pipe(relay);
      },
      () => res.destroy(),
    );
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/` };
}

export { CHROMIUM, haveBrowser, launchChromium } from "./browser.js";
