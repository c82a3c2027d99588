import { once } from "node:events";
import { PassThrough } from "node:stream";
import { pipeline } from "node:stream/promises";
import { constants, createGzip, gzipSync } from "node:zlib";
import tar from "tar-stream";

/** One entry of a hand-made tarball. */
export interface TarEntry {
  /** The path exactly as written into the header (no normalisation: `..` and `/` stay). */
  name: string;
  /** Entry type (default `file`). */
  type?: "file" | "directory" | "symlink" | "link";
  /** Content of a file entry. */
  content?: string;
  /** Size of a file entry made of zeros, streamed, never held in memory (decompression bombs). */
  zeros?: number;
  /** Target of a symlink or hard link. */
  linkname?: string;
}

const MiB = 1024 * 1024;

/**
 * A gzip-compressed tarball holding exactly `entries`, in order, as a hostile forge could serve it:
 * tar-stream writes the names and link targets as given. File entries of zeros are streamed through
 * the packer and compressed at the highest level, so a 1 GiB bomb costs a megabyte.
 */
export async function tarGz(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on("data", (chunk: Buffer) => chunks.push(chunk));
  const done = pipeline(pack, createGzip({ level: constants.Z_BEST_COMPRESSION }), sink);
  for (const entry of entries) {
    const type = entry.type ?? "file";
    if (type === "file" && entry.zeros !== undefined) {
      const stream = pack.entry({ name: entry.name, type, size: entry.zeros, mode: 0o644 });
      const block = Buffer.alloc(Math.min(MiB, entry.zeros));
      for (let left = entry.zeros; left > 0; left -= block.length) {
        if (!stream.write(left >= block.length ? block : block.subarray(0, left))) await once(stream, "drain");
      }
      await new Promise<void>((resolve) => stream.end(() => resolve()));
    } else if (type === "file") {
      await new Promise<void>((resolve, reject) =>
        pack.entry({ name: entry.name, type, mode: 0o644 }, entry.content ?? "", (error) =>
          error ? reject(error) : resolve(),
        ),
      );
    } else {
      await new Promise<void>((resolve, reject) =>
        pack.entry(
          {
            name: entry.name,
            type,
            mode: type === "directory" ? 0o755 : 0o777,
            ...(entry.linkname === undefined ? {} : { linkname: entry.linkname }),
          },
          (error) => (error ? reject(error) : resolve()),
        ),
      );
    }
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/**
 * A gzip stream that inflates to `bytes` of zeros and holds no tar entry at all, made of many
 * gzip members of 1 MiB each concatenated (a gzip reader reads them as one stream): a bomb that
 * lives in what a tar reader takes for end-of-archive padding.
 */
export function zeroGzip(bytes: number): Buffer {
  const member = gzipSync(Buffer.alloc(MiB), { level: constants.Z_BEST_COMPRESSION });
  return Buffer.concat(Array.from({ length: Math.ceil(bytes / MiB) }, () => member));
}
