import { readFile, rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { downloadFile, listFiles } from "@huggingface/hub";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parsePolicyFile } from "../src/policy/policy-file.js";
import type { Gate } from "../src/server/gate-server.js";
import type { FileKey } from "../src/server/gate-store.js";
import { jsonLogger } from "../src/server/log.js";
import { startGate } from "../src/server/start-gate.js";
import { createToken } from "../src/server/tokens.js";
import { makeGateRepos, ROOT } from "./gate-helpers.js";
import { type HubServer, startHubServer } from "./hub-server.js";

let repos: string;
let hub: HubServer;
let gate: Gate;
let gateUrl: string;
const scans: FileKey[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  repos = await makeGateRepos();
  hub = await startHubServer({
    repos,
    separateCdn: true,
    access: { "acme/private": "private" },
  });
  const started = await startGate({
    upstream: hub.url,
    db: "sqlite::memory:",
    port: 0,
    onScan: (key) => scans.push(key),
    logger: jsonLogger((line) => logLines.push(line), "debug"),
  });
  gate = started.gate;
  gateUrl = started.url;
});

afterAll(async () => {
  await gate?.close();
  await hub?.close();
  await rm(repos, { recursive: true, force: true });
});

beforeEach(() => {
  hub.resetStats();
});

async function upstreamBytes(repo: string, path: string): Promise<Buffer> {
  return readFile(join(repos, repo, path));
}

