/**
 * sops: what decrypting SOPS files adds to a release, measured where it happens: the render of an
 * environment of 100 Secret manifests, each its own SOPS file (age, `--encrypted-regex` on the
 * values), through the renderer a release uses (`createRenderer` with sops: private copy of the
 * tree, one `sops decrypt` per file, decrypted values marked for masking). Everything after the
 * render (dry-run, apply, health) is the same for the decrypted objects as for plain ones.
 *
 * - render-100-encrypted-files: median of RUNS renders, decrypting 4 files at a time (the default).
 * - render-100-encrypted-files-one-at-a-time: the same with one sops process at a time.
 * - render-100-encrypted-files-8-at-a-time: the same, 8 at a time.
 * - render-100-encrypted-files-again: a render by a renderer that decrypted the same files before
 *   (another cluster of a fleet: decryptions are kept per ciphertext and key, so sops does not run).
 *
 * Baseline for each: the same 100 manifests unencrypted, rendered by the same renderer, same run.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { createRenderer } from "../src/render/select-renderer.js";
import { benchCase, type BenchCase, type BenchContext } from "./bench-case.js";

const exec = promisify(execFile);
const FILES = 100;
const RUNS = 5;

/** The directory scripts/renderers builds sops and age-keygen into (cached after the first build). */
function renderersDir(): string {
  return execFileSync(new URL("../scripts/renderers", import.meta.url).pathname, { encoding: "utf8" }).trim();
}

/** Secret `db-<n>` as a manifest. */
function secretYaml(n: number): string {
  return stringify({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: `db-${n}` },
    stringData: { password: `password-${n}-${"x".repeat(24)}`, user: `user-${n}` },
  });
}

/** Milliseconds each of RUNS calls of `f` took. */
async function timed(f: () => Promise<unknown>): Promise<number[]> {
  await f(); // warm-up: page cache and the binary loaded once
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await f();
    times.push(performance.now() - start);
  }
  return times;
}

/** This benchmark renders only: `npm run bench -- sops` starts no control plane. */
export const kubernetes = false;

/** Runs the benchmark. */
export async function run(context: Pick<BenchContext, "workDir">): Promise<BenchCase[]> {
  const bin = renderersDir();
  const sops = join(bin, "sops");
  const keygen = await exec(join(bin, "age-keygen"), []);
  const identity = /^AGE-SECRET-KEY-1[0-9A-Z]+$/m.exec(keygen.stdout)?.[0] ?? "";
  const recipient = /^# public key: (age1[0-9a-z]+)$/m.exec(keygen.stdout)?.[1] ?? "";
  const keyFile = join(context.workDir, "sops-bench-key.txt");
  await writeFile(keyFile, `${identity}\n`);

  const plainRoot = join(context.workDir, "sops-plain");
  const encryptedRoot = join(context.workDir, "sops-encrypted");
  await mkdir(join(plainRoot, "deploy"), { recursive: true });
  await mkdir(join(encryptedRoot, "deploy"), { recursive: true });
  for (let n = 0; n < FILES; n++) {
    const file = join(plainRoot, "deploy", `secret-${n}.yaml`);
    await writeFile(file, secretYaml(n));
    const args = ["encrypt", "--age", recipient, "--encrypted-regex", "^(data|stringData)$", file];
    const { stdout } = await exec(sops, args, { cwd: context.workDir });
    await writeFile(join(encryptedRoot, "deploy", `secret-${n}.yaml`), stdout);
  }

  const env = { name: "bench", path: "deploy", namespace: "bench", render: "plain" as const };
  const source = { repository: "acme/bench" };
  const renderer = (concurrency?: number) =>
    createRenderer({
      kustomize: "kustomize",
      helm: "helm",
      sops: {
        command: sops,
        config: { keys: [{ repositories: ["acme/*"], age: { file: keyFile } }] },
        ...(concurrency === undefined ? {} : { concurrency }),
      },
    });
  const render = async (root: string, concurrency?: number) => {
    const rendered = await renderer(concurrency).render(root, env, source);
    if (rendered.length !== FILES) throw new Error(`rendered ${rendered.length} objects, not ${FILES}`);
    if (root === encryptedRoot && !rendered.every((r) => r.secrets !== undefined))
      throw new Error("not every object was decrypted");
  };

  const baseline = `render of the same ${FILES} files unencrypted`;
  const cases: BenchCase[] = [];
  for (const [name, concurrency] of [
    ["render-100-encrypted-files", undefined],
    ["render-100-encrypted-files-one-at-a-time", 1],
    ["render-100-encrypted-files-8-at-a-time", 8],
  ] as const) {
    const plain = await timed(() => render(plainRoot, concurrency));
    const encrypted = await timed(() => render(encryptedRoot, concurrency));
    cases.push(benchCase(name, "ms", encrypted, baseline, plain));
  }
  const warm = renderer();
  await warm.render(encryptedRoot, env, source);
  const again = await timed(() => warm.render(encryptedRoot, env, source));
  const plain = await timed(() => render(plainRoot));
  cases.push(benchCase("render-100-encrypted-files-again", "ms", again, baseline, plain));
  return cases;
}
