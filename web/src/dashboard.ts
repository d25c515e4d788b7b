import type { Verdict } from "../../src/core/verdict.js";
import { type Child, h } from "./dom.js";
import {
  type DecisionAction,
  type DecisionRecord,
  GateApi,
  GateApiError,
  type GateException,
} from "./gate-api.js";
import { badge, findingItem } from "./render-results.js";

/** How often the open tab refreshes itself (live updates by polling the API). */
const POLL_MS = 3000;
const TOKEN_KEY = "modelvet-gate-token";

const ACTION_LABEL: Record<DecisionAction, string> = {
  served: "✔ allowed",
  blocked: "✖ refused",
  excepted: "⚑ allowed by exception",
};

type Tab = "downloads" | "repos" | "exceptions" | "audit";

interface Session {
  api: GateApi;
  who: { id: string; role: string; name: string | null };
}

/**
 * The gate dashboard (`#/gate`): sign in with a gate token (kept in this tab's session storage
 * only), then recent downloads, a per-repository view, exceptions and the audit trail, refreshed
 * every few seconds while shown.
 */
export function setUpDashboard(root: HTMLElement): { show(): void; hide(): void } {
  let session: Session | null = null;
  let tab: Tab = "downloads";
  let timer: number | undefined;
  let generation = 0;
  let visible = false;
  let repo = "";
  let prefill: Partial<Record<"repo" | "path" | "revision", string>> = {};
  const search = { text: "", action: "" as DecisionAction | "" };

  const live = h("p", { class: "live", id: "gate-live" });
  const panel = h("div", { id: "gate-panel" });

  function stopPolling() {
    if (timer !== undefined) window.clearInterval(timer);
    timer = undefined;
  }

  function startPolling() {
    stopPolling();
    timer = window.setInterval(() => {
      if (visible && session && tab !== "exceptions") void refresh(false);
    }, POLL_MS);
  }

  async function signIn(token: string, error: HTMLElement) {
    const api = new GateApi(token);
    try {
      const who = await api.whoami();
      sessionStorage.setItem(TOKEN_KEY, token);
      session = { api, who };
      renderShell();
      startPolling();
    } catch (e) {
      sessionStorage.removeItem(TOKEN_KEY);
      error.textContent =
        e instanceof GateApiError && e.status === 401
          ? "That token is not a live gate token."
          : `The gate did not answer: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  function signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    session = null;
    stopPolling();
    renderLogin();
  }

  function renderLogin() {
    const input = h("input", {
      id: "gate-token",
      type: "password",
      autocomplete: "off",
      spellcheck: "false",
      required: true,
      "aria-describedby": "gate-token-help",
    });
    const error = h("p", { class: "error-text", role: "alert" });
    const form = h(
      "form",
      { class: "login", "aria-labelledby": "login-h" },
      h("h2", { id: "login-h" }, "Sign in to the gate"),
      h(
        "div",
        { class: "field" },
        h("label", { for: "gate-token" }, "Gate token"),
        input,
        h(
          "span",
          { id: "gate-token-help", class: "hint" },
          "A token from `modelvet token create`. It is kept in this tab only and sent to this gate only.",
        ),
      ),
      h("p", {}, h("button", { class: "button primary", type: "submit" }, "Sign in")),
      error,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      error.textContent = "";
      void signIn(input.value.trim(), error);
    });
    root.replaceChildren(form);
  }

  function renderShell() {
    if (!session) return;
    const tabs: [Tab, string][] = [
      ["downloads", "Downloads"],
      ["repos", "Repositories"],
      ["exceptions", "Exceptions"],
    ];
    if (session.who.role === "admin") tabs.push(["audit", "Audit trail"]);
    const bar = h(
      "div",
      { class: "tabs", role: "tablist", "aria-label": "Dashboard sections" },
      ...tabs.map(([id, label]) => {
        const button = h(
          "button",
          {
            class: "button",
            type: "button",
            role: "tab",
            id: `tab-${id}`,
            "aria-selected": String(id === tab),
            "aria-controls": "gate-panel",
          },
          label,
        );
        button.addEventListener("click", () => switchTo(id));
        return button;
      }),
    );
    const out = h("button", { class: "button", type: "button", id: "gate-sign-out" }, "Sign out");
    out.addEventListener("click", signOut);
    panel.setAttribute("role", "tabpanel");
    panel.setAttribute("aria-labelledby", `tab-${tab}`);
    root.replaceChildren(
      h(
        "p",
        { class: "who" },
        `Signed in as ${session.who.name ?? session.who.id} (${session.who.role}). `,
        out,
      ),
      bar,
      live,
      panel,
    );
    void refresh(true);
  }

  function switchTo(next: Tab) {
    tab = next;
    renderShell();
    document.getElementById(`tab-${next}`)?.focus();
  }

  /** Redraws the open tab from the API; `full` also rebuilds its controls. */
  async function refresh(full: boolean) {
    if (!session) return;
    // Answers that arrive after a newer refresh started (a tab switch, a search) are dropped.
    const mine = ++generation;
    const current = () => mine === generation;
    try {
      if (tab === "downloads") await showDownloads(session, full, current);
      else if (tab === "repos") await showRepo(session, full, current);
      else if (tab === "exceptions") await showExceptions(session, current);
      else await showAudit(session, current);
      if (!current()) return;
      live.textContent = `Updated ${new Date().toLocaleTimeString()} · refreshes every ${POLL_MS / 1000} s`;
    } catch (e) {
      if (e instanceof GateApiError && e.status === 401) return signOut();
      live.textContent = `Could not refresh: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  async function showDownloads(s: Session, full: boolean, current: () => boolean) {
    const rows = await s.api.decisions(search.action || undefined);
    if (!current()) return;
    const needle = search.text.toLowerCase();
    const shown = rows.filter(
      (d) =>
        needle === "" ||
        d.repo.toLowerCase().includes(needle) ||
        d.path.toLowerCase().includes(needle) ||
        (d.reason ?? "").toLowerCase().includes(needle),
    );
    const body = h("tbody", {}, ...shown.map((d) => decisionRow(s, d)));
    const table = h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { id: "decisions" },
        h("caption", { class: "visually-hidden" }, "Recent downloads through the gate"),
        head(["When", "Decision", "Repository", "File", "Revision", "Why", ""]),
        body,
      ),
      shown.length === 0 ? h("p", { class: "dim" }, "No downloads match.") : null,
    );
    const existing = panel.querySelector("#downloads-table");
    if (!full && existing) {
      existing.replaceChildren(table);
      return;
    }
    const text = h("input", { id: "dl-search", type: "search", value: search.text });
    text.addEventListener("input", () => {
      search.text = text.value;
      void refresh(false);
    });
    const action = h(
      "select",
      { id: "dl-action" },
      h("option", { value: "" }, "All"),
      h("option", { value: "blocked", selected: search.action === "blocked" }, "Refused"),
      h("option", { value: "served", selected: search.action === "served" }, "Allowed"),
      h("option", { value: "excepted", selected: search.action === "excepted" }, "By exception"),
    );
    action.addEventListener("change", () => {
      search.action = action.value as DecisionAction | "";
      void refresh(false);
    });
    panel.replaceChildren(
      h("h2", {}, "Recent downloads"),
      h(
        "div",
        { class: "toolbar" },
        h(
          "div",
          { class: "field" },
          h("label", { for: "dl-search" }, "Search repository, file or reason"),
          text,
        ),
        h("div", { class: "field" }, h("label", { for: "dl-action" }, "Decision"), action),
      ),
      h("div", { id: "downloads-table" }, table),
    );
  }

  function decisionRow(s: Session, d: DecisionRecord): HTMLTableRowElement {
    const open = h("button", { class: "link", type: "button" }, d.repo);
    open.addEventListener("click", () => {
      repo = d.repo;
      switchTo("repos");
    });
    let allow: Child = null;
    if (d.action === "blocked" && s.who.role === "admin") {
      const b = h("button", { class: "button", type: "button", "data-allow": d.path }, "Allow…");
      b.setAttribute("aria-label", `Add an exception for ${d.repo}/${d.path}`);
      b.addEventListener("click", () => {
        prefill = { repo: d.repo, path: d.path };
        switchTo("exceptions");
      });
      allow = b;
    }
    return h(
      "tr",
      { "data-action": d.action, "data-repo": d.repo, "data-path": d.path },
      h("td", { "data-label": "When" }, h("time", { datetime: d.at }, when(d.at))),
      h(
        "td",
        { "data-label": "Decision" },
        h("span", { class: `action ${d.action}` }, ACTION_LABEL[d.action]),
      ),
      h("td", { "data-label": "Repository", class: "path" }, open),
      h("td", { "data-label": "File", class: "path" }, d.path),
      h("td", { "data-label": "Revision" }, h("code", {}, d.revision.slice(0, 10))),
      h("td", { "data-label": "Why", class: "message" }, d.reason ?? ""),
      h("td", {}, allow),
    );
  }

  async function showRepo(s: Session, full: boolean, current: () => boolean) {
    const input = h("input", {
      id: "repo-name",
      type: "text",
      value: repo,
      placeholder: "org/name",
    });
    const results = h("div", { id: "repo-results" });
    if (full || !panel.querySelector("#repo-results")) {
      const form = h(
        "form",
        { class: "toolbar" },
        h("div", { class: "field" }, h("label", { for: "repo-name" }, "Repository"), input),
        h("button", { class: "button", type: "submit" }, "Show"),
      );
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        repo = input.value.trim();
        void refresh(false);
      });
      panel.replaceChildren(h("h2", {}, "Repository"), form, results);
    }
    const target = panel.querySelector<HTMLElement>("#repo-results")!;
    if (repo === "") {
      target.replaceChildren(
        h("p", { class: "dim" }, "Name a repository, or pick one from Downloads."),
      );
      return;
    }
    // Keep expanded findings open across refreshes.
    if (!full && target.querySelector("[data-open]")) return;
    const scans = await s.api.scans(repo);
    if (!current()) return;
    const rows = scans.map((scan) => {
      const more = h("button", { class: "button", type: "button" }, `Findings (${scan.findings})`);
      const detail = h("tr", { hidden: true }, h("td", { colspan: "7" }));
      more.addEventListener("click", async () => {
        const cell = detail.firstElementChild!;
        if (!detail.hidden) {
          detail.hidden = true;
          detail.removeAttribute("data-open");
          return;
        }
        const full = await s.api.scan(scan.id);
        cell.replaceChildren(
          full.result.findings.length > 0
            ? h("ol", { class: "findings" }, ...full.result.findings.map(findingItem))
            : h("p", { class: "dim" }, "No findings."),
        );
        detail.hidden = false;
        detail.setAttribute("data-open", "");
      });
      return [
        h(
          "tr",
          { "data-verdict": scan.verdict, "data-path": scan.path },
          h("td", { "data-label": "File", class: "path" }, scan.path),
          h("td", { "data-label": "Revision" }, h("code", {}, scan.revision.slice(0, 10))),
          h("td", { "data-label": "Verdict" }, badge(scan.verdict as Verdict)),
          h("td", { "data-label": "Gate" }, scan.blocked ? "refused" : "allowed"),
          h("td", { "data-label": "Why", class: "message" }, scan.blocked ? scan.message : ""),
          h("td", { "data-label": "Scanned" }, when(scan.scannedAt)),
          h("td", {}, scan.findings > 0 ? more : null),
        ),
        detail,
      ];
    });
    target.replaceChildren(
      scans.length === 0
        ? h("p", { class: "dim" }, `The gate has not scanned anything from ${repo} yet.`)
        : h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              { id: "repo-scans" },
              h("caption", { class: "visually-hidden" }, `Files of ${repo} the gate has vetted`),
              head(["File", "Revision", "Verdict", "Gate", "Why", "Scanned", ""]),
              h("tbody", {}, ...rows.flat()),
            ),
          ),
    );
  }

  async function showExceptions(s: Session, current: () => boolean) {
    const admin = s.who.role === "admin";
    const list = await s.api.exceptions();
    if (!current()) return;
    const now = Date.now();
    const rows = list.map((e) => exceptionRow(s, e, now, admin));
    const table = h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { id: "exceptions" },
        h("caption", { class: "visually-hidden" }, "Exceptions"),
        head(["Repository", "File", "Revision", "Reason", "Expires", "Added by", "Status", ""]),
        h("tbody", {}, ...rows),
      ),
      list.length === 0 ? h("p", { class: "dim" }, "No exceptions.") : null,
    );
    panel.replaceChildren(
      h("h2", {}, "Exceptions"),
      admin
        ? exceptionForm(s)
        : h("p", { class: "dim" }, "Adding or revoking exceptions needs an admin token."),
      h("h3", {}, "All exceptions"),
      table,
    );
  }

  function exceptionRow(s: Session, e: GateException, now: number, admin: boolean) {
    const status = e.revokedAt ? "revoked" : Date.parse(e.expires) <= now ? "expired" : "live";
    let revoke: Child = null;
    if (admin && status === "live") {
      const b = h("button", { class: "button", type: "button" }, "Revoke");
      b.setAttribute(
        "aria-label",
        `Revoke the exception for ${e.repo}${e.path ? `/${e.path}` : ""}`,
      );
      b.addEventListener("click", async () => {
        if (!window.confirm(`Revoke the exception for ${e.repo}${e.path ? `/${e.path}` : ""}?`))
          return;
        await s.api.revokeException(e.id);
        await refresh(true);
      });
      revoke = b;
    }
    return h(
      "tr",
      { "data-status": status, "data-repo": e.repo, "data-path": e.path ?? "" },
      h("td", { "data-label": "Repository", class: "path" }, e.repo),
      h("td", { "data-label": "File", class: "path" }, e.path ?? "any file"),
      h("td", { "data-label": "Revision" }, e.revision ?? "any"),
      h("td", { "data-label": "Reason", class: "message" }, e.reason),
      h("td", { "data-label": "Expires" }, when(e.expires)),
      h(
        "td",
        { "data-label": "Added by" },
        e.createdBy === s.who.id
          ? "you"
          : h("code", { title: `token ${e.createdBy}` }, e.createdBy.slice(0, 8)),
        ` · ${when(e.createdAt)}`,
      ),
      h("td", { "data-label": "Status" }, status),
      h("td", {}, revoke),
    );
  }

  function exceptionForm(s: Session): HTMLFormElement {
    const inMonth = new Date(Date.now() + 30 * 86400_000).toISOString().slice(0, 10);
    const field = (id: string, label: string, attrs: Record<string, string | boolean>) =>
      h("div", { class: "field" }, h("label", { for: id }, label), h("input", { id, ...attrs }));
    const error = h("p", { class: "error-text", role: "alert" });
    const form = h(
      "form",
      { id: "exception-form", "aria-labelledby": "exc-h" },
      h("h3", { id: "exc-h" }, "Add an exception"),
      h(
        "div",
        { class: "toolbar" },
        field("exc-repo", "Repository", {
          required: true,
          value: prefill.repo ?? "",
          placeholder: "org/name",
        }),
        field("exc-path", "File (empty: every file)", { value: prefill.path ?? "" }),
        field("exc-revision", "Revision (empty: any)", { value: prefill.revision ?? "" }),
        field("exc-expires", "Expires", { type: "date", required: true, value: inMonth }),
      ),
      h(
        "div",
        { class: "field" },
        h("label", { for: "exc-reason" }, "Reason (recorded in the audit trail)"),
        h("textarea", { id: "exc-reason", required: true, rows: "2", minlength: "3" }),
      ),
      h("p", {}, h("button", { class: "button primary", type: "submit" }, "Add exception")),
      error,
    );
    prefill = {};
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = (id: string) =>
        (form.querySelector<HTMLInputElement | HTMLTextAreaElement>(`#${id}`)?.value ?? "").trim();
      const request = {
        repo: value("exc-repo"),
        reason: value("exc-reason"),
        expires: value("exc-expires"),
        ...(value("exc-path") ? { path: value("exc-path") } : {}),
        ...(value("exc-revision") ? { revision: value("exc-revision") } : {}),
      };
      try {
        await s.api.addException(request);
        await refresh(true);
        live.textContent = `Exception added for ${request.repo}${request.path ? `/${request.path}` : ""}.`;
      } catch (e) {
        error.textContent = e instanceof Error ? e.message : String(e);
      }
    });
    return form;
  }

  async function showAudit(s: Session, current: () => boolean) {
    const entries = await s.api.audit();
    if (!current()) return;
    panel.replaceChildren(
      h("h2", {}, "Audit trail"),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { id: "audit" },
          h("caption", { class: "visually-hidden" }, "Audit trail"),
          head(["When", "Who", "What", "Detail"]),
          h(
            "tbody",
            {},
            ...entries.map((a) =>
              h(
                "tr",
                { "data-audit": a.action },
                h("td", { "data-label": "When" }, when(a.at)),
                h("td", { "data-label": "Who" }, a.actor),
                h("td", { "data-label": "What" }, a.action),
                h(
                  "td",
                  { "data-label": "Detail", class: "message" },
                  h("code", {}, JSON.stringify(a.detail)),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  return {
    show() {
      visible = true;
      if (session) {
        void refresh(true);
        startPolling();
        return;
      }
      const saved = sessionStorage.getItem(TOKEN_KEY);
      renderLogin();
      if (saved) void signIn(saved, root.querySelector(".error-text") ?? live);
    },
    hide() {
      visible = false;
      stopPolling();
    },
  };
}

function head(labels: string[]): HTMLTableSectionElement {
  return h(
    "thead",
    {},
    h(
      "tr",
      {},
      ...labels.map((l) =>
        h(
          "th",
          { scope: "col" },
          l === "" ? h("span", { class: "visually-hidden" }, "Actions") : l,
        ),
      ),
    ),
  );
}

function when(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
