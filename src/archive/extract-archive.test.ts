import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { after, before, describe, it } from "node:test";
import { createGzip } from "node:zlib";
import tar from "tar-stream";
import { FerryError } from "../errors.js";
import { extractArchive } from "./extract-archive.js";

const MiB = 1024 * 1024;

/** A tar header as `tar.pack()` takes it. */
type TestHeader = Partial<tar.Header> & { name: string };

/** One entry for `tarGz`: a body for files, a size for streamed zeros, a link target for links. */
type TestEntry = TestHeader & { body?: string; zeros?: number };

/** Builds a gzip-compressed tarball in memory, the way the forges serve one. */
async function tarGz(entries: TestEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const compressed = buffer(pack.pipe(createGzip()));
  for (const { body, zeros, ...header } of entries) {
    if (zeros !== undefined) await writeZeros(pack, header, zeros);
    else
      await new Promise<void>((resolve, reject) => pack.entry(header, body ?? "", (e) => (e ? reject(e) : resolve())));
  }
  pack.finalize();
  return compressed;
}

/** Streams `size` zero bytes into one entry without holding them in memory. */
async function writeZeros(pack: tar.Pack, header: TestHeader, size: number): Promise<void> {
  const chunk = Buffer.alloc(MiB);
  const done = new Promise<void>((resolve, reject) => {
    const entry = pack.entry({ ...header, size }, (e) => (e ? reject(e) : resolve()));
    void (async () => {
      for (let left = size; left > 0; left -= chunk.length) {
        const piece = chunk.subarray(0, Math.min(left, chunk.length));
        if (left <= chunk.length) entry.end(piece);
        else if (!entry.write(piece)) await new Promise<void>((r) => entry.once("drain", () => r()));
      }
    })();
  });
  return done;
}

/** Expects a permanent FerryError whose message matches `pattern`. */
async function rejectsPermanent(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FerryError, `expected a FerryError, got ${String(error)}`);
    assert.equal(error.kind, "permanent");
    assert.match(error.message, pattern);
    return true;
  });
}

