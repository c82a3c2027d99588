import { mkdir, open, rm } from "node:fs/promises";
import path from "node:path";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import { FerryError, permanent, transient } from "../errors.js";

/** Caps that keep a hostile or oversized repository archive from filling the disk or memory. */
export interface ArchiveLimits {
  /** Most bytes all entries may hold together once decompressed; default 256 MiB. */
  maxBytes: number;
  /** Most entries of any type (files, directories, links) the archive may hold; default 20,000. */
  maxFiles: number;
  /** Most bytes a single entry may hold once decompressed; default 16 MiB. */
  maxFileBytes: number;
}

/** What `extractArchive` wrote. */
export interface ExtractedArchive {
  /** Directory holding the repository files: `dest`, since the archive's top-level directory is stripped. */
  root: string;
  /** Number of regular files written. */
  files: number;
  /** Number of bytes written across all files. */
  bytes: number;
}

const MiB = 1024 * 1024;

/** The defaults: generous for a repository of manifests, small enough that a bomb cannot fill a worker's disk. */
export const defaultArchiveLimits: ArchiveLimits = {
  maxBytes: 256 * MiB,
  maxFiles: 20_000,
  maxFileBytes: 16 * MiB,
};

/** Tar framing per entry (header, pax header, padding) allowed on top of `maxBytes` in the gunzip output. */
const FRAMING_BYTES_PER_ENTRY = 4096;

/** File-system errors caused by the archive's content rather than by the machine, so retrying cannot help. */
const CONTENT_FS_ERRORS = new Set(["EEXIST", "ENOTDIR", "EISDIR", "ENAMETOOLONG", "ELOOP"]);

/**
 * Extracts a gzip-compressed tarball, as GitHub's `/tarball/{ref}` and GitLab's `archive.tar.gz`
 * return them, into `dest`, which must not exist yet: it is created here, so nothing in it can be a
 * link planted beforehand. The single top-level directory (`owner-repo-<sha>/`) is stripped.
 *
 * Links are never created: a symlink or hard link pointing outside the tree is refused, one that
 * stays inside is skipped (manifests do not need them, and a tree without links cannot be used to
 * escape). Devices and fifos are skipped. Files are written 0644, directories 0755.
 *
 * Throws a permanent FerryError naming the entry on unsafe paths, links out of the tree, limits
 * exceeded or a corrupt archive; a transient one when reading the input or writing the disk fails.
 * On any failure `dest` is removed; a `dest` that already exists is refused and left alone.
 */
export async function extractArchive(
  input: Readable | Buffer,
  dest: string,
  limits: Partial<ArchiveLimits> = {},
): Promise<ExtractedArchive> {
  const caps = { ...defaultArchiveLimits, ...limits };
  const root = path.resolve(dest);

  // Reading starts before the first await: a stream nobody reads may be drained away (a child process's stdout is, on exit).
  // So entries are listened for before data flows; tar-stream drops an entry emitted while nobody listens.
  const source = Buffer.isBuffer(input) ? Readable.from([input]) : input;
  const extract = tar.extract();
  const entries = extract[Symbol.asyncIterator]();
  const piping = pipeline(
    source,
    createGunzip(),
    new OutputCap(caps.maxBytes + caps.maxFiles * FRAMING_BYTES_PER_ENTRY + MiB),
    extract,
  );
  // Failures surface through the entry iterator or the `await piping` below; this only stops an unhandled rejection.
  piping.catch(() => undefined);

  try {
    await mkdir(path.dirname(root), { recursive: true });
    await mkdir(root);
  } catch (error) {
    extract.destroy();
    throw permanent(`cannot extract into ${root}: it must be a new directory (${errorCode(error)})`, { cause: error });
  }

  const result: ExtractedArchive = { root, files: 0, bytes: 0 };
  try {
    let count = 0;
    let total = 0;
    let topDir: string | undefined;
    for await (const entry of { [Symbol.asyncIterator]: () => entries }) {
      const header = entry.header;
      count += 1;
      if (count > caps.maxFiles) throw permanent(`archive has more than ${caps.maxFiles} entries`);

      topDir ??= topLevelDirectory(header.name);
      const relative = entryPath(header.name, topDir);
      const budget = { file: caps.maxFileBytes, total: caps.maxBytes - total };

      if (header.type === "file" || header.type === "contiguous-file") {
        if (relative === "")
          throw permanent(`archive entry ${header.name}: a file in place of the top-level directory`);
        const bytes = await writeFile(entry, insideRoot(root, relative), header.name, budget);
        total += bytes;
        result.bytes += bytes;
        result.files += 1;
        continue;
      }
      if (header.type === "directory") {
        await mkdir(insideRoot(root, relative), { recursive: true, mode: 0o755 }).catch(contentError(header.name));
      } else if (header.type === "symlink") {
        checkSymlink(header.name, relative, header.linkname ?? "");
      } else if (header.type === "link") {
        checkHardLink(header.name, header.linkname ?? "", topDir);
      }
      // Directories, links and skipped types (devices, fifos) are not written, but any data they carry still counts.
      total += await drain(entry, header.name, budget);
    }
    await piping;
    return result;
  } catch (error) {
    // Leaving the loop destroys the tar stream, so the pipeline has settled or is about to.
    const streamError = await piping.then(
      () => undefined,
      (e: unknown) => e,
    );
    await rm(root, { recursive: true, force: true });
    throw asFerryError(firstCause(error, streamError));
  }
}