describe("the gate in front of a Hub look-alike", () => {
  it("lets @huggingface/hub download a clean file byte-identical to upstream (LFS and not)", async () => {
    for (const path of ["model.safetensors", "small.safetensors", "config.json"]) {
      const blob = await downloadFile({ repo: "acme/clean", path, hubUrl: gateUrl });
      expect(blob).not.toBeNull();
      const bytes = Buffer.from(await blob!.arrayBuffer());
      expect(bytes.equals(await upstreamBytes("acme/clean", path))).toBe(true);
    }
  });

  it("refuses a malicious file with a 403 the client shows, naming the rule and global", async () => {
    const failure = await downloadFile({
      repo: "acme/evil",
      path: "pytorch_model.bin",
      hubUrl: gateUrl,
    }).then(
      () => null,
      (error: unknown) => error as Error & { statusCode?: number },
    );
    expect(failure).not.toBeNull();
    expect(failure!.statusCode).toBe(403);
    expect(failure!.message).toMatch(/modelvet gate refused acme\/evil\/pytorch_model\.bin/);
    expect(failure!.message).toMatch(/pickle\.[a-z-]+ \(critical\)/);

    // HEAD gives metadata (clients then GET, and show the GET's refusal); no byte is served.
    const head = await fetch(`${gateUrl}/acme/evil/resolve/main/shell.pkl`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("x-modelvet-verdict")).toBe("malicious (download refused)");
    expect(head.headers.get("location")).toBeNull();
    const get = await fetch(`${gateUrl}/acme/evil/resolve/main/shell.pkl`);
    expect(get.status).toBe(403);
    const body = (await get.json()) as {
      error: string;
      modelvet: { verdict: string; rule: string };
    };
    expect(body.modelvet.verdict).toBe("malicious");
    expect(body.error).toContain(body.modelvet.rule);
    // Not one byte of the refused file left the upstream towards the client: only the ranges the
    // scan read were fetched, and the GETs for it were refused.
    expect(
      hub.log.filter(
        (r) => r.url.includes("shell.pkl") && r.method === "GET" && r.range === undefined,
      ),
    ).toHaveLength(0);
  });

  it("vets datasets too", async () => {
    const bad = await fetch(`${gateUrl}/datasets/acme/data/resolve/main/train.pkl`);
    expect(bad.status).toBe(403);
    const ok = await fetch(`${gateUrl}/datasets/acme/data/resolve/main/ok.safetensors`);
    expect(ok.status).toBe(200);
    expect(
      Buffer.from(await ok.arrayBuffer()).equals(
        await upstreamBytes("datasets/acme/data", "ok.safetensors"),
      ),
    ).toBe(true);
  });

  it("serves Range requests with the right bytes and the Hub's headers", async () => {
    const whole = await upstreamBytes("acme/clean", "model.safetensors");
    const response = await fetch(`${gateUrl}/acme/clean/resolve/main/model.safetensors`, {
      headers: { Range: "bytes=100-299" },
    });
    expect(response.status).toBe(206);
    expect(response.headers.get("content-range")).toBe(`bytes 100-299/${whole.length}`);
    expect(Buffer.from(await response.arrayBuffer()).equals(whole.subarray(100, 300))).toBe(true);
    const commit = await hub.commitOf("acme/clean");
    expect(response.headers.get("x-repo-commit")).toBe(commit);
    const head = await fetch(`${gateUrl}/acme/clean/resolve/main/model.safetensors`, {
      method: "HEAD",
    });
    expect(head.status).toBe(200);
    expect(head.headers.get("x-linked-size")).toBe(String(whole.length));
    expect(head.headers.get("x-linked-etag")).toMatch(/^"[0-9a-f]{64}"$/);
    expect(head.headers.get("content-length")).toBe(String(whole.length));
    expect(head.headers.get("location")).toBeNull();
  });

  it("scans each file once, however many requests arrive at the same time", async () => {
    const before = scans.filter(
      (k) => k.repo === "acme/clean" && k.path === "state_dict.pt",
    ).length;
    expect(before).toBe(0);
    const responses = await Promise.all(
      Array.from({ length: 12 }, () => fetch(`${gateUrl}/acme/clean/resolve/main/state_dict.pt`)),
    );
    const expected = await upstreamBytes("acme/clean", "state_dict.pt");
    for (const r of responses) {
      expect(r.status).toBe(200);
      expect(Buffer.from(await r.arrayBuffer()).equals(expected)).toBe(true);
    }
    expect(scans.filter((k) => k.repo === "acme/clean" && k.path === "state_dict.pt")).toHaveLength(
      1,
    );
    const again = await fetch(`${gateUrl}/acme/clean/resolve/main/state_dict.pt`);
    await again.arrayBuffer();
    expect(scans.filter((k) => k.path === "state_dict.pt")).toHaveLength(1);
  });

  it("lists files through the gate, with pagination links pointing at the gate", async () => {
    const names: string[] = [];
    for await (const entry of listFiles({ repo: "acme/clean", hubUrl: gateUrl }))
      names.push(entry.path);
    expect(names.sort()).toEqual([
      "config.json",
      "model.safetensors",
      "small.safetensors",
      "state_dict.pt",
    ]);
    const info = await fetch(`${gateUrl}/api/models/acme/clean`);
    expect(info.status).toBe(200);
    const text = await info.text();
    expect(text).not.toContain(hub.url);
    expect((JSON.parse(text) as { sha: string }).sha).toBe(await hub.commitOf("acme/clean"));
    const paths = await fetch(`${gateUrl}/api/models/acme/clean/paths-info/main`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ paths: ["config.json"] }),
    });
    expect(paths.status).toBe(200);
    expect(((await paths.json()) as { path: string }[]).map((e) => e.path)).toEqual([
      "config.json",
    ]);
  });

  it("passes the client's Authorization upstream and never logs it", async () => {
    const denied = await fetch(`${gateUrl}/acme/clean/resolve/main/config.json`, {
      headers: { authorization: "Bearer hf_test_token" },
    });
    expect(denied.status).toBe(200);
    await denied.arrayBuffer();
    const sent = hub.log.filter((r) => r.origin === "hub" && r.url.includes("config.json"));
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((r) => r.authorization === "Bearer hf_test_token")).toBe(true);
    // The CDN never receives it.
    expect(hub.log.filter((r) => r.origin === "cdn" && r.authorization !== undefined)).toHaveLength(
      0,
    );
    expect(logLines.join("")).not.toContain("hf_test_token");
    expect(logLines.length).toBeGreaterThan(0);
  });

  it("scans and serves a private repo with the client's own token, and refuses clients without one", async () => {
    const url = `${gateUrl}/acme/private/resolve/main/weights.safetensors`;
    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(401);
    expect(scans.filter((k) => k.repo === "acme/private")).toHaveLength(0);
    const allowed = await fetch(url, { headers: { authorization: "Bearer hf_test_token" } });
    expect(allowed.status).toBe(200);
    expect(
      Buffer.from(await allowed.arrayBuffer()).equals(
        await upstreamBytes("acme/private", "weights.safetensors"),
      ),
    ).toBe(true);
    expect(scans.filter((k) => k.repo === "acme/private")).toHaveLength(1);
    // The scan's range reads carried the client's token to the Hub.
    const ranged = hub.log.filter((r) => r.url.includes("acme/private") && r.range !== undefined);
    expect(ranged.length).toBeGreaterThan(0);
    expect(ranged.every((r) => r.authorization === "Bearer hf_test_token")).toBe(true);
    // A stored verdict does not open the file to others: the upstream still decides access.
    expect((await fetch(url, { headers: { authorization: "Bearer hf_wrong" } })).status).toBe(401);
  });

  it("relays upstream 404s with the Hub's error code, and answers 502 when the upstream is down", async () => {
    const missing = await fetch(`${gateUrl}/acme/clean/resolve/main/nope.bin`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("x-error-code")).toBe("EntryNotFound");
    const orphan = await startGate({
      upstream: "http://127.0.0.1:9",
      db: "sqlite::memory:",
      port: 0,
    });
    try {
      const r = await fetch(`${orphan.url}/acme/clean/resolve/main/config.json`);
      expect(r.status).toBe(502);
      expect(r.headers.get("x-error-message")).toMatch(/upstream/);
    } finally {
      await orphan.gate.close();
    }
  });

  it("lets a blocked file through only with an admin's exception, audited", async () => {
    const { token: reader } = await createToken(gate.store, "reader");
    const { token: admin, record: adminRecord } = await createToken(gate.store, "admin");
    const api = (path: string, token: string | null, init: RequestInit = {}) =>
      fetch(`${gateUrl}/gate/v1${path}`, {
        ...init,
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      });
    expect((await api("/blocked", null)).status).toBe(401);
    expect((await api("/blocked", "mvg_not-a-token")).status).toBe(401);
    const blocked = (await (await api("/blocked", reader)).json()) as {
      blocked: { path: string }[];
    };
    expect(blocked.blocked.map((b) => b.path)).toContain("pytorch_model.bin");

    const request = {
      repo: "acme/evil",
      path: "shell.pkl",
      reason: "stand-in used by the red team",
      expires: "2999-01-01",
    };
    expect(
      (await api("/exceptions", reader, { method: "POST", body: JSON.stringify(request) })).status,
    ).toBe(403);
    const noReason = await api("/exceptions", admin, {
      method: "POST",
      body: JSON.stringify({ ...request, reason: "" }),
    });
    expect(noReason.status).toBe(400);
    const past = await api("/exceptions", admin, {
      method: "POST",
      body: JSON.stringify({ ...request, expires: "2000-01-01" }),
    });
    expect(past.status).toBe(400);
    const added = await api("/exceptions", admin, {
      method: "POST",
      body: JSON.stringify(request),
    });
    expect(added.status).toBe(201);
    const exception = (await added.json()) as { id: string };

    const through = await fetch(`${gateUrl}/acme/evil/resolve/main/shell.pkl`);
    expect(through.status).toBe(200);
    expect(through.headers.get("x-modelvet-verdict")).toBe("malicious (exception)");
    expect(
      Buffer.from(await through.arrayBuffer()).equals(
        await upstreamBytes("acme/evil", "shell.pkl"),
      ),
    ).toBe(true);
    // The other malicious file of the repo is still refused.
    expect((await fetch(`${gateUrl}/acme/evil/resolve/main/pytorch_model.bin`)).status).toBe(403);

    expect((await api(`/exceptions/${exception.id}`, admin, { method: "DELETE" })).status).toBe(
      200,
    );
    expect((await fetch(`${gateUrl}/acme/evil/resolve/main/shell.pkl`)).status).toBe(403);
    const audit = (await (await api("/audit", admin)).json()) as {
      audit: { action: string; actor: string }[];
    };
    expect(audit.audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(["exception.add", "exception.revoke"]),
    );
    expect(audit.audit.find((a) => a.action === "exception.add")!.actor).toBe(adminRecord.id);
    expect((await api("/audit", reader)).status).toBe(403);
  });

  it("scans a whole repo on request and reports each file", async () => {
    const { token } = await createToken(gate.store, "reader");
    const response = await fetch(`${gateUrl}/gate/v1/scans`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ target: "hf://acme/mixed" }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      revision: string;
      blocked: boolean;
      files: { path: string; verdict: string; blocked: boolean; scanId: string }[];
    };
    expect(body.revision).toBe(await hub.commitOf("acme/mixed"));
    expect(body.blocked).toBe(true);
    const byPath = Object.fromEntries(body.files.map((f) => [f.path, f]));
    expect(byPath["extra.pkl"]!.verdict).toBe("malicious");
    expect(byPath["model.safetensors"]!.blocked).toBe(false);
    const detail = await fetch(`${gateUrl}/gate/v1/scans/${byPath["extra.pkl"]!.scanId}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const scan = (await detail.json()) as { result: { findings: { severity: string }[] } };
    expect(scan.result.findings.some((f) => f.severity === "critical")).toBe(true);
  });

  it("scans an upload once by its SHA-256", async () => {
    const { token } = await createToken(gate.store, "reader");
    const upload = async (name: string, file: string) =>
      fetch(`${gateUrl}/gate/v1/scans/upload?name=${encodeURIComponent(name)}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
        body: await readFile(join(ROOT, file)),
      });
    const bad = (await (
      await upload("payload.pt", "test/fixtures/torch/malicious/state_dict_payload.bin")
    ).json()) as {
      verdict: string;
      blocked: boolean;
      sha256: string;
      scanId: string;
    };
    expect(bad.verdict).toBe("malicious");
    expect(bad.blocked).toBe(true);
    expect(bad.sha256).toMatch(/^[0-9a-f]{64}$/);
    const again = (await (
      await upload("payload.pt", "test/fixtures/torch/malicious/state_dict_payload.bin")
    ).json()) as {
      scanId: string;
    };
    expect(again.scanId).toBe(bad.scanId);
    const good = (await (
      await upload("w.safetensors", "test/fixtures/safetensors/benign/small_model.safetensors")
    ).json()) as {
      verdict: string;
      blocked: boolean;
    };
    expect(good).toMatchObject({ verdict: "safe", blocked: false });
    const noName = await fetch(`${gateUrl}/gate/v1/scans/upload`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: "x",
    });
    expect(noName.status).toBe(400);
  });

  it("exposes health, readiness and Prometheus metrics", async () => {
    expect((await fetch(`${gateUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${gateUrl}/readyz`)).status).toBe(200);
    const text = await (await fetch(`${gateUrl}/metrics`)).text();
    expect(text).toMatch(/modelvet_gate_blocked_total\{rule="[^"]+"\} [1-9]/);
    expect(text).toMatch(/modelvet_gate_scan_duration_seconds_count [1-9]/);
    expect(text).toMatch(/modelvet_gate_upstream_bytes_total\{purpose="scan"\} [1-9]/);
    expect(text).toMatch(
      /modelvet_gate_requests_total\{method="GET",route="resolve",status="403"\} [1-9]/,
    );
  });

  it("answers browsers as the Hub does (CORS), so web clients can use the gate too", async () => {
    const preflight = await fetch(`${gateUrl}/acme/clean/resolve/main/config.json`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-headers": "range" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/Range/);
    const refused = await fetch(`${gateUrl}/acme/evil/resolve/main/shell.pkl`);
    expect(refused.headers.get("access-control-expose-headers")).toMatch(/X-Error-Message/);
    await refused.arrayBuffer();
    // The gate's own API is not opened to other origins.
    const api = await fetch(`${gateUrl}/gate/v1/whoami`);
    expect(api.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("refuses uploads and unknown paths rather than relaying them", async () => {
    expect(
      (await fetch(`${gateUrl}/api/models/acme/clean/commit/main`, { method: "POST" })).status,
    ).toBe(405);
    expect((await fetch(`${gateUrl}/acme/clean/blob/main/config.json`)).status).toBe(404);
    // Encoded dot segments, sent raw (fetch would normalise them before they left the client):
    // the gate resolves them like any URL, so the file it vets is the file it would fetch.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const { hostname, port } = new URL(gateUrl);
      const path =
        "/acme/clean/resolve/main/x/%2e%2e/%2E%2E/%2e%2e/%2e%2e/%2e%2e/acme/evil/resolve/main/shell.pkl";
      const req = httpRequest({ hostname, port, path }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});

describe("--block-repo", () => {
  it("refuses every file of a repo at a commit once one of its files is malicious", async () => {
    const started = await startGate({
      upstream: hub.url,
      db: "sqlite::memory:",
      port: 0,
      blockRepo: true,
    });
    try {
      const clean = `${started.url}/acme/mixed/resolve/main/model.safetensors`;
      expect((await fetch(clean)).status).toBe(200);
      expect((await fetch(`${started.url}/acme/mixed/resolve/main/extra.pkl`)).status).toBe(403);
      const after = await fetch(clean);
      expect(after.status).toBe(403);
      expect(after.headers.get("x-error-message")).toMatch(/repository is blocked.*extra\.pkl/);
    } finally {
      await started.gate.close();
    }
  });
});

describe("paged listings", () => {
  it("rewrites the upstream's Link header so every page is fetched through the gate", async () => {
    const paged = await startHubServer({ repos, pageSize: 1 });
    const started = await startGate({ upstream: paged.url, db: "sqlite::memory:", port: 0 });
    try {
      const first = await fetch(`${started.url}/api/models/acme/clean/tree/main?recursive=true`);
      const link = first.headers.get("link");
      expect(link).toContain(`<${started.url}/api/models/acme/clean/tree/main`);
      expect(link).not.toContain(paged.url);
      const names: string[] = [];
      for await (const entry of listFiles({ repo: "acme/clean", hubUrl: started.url })) {
        names.push(entry.path);
      }
      expect(names.sort()).toEqual([
        "config.json",
        "model.safetensors",
        "small.safetensors",
        "state_dict.pt",
      ]);
    } finally {
      await started.gate.close();
      await paged.close();
    }
  });
});

describe("the policy file", () => {
  it("applies ignores (by repo path) and fail-on to what the gate refuses", async () => {
    const policyFile = parsePolicyFile(
      [
        "fail-on: high",
        "ignore:",
        "  - rule: pickle.dangerous-global",
        "    path: acme/mixed/**",
        "    reason: red-team fixtures",
      ].join("\n"),
      { source: "modelvet.yaml" },
    );
    if (!policyFile.ok) throw new Error(String(policyFile.error));
    const started = await startGate({
      upstream: hub.url,
      db: "sqlite::memory:",
      port: 0,
      policyFile: policyFile.value,
    });
    try {
      expect((await fetch(`${started.url}/acme/evil/resolve/main/shell.pkl`)).status).toBe(403);
      const ignored = await fetch(`${started.url}/acme/mixed/resolve/main/extra.pkl`);
      expect(ignored.status).toBe(200);
      await ignored.arrayBuffer();
    } finally {
      await started.gate.close();
    }
  });
});