/** Lists every path under `dir`, relative and sorted, directories ending in `/`. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.map((e) => path.relative(dir, path.join(e.parentPath, e.name)) + (e.isDirectory() ? "/" : "")).sort();
}

describe("extractArchive", () => {
  let work: string;
  let count = 0;
  const freshDest = () => path.join(work, `dest-${++count}`);

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), "ferry-extract-"));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("extracts files and strips the top-level directory", async () => {
    const archive = await tarGz([
      { name: "owner-repo-abc123/", type: "directory" },
      { name: "owner-repo-abc123/README.md", body: "hello\n" },
      { name: "owner-repo-abc123/deploy/", type: "directory" },
      { name: "owner-repo-abc123/deploy/app.yaml", body: "kind: ConfigMap\n" },
      { name: "owner-repo-abc123/./deploy/nested/x.yml", body: "a: 1\n" },
    ]);
    const dest = freshDest();
    const result = await extractArchive(archive, dest);
    assert.deepEqual(result, { root: dest, files: 3, bytes: 6 + 16 + 5 });
    assert.deepEqual(await tree(dest), [
      "README.md",
      "deploy/",
      "deploy/app.yaml",
      "deploy/nested/",
      "deploy/nested/x.yml",
    ]);
    assert.equal(await readFile(path.join(dest, "deploy/app.yaml"), "utf8"), "kind: ConfigMap\n");
  });

  it("extracts an archive made by git archive, streamed from the process", async () => {
    const repo = path.join(work, "git-repo");
    await mkdir(path.join(repo, "deploy/staging"), { recursive: true });
    await writeFile(path.join(repo, "deploy/staging/app.yaml"), "apiVersion: v1\nkind: ConfigMap\n");
    await writeFile(path.join(repo, ".ferry.yml"), "version: 1\n");
    const git = (...args: string[]) =>
      execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: repo });
    git("init", "-q");
    git("add", ".");
    git("commit", "-q", "-m", "init");

    const child = spawn("git", ["archive", "--format=tar.gz", "--prefix=repo-abc/", "HEAD"], { cwd: repo });
    const dest = freshDest();
    const result = await extractArchive(child.stdout, dest);
    assert.equal(result.files, 2);
    assert.deepEqual(await tree(dest), [".ferry.yml", "deploy/", "deploy/staging/", "deploy/staging/app.yaml"]);
    assert.equal(await readFile(path.join(dest, ".ferry.yml"), "utf8"), "version: 1\n");
  });

  it("refuses an absolute path and removes what it wrote", async () => {
    const archive = await tarGz([
      { name: "repo/ok.yaml", body: "a: 1\n" },
      { name: "/etc/evil", body: "x" },
    ]);
    const dest = freshDest();
    await rejectsPermanent(extractArchive(archive, dest), /archive entry \/etc\/evil: absolute path/);
    assert.equal(existsSync(dest), false);
  });

  it("refuses a .. segment", async () => {
    const archive = await tarGz([
      { name: "repo/ok.yaml", body: "a: 1\n" },
      { name: "repo/../../evil", body: "x" },
    ]);
    const dest = freshDest();
    await rejectsPermanent(
      extractArchive(archive, dest),
      /archive entry repo\/\.\.\/\.\.\/evil: path .* contains \.\./,
    );
    assert.equal(existsSync(dest), false);
    assert.equal(existsSync(path.join(work, "evil")), false);
  });

  it("refuses an entry outside the top-level directory", async () => {
    const archive = await tarGz([
      { name: "repo/ok.yaml", body: "a: 1\n" },
      { name: "other/evil", body: "x" },
    ]);
    const dest = freshDest();
    await rejectsPermanent(
      extractArchive(archive, dest),
      /archive entry other\/evil: outside the archive's top-level directory repo\//,
    );
    assert.equal(existsSync(dest), false);
  });

  it("refuses a symlink pointing outside the tree", async () => {
    for (const linkname of ["../../etc/passwd", "/etc/passwd", "a/../../.."]) {
      const archive = await tarGz([
        { name: "repo/ok.yaml", body: "a: 1\n" },
        { name: "repo/deploy/link", type: "symlink", linkname },
      ]);
      const dest = freshDest();
      await rejectsPermanent(
        extractArchive(archive, dest),
        /archive entry repo\/deploy\/link: symlink to .* points outside the repository/,
      );
      assert.equal(existsSync(dest), false);
    }
  });

  it("refuses a hard link pointing outside the tree", async () => {
    for (const linkname of ["/etc/passwd", "other/file", "repo/../../x"]) {
      const archive = await tarGz([
        { name: "repo/ok.yaml", body: "a: 1\n" },
        { name: "repo/hard", type: "link", linkname },
      ]);
      const dest = freshDest();
      await rejectsPermanent(
        extractArchive(archive, dest),
        /archive entry repo\/hard: hard link to .* points outside the repository/,
      );
      assert.equal(existsSync(dest), false);
    }
  });

  it("skips links that stay inside the tree, and devices and fifos", async () => {
    const archive = await tarGz([
      { name: "repo/deploy/app.yaml", body: "a: 1\n" },
      { name: "repo/deploy/sym.yaml", type: "symlink", linkname: "app.yaml" },
      { name: "repo/sym-dir", type: "symlink", linkname: "deploy" },
      { name: "repo/hard.yaml", type: "link", linkname: "repo/deploy/app.yaml" },
      { name: "repo/fifo", type: "fifo" },
      { name: "repo/dev", type: "character-device", devmajor: 1, devminor: 3 },
    ]);
    const dest = freshDest();
    const result = await extractArchive(archive, dest);
    assert.equal(result.files, 1);
    assert.deepEqual(await tree(dest), ["deploy/", "deploy/app.yaml"]);
    assert.ok((await lstat(path.join(dest, "deploy/app.yaml"))).isFile());
  });

  it("refuses more entries than maxFiles", async () => {
    const entries = Array.from({ length: 6 }, (_, i) => ({ name: `repo/f${i}.yaml`, body: "a: 1\n" }));
    const dest = freshDest();
    await rejectsPermanent(extractArchive(await tarGz(entries), dest, { maxFiles: 5 }), /more than 5 entries/);
    assert.equal(existsSync(dest), false);
  });

  it("stops a decompression bomb early without writing it all", async () => {
    const archive = await tarGz([{ name: "repo/bomb", zeros: 300 * MiB }]);
    assert.ok(archive.length < 2 * MiB, `bomb compresses to ${archive.length} bytes`);
    let consumed = 0;
    const input = Readable.from(
      (function* () {
        for (let at = 0; at < archive.length; at += 16 * 1024) {
          const chunk = archive.subarray(at, at + 16 * 1024);
          consumed += chunk.length;
          yield chunk;
        }
      })(),
    );
    const dest = freshDest();
    const started = Date.now();
    await rejectsPermanent(
      extractArchive(input, dest, { maxBytes: 10 * MiB, maxFileBytes: 100 * MiB }),
      /archive entry repo\/bomb: archive larger than the total limit/,
    );
    assert.ok(consumed < archive.length / 2, `read ${consumed} of ${archive.length} compressed bytes`);
    assert.ok(Date.now() - started < 5000);
    assert.equal(existsSync(dest), false);
  });

  it("stops a bomb hidden in tar padding after the last entry", async () => {
    const archive = await tarGz([{ name: "repo/a.yaml", body: "a: 1\n" }]);
    const padding = await buffer(Readable.from([Buffer.alloc(30 * MiB)]).pipe(createGzip()));
    const dest = freshDest();
    // Concatenated gzip members decompress as one stream: the tarball, then 30 MiB of zero blocks.
    await rejectsPermanent(
      extractArchive(Buffer.concat([archive, padding]), dest, { maxBytes: 5 * MiB, maxFiles: 10 }),
      /decompresses to more than/,
    );
    assert.equal(existsSync(dest), false);
  });

  it("refuses a file over maxFileBytes", async () => {
    const archive = await tarGz([
      { name: "repo/small.yaml", body: "a: 1\n" },
      { name: "repo/big.bin", zeros: 2 * MiB },
    ]);
    const dest = freshDest();
    await rejectsPermanent(
      extractArchive(archive, dest, { maxFileBytes: MiB }),
      /archive entry repo\/big.bin: larger than the 1048576-byte limit per file/,
    );
    assert.equal(existsSync(dest), false);
  });

  it("refuses a corrupt or truncated gzip as permanent", async () => {
    const archive = await tarGz([{ name: "repo/a.yaml", body: "a: 1\n".repeat(1000) }]);
    for (const input of [Buffer.from("this is not gzip at all"), archive.subarray(0, archive.length - 20)]) {
      const dest = freshDest();
      await rejectsPermanent(extractArchive(input, dest), /not a valid gzip-compressed tar archive/);
      assert.equal(existsSync(dest), false);
    }
  });

  it("refuses a gzip that does not hold a tar archive", async () => {
    const notTar = await buffer(Readable.from([Buffer.from("x".repeat(2048))]).pipe(createGzip()));
    const dest = freshDest();
    await rejectsPermanent(extractArchive(notTar, dest), /not a valid gzip-compressed tar archive: Invalid tar header/);
    assert.equal(existsSync(dest), false);
  });

  it("refuses the same file twice", async () => {
    const archive = await tarGz([
      { name: "repo/a.yaml", body: "a: 1\n" },
      { name: "repo/a.yaml", body: "a: 2\n" },
    ]);
    const dest = freshDest();
    await rejectsPermanent(extractArchive(archive, dest), /archive entry repo\/a.yaml: cannot be written \(EEXIST\)/);
    assert.equal(existsSync(dest), false);
  });

  it("reports a failing input stream as transient", async () => {
    const archive = await tarGz([{ name: "repo/a.yaml", body: "a: 1\n" }]);
    const input = new Readable({
      read() {
        this.push(archive.subarray(0, 10));
        this.destroy(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
      },
    });
    const dest = freshDest();
    await assert.rejects(extractArchive(input, dest), (error: unknown) => {
      assert.ok(error instanceof FerryError);
      assert.equal(error.kind, "transient");
      return true;
    });
    assert.equal(existsSync(dest), false);
  });

  it("refuses a destination that already exists and leaves it alone", async () => {
    const dest = freshDest();
    await mkdir(dest);
    await writeFile(path.join(dest, "keep"), "x");
    const archive = await tarGz([{ name: "repo/a.yaml", body: "a: 1\n" }]);
    await rejectsPermanent(extractArchive(archive, dest), /must be a new directory \(EEXIST\)/);
    assert.equal(await readFile(path.join(dest, "keep"), "utf8"), "x");
  });
});
