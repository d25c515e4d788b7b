import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { analysePythonSource, isOutsidePath } from "./analyse-python.js";

const FIXTURES = join(import.meta.dirname, "../../../test/fixtures/hf-repo");
const rot13 = (s: string) =>
  s.replace(/[a-z]/gi, (c) => {
    const base = c <= "Z" ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
const run = (src: string) => analysePythonSource(src).findings;
const summary = (src: string) =>
  run(src).map((f) => `${f.severity} ${f.rule} ${f.evidence?.global ?? ""}`);

describe("analysePythonSource on ordinary code", () => {
  it.each(["benign/custom-code/modeling_custom.py", "benign/custom-code/configuration_custom.py"])(
    "finds nothing in %s",
    (file) => {
      const report = analysePythonSource(readFileSync(join(FIXTURES, file), "utf8"));
      expect(report.findings).toEqual([]);
      expect(report.syntaxErrors).toBe(0);
    },
  );

  it("leaves methods and other modules' functions named like builtins alone", () => {
    const src = [
      "import re, torch",
      "model.eval()",
      "pattern = re.compile('x')",
      "fast = torch.compile(model)",
      "@torch.no_grad()",
      "def f(exec, open):",
      "    exec(open)",
      "    return getattr(self.config, name, None)",
      "with open('weights.bin', 'wb') as fh:",
      "    fh.write(b'')",
      "x = subprocess.PIPE",
    ].join("\n");
    expect(run(src)).toEqual([]);
  });
});

describe("process, dynamic code, network, files, unsafe loads", () => {
  it.each([
    ["import subprocess as sp\nsp.run(['ls'])", "critical python.process subprocess.run"],
    ["from os import system as s\ndef f():\n    s('x')", "high python.process os.system"],
    ["import os\nos.execvp('sh', ['sh'])", "critical python.process os.execvp"],
    ["import os\nos.spawnlp(os.P_WAIT, 'sh')", "critical python.process os.spawnlp"],
    ["import pty\npty.spawn('/bin/sh')", "critical python.process pty.spawn"],
    ["import posix\nposix.system('x')", "critical python.process os.system"],
    ["from os import *\nsystem('x')", "critical python.process os.system"],
    ["import sys\nsys.modules['os'].system('x')", "critical python.process os.system"],
    ["def f():\n    eval(expr)", "high python.dynamic-code builtins.eval"],
    [
      "import importlib\nimportlib.import_module(name)",
      "critical python.dynamic-code importlib.import_module",
    ],
    [
      "import marshal\ndef f(b):\n    return marshal.loads(b)",
      "high python.dynamic-code marshal.loads",
    ],
    [
      "import types\ndef f(c):\n    return types.FunctionType(c, {})",
      "high python.dynamic-code types.FunctionType",
    ],
    ["import socket\ndef f():\n    socket.socket()", "medium python.network socket.socket"],
    [
      "import socket\ns = socket.create_connection(('x', 1))",
      "high python.network socket.create_connection",
    ],
    [
      "import urllib.request\ndef f(u):\n    urllib.request.urlopen(u)",
      "medium python.network urllib.request.urlopen",
    ],
    [
      "import requests\ndef f():\n    requests.get('http://x')",
      "medium python.network requests.get",
    ],
    [
      "import http.client\ndef f():\n    http.client.HTTPSConnection('x')",
      "medium python.network http.client.HTTPSConnection",
    ],
    ["def f():\n    open('/etc/cron.d/x', 'w')", "high python.file-write builtins.open"],
    ["def f():\n    open('../../.bashrc', mode='a')", "high python.file-write builtins.open"],
    ["import shutil\ndef f():\n    shutil.rmtree(p)", "high python.file-write shutil.rmtree"],
    [
      "from pathlib import Path\nPath('/etc/x').write_text('y')",
      "critical python.file-write pathlib.Path.write_text",
    ],
    [
      "import pickle\ndef f(fh):\n    return pickle.load(fh)",
      "medium python.unsafe-load pickle.load",
    ],
    ["import torch\ndef f(p):\n    return torch.load(p)", "medium python.unsafe-load torch.load"],
    ["import numpy as np\nnp.load(p, allow_pickle=True)", "medium python.unsafe-load numpy.load"],
    ["import yaml\nyaml.load(s)", "medium python.unsafe-load yaml.load"],
  ])("%s", (src, expected) => {
    expect(summary(src)).toContain(expected);
  });

  it("accepts the safe spellings", () => {
    expect(run("import torch\ntorch.load(p, weights_only=True)")).toEqual([]);
    expect(run("import yaml\nyaml.load(s, Loader=yaml.SafeLoader)")).toEqual([]);
    expect(run("import numpy as np\nnp.load(p)")).toEqual([]);
    expect(run("import importlib\nm = importlib.import_module('json')")).toEqual([]);
    expect(run("def f():\n    open('out/result.txt', 'w')")).toEqual([]);
  });

  it("follows aliases assigned from dangerous names and reports the reference too", () => {
    const out = summary("import subprocess\nrun = subprocess.run\nrun(['x'])");
    expect(out).toContain("high python.process subprocess.run");
    expect(out).toContain("critical python.process subprocess.run");
  });

  it("reports references passed on to be called later", () => {
    expect(
      summary("import os, threading\nthreading.Thread(target=os.system, args=('x',)).start()"),
    ).toContain("high python.process os.system");
  });

  it("rates calls by when they run: import, function, __main__", () => {
    const src =
      "import os\nos.system('a')\ndef f():\n    os.system('b')\nif __name__ == '__main__':\n    os.system('c')\nelse:\n    os.system('d')";
    const f = run(src);
    expect(f.map((x) => [x.message.slice(0, 7), x.severity])).toEqual([
      ["Line 2:", "critical"],
      ["Line 4:", "high"],
      ["Line 6:", "high"],
      ["Line 8:", "critical"],
    ]);
  });

  it("names __import__ and the calls made through it", () => {
    const out = summary("__import__('os').popen('id')");
    expect(out).toContain("critical python.process os.popen");
    expect(out).toContain("critical python.dynamic-code builtins.__import__");
  });
});

describe("obfuscation", () => {
  const payload = "import os; os.system('touch \"$CANARY\"')";
  const b64 = btoa(payload);

  it("decodes exec(base64.b64decode(...)) and analyses the payload", () => {
    const f = run(`import base64\nexec(base64.b64decode("${b64}"))`);
    const obf = f.find((x) => x.rule === "python.obfuscation");
    expect(obf?.severity).toBe("critical");
    expect(obf?.evidence?.pseudocode).toContain(payload);
    const inner = f.find((x) => x.rule === "python.process");
    expect(inner?.severity).toBe("critical");
    expect(inner?.evidence?.global).toBe("os.system");
    expect(inner?.evidence?.pseudocode).toContain("CANARY");
    expect(inner?.message).toMatch(
      /^Line 2: In the code `exec` runs here \(decoded from base64.b64decode\)/,
    );
  });

  it("decodes through aliases, .decode(), hex and rot13", () => {
    const hex = [...payload].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
    for (const src of [
      `from base64 import b64decode as d\nexec(d("${b64}").decode())`,
      `exec(bytes.fromhex("${hex}"))`,
      `import codecs\nexec(codecs.decode(${JSON.stringify(rot13(payload))}, "rot13"))`,
    ]) {
      const f = run(src);
      expect(
        f.map((x) => `${x.severity} ${x.rule}`),
        src,
      ).toContain("critical python.obfuscation");
      expect(
        f.map((x) => x.evidence?.global),
        src,
      ).toContain("os.system");
    }
  });

  it("flags exec of data it cannot decode here", () => {
    for (const src of [
      "import zlib\nexec(zlib.decompress(blob))",
      "exec(''.join(chr(c) for c in codes))",
      `exec("${"QUJD".repeat(30)}")`,
      "exec(s[::-1])",
    ]) {
      expect(summary(src), src).toContain("critical python.obfuscation builtins.exec");
    }
  });

  it("analyses code in exec'd string literals", () => {
    const out = summary("exec('import os\\nos.system(\"x\")')");
    expect(out).toContain("critical python.dynamic-code builtins.exec");
    expect(out).toContain("critical python.process os.system");
  });

  it("flags computed lookups of builtins and dangerous modules", () => {
    expect(summary("def f(p):\n    getattr(__builtins__, 'ex' + 'ec')(p)")).toEqual(
      expect.arrayContaining([
        "high python.obfuscation builtins.exec",
        "high python.dynamic-code builtins.exec",
      ]),
    );
    expect(summary("import os\ndef f(n):\n    return getattr(os, n)")).toContain(
      "high python.obfuscation os.*",
    );
    expect(summary("def f(c):\n    __builtins__.__dict__['exec'](c)")).toContain(
      "high python.dynamic-code builtins.exec",
    );
    expect(summary("import codecs\nname = codecs.decode('flfgrz', 'rot_13')")).toContain(
      "high python.obfuscation codecs.decode",
    );
    expect(summary("n = chr(115) + chr(121) + chr(115) + chr(116)")).toContain(
      "high python.obfuscation builtins.chr",
    );
  });
});

describe("positions and parse errors", () => {
  it("reports lines and UTF-8 byte offsets", () => {
    const src = "# héllo ✓\nimport os\nx = 'é'; os.system('y')\n";
    const [f] = run(src);
    expect(f?.message).toMatch(/^Line 3:/);
    const prefix = "# héllo ✓\nimport os\nx = 'é'; ";
    expect(f?.offset).toBe(new TextEncoder().encode(prefix).length);
  });

  it("reports a syntax error as info and still analyses the rest", () => {
    const out = summary("import os\ndef f(:\n    pass\nos.system('x')\n");
    expect(out).toContain("info python.syntax-error ");
    expect(out).toContain("critical python.process os.system");
  });
});

describe("isOutsidePath", () => {
  it.each([
    ["/etc/passwd", true],
    ["~/.bashrc", true],
    ["C:\\Windows\\x", true],
    ["\\\\server\\share", true],
    ["../x", true],
    ["a/../../b", true],
    ["out/x.txt", false],
    ["x..y", false],
  ])("%s → %s", (path, outside) => {
    expect(isOutsidePath(path)).toBe(outside);
  });
});

describe("robustness", () => {
  it("never throws on arbitrary text and stays bounded", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        const report = analysePythonSource(text);
        expect(Array.isArray(report.findings)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on Python-like token soup", () => {
    const token = fc.constantFrom(
      "exec",
      "eval",
      "(",
      ")",
      "[",
      "]",
      "'a'",
      "b'x'",
      "base64.b64decode",
      "getattr",
      ",",
      "__builtins__",
      "os",
      ".",
      "system",
      "import",
      "from",
      "as",
      "\n",
      "    ",
      ":",
      "def",
      "f",
      "=",
      "+",
      "chr(1)",
      "[::-1]",
      "lambda",
      "if",
      "__name__ == '__main__'",
      "'''",
      "\\",
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 80 }), (tokens) => {
        analysePythonSource(tokens.join(" "));
      }),
      { numRuns: 300 },
    );
  });

  it("handles deep nesting and long chains without overflowing", () => {
    const deep = `exec(${"(".repeat(20_000)}x${")".repeat(20_000)})`;
    expect(summary(deep)).toContain("critical python.dynamic-code builtins.exec");
    const chain = `x = a${".b".repeat(20_000)}\nexec(${"'a' + ".repeat(5_000)}'b')`;
    expect(() => analysePythonSource(chain)).not.toThrow();
    const nested = `exec(${"base64.b64decode(".repeat(200)}'QQ=='${")".repeat(200)})`;
    expect(() => analysePythonSource(`import base64\n${nested}`)).not.toThrow();
  });
});
