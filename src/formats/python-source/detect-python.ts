import type { Probe } from "../types.js";
import { decodeTextHead, pickleFailsOnFirstOpcode } from "./text-head.js";

/** A line that only Python starts so: an import, a `def` or a `class` at column 0. */
const PYTHON_LINE =
  /^(?:import[ \t]+[A-Za-z_]|from[ \t]+\.*[A-Za-z_][\w.]*[ \t]+import[ \t(\\]|from[ \t]+\.+[ \t]*import[ \t(\\]|(?:async[ \t]+)?def[ \t]+[A-Za-z_]\w*[ \t]*\(|class[ \t]+[A-Za-z_]\w*[ \t]*[(:])/m;

/** How a module's first statement (after comments and its docstring) may start. */
const FIRST_STATEMENT =
  /^(?:[rRuUbB]{0,2}["']|import[ \t]|from[ \t]|(?:async[ \t]+)?def[ \t]|class[ \t]|@[A-Za-z_]|if[ \t(]|try[ \t]*:|[A-Za-z_][\w.]*[ \t]*(?::[^=\n]*)?=[^=]|[A-Za-z_][\w.]*\()/;

const DOCSTRING_START = /^[rRuUbB]{0,2}("""|''')/;

/**
 * Python source, by content (DESIGN.md principle 2). The head must be:
 * 1. text: valid UTF-8 with no NUL or other control bytes (tab, newlines, form feed aside);
 * 2. something a pickle loader fails on at its first opcode ({@link pickleFailsOnFirstOpcode}), so
 *    a working pickle is never taken for Python (`import os` starts with the pickle opcode `i`,
 *    which fails because `mport os` is no module; `def` starts with `d`, DICT on an empty stack);
 * 3. a module whose first statement, after blank lines, comments, a shebang and the module
 *    docstring, starts like Python (`import`, `from`, `def`, `class`, a decorator, an assignment,
 *    a call, `if`, `try:`, a one-line string) — so a README that opens with prose is not Python even when it quotes
 *    `import torch` further down; JSON (`{`, `[`) never matches;
 * 4. and somewhere at column 0 an `import x`, `from x import`, `def f(` or `class C(`/`class C:`.
 */
export function detectPythonSource(probe: Probe): boolean {
  if (probe.size === 0) return false;
  const text = decodeTextHead(probe.head, probe.head.length < probe.size);
  if (text === null || !pickleFailsOnFirstOpcode(probe.head)) return false;
  const first = firstStatement(text);
  if (first === null || !FIRST_STATEMENT.test(first)) return false;
  return PYTHON_LINE.test(text);
}

/** The text from the first statement on, skipping blank and comment lines and a docstring. */
function firstStatement(text: string): string | null {
  let at = 0;
  let docstringSeen = false;
  while (at < text.length) {
    const end = text.indexOf("\n", at);
    const line = text.slice(at, end < 0 ? text.length : end);
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) {
      if (end < 0) return null;
      at = end + 1;
      continue;
    }
    const doc = DOCSTRING_START.exec(line);
    if (doc && !docstringSeen) {
      const quote = doc[1]!;
      const close = text.indexOf(quote, at + doc[0].length);
      if (close < 0) return null;
      docstringSeen = true;
      const after = text.indexOf("\n", close + quote.length);
      if (after < 0) return null;
      at = after + 1;
      continue;
    }
    return text.slice(at);
  }
  return null;
}
