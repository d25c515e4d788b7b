// Screenshots of the browser app for the README: the in-browser scanner (desktop and phone) after
// scanning examples/, and the gate dashboard (downloads, a repository, exceptions) in front of a
// local Hub look-alike. Run after a build:
//   npm run build && node scripts/screenshot-web.mjs
// Writes docs/web-*.png. CHROMIUM_PATH overrides Debian's /usr/bin/chromium.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import ts from "typescript";
import { build } from "vite";
import { startGate } from "../dist/server/start-gate.js";
import { createToken } from "../dist/server/tokens.js";

const root = join(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "modelvet-web-shot-"));
const docs = join(root, "docs");

/** The Hub look-alike of the tests is self-contained: transpile it to run it here. */
async function hubServer() {
  const source = readFileSync(join(root, "test/hub-server.ts"), "utf8");
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const file = join(dir, "hub-server.mjs");
  writeFileSync(file, outputText);
  return import(pathToFileURL(file).href);
}

function put(repos, repo, name, from) {
  mkdirSync(join(repos, repo), { recursive: true });
  copyFileSync(join(root, from), join(repos, repo, name));
}

const appDir = join(dir, "site");
await build({
  configFile: join(root, "web/vite.config.ts"),
  build: { outDir: appDir, emptyOutDir: true },
  logLevel: "error",
});
const repos = join(dir, "repos");
put(
  repos,
  "acme/clean",
  "model.safetensors",
  "test/fixtures/safetensors/benign/all_dtypes.safetensors",
);
put(repos, "acme/clean", "pytorch_model.bin", "examples/benign/state_dict.pt");
put(
  repos,
  "acme/evil",
  "pytorch_model.bin",
  "test/fixtures/torch/malicious/state_dict_payload.bin",
);
put(repos, "acme/evil", "shell.pkl", "examples/malicious/reverse_shell_stand_in.pkl");
put(repos, "lab/keras-demo", "model.h5", "test/fixtures/keras/malicious/lambda_os_system.h5");
put(repos, "lab/keras-demo", "config.json", "test/fixtures/keras/benign/sequential.keras");

const { startHubServer } = await hubServer();
const hub = await startHubServer({ repos, separateCdn: true });
const { gate, url } = await startGate({
  upstream: hub.url,
  db: "sqlite::memory:",
  port: 0,
  webRoot: appDir,
});
const { token } = await createToken(gate.store, "admin", "security team");
const get = (path) => fetch(`${url}/${path}`).then((r) => r.arrayBuffer());
await get("acme/clean/resolve/main/model.safetensors");
await get("acme/clean/resolve/main/pytorch_model.bin");
await get("acme/evil/resolve/main/pytorch_model.bin");
await get("acme/evil/resolve/main/shell.pkl");
await get("lab/keras-demo/resolve/main/model.h5");
await fetch(`${url}/gate/v1/exceptions`, {
  method: "POST",
  headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  body: JSON.stringify({
    repo: "acme/evil",
    path: "shell.pkl",
    reason: "Red-team stand-in, reviewed in SEC-42",
    expires: new Date(Date.now() + 14 * 86400_000).toISOString().slice(0, 10),
  }),
});
await get("acme/evil/resolve/main/shell.pkl");

const context = await chromium.launchPersistentContext(join(dir, "profile"), {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  viewport: { width: 1000, height: 900 },
  deviceScaleFactor: 1,
});
try {
  const page = await context.newPage();
  await page.goto(`${url}/`);
  const examples = [
    "benign/state_dict.pt",
    "benign/array.pkl",
    "malicious/reverse_shell_stand_in.pkl",
  ];
  await page.locator("#pick-files").setInputFiles(examples.map((f) => join(root, "examples", f)));
  await page.locator("#results:not([aria-busy]) #downloads:not([hidden])").waitFor();
  await page.screenshot({ path: join(docs, "web-scanner.png"), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator("#results-h").evaluate((el) => el.scrollIntoView());
  await page.screenshot({ path: join(docs, "web-scanner-phone.png") });
  await page.setViewportSize({ width: 1100, height: 700 });

  await page.goto(`${url}/#/gate`);
  await page.getByLabel("Gate token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#decisions tbody tr").first().waitFor();
  await page.screenshot({ path: join(docs, "web-dashboard.png"), fullPage: true });

  await page.locator('#decisions tr[data-repo="acme/evil"] button.link').first().click();
  await page.locator('#repo-scans tr[data-path="pytorch_model.bin"]').getByRole("button").click();
  await page.locator("#repo-scans .finding").first().waitFor();
  await page.screenshot({ path: join(docs, "web-dashboard-repo.png"), fullPage: true });

  await page.getByRole("tab", { name: "Exceptions" }).click();
  await page.locator("#exceptions tbody tr").first().waitFor();
  await page.screenshot({ path: join(docs, "web-dashboard-exceptions.png"), fullPage: true });
} finally {
  await context.close();
  await gate.close();
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  "wrote docs/web-scanner.png, web-scanner-phone.png, web-dashboard.png, web-dashboard-repo.png, web-dashboard-exceptions.png",
);
