import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ByteSourceError } from "../core/byte-source.js";
import {
  BudgetExceededError,
  ByteBudget,
  HttpStatusError,
  openHttpSource,
  parseContentRange,
  parseRetryAfter,
  RangeNotSupportedError,
} from "./http-range-source.js";

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

const servers: { close: () => void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function serve(handler: Handler): Promise<string> {
  const server = createServer((req, res) => {
    handler(req, res, new URL(req.url ?? "/", "http://x"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push({ close: () => server.close() });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function bytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + 7) & 0xff;
  return out;
}

/** Serves `data` with Range support; records each request's Range and Authorization. */
function rangeHandler(data: Uint8Array, log: { range?: string; auth?: string; path: string }[]) {
  return (req: IncomingMessage, res: ServerResponse, url: URL) => {
    log.push({ range: req.headers.range, auth: req.headers.authorization, path: url.pathname });
    const m = /^bytes=(\d+)-(\d+)?$/.exec(req.headers.range ?? "");
    res.setHeader("ETag", '"abc"');
    if (!m) {
      res.writeHead(200, { "Content-Length": data.length });
      res.end(data);
      return;
    }
    const start = Number(m[1]);
    const end = Math.min(data.length - 1, m[2] === undefined ? data.length - 1 : Number(m[2]));
    res.writeHead(206, {
      "Content-Range": `bytes ${start}-${end}/${data.length}`,
      "Content-Length": end - start + 1,
    });
    res.end(data.subarray(start, end + 1));
  };
}

describe("openHttpSource", () => {
  it("reads ranges through a block cache and coalesces adjacent blocks", async () => {
    const data = bytes(10_000);
    const log: { range?: string; path: string }[] = [];
    const base = await serve(rangeHandler(data, log));
    let transferred = 0;
    const opened = await openHttpSource(`${base}/f`, {
      blockSize: 1000,
      onBytes: (n) => {
        transferred += n;
      },
    });
    expect(opened.size).toBe(10_000);
    expect(opened.etag).toBe('"abc"');
    expect(log.map((l) => l.range)).toEqual(["bytes=0-999"]);
    expect(await opened.source.read(10, 20)).toEqual(data.subarray(10, 30));
    expect(log).toHaveLength(1); // served from the first block
    expect(await opened.source.read(2500, 3000)).toEqual(data.subarray(2500, 5500));
    expect(log.at(-1)!.range).toBe("bytes=2000-5999"); // blocks 2..5 in one request
    expect(await opened.source.read(9990, 100)).toEqual(data.subarray(9990));
    expect(log.at(-1)!.range).toBe("bytes=9000-9999");
    expect(transferred).toBe(1000 + 4000 + 1000);
    expect(await opened.source.read(20_000, 10)).toHaveLength(0);
  });

  it("shares blocks between concurrent reads", async () => {
    const data = bytes(5000);
    const log: { range?: string; path: string }[] = [];
    const base = await serve(rangeHandler(data, log));
    const { source } = await openHttpSource(`${base}/f`, { blockSize: 1000 });
    const [a, b] = await Promise.all([source.read(1000, 500), source.read(1200, 300)]);
    expect(a).toEqual(data.subarray(1000, 1500));
    expect(b).toEqual(data.subarray(1200, 1500));
    expect(log).toHaveLength(2);
  });

  it("follows redirects and sends Authorization only to the same origin", async () => {
    const data = bytes(3000);
    const cdnLog: { range?: string; auth?: string; path: string }[] = [];
    const cdn = await serve(rangeHandler(data, cdnLog));
    const hubLog: { auth?: string; path: string }[] = [];
    const hub = await serve((req, res, url) => {
      hubLog.push({ auth: req.headers.authorization, path: url.pathname });
      if (url.pathname === "/a") {
        res.writeHead(302, { Location: "/b", "X-Repo-Commit": "c0ffee" }).end();
      } else {
        res.writeHead(302, { Location: `${cdn}/blob` }).end();
      }
    });
    const opened = await openHttpSource(`${hub}/a`, {
      blockSize: 1000,
      headers: { Authorization: "Bearer secret" },
    });
    expect(opened.url).toBe(`${cdn}/blob`);
    expect(opened.headers.get("x-repo-commit")).toBe("c0ffee");
    expect(hubLog.map((l) => l.auth)).toEqual(["Bearer secret", "Bearer secret"]);
    expect(await opened.source.read(2500, 500)).toEqual(data.subarray(2500));
    expect(cdnLog.every((l) => l.auth === undefined)).toBe(true);
    expect(hubLog).toHaveLength(2); // later reads go straight to the final URL
  });

  it("starts again from the URL as opened when a signed redirect target expires", async () => {
    const data = bytes(5000);
    const cdnLog: { range?: string; path: string }[] = [];
    let signature = 1;
    const inner = rangeHandler(data, cdnLog);
    const cdn = await serve((req, res, url) => {
      if (url.searchParams.get("sig") !== String(signature)) {
        res.writeHead(403).end();
        return;
      }
      inner(req, res, url);
    });
    let resolves = 0;
    const hub = await serve((_req, res) => {
      resolves++;
      res.writeHead(302, { Location: `${cdn}/blob?sig=${signature}` }).end();
    });
    const { source } = await openHttpSource(`${hub}/f`, { blockSize: 1000 });
    signature = 2; // the first signed URL expires
    expect(await source.read(3000, 100)).toEqual(data.subarray(3000, 3100));
    expect(resolves).toBe(2);
  });

  it("reports a connection cut mid-body as a read error of the source", async () => {
    const base = await serve((req, res) => {
      if (req.headers.range === "bytes=0-999") {
        res.writeHead(206, { "Content-Range": "bytes 0-999/5000", "Content-Length": 1000 });
        res.end(bytes(1000));
        return;
      }
      res.writeHead(206, { "Content-Range": "bytes 1000-1999/5000", "Content-Length": 1000 });
      res.write(bytes(10));
      setTimeout(() => res.destroy(), 10);
    });
    const { source } = await openHttpSource(`${base}/f`, { blockSize: 1000 });
    const error = await source.read(1500, 10).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ByteSourceError);
    expect(String(error)).toMatch(/network error|ended after/);
  });

  it("retries 429 and 503, honouring Retry-After", async () => {
    const data = bytes(100);
    const log: { range?: string; path: string }[] = [];
    let failures = 2;
    const inner = rangeHandler(data, log);
    const base = await serve((req, res, url) => {
      if (failures-- > 0) {
        res.writeHead(failures === 1 ? 429 : 503, { "Retry-After": "0" }).end();
        return;
      }
      inner(req, res, url);
    });
    const { source } = await openHttpSource(`${base}/f`, { retryBaseMs: 1 });
    expect(await source.read(0, 100)).toEqual(data);
  });

  it("gives up after the retries with the status", async () => {
    const base = await serve((_req, res) => res.writeHead(503).end());
    await expect(openHttpSource(`${base}/f`, { retries: 1, retryBaseMs: 1 })).rejects.toThrow(
      HttpStatusError,
    );
  });

  it("reports 404 without retrying", async () => {
    let n = 0;
    const base = await serve((_req, res) => {
      n++;
      res.writeHead(404).end();
    });
    const error = await openHttpSource(`${base}/f`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as HttpStatusError).status).toBe(404);
    expect(n).toBe(1);
  });

  it("refuses a server that ignores Range for a file larger than one block", async () => {
    const big = bytes(1 << 20);
    let sent = 0;
    const base = await serve((_req, res) => {
      res.writeHead(200); // no Content-Length: chunked
      const chunk = big.subarray(0, 16 * 1024);
      const pump = () => {
        while (sent < big.length) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once("drain", pump);
            return;
          }
        }
        res.end();
      };
      res.on("close", () => {});
      pump();
    });
    const error = await openHttpSource(`${base}/f`, { blockSize: 32 * 1024 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RangeNotSupportedError);
    const withLength = await serve((_req, res) => {
      res.writeHead(200, { "Content-Length": big.length }).end(big);
    });
    await expect(openHttpSource(`${withLength}/f`)).rejects.toThrow(/ignores HTTP Range/);
  });

  it("accepts a server that ignores Range for a small file", async () => {
    const small = bytes(500);
    const base = await serve((_req, res) => res.writeHead(200).end(small));
    const { source, size } = await openHttpSource(`${base}/f`, { blockSize: 1000 });
    expect(size).toBe(500);
    expect(await source.read(100, 50)).toEqual(small.subarray(100, 150));
  });

  it("handles an empty file", async () => {
    const base = await serve((_req, res) =>
      res.writeHead(416, { "Content-Range": "bytes */0" }).end(),
    );
    const { size, source } = await openHttpSource(`${base}/f`);
    expect(size).toBe(0);
    expect(await source.read(0, 10)).toHaveLength(0);
  });

  it("stops at the shared byte budget", async () => {
    const data = bytes(10_000);
    const base = await serve(rangeHandler(data, []));
    const budget = new ByteBudget(2500);
    const a = await openHttpSource(`${base}/a`, { blockSize: 1000, budget });
    const b = await openHttpSource(`${base}/b`, { blockSize: 1000, budget });
    expect(budget.used).toBe(2000);
    await expect(a.source.read(5000, 1)).rejects.toThrow(BudgetExceededError);
    await expect(b.source.read(5000, 1)).rejects.toThrow(/--max-remote-bytes/);
    expect(budget.used).toBe(2000);
  });

  it("parses Content-Range and Retry-After", () => {
    expect(parseContentRange("bytes 0-99/1000")).toEqual({ start: 0, end: 99, total: 1000 });
    expect(parseContentRange("bytes 0-99/*")).toEqual({ start: 0, end: 99, total: undefined });
    expect(parseContentRange("nonsense")).toBeNull();
    expect(parseRetryAfter("2")).toBe(2000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 5_000)).toBe(5_000);
    expect(parseRetryAfter(null)).toBeNull();
  });
});
