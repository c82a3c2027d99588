import { FerryError } from "../errors.js";
import type { RenderedObject, Renderer, RenderSource, RenderTarget } from "../render/types.js";
import { decryptTree, FORK_REASON, type DecryptedTree } from "./decrypt-tree.js";
import { ENCRYPTED_VALUE } from "./decrypted-values.js";
import { DecryptionCache } from "./decryption-cache.js";
import { maskText, secretForms } from "./secret-values.js";
import type { SopsConfig } from "./sops-keys.js";

/** The `sops` binary, the key grants, and the limits decryption runs under. */
export interface DecryptingRendererOptions {
  /** The `sops` binary: a path, or a name looked up on PATH. */
  command: string;
  /** The server config's `sops:` section. */
  config: SopsConfig;
  /** The environment `age: { env }` keys are read from; default the process's. */
  env?: NodeJS.ProcessEnv;
  /** Longest one file's decryption may take; default 30 s. */
  timeoutMs?: number;
  /** How many files are decrypted at once; default 4. */
  concurrency?: number;
}

/**
 * Renders with SOPS files decrypted: each render gets its own copy of the repository with the files
 * decrypted by the keys granted to its repository and environment ({@link decryptTree}), renders
 * it with `inner`, and marks every object holding a decrypted value (in any form: as is, base64, a
 * line of it) with those forms, so plans mask them and errors about the object drop them. A render
 * holding ciphertext (a file that stayed encrypted: a fork's, or one for a key not granted) fails,
 * naming the files and why, rather than applying `ENC[…]` strings; an error of the inner render is
 * scrubbed of decrypted values before it goes anywhere.
 */
export class DecryptingRenderer implements Renderer {
  private readonly cache = new DecryptionCache();

  /** Wraps `inner`, which renders the decrypted tree. */
  constructor(
    private readonly inner: Renderer,
    private readonly options: DecryptingRendererOptions,
  ) {}

  /** Renders `env.path` of `root` after decrypting the repository's SOPS files for `source` (none without it). */
  async render(root: string, env: RenderTarget, source?: RenderSource): Promise<RenderedObject[]> {
    if (source === undefined) return this.inner.render(root, env);
    const tree = await decryptTree({
      root,
      envPath: env.path,
      repository: source.repository,
      environment: env.name,
      fork: source.fork === true,
      config: this.options.config,
      env: this.options.env ?? process.env,
      command: this.options.command,
      timeoutMs: this.options.timeoutMs ?? 30_000,
      concurrency: this.options.concurrency ?? 4,
      cache: this.cache,
    });
    try {
      const forms = secretForms(tree.values);
      let rendered: RenderedObject[];
      try {
        rendered = await this.inner.render(tree.root, env);
      } catch (error) {
        if (!(error instanceof FerryError) || forms.length === 0) throw error;
        throw new FerryError(error.kind, maskText(error.message, forms));
      }
      refuseCiphertext(rendered, tree);
      return forms.length === 0 ? rendered : rendered.map((r) => marked(r, forms));
    } finally {
      await tree.dispose();
    }
  }
}

/** The object with the decrypted forms it holds listed in `secrets`. */
function marked(rendered: RenderedObject, forms: string[]): RenderedObject {
  const text = JSON.stringify(rendered.object);
  const held = forms.filter((form) => text.includes(form) || text.includes(JSON.stringify(form).slice(1, -1)));
  return held.length === 0 ? rendered : { ...rendered, secrets: held };
}

/** Throws when a rendered object still holds SOPS ciphertext or metadata, naming the files left encrypted and why. */
function refuseCiphertext(rendered: RenderedObject[], tree: DecryptedTree): void {
  const holding = rendered.filter(({ object }) => "sops" in object || ENCRYPTED_VALUE.test(JSON.stringify(object)));
  if (holding.length === 0) return;
  const sources = holding.map((r) => r.source);
  const shown =
    sources.length <= 3 ? sources.join(", ") : `${sources.slice(0, 3).join(", ")} and ${sources.length - 3} more`;
  const reasons = new Map<string, string[]>();
  for (const [file, reason] of tree.undecrypted) reasons.set(reason, [...(reasons.get(reason) ?? []), file]);
  const why =
    reasons.size === 0
      ? "no SOPS file Ferry reads holds it (Ferry decrypts .yaml, .yml, .json and .env files)"
      : [...reasons].map(([reason, files]) => `${files.join(", ")} not decrypted: ${reason}`).join("; ");
  const fork = [...tree.undecrypted.values()].every((reason) => reason === FORK_REASON) && reasons.size > 0;
  throw new FerryError(
    "permanent",
    `${fork ? "not planned: " : ""}SOPS-encrypted values reached the render (${shown}), which Ferry never applies: ${why}`,
  );
}
