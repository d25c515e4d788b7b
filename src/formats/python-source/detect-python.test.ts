import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { detectHfConfig, detectNemoConfig, detectTorchServeManifest } from "../hf-config/index.js";
import { detectFlaxMsgpack } from "../msgpack/index.js";
import type { Probe } from "../types.js";
import { detectPythonSource } from "./detect-python.js";
import { decodeTextHead, pickleFailsOnFirstOpcode } from "./text-head.js";

const PROBE = 64 * 1024 + 22;
const enc = new TextEncoder();
const probe = (bytes: Uint8Array): Probe => ({
  head: bytes.subarray(0, PROBE),
  tail: bytes.subarray(Math.max(0, bytes.length - PROBE)),
  size: bytes.length,
});
const text = (s: string) => probe(enc.encode(s));

describe("detectPythonSource", () => {
  it.each([
    ["import os\n", true],
    ["from .configuration_x import XConfig\n", true],
    ["#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\nimport sys\n", true],
    ['"""Module docstring\n\nwith lines."""\n\nimport torch\n', true],
    ["# coding=utf-8\n# License\nr'''doc'''\nfrom torch import nn\n", true],
    ["def handle(data, context):\n    return data\n", true],
    ["class Net(nn.Module):\n    pass\n", true],
    ["__all__ = ['x']\nimport os\n", true],
    ["'One-line docstring.'\nimport os\n", true],
    ["# Title\n\nSome prose about the model.\n\n```python\nimport torch\n```\n", false],
    ['{"model_type": "bert"}\n', false],
    ["model:\n  _target_: x.Y\nimport: 3\n", false],
    ["cos\nsystem\n(S'ls'\ntR.", false],
    ["Vimport os\n(S'x'\ntR.\nimport os\n", false],
    ["import os\x00\n", false],
    ["", false],
    ["x = 1\n", false],
  ])("%j → %s", (source, expected) => {
    expect(detectPythonSource(text(source))).toBe(expected);
  });

  it("accepts a head that cuts a multi-byte character of a longer file", () => {
    const bytes = enc.encode(`import os\n# ${"é".repeat(PROBE)}\n`);
    expect(detectPythonSource(probe(bytes))).toBe(true);
  });

  it("never throws and never fires on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        expect(detectPythonSource(probe(bytes))).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it("never throws on random text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 500 }), (s) => {
        detectPythonSource(text(s));
      }),
      { numRuns: 500 },
    );
  });
});

describe("pickleFailsOnFirstOpcode", () => {
  it.each([
    ["import os", true],
    ["class Foo(nn.Module):", true],
    ["def f():", true],
    ["# comment", true],
    ["cos\nsystem", false],
    ["ibuiltins\nexec", false],
    ["p12\n", false],
    ["pass", true],
    ["Vx: 1\n", false],
    ["\x80\x04", false],
  ])("%j → %s", (s, expected) => {
    expect(pickleFailsOnFirstOpcode(Uint8Array.from(s, (c) => c.charCodeAt(0)))).toBe(expected);
  });
});

describe("decodeTextHead", () => {
  it("refuses control bytes and invalid UTF-8, allows a cut character only when truncated", () => {
    expect(decodeTextHead(enc.encode("a\tb\r\n"), false)).toBe("a\tb\r\n");
    expect(decodeTextHead(Uint8Array.of(0x61, 0x00), false)).toBeNull();
    expect(decodeTextHead(Uint8Array.of(0x61, 0xff), false)).toBeNull();
    const cut = enc.encode("aé").subarray(0, 2);
    expect(decodeTextHead(cut, false)).toBeNull();
    expect(decodeTextHead(cut, true)).toBe("a");
  });
});

/** Every committed fixture of the other formats: none may be taken by these text/msgpack detectors. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe("no cross-detection on other formats' fixtures", () => {
  const root = join(import.meta.dirname, "../../../test/fixtures");
  const others = ["pickle", "torch", "joblib", "numpy", "tar", "zip"]
    .flatMap((d) => {
      try {
        return filesUnder(join(root, d));
      } catch {
        return [];
      }
    })
    .filter((f) => !/\.(json|ts|md)$/.test(f));
  it("has fixtures to check", () => {
    expect(others.length).toBeGreaterThan(20);
  });
  it.each(others.map((f) => [f.slice(root.length + 1), f]))("%s", (_name, file) => {
    const p = probe(readFileSync(file));
    expect(detectPythonSource(p)).toBe(false);
    expect(detectHfConfig(p)).toBe(false);
    expect(detectTorchServeManifest(p)).toBe(false);
    expect(detectNemoConfig(p)).toBe(false);
    expect(detectFlaxMsgpack(p)).toBe(false);
  });
});
