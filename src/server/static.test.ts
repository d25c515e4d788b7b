import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveWebApp, webRoot } from "./static.js";

let dir: string;
let root: string;
let server: Server;
let port: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "modelvet-static-"));
  root = join(dir, "site");
  mkdirSync(join(root, "assets"), { recursive: true });
  writeFileSync(join(root, "index.html"), "<!doctype html><title>app</title>");
  writeFileSync(join(root, "assets/app.js"), "console.log(1)");
  writeFileSync(join(root, "assets/lib.wasm"), new Uint8Array([0, 97, 115, 109]));
  writeFileSync(join(dir, "secret.txt"), "not for the web");
  server = createServer((req, res) => {
    const pathname = (req.url ?? "/").split("?")[0]!;
    serveWebApp(req, res, pathname, root).then((served) => {
      if (!served) {
        res.writeHead(418);
        res.end("not mine");
      }
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A request with the path sent exactly as written (fetch would normalise `..`). */
function get(
  path: string,
  method = "GET",
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("serveWebApp", () => {
  it("serves the page at / with a content security policy", async () => {
    const page = await get("/");
    expect(page.status).toBe(200);
    expect(page.body).toContain("<title>app</title>");
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers["content-security-policy"]).toContain("connect-src 'self'");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("serves assets with their types, wasm included", async () => {
    expect((await get("/assets/app.js")).headers["content-type"]).toMatch(/^text\/javascript/);
    const wasm = await get("/assets/lib.wasm");
    expect(wasm.headers["content-type"]).toBe("application/wasm");
    expect(wasm.headers["cache-control"]).toContain("immutable");
    const head = await get("/assets/app.js", "HEAD");
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
  });

  it("leaves every other path to the caller", async () => {
    expect((await get("/acme/evil/resolve/main/shell.pkl")).status).toBe(418);
    expect((await get("/api/models/acme/evil")).status).toBe(418);
  });

  it("never serves a file outside its folder", async () => {
    for (const path of [
      "/assets/../../secret.txt",
      "/assets/%2e%2e/%2e%2e/secret.txt",
      "/assets/..%2f..%2fsecret.txt",
      "/assets/%00",
      "/assets/%E0%A4%A",
    ]) {
      const answer = await get(path);
      expect(answer.status, path).toBe(404);
      expect(answer.body, path).not.toContain("not for the web");
    }
  });

  it("answers 404 for a missing asset, 405 for writes", async () => {
    expect((await get("/assets/nope.js")).status).toBe(404);
    expect((await get("/", "POST")).status).toBe(405);
  });

  it("says how to build the app when it is missing", async () => {
    const bare = createServer((req, res) => {
      void serveWebApp(req, res, "/", join(dir, "no-such-folder"));
    });
    await new Promise<void>((done) => bare.listen(0, "127.0.0.1", done));
    const answer = await fetch(`http://127.0.0.1:${(bare.address() as AddressInfo).port}/`);
    expect(answer.status).toBe(404);
    expect(await answer.text()).toContain("npm run build:web");
    bare.close();
  });

  it("finds dist-web at the package root", () => {
    expect(webRoot()).toBe(join(import.meta.dirname, "../../dist-web/"));
  });
});
