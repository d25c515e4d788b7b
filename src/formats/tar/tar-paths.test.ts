import { describe, expect, it } from "vitest";
import { decodeSurrogateEscape } from "./decode-surrogateescape.js";
import { hasTraversal, isAbsolutePath, linkEscapes, normalizeMemberPath } from "./tar-paths.js";

describe("normalizeMemberPath (posixpath.normpath)", () => {
  it.each([
    ["", "."],
    ["./a", "a"],
    ["a//b/", "a/b"],
    ["a/./b/../c", "a/c"],
    ["../a", "../a"],
    ["a/../../b", "../b"],
    ["/a/../..", "/"],
    ["//a", "//a"],
    ["///a", "/a"],
    ["storages", "storages"],
  ])("%j → %j", (input, output) => {
    expect(normalizeMemberPath(input)).toBe(output);
  });
});

describe("path checks", () => {
  it("finds absolute paths on every platform", () => {
    expect(isAbsolutePath("/etc/passwd")).toBe(true);
    expect(isAbsolutePath("\\\\server\\share")).toBe(true);
    expect(isAbsolutePath("C:evil")).toBe(true);
    expect(isAbsolutePath("model/data.pkl")).toBe(false);
  });

  it("finds .. segments with either separator", () => {
    expect(hasTraversal("../x")).toBe(true);
    expect(hasTraversal("a/..\\..\\x")).toBe(true);
    expect(hasTraversal("a/..b/c..")).toBe(false);
  });

  it("resolves symlinks from their folder and hard links from the root", () => {
    expect(linkEscapes("a/b/link", "../c", true)).toBe(false);
    expect(linkEscapes("a/link", "../../c", true)).toBe(true);
    expect(linkEscapes("a/link", "../c", false)).toBe(true);
    expect(linkEscapes("link", "/etc/passwd", true)).toBe(true);
    expect(linkEscapes("link", "sub/./file", false)).toBe(false);
  });
});

describe("decodeSurrogateEscape", () => {
  it("decodes UTF-8 and escapes invalid bytes as Python does", () => {
    expect(decodeSurrogateEscape(new TextEncoder().encode("été"))).toBe("été");
    expect(decodeSurrogateEscape(Uint8Array.of(0x61, 0xff, 0xe2, 0x82, 0x41))).toBe(
      "a\udcff\udce2\udc82A",
    );
    expect(decodeSurrogateEscape(Uint8Array.of(0xed, 0xa0, 0x80))).toBe("\udced\udca0\udc80");
  });
});
