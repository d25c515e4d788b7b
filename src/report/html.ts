import type { Finding, Severity } from "../core/finding.js";
import type { Verdict } from "../core/verdict.js";
import type { FileResult, SuppressedFinding } from "../scan/results.js";
import type { ScanReport } from "../scan/scan.js";

export interface HtmlOptions {
  /** Shown under the title; omitted when not given, so the page is a pure function of the report. */
  generatedAt?: Date;
  /** Where docs/rules.md is published; `#<rule id>` is appended. @default rule ids unlinked */
  rulesDocUrl?: string;
}

const VERDICT_LABEL: Record<Verdict, { symbol: string; text: string }> = {
  malicious: { symbol: "✖", text: "malicious" },
  suspicious: { symbol: "▲", text: "suspicious" },
  error: { symbol: "?", text: "error" },
  safe: { symbol: "✔", text: "safe" },
};

const VERDICT_RANK: Record<Verdict, number> = { malicious: 3, error: 2, suspicious: 1, safe: 0 };

/** Every character that matters in HTML text or a quoted attribute, as an entity. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/**
 * The report as one self-contained HTML page: inline CSS, no script, no external resource (a
 * Content-Security-Policy forbids loading any). Every string from the report is escaped, since
 * file names, messages and pseudocode come from hostile files. Verdicts and severities carry a
 * word and a symbol, never colour alone.
 */
export function writeHtml(report: ScanReport, options: HtmlOptions = {}): string {
  const docUrl = options.rulesDocUrl;
  const { summary } = report;
  const counts = `${summary.verdicts.malicious} malicious, ${summary.verdicts.suspicious} suspicious, ${summary.verdicts.error} error, ${summary.verdicts.safe} safe`;
  const ordered = report.files
    .map((file, index) => ({ file, index }))
    .sort(
      (a, b) => VERDICT_RANK[b.file.verdict] - VERDICT_RANK[a.file.verdict] || a.index - b.index,
    );
  const detailed = ordered.filter(
    ({ file }) => file.findings.length > 0 || (file.suppressed ?? []).length > 0,
  );

  const parts: string[] = [];
  parts.push(
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">`,
    '<meta name="referrer" content="no-referrer">',
    `<title>modelvet report: ${escapeHtml(counts)}</title>`,
    `<style>${CSS}</style>`,
    "</head>",
    "<body>",
    '<a class="skip" href="#files-h">Skip to the files</a>',
    "<header>",
    "<h1>modelvet report</h1>",
    `<p class="meta">modelvet ${escapeHtml(report.tool.version)}${
      options.generatedAt ? ` · ${escapeHtml(options.generatedAt.toISOString())}` : ""
    }${report.policy?.source ? ` · policy ${escapeHtml(report.policy.source)}` : ""}${
      report.baseline ? ` · baseline ${escapeHtml(report.baseline.file)}` : ""
    }</p>`,
    "</header>",
    "<main>",
  );

  parts.push(summarySection(report));
  parts.push(filesTable(ordered));
  if (detailed.length > 0) {
    parts.push('<h2 id="findings-h">Findings</h2>');
    for (const { file, index } of detailed) parts.push(fileSection(file, index, docUrl));
  }
  parts.push(
    "</main>",
    "<footer><p>modelvet reads model files without executing them. Verdicts: <em>malicious</em> — loading runs a known code-execution, file or network callable; <em>suspicious</em> — it imports something outside the allowlist or shows an evasion sign; <em>error</em> — the file could not be fully analysed; <em>safe</em> — everything it reaches is on the allowlist.</p></footer>",
    "</body>",
    "</html>",
  );
  return `${parts.join("\n")}\n`;
}

