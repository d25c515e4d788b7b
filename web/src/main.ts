import { setUpDashboard } from "./dashboard.js";
import { setUpScanner } from "./scanner.js";

const dashboard = setUpDashboard(document.getElementById("gate-root")!);

/** Two views in one page: the scanner at `#/`, the gate dashboard at `#/gate`. */
function route(): void {
  const gate = location.hash.startsWith("#/gate");
  document.getElementById("scan-view")!.hidden = gate;
  document.getElementById("gate-view")!.hidden = !gate;
  for (const link of document.querySelectorAll<HTMLAnchorElement>("nav a[data-view]")) {
    if ((link.dataset.view === "gate") === gate) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = gate
    ? "modelvet — gate dashboard"
    : "modelvet — scan model files in your browser";
  if (gate) dashboard.show();
  else dashboard.hide();
}

setUpScanner();
window.addEventListener("hashchange", route);
route();
