import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { downloadFile } from "@huggingface/hub";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gate } from "../src/server/gate-server.js";
import { startGate } from "../src/server/start-gate.js";
import { createToken } from "../src/server/tokens.js";
import { makeGateRepos } from "./gate-helpers.js";
import { type HubServer, startHubServer } from "./hub-server.js";
import { buildWebApp, haveBrowser, launchChromium } from "./web-helpers.js";

const BROWSER = haveBrowser("the gate dashboard's browser tests");

let appDir: string;
let repos: string;
let hub: HubServer;
let gate: Gate;
let gateUrl: string;
let admin: string;
let reader: string;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!BROWSER) return;
  appDir = await buildWebApp();
  repos = await makeGateRepos();
  hub = await startHubServer({ repos, separateCdn: true });
  ({ gate, url: gateUrl } = await startGate({
    upstream: hub.url,
    db: "sqlite::memory:",
    port: 0,
    webRoot: appDir,
  }));
  ({ token: admin } = await createToken(gate.store, "admin", "security team"));
  ({ token: reader } = await createToken(gate.store, "reader", "ml engineer"));
  context = await launchChromium(join(appDir, ".profile"));
  page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
}, 60_000);

afterAll(async () => {
  await context?.close();
  await gate?.close();
  await hub?.close();
  if (repos) await rm(repos, { recursive: true, force: true });
  if (appDir) await rm(appDir, { recursive: true, force: true });
});

/** A download through the gate by the official client: the bytes, or the HTTP status it failed with. */
async function download(repo: string, path: string): Promise<Buffer | number> {
  try {
    const blob = await downloadFile({ repo, path, hubUrl: gateUrl });
    return Buffer.from(await blob!.arrayBuffer());
  } catch (error) {
    return (error as { statusCode?: number }).statusCode ?? -1;
  }
}

async function signIn(token: string): Promise<void> {
  await page.goto(`${gateUrl}/#/gate`);
  await page.getByLabel("Gate token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#gate-sign-out").waitFor();
}

describe.skipIf(!BROWSER)("gate dashboard (headless Chromium, served by the gate)", () => {
  it("refuses a wrong token", async () => {
    await page.goto(`${gateUrl}/#/gate`);
    await page.getByLabel("Gate token").fill("mvg_not-a-real-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect
      .poll(() => page.locator(".login .error-text").textContent())
      .toContain("not a live gate token");
  });

  it("shows a refused download, an admin's exception lets it through, live", async () => {
    expect(await download("acme/evil", "shell.pkl")).toBe(403);
    expect(await download("acme/clean", "state_dict.pt")).toBeInstanceOf(Buffer);

    await signIn(admin);
    const refused = page.locator('#decisions tr[data-action="blocked"][data-path="shell.pkl"]');
    await refused.first().waitFor();
    expect(await refused.first().getAttribute("data-repo")).toBe("acme/evil");
    expect(
      await page.locator('#decisions tr[data-action="served"][data-path="state_dict.pt"]').count(),
    ).toBeGreaterThan(0);

    // Search narrows the list to the refused repository.
    await page.getByLabel("Search repository, file or reason").fill("acme/evil");
    await expect.poll(() => page.locator('#decisions tr[data-repo="acme/clean"]').count()).toBe(0);
    await page.getByLabel("Search repository, file or reason").fill("");

    await refused.first().locator('[data-allow="shell.pkl"]').click();
    await page.locator("#exception-form").waitFor();
    const form = page.locator("#exception-form");
    expect(await form.getByLabel("Repository", { exact: true }).inputValue()).toBe("acme/evil");
    expect(await form.getByLabel("File (empty: every file)").inputValue()).toBe("shell.pkl");
    await page
      .getByLabel("Reason (recorded in the audit trail)")
      .fill("red-team stand-in, ticket SEC-42");
    await page.getByRole("button", { name: "Add exception" }).click();
    await page.locator('#exceptions tr[data-status="live"][data-path="shell.pkl"]').waitFor();

    // Live: with the Downloads tab open, the new decisions appear by themselves (polling).
    await page.getByRole("tab", { name: "Downloads" }).click();
    await refused.first().waitFor();
    const excepted = page.locator('#decisions tr[data-action="excepted"][data-path="shell.pkl"]');
    expect(await excepted.count()).toBe(0);

    const bytes = await download("acme/evil", "shell.pkl");
    expect(bytes).toEqual(await readFile(join(repos, "acme/evil/shell.pkl")));
    // The other malicious file of the repo is still refused.
    expect(await download("acme/evil", "pytorch_model.bin")).toBe(403);

    await excepted.first().waitFor({ timeout: 10_000 });
    await page
      .locator('#decisions tr[data-action="blocked"][data-path="pytorch_model.bin"]')
      .first()
      .waitFor();
  });

  it("shows a repository's files with verdicts and findings", async () => {
    await page.locator('#decisions tr[data-path="shell.pkl"] button.link').first().click();
    const row = page.locator('#repo-scans tr[data-path="shell.pkl"]');
    await row.waitFor();
    expect(await row.getAttribute("data-verdict")).toBe("malicious");
    await row.getByRole("button", { name: /Findings/ }).click();
    await page.locator('#repo-scans .finding[data-severity="critical"]').first().waitFor();
    expect(await page.locator("#repo-scans .finding pre code").first().textContent()).toMatch(
      /\w+\.\w+\(/,
    );
  });

  it("keeps the audit trail, for admins only", async () => {
    await page.getByRole("tab", { name: "Audit trail" }).click();
    await page.locator('#audit tr[data-audit="exception.add"]').waitFor();
    await page.getByRole("tab", { name: "Exceptions" }).click();
    await page
      .getByRole("button", { name: /Revoke the exception for acme\/evil\/shell.pkl/ })
      .click({
        trial: true,
      });

    await page.locator("#gate-sign-out").click();
    await signIn(reader);
    expect(await page.getByRole("tab", { name: "Audit trail" }).count()).toBe(0);
    await page.getByRole("tab", { name: "Exceptions" }).click();
    await page.locator('#exceptions tr[data-path="shell.pkl"]').waitFor();
    expect(await page.locator("#exception-form").count()).toBe(0);
    expect(await page.getByRole("button", { name: /Revoke/ }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
