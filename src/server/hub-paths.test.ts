import { describe, expect, it } from "vitest";
import { parseHfUri, parseResolvePath, unquoteEtag } from "./hub-paths.js";

describe("parseResolvePath", () => {
  it("reads model, dataset and legacy single-name paths", () => {
    expect(parseResolvePath("/acme/m/resolve/main/sub/dir/model.bin")).toMatchObject({
      repoType: "model",
      repo: "acme/m",
      prefix: "",
      revision: "main",
      path: "sub/dir/model.bin",
      kind: "resolve",
    });
    expect(parseResolvePath("/datasets/acme/d/resolve/v1.0/train.pkl")).toMatchObject({
      repoType: "dataset",
      repo: "acme/d",
      prefix: "datasets/",
      path: "train.pkl",
    });
    expect(parseResolvePath("/gpt2/resolve/main/config.json")).toMatchObject({
      repo: "gpt2",
      path: "config.json",
    });
    expect(parseResolvePath("/acme/m/resolve/refs%2Fpr%2F1/a%20b.bin")).toMatchObject({
      revision: "refs/pr/1",
      path: "a b.bin",
      rawPath: "a%20b.bin",
    });
  });

  it("refuses dot segments, encoded or not, and non-download paths", () => {
    expect(parseResolvePath("/acme/m/resolve/main/../../x/y/resolve/main/f")).toBeNull();
    expect(parseResolvePath("/acme/m/resolve/main/%2e%2e/%2E%2E/evil/shell.pkl")).toBeNull();
    expect(parseResolvePath("/acme/m/resolve/main/a%2Fb")).toBeNull();
    expect(parseResolvePath("/acme/m/resolve/main/")).toBeNull();
    expect(parseResolvePath("/acme/m/blob/main/f")).toBeNull();
    expect(parseResolvePath("/api/models/acme/m")).toBeNull();
    expect(parseResolvePath("/acme/m/resolve/main/%E0%A4%A")).toBeNull();
  });
});

describe("parseHfUri and unquoteEtag", () => {
  it("parses hf:// targets", () => {
    expect(parseHfUri("hf://acme/m")).toEqual({
      repoType: "model",
      repo: "acme/m",
      revision: "main",
    });
    expect(parseHfUri("hf://datasets/acme/d@v2")).toEqual({
      repoType: "dataset",
      repo: "acme/d",
      revision: "v2",
    });
    expect(parseHfUri("https://acme/m")).toBeNull();
    expect(parseHfUri("hf://a/b/c")).toBeNull();
  });
  it("unquotes strong and weak ETags", () => {
    expect(unquoteEtag('"abc"')).toBe("abc");
    expect(unquoteEtag('W/"abc"')).toBe("abc");
    expect(unquoteEtag(null)).toBeNull();
  });
});
