import { describe, expect, it } from "vitest";
import { hasEncryptedHeader, parseSltListing } from "./parse-listing.js";

const LISTING = `
7-Zip (z) 24.09 (LE) : Copyright (c) 1999-2024 Igor Pavlov : 2024-11-29

Listing archive: /archive/input.7z

--
Path = /archive/input.7z
Type = 7z
WARNINGS:
There are data after the end of archive

----------
Path = dir
Size = 0
Attributes = D drwxrwxrwx
Encrypted = -

Path = dir/a.pkl
Size = 51
Attributes = A -rw-rw-rw-
Encrypted = +
Path = dir/b.bin
Size = 7
Encrypted = -
`.split("\n");

describe("parseSltListing", () => {
  it("parses entries, directories, encryption and problems", () => {
    const listing = parseSltListing(LISTING);
    expect(listing.entries).toEqual([
      { path: "dir", size: 0, isDirectory: true, encrypted: false },
      { path: "dir/a.pkl", size: 51, isDirectory: false, encrypted: true },
      { path: "dir/b.bin", size: 7, isDirectory: false, encrypted: false },
    ]);
    expect(listing.sizes).toEqual([0, 51, 7]);
    expect(listing.problems).toEqual(["WARNINGS:", "There are data after the end of archive"]);
  });

  it("returns nothing for output without a listing", () => {
    expect(parseSltListing(["oops"]).entries).toEqual([]);
  });
});

describe("hasEncryptedHeader", () => {
  it("finds the 7zAES coder in an encoded header, and is safe on junk", () => {
    const archive = new Uint8Array(32 + 16);
    const view = new DataView(archive.buffer);
    view.setBigUint64(12, 0n, true);
    view.setBigUint64(20, 16n, true);
    archive.set([0x17, 0x06, 0x00, 0x06, 0xf1, 0x07, 0x01], 32);
    expect(hasEncryptedHeader(archive)).toBe(true);
    archive[32] = 0x01;
    expect(hasEncryptedHeader(archive)).toBe(false);
    view.setBigUint64(12, 0xffffffffffffffffn, true);
    expect(hasEncryptedHeader(archive)).toBe(false);
    expect(hasEncryptedHeader(new Uint8Array(3))).toBe(false);
  });
});