/** Which of the loop's error and the pipeline's error says what went wrong: a stream failure shows in the loop only as a destroyed entry. */
function firstCause(loopError: unknown, streamError: unknown): unknown {
  if (loopError instanceof FerryError || streamError === undefined) return loopError;
  return errorCode(streamError) === "ERR_STREAM_PREMATURE_CLOSE" ? loopError : streamError;
}

/** How many more bytes the current entry, and the archive as a whole, may hold. */
interface Budget {
  file: number;
  total: number;
}

/** The name of the archive's single top-level directory, taken from its first entry. */
function topLevelDirectory(name: string): string {
  const first = segments(name, `archive entry ${name}`)[0];
  if (first === undefined) throw permanent(`archive entry ${name}: empty path`);
  return first;
}

/** The entry's path relative to the top-level directory, after refusing absolute paths, `..` and entries outside it. */
function entryPath(name: string, topDir: string): string {
  const what = `archive entry ${name}`;
  const parts = segments(name, what);
  if (parts[0] !== topDir) throw permanent(`${what}: outside the archive's top-level directory ${topDir}/`);
  return parts.slice(1).join("/");
}

/** Splits a tar path into segments, dropping `.` and empty ones; refuses absolute paths and `..`. */
function segments(name: string, what: string): string[] {
  if (name.startsWith("/")) throw permanent(`${what}: absolute path ${name}`);
  const parts = name.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.includes("..")) throw permanent(`${what}: path ${name} contains ..`);
  return parts;
}

/** Joins `relative` onto `root`, checking once more that the result stays inside it. */
function insideRoot(root: string, relative: string): string {
  const file = path.resolve(root, relative);
  const back = path.relative(root, file);
  if (back === ".." || back.startsWith("../") || path.isAbsolute(back))
    throw permanent(`archive entry ${relative}: escapes the target directory`);
  return file;
}

/** Refuses a symlink whose target, resolved from the link's own directory, leaves the tree. */
function checkSymlink(name: string, relative: string, target: string): void {
  const escapes = permanent(`archive entry ${name}: symlink to ${target} points outside the repository`);
  if (path.isAbsolute(target)) throw escapes;
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(relative), target));
  if (resolved === ".." || resolved.startsWith("../")) throw escapes;
}

/** Refuses a hard link whose target (a path in the archive, like the entry's own) is not inside the top-level directory. */
function checkHardLink(name: string, target: string, topDir: string): void {
  try {
    entryPath(target, topDir);
  } catch (error) {
    throw permanent(`archive entry ${name}: hard link to ${target} points outside the repository`, { cause: error });
  }
}

/** Writes one file with `wx`, which fails on anything already there, counting the bytes actually decompressed. */
async function writeFile(entry: AsyncIterable<unknown>, file: string, name: string, budget: Budget): Promise<number> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o755 }).catch(contentError(name));
  const handle = await open(file, "wx", 0o644).catch(contentError(name));
  try {
    let written = 0;
    for await (const chunk of entry as AsyncIterable<Buffer>) {
      written += chunk.length;
      checkBudget(name, written, budget);
      await handle.write(chunk);
    }
    return written;
  } finally {
    await handle.close();
  }
}

/** Reads and discards an entry's data, still holding it to the limits. */
async function drain(entry: AsyncIterable<unknown>, name: string, budget: Budget): Promise<number> {
  let read = 0;
  for await (const chunk of entry as AsyncIterable<Buffer>) {
    read += chunk.length;
    checkBudget(name, read, budget);
  }
  return read;
}

/** Throws once an entry holds more than one file or the archive may. */
function checkBudget(name: string, bytes: number, budget: Budget): void {
  if (bytes > budget.file) throw permanent(`archive entry ${name}: larger than the ${budget.file}-byte limit per file`);
  if (bytes > budget.total)
    throw permanent(`archive entry ${name}: archive larger than the total limit once decompressed`);
}

/** Turns a file-system error caused by the archive's content (a duplicate, a file where a directory goes) into a permanent one. */
function contentError(name: string): (error: unknown) => never {
  return (error) => {
    if (CONTENT_FS_ERRORS.has(errorCode(error) ?? "")) {
      throw permanent(`archive entry ${name}: cannot be written (${errorCode(error)})`, { cause: error });
    }
    throw error;
  };
}

/** Format errors (gzip, tar) are permanent; I/O errors (network, disk) are transient. */
function asFerryError(error: unknown): FerryError {
  if (error instanceof FerryError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = errorCode(error);
  if (code === undefined || code.startsWith("Z_")) {
    return permanent(`not a valid gzip-compressed tar archive: ${message}`, { cause: error });
  }
  return transient(`extracting the archive failed: ${message}`, { cause: error });
}

/** The `code` of a Node error, or of its cause (as fetch wraps network errors). */
function errorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if ("code" in error && typeof error.code === "string") return error.code;
  return error.cause === undefined ? undefined : errorCode(error.cause);
}

/** Fails the stream once more than `max` bytes have passed, so a gzip bomb stops early even in tar padding. */
class OutputCap extends Transform {
  private seen = 0;

  /** Creates a cap of `max` bytes. */
  constructor(private readonly max: number) {
    super();
  }

  /** Passes `chunk` on unless the cap is exceeded. */
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) callback(permanent(`archive decompresses to more than ${this.max} bytes`));
    else callback(null, chunk);
  }
}
