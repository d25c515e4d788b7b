import type { FileResult } from "../../src/scan/results.js";
import { filesFromDrop, filesFromInput } from "./collect-files.js";
import { byId, formatSize, h, plural } from "./dom.js";
import type { PickedFile, ScanEvent, ScanRequest } from "./messages.js";
import { byVerdict, fileItem, headline, worstVerdict } from "./render-results.js";

/**
 * The scanner view: takes files from a drop or the pickers, hands them to a fresh worker (the
 * `File` objects are passed by reference; their bytes stay on this machine) and shows results as
 * they come.
 */
export function setUpScanner(): void {
  const drop = byId("drop");
  const pickFiles = byId<HTMLInputElement>("pick-files");
  const pickFolder = byId<HTMLInputElement>("pick-folder");

  pickFiles.addEventListener("change", () => {
    start(filesFromInput(pickFiles.files));
    pickFiles.value = "";
  });
  pickFolder.addEventListener("change", () => {
    start(filesFromInput(pickFolder.files));
    pickFolder.value = "";
  });

  const hubForm = byId<HTMLFormElement>("hub-form");
  hubForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const target = byId<HTMLInputElement>("hub-repo").value.trim();
    const token = byId<HTMLInputElement>("hub-token").value.trim();
    const endpoint = byId<HTMLInputElement>("hub-endpoint").value.trim() || DEFAULT_HUB;
    run(
      { type: "scan-hub", target, endpoint, ...(token ? { token } : {}) },
      `Listing ${target} on ${endpoint}…`,
    );
  });

  // The page, not only the drop zone, accepts a drop, so a near miss does not open the file.
  document.addEventListener("dragover", (event) => {
    if (!event.dataTransfer?.types.includes("Files")) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    drop.classList.add("over");
  });
  document.addEventListener("dragleave", (event) => {
    if (event.relatedTarget === null) drop.classList.remove("over");
  });
  document.addEventListener("drop", (event) => {
    if (!event.dataTransfer?.types.includes("Files")) return;
    event.preventDefault();
    drop.classList.remove("over");
    filesFromDrop(event.dataTransfer).then(start, (error: unknown) =>
      setStatus(`Could not read what was dropped: ${String(error)}`),
    );
  });
}

/** Where `hf://` repositories are read from unless the form says otherwise. */
const DEFAULT_HUB = "https://huggingface.co";

let worker: Worker | null = null;
/** The running scan's stall watchdog (see `run`). */
let watchdog: ReturnType<typeof setTimeout> | undefined;

/** Time without a finished file before the scan is stopped (`?stall=SECONDS` overrides it). */
const STALL_MS = 1000 * (Number(new URLSearchParams(location.search).get("stall")) || 60);

/** The result shown for a file whose scan was stopped by the watchdog. */
function timedOut(path: string, size: number): FileResult {
  return {
    path,
    size,
    format: null,
    verdict: "error",
    findings: [
      {
        rule: "limits.exceeded",
        severity: "high",
        message: `This file was still being analysed after ${STALL_MS / 1000} s without progress, so the scan was stopped: it was not vetted.`,
        location: { file: path },
      },
    ],
    children: [],
    timings: { analyseMs: STALL_MS },
  };
}
let downloads: string[] = [];

function setStatus(text: string): void {
  byId("status").textContent = text;
}

function start(files: PickedFile[]): void {
  if (files.length === 0) {
    setStatus("No files to scan.");
    return;
  }
  run({ type: "scan", files }, `Scanning ${plural(files.length, "file")} in this tab…`);
}

/** Runs one scan in a fresh worker (a running one is stopped) and shows its results. */
function run(request: ScanRequest, startText: string): void {
  worker?.terminate();
  clearTimeout(watchdog);
  for (const url of downloads) URL.revokeObjectURL(url);
  downloads = [];

  const results = byId("results");
  const list = byId<HTMLOListElement>("files");
  const summary = byId("summary");
  const links = byId("downloads");
  list.replaceChildren();
  summary.replaceChildren();
  links.hidden = true;
  results.hidden = false;
  results.setAttribute("aria-busy", "true");
  setStatus(startText);

  const partial: FileResult[] = [];
  // A crafted file can make a WebAssembly library (libhdf5) loop forever, and nothing inside the
  // worker can stop it. So the page watches for progress: after STALL_MS without a finished file
  // it stops the worker and reports every unfinished file as `error` (fail closed).
  const pending = new Map(
    request.type === "scan" ? request.files.map((f) => [f.path, f.file.size] as const) : [],
  );
  const current = new Worker(new URL("./scan-worker.ts", import.meta.url), { type: "module" });
  const stalled = () => {
    current.terminate();
    if (worker === current) worker = null;
    for (const [path, size] of pending) list.append(fileItem(timedOut(path, size)));
    results.removeAttribute("aria-busy");
    setStatus(
      `The scan stopped: no file finished for ${STALL_MS / 1000} s, so the scanner was stopped; ${plural(pending.size, "unfinished file")} marked error.`,
    );
  };
  const progress = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(stalled, STALL_MS);
  };
  progress();
  worker = current;
  worker.onmessage = (event: MessageEvent<ScanEvent>) => {
    const message = event.data;
    if (message.type === "done" || message.type === "failed") clearTimeout(watchdog);
    else progress();
    if (message.type === "file") {
      pending.delete(message.result.path);
      partial.push(message.result);
      list.append(fileItem(message.result));
      setStatus(`Scanned ${message.done} of ${plural(message.total, "file")}…`);
    } else if (message.type === "done") {
      const { report } = message;
      list.replaceChildren(...byVerdict(report.files).map(fileItem));
      const worst = worstVerdict(report.summary);
      const v = report.summary.verdicts;
      summary.replaceChildren(
        h("p", { class: "headline", "data-verdict": worst }, headline(report.summary)),
        h(
          "p",
          {},
          `${plural(report.summary.files, "file")}: ${v.malicious} malicious, ${v.suspicious} suspicious, ${v.error} error, ${v.safe} safe`,
          report.summary.unrecognised > 0
            ? `, ${report.summary.unrecognised} not a model format`
            : "",
          `. Scanned in ${(message.elapsedMs / 1000).toFixed(2)} s, in this tab`,
          message.commit === undefined
            ? "."
            : `, at commit ${message.commit.slice(0, 12)}, reading ${formatSize(message.fetchedBytes ?? 0)} by range requests.`,
        ),
      );
      links.replaceChildren(
        download("dl-json", "modelvet-report.json", "Download JSON report", message.json),
        download("dl-sarif", "modelvet-report.sarif", "Download SARIF", message.sarif),
      );
      links.hidden = false;
      results.removeAttribute("aria-busy");
      results.dataset.elapsedMs = String(message.elapsedMs);
      setStatus(`Done: ${headline(report.summary)}`);
      worker?.terminate();
      worker = null;
    } else if (message.type === "listed") {
      setStatus(
        `Listed ${plural(message.total, "file")} at commit ${message.commit.slice(0, 12)}; scanning…`,
      );
    } else {
      results.removeAttribute("aria-busy");
      setStatus(`The scan failed: ${message.message}`);
    }
  };
  worker.onerror = (event) => {
    clearTimeout(watchdog);
    results.removeAttribute("aria-busy");
    setStatus(`The scanner stopped: ${event.message || "unknown error"}`);
  };
  worker.postMessage(request);
}

/** A link that saves a report made in this tab (a `blob:` URL: nothing is fetched). */
function download(id: string, name: string, label: string, text: string): HTMLAnchorElement {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  downloads.push(url);
  return h("a", { id, class: "button", href: url, download: name }, label);
}
