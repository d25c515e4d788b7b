import { EventEmitter } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, expect, it } from "vitest";
import { main } from "../src/cli/main.js";
import { runServe } from "../src/cli/run-serve.js";
import { makeGateRepos } from "./gate-helpers.js";
import { type HubServer, startHubServer } from "./hub-server.js";

let dir: string;
let repos: string;
let hub: HubServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "modelvet-gate-cli-"));
  repos = await makeGateRepos();
  hub = await startHubServer({ repos });
});
afterAll(async () => {
  await hub.close();
  await rm(dir, { recursive: true, force: true });
  await rm(repos, { recursive: true, force: true });
});

function terminal() {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on("data", (c: Buffer) => out.push(c.toString()));
  stderr.on("data", (c: Buffer) => err.push(c.toString()));
  return { term: { stdout, stderr, env: {} }, out, err };
}

/** `modelvet serve` on a SQLite file in front of the Hub look-alike; `stop` sends SIGTERM. */
async function serve(
  db: string,
): Promise<{ url: string; stop: () => Promise<number>; logs: () => string }> {
  const served = terminal();
  const signals = new EventEmitter();
  const running = runServe(
    {
      upstream: hub.url,
      port: 0,
      host: "127.0.0.1",
      db: `sqlite:${db}`,
      policy: false,
      blockRepo: false,
      logLevel: "info",
    },
    served.term,
    signals,
  );
  let url: string | undefined;
  for (let i = 0; i < 200 && url === undefined; i++) {
    url = /listening on (http:\/\/\S+)/.exec(served.out.join(""))?.[1];
    if (url === undefined) await new Promise((r) => setTimeout(r, 10));
  }
  if (url === undefined) throw new Error(`serve did not start: ${served.err.join("")}`);
  return {
    url,
    logs: () => served.err.join(""),
    stop: () => {
      signals.emit("SIGTERM");
      return running;
    },
  };
}

it("token create prints a token once and stores only its hash; serve accepts it", async () => {
  const db = join(dir, "gate.db");
  const created = terminal();
  expect(
    await main(["token", "create", "--role", "admin", "--db", `sqlite:${db}`], created.term),
  ).toBe(0);
  const token = created.out.join("").trim();
  expect(token).toMatch(/^mvg_[A-Za-z0-9_-]{40,}$/);
  const raw = await readFile(db);
  expect(raw.includes(Buffer.from(token))).toBe(false);

  const { url, stop, logs } = await serve(db);
  const who = await fetch(`${url}/gate/v1/whoami`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(((await who.json()) as { role: string }).role).toBe("admin");
  expect((await fetch(`${url}/acme/evil/resolve/main/shell.pkl`)).status).toBe(403);
  expect(await stop()).toBe(0);
  await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  // Logs are JSON lines and never carry the token.
  const lines = logs().trim().split("\n");
  expect(lines.every((l) => typeof JSON.parse(l).msg === "string")).toBe(true);
  expect(logs()).not.toContain(token);
});

it("token create needs a role; serve refuses a bad port", async () => {
  expect(
    await main(["token", "create", "--db", `sqlite:${join(dir, "x.db")}`], terminal().term),
  ).toBe(2);
  expect(await main(["token", "create", "--role", "root"], terminal().term)).toBe(2);
  expect(await main(["serve", "--port", "99999"], terminal().term)).toBe(2);
});

it("token list shows live tokens without the token; token revoke refuses it at once", async () => {
  const db = join(dir, "revoke.db");
  const created = terminal();
  expect(
    await main(
      ["token", "create", "--role", "reader", "--name", "ci bot", "--db", `sqlite:${db}`],
      created.term,
    ),
  ).toBe(0);
  const token = created.out.join("").trim();
  const listed = terminal();
  expect(await main(["token", "list", "--db", `sqlite:${db}`], listed.term)).toBe(0);
  const line = listed.out.join("").trim();
  expect(line).toMatch(/^\S+ {2}reader {2}\S+ {2}ci bot$/);
  expect(line).not.toContain(token);
  const id = line.split(/\s+/)[0]!;

  const { url, stop } = await serve(db);
  const whoami = () =>
    fetch(`${url}/gate/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
  expect((await whoami()).status).toBe(200);

  expect(await main(["token", "revoke", id, "--db", `sqlite:${db}`], terminal().term)).toBe(0);
  expect((await whoami()).status).toBe(401);
  const again = terminal();
  expect(await main(["token", "revoke", id, "--db", `sqlite:${db}`], again.term)).toBe(1);
  expect(again.err.join("")).toContain("no live token");
  const empty = terminal();
  expect(await main(["token", "list", "--db", `sqlite:${db}`], empty.term)).toBe(0);
  expect(empty.out.join("")).toBe("");
  expect(await stop()).toBe(0);
});