function badge(verdict: Verdict): string {
  const { symbol, text } = VERDICT_LABEL[verdict];
  return `<span class="badge" data-verdict="${verdict}"><span aria-hidden="true">${symbol}</span> ${text}</span>`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function summarySection(report: ScanReport): string {
  const { summary } = report;
  const models = summary.files - summary.unrecognised;
  const v = summary.verdicts;
  const headline =
    v.malicious > 0
      ? `Do not load: ${plural(v.malicious, "file")} ${v.malicious === 1 ? "is" : "are"} malicious.`
      : v.error > 0
        ? `${plural(v.error, "file")} could not be fully analysed: do not trust ${v.error === 1 ? "it" : "them"} yet.`
        : v.suspicious > 0
          ? `${plural(v.suspicious, "file")} need${v.suspicious === 1 ? "s" : ""} a closer look.`
          : "Nothing alarming found.";
  const worst: Verdict =
    v.malicious > 0
      ? "malicious"
      : v.error > 0
        ? "error"
        : v.suspicious > 0
          ? "suspicious"
          : "safe";
  const items = (["malicious", "suspicious", "error", "safe"] as const)
    .map(
      (verdict) =>
        `<li data-verdict="${verdict}"><span class="n">${v[verdict]}</span> ${badge(verdict)}</li>`,
    )
    .join("");
  const suppressed =
    summary.suppressed !== undefined && summary.suppressed > 0
      ? `; ${plural(summary.suppressed, "finding")} set aside by the policy file or baseline`
      : "";
  return [
    '<section aria-labelledby="summary-h">',
    '<h2 id="summary-h">Summary</h2>',
    `<p class="headline" data-verdict="${worst}">${escapeHtml(headline)}</p>`,
    `<ul class="counts" aria-label="Files by verdict">${items}</ul>`,
    `<p>${plural(models, "model file")} scanned${
      summary.unrecognised > 0
        ? `; ${plural(summary.unrecognised, "other file")} ${summary.unrecognised === 1 ? "is" : "are"} not a model format`
        : ""
    }. ${plural(summary.findings, "finding")}${suppressed}.</p>`,
    "</section>",
  ].join("\n");
}

function filesTable(ordered: { file: FileResult; index: number }[]): string {
  const rows = ordered.map(({ file, index }) => {
    const hasDetails = file.findings.length > 0 || (file.suppressed ?? []).length > 0;
    const name = hasDetails
      ? `<a href="#file-${index}">${escapeHtml(file.path)}</a>`
      : escapeHtml(file.path);
    const sha = file.sha256
      ? `<code title="${escapeHtml(file.sha256)}">${escapeHtml(file.sha256.slice(0, 12))}…</code>`
      : "—";
    return [
      `<tr data-verdict="${file.verdict}">`,
      `<th scope="row" class="path">${name}</th>`,
      `<td data-label="Verdict">${badge(file.verdict)}</td>`,
      `<td data-label="Format">${escapeHtml(file.format ?? "not a model format")}</td>`,
      `<td data-label="Findings">${file.findings.length}${
        (file.suppressed ?? []).length > 0
          ? ` <span class="dim">(+${file.suppressed!.length} set aside)</span>`
          : ""
      }</td>`,
      `<td data-label="Size">${file.size.toLocaleString("en")} bytes</td>`,
      `<td data-label="SHA-256">${sha}</td>`,
      "</tr>",
    ].join("");
  });
  return [
    '<section aria-labelledby="files-h">',
    '<h2 id="files-h">Files</h2>',
    '<div class="table-wrap"><table>',
    '<thead><tr><th scope="col">File</th><th scope="col">Verdict</th><th scope="col">Format</th><th scope="col">Findings</th><th scope="col">Size</th><th scope="col">SHA-256</th></tr></thead>',
    `<tbody>${rows.join("\n")}</tbody>`,
    "</table></div>",
    "</section>",
  ].join("\n");
}

function fileSection(file: FileResult, index: number, docUrl: string | undefined): string {
  const suppressed = file.suppressed ?? [];
  const parts = [
    `<section class="file" id="file-${index}" aria-labelledby="file-${index}-h">`,
    `<h3 id="file-${index}-h"><span class="path">${escapeHtml(file.path)}</span> ${badge(file.verdict)}</h3>`,
    `<p class="meta">${escapeHtml(file.format ?? "not a model format")} · ${file.size.toLocaleString("en")} bytes${
      file.sha256 ? ` · SHA-256 <code class="hash">${escapeHtml(file.sha256)}</code>` : ""
    }</p>`,
  ];
  if (file.findings.length > 0) {
    parts.push(
      `<ol class="findings">${file.findings.map((f) => findingItem(f, docUrl)).join("\n")}</ol>`,
    );
  }
  if (suppressed.length > 0) {
    parts.push(
      `<details><summary>${plural(suppressed.length, "finding")} set aside</summary>`,
      `<ol class="findings">${suppressed.map((f) => findingItem(f, docUrl)).join("\n")}</ol>`,
      "</details>",
    );
  }
  parts.push("</section>");
  return parts.join("\n");
}

function severityLabel(severity: Severity): string {
  return `<span class="sev" data-severity="${severity}">${severity}</span>`;
}

function findingItem(f: Finding | SuppressedFinding, docUrl: string | undefined): string {
  const where: string[] = [];
  if (f.location.member && f.location.member.length > 0) {
    where.push(`in <code>${f.location.member.map(escapeHtml).join("</code> › <code>")}</code>`);
  }
  if (f.location.offset !== undefined) where.push(`at byte ${f.location.offset}`);
  const parts = [
    `<li class="finding" data-severity="${f.severity}">`,
    `<p class="rule">${severityLabel(f.severity)} ${ruleLabel(f.rule, docUrl)}${
      where.length > 0 ? ` <span class="where">${where.join(", ")}</span>` : ""
    }</p>`,
    `<p class="message">${escapeHtml(f.message)}</p>`,
  ];
  if (f.evidence?.pseudocode !== undefined) {
    parts.push(
      '<p class="label">Loading would run:</p>',
      `<pre><code>${escapeHtml(f.evidence.pseudocode)}</code></pre>`,
    );
  }
  if (f.references && f.references.length > 0) {
    parts.push(`<p class="refs">See ${f.references.map(reference).join(", ")}</p>`);
  }
  if ("suppression" in f) {
    parts.push(
      `<p class="suppression">Set aside (${f.suppression.kind}): ${escapeHtml(f.suppression.reason)}${
        f.suppression.expires ? ` — until ${escapeHtml(f.suppression.expires)}` : ""
      }</p>`,
    );
  }
  parts.push("</li>");
  return parts.join("\n");
}

/** A reference as a link when it is an http(s) URL or a CVE/GHSA id; otherwise as text. */
function reference(ref: string): string {
  let url: string | null = null;
  if (/^https?:\/\/[^\s"'<>]+$/i.test(ref)) url = ref;
  else if (/^CVE-\d{4}-\d{4,}$/.test(ref)) url = `https://www.cve.org/CVERecord?id=${ref}`;
  else if (/^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$/.test(ref)) {
    url = `https://github.com/advisories/${ref}`;
  }
  return url === null
    ? escapeHtml(ref)
    : `<a href="${escapeHtml(url)}" rel="noreferrer noopener">${escapeHtml(ref)}</a>`;
}

const CSS = `
:root{--fg:#1b1b1f;--bg:#fff;--muted:#55575e;--line:#d0d3da;--code:#f3f4f7;
--mal:#a4161a;--mal-bg:#fde8e8;--sus:#7a4b00;--sus-bg:#fff3d6;--err:#6b2c91;--err-bg:#f1e6f8;--ok:#1e6b34;--ok-bg:#e3f4e8}
@media (prefers-color-scheme:dark){:root{--fg:#e8e8ec;--bg:#15161a;--muted:#a9abb3;--line:#3a3c44;--code:#23252c;
--mal:#ff9b9b;--mal-bg:#3d1416;--sus:#ffd27a;--sus-bg:#3a2c0c;--err:#dcb3f5;--err-bg:#2f1d3d;--ok:#8fe0a5;--ok-bg:#14301d}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:72rem;padding:1rem;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.3rem;margin:2rem 0 .6rem;border-bottom:1px solid var(--line)}h3{font-size:1.1rem;margin:0 0 .3rem}
a{color:inherit}code,pre{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.9em}
.meta,.dim,.where{color:var(--muted)}.path{overflow-wrap:anywhere;word-break:break-word}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:var(--bg);padding:.3rem}
.badge{display:inline-block;padding:0 .45em;border:1px solid currentColor;border-radius:.3em;font-weight:600;white-space:nowrap;text-transform:uppercase;font-size:.85em}
.badge[data-verdict=malicious]{color:var(--mal);background:var(--mal-bg)}
.badge[data-verdict=suspicious]{color:var(--sus);background:var(--sus-bg)}
.badge[data-verdict=error]{color:var(--err);background:var(--err-bg)}
.badge[data-verdict=safe]{color:var(--ok);background:var(--ok-bg)}
.headline{font-size:1.15rem;font-weight:700;padding:.5rem .8rem;border-left:.4rem solid currentColor}
.headline[data-verdict=malicious]{color:var(--mal);background:var(--mal-bg)}.headline[data-verdict=error]{color:var(--err);background:var(--err-bg)}
.headline[data-verdict=suspicious]{color:var(--sus);background:var(--sus-bg)}.headline[data-verdict=safe]{color:var(--ok);background:var(--ok-bg)}
.counts{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;list-style:none;padding:0}.counts .n{font-size:1.4rem;font-weight:700;margin-right:.3rem}
.table-wrap{overflow-x:auto}table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:.4rem .5rem;border-bottom:1px solid var(--line)}thead th{border-bottom:2px solid var(--line)}
tbody th{font-weight:500}
.file{border:1px solid var(--line);border-radius:.4rem;padding:.8rem 1rem;margin:1rem 0}
.findings{padding-left:1.2rem}.finding{margin:.8rem 0;padding-left:.3rem}
.sev{display:inline-block;min-width:5.5em;font-weight:700;text-transform:uppercase;font-size:.85em}
.sev[data-severity=critical],.sev[data-severity=high]{color:var(--mal)}.sev[data-severity=medium]{color:var(--sus)}.sev[data-severity=low],.sev[data-severity=info]{color:var(--muted)}
.sev[data-severity=critical]::before{content:"‼ "}.sev[data-severity=high]::before{content:"! "}
.rule,.message{margin:.2rem 0}.message{overflow-wrap:anywhere}.label{margin:.4rem 0 0;font-weight:600}
pre{background:var(--code);padding:.6rem .8rem;border-radius:.3rem;white-space:pre-wrap;overflow-wrap:anywhere;margin:.2rem 0}
.hash,.refs,.where{overflow-wrap:anywhere}.suppression{font-style:italic}
footer{margin-top:2.5rem;color:var(--muted);font-size:.9rem}
@media (max-width:40rem){body{padding:.6rem}thead{position:absolute;left:-9999px}
table,tbody,tr,th,td{display:block;width:100%}tr{border:1px solid var(--line);border-radius:.3rem;margin:.5rem 0;padding:.3rem}
td,tbody th{border:0;padding:.15rem .3rem}td::before{content:attr(data-label) ": ";font-weight:600}}
@media print{.skip{display:none}.file{break-inside:avoid}}
`
  .trim()
  .replaceAll("\n", "");

/** The rule id, linked to its documentation when a URL for it was given. */
function ruleLabel(rule: string, docUrl: string | undefined): string {
  const code = `<code>${escapeHtml(rule)}</code>`;
  return docUrl === undefined
    ? code
    : `<a href="${escapeHtml(`${docUrl}#${rule}`)}" rel="noreferrer noopener">${code}</a>`;
}
