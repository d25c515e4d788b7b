import type { Finding } from "../../src/core/finding.js";
import type { Verdict } from "../../src/core/verdict.js";
import type { FileResult } from "../../src/scan/results.js";
import type { ScanSummary } from "../../src/scan/scan.js";
import { formatSize, h, plural } from "./dom.js";

const VERDICT_LABEL: Record<Verdict, { symbol: string; text: string }> = {
  malicious: { symbol: "✖", text: "malicious" },
  suspicious: { symbol: "▲", text: "suspicious" },
  error: { symbol: "?", text: "error" },
  safe: { symbol: "✔", text: "safe" },
};

export const VERDICT_RANK: Record<Verdict, number> = {
  malicious: 3,
  error: 2,
  suspicious: 1,
  safe: 0,
};

/** A verdict as a word and a symbol, never colour alone. */
export function badge(verdict: Verdict): HTMLSpanElement {
  const { symbol, text } = VERDICT_LABEL[verdict];
  return h(
    "span",
    { class: "badge", "data-verdict": verdict },
    h("span", { "aria-hidden": "true" }, symbol),
    ` ${text}`,
  );
}

export function worstVerdict(summary: ScanSummary): Verdict {
  const v = summary.verdicts;
  if (v.malicious > 0) return "malicious";
  if (v.error > 0) return "error";
  if (v.suspicious > 0) return "suspicious";
  return "safe";
}

export function headline(summary: ScanSummary): string {
  const v = summary.verdicts;
  if (v.malicious > 0) {
    return `Do not load: ${plural(v.malicious, "file")} ${v.malicious === 1 ? "is" : "are"} malicious.`;
  }
  if (v.error > 0) {
    return `${plural(v.error, "file")} could not be fully analysed: do not trust ${v.error === 1 ? "it" : "them"} yet.`;
  }
  if (v.suspicious > 0) {
    return `${plural(v.suspicious, "file")} need${v.suspicious === 1 ? "s" : ""} a closer look.`;
  }
  if (summary.files === summary.unrecognised) return "None of these files is a model format.";
  return "Nothing alarming found.";
}

/** One scanned file: its verdict (the `data-verdict` test hook), facts and findings. */
export function fileItem(file: FileResult): HTMLLIElement {
  const findings = file.findings;
  const facts = [
    file.format ?? "not a model format",
    formatSize(file.size),
    plural(findings.length, "finding"),
  ].join(" · ");
  return h(
    "li",
    { class: "file", "data-verdict": file.verdict, "data-path": file.path },
    h("h3", {}, h("span", { class: "path" }, file.path), " ", badge(file.verdict)),
    h("p", { class: "meta" }, facts),
    file.sha256 ? h("p", { class: "meta hash" }, "SHA-256 ", h("code", {}, file.sha256)) : null,
    findings.length > 0
      ? h("ol", { class: "findings" }, ...findings.map((f) => findingItem(f)))
      : null,
  );
}

export function findingItem(f: Finding): HTMLLIElement {
  const where: (string | Node)[] = [];
  if (f.location.member && f.location.member.length > 0) {
    where.push("in ");
    f.location.member.forEach((m, i) => {
      if (i > 0) where.push(" › ");
      where.push(h("code", {}, m));
    });
  }
  if (f.location.offset !== undefined) {
    where.push(`${where.length > 0 ? ", " : ""}at byte ${f.location.offset.toLocaleString("en")}`);
  }
  const refs = f.references ?? [];
  return h(
    "li",
    { class: "finding", "data-severity": f.severity },
    h(
      "p",
      { class: "rule" },
      h("span", { class: "sev", "data-severity": f.severity }, f.severity),
      " ",
      h("code", { title: "rule id (docs/rules.md)" }, f.rule),
      where.length > 0 ? h("span", { class: "where" }, " ", ...where) : null,
    ),
    h("p", { class: "message" }, f.message),
    f.evidence?.pseudocode !== undefined
      ? h(
          "div",
          {},
          h("p", { class: "label" }, "Loading would run:"),
          h("pre", {}, h("code", {}, f.evidence.pseudocode)),
        )
      : null,
    refs.length > 0
      ? h(
          "p",
          { class: "refs" },
          "See ",
          ...refs.flatMap((r, i) => [i > 0 ? ", " : null, reference(r)]),
        )
      : null,
  );
}

/** A reference as a link when it is an http(s) URL or a CVE/GHSA id; otherwise as text. */
export function reference(ref: string): Node {
  let url: string | null = null;
  if (/^https?:\/\/[^\s"'<>]+$/i.test(ref)) url = ref;
  else if (/^CVE-\d{4}-\d{4,}$/.test(ref)) url = `https://www.cve.org/CVERecord?id=${ref}`;
  else if (/^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$/.test(ref)) {
    url = `https://github.com/advisories/${ref}`;
  }
  if (url === null) return document.createTextNode(ref);
  return h("a", { href: url, rel: "noreferrer noopener", target: "_blank" }, ref);
}

/** Files worst first, then in the order given. */
export function byVerdict(files: readonly FileResult[]): FileResult[] {
  return files
    .map((file, index) => ({ file, index }))
    .sort(
      (a, b) => VERDICT_RANK[b.file.verdict] - VERDICT_RANK[a.file.verdict] || a.index - b.index,
    )
    .map(({ file }) => file);
}
