import { describe, expect, it } from "vitest";
import { memorySource } from "../../core/byte-source.js";
import type { Probe } from "../types.js";
import {
  analyseTorchServeManifest,
  detectTorchServeManifest,
  handlerModule,
} from "./torchserve-manifest.js";

const enc = new TextEncoder();
const probe = (s: string): Probe => {
  const b = enc.encode(s);
  return { head: b, tail: b, size: b.length };
};
const manifest = (model: Record<string, string>) =>
  JSON.stringify({ runtime: "python", model, archiverVersion: "0.9.0" });
const analyse = (s: string) =>
  analyseTorchServeManifest({
    file: "x.mar",
    member: ["MAR-INF/MANIFEST.json"],
    source: memorySource(enc.encode(s)),
  });

describe("TorchServe manifests", () => {
  it("detects MANIFEST.json by its keys", () => {
    expect(detectTorchServeManifest(probe(manifest({ handler: "h.py" })))).toBe(true);
    expect(detectTorchServeManifest(probe('{"runtime": "python", "model": {}}'))).toBe(true);
    expect(detectTorchServeManifest(probe('{"model_type": "bert"}'))).toBe(false);
  });

  it("splits handler references", () => {
    expect(handlerModule("handler.py")).toEqual({ module: "handler", entry: null });
    expect(handlerModule("pkg/my_handler.py:entry")).toEqual({
      module: "pkg.my_handler",
      entry: "entry",
    });
  });

  it("names a custom handler, the model file and requirements", async () => {
    const a = await analyse(
      manifest({
        handler: "handler.py:handle",
        modelFile: "model.py",
        requirementsFile: "requirements.txt",
        serializedFile: "m.pt",
      }),
    );
    expect(a.findings.map((f) => [f.rule, f.severity, f.evidence?.global])).toEqual([
      ["torchserve.handler", "info", "handler"],
      ["torchserve.handler", "info", "model"],
      ["torchserve.requirements", "low", undefined],
    ]);
    expect(a.findings[0]?.message).toContain("TorchServe runs this handler's code");
    expect(a.details).toMatchObject({ handler: "handler.py:handle", serializedFile: "m.pt" });
  });

  it("tells a built-in handler apart", async () => {
    const a = await analyse(manifest({ handler: "image_classifier" }));
    expect(a.findings[0]?.evidence?.global).toBe("ts.torch_handler.image_classifier");
  });

  it("is not this format without a model object", async () => {
    expect((await analyse('{"runtime": "python", "model": 3}')).notThisFormat).toBe(true);
  });
});
