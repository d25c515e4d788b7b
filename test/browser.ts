import { existsSync } from "node:fs";
import { type BrowserContext, chromium } from "playwright-core";

/** Debian's chromium (.ci/run installs it); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Whether the browser tests can run; in CI a missing browser is an error, elsewhere a loud note. */
export function haveBrowser(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  const note = `No Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`;
  if (process.env.CI) throw new Error(note);
  console.warn(`\n[modelvet] NOTE: ${note}; ${what} are skipped.\n`);
  return false;
}

export async function launchChromium(profile: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    viewport: { width: 1100, height: 900 },
    acceptDownloads: true,
  });
}
