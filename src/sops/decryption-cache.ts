import { createHash } from "node:crypto";

/** One file's decryption: its plaintext, and the values that were encrypted in it. */
export interface Decryption {
  text: string;
  values: string[];
}

/** How many decryptions a cache keeps by default. */
const DEFAULT_MAX_ENTRIES = 2_000;

/**
 * Decryptions by (format, ciphertext, identities), the least recently used dropped past a bound, so
 * the renders of one environment on many clusters (a fleet's plan renders each) run sops once per
 * file. The identities are part of the key: a render granted other keys never gets another's
 * plaintext. A decryption asked for while it runs is shared; a failed one is not kept.
 */
export class DecryptionCache {
  private readonly entries = new Map<string, Promise<Decryption>>();

  /** A cache of at most `maxEntries` decryptions. */
  constructor(private readonly maxEntries = DEFAULT_MAX_ENTRIES) {}

  /** The decryption of `ciphertext` in `format` with `identities`, made by `decrypt` unless kept. */
  get(format: string, ciphertext: string, identities: string, decrypt: () => Promise<Decryption>): Promise<Decryption> {
    const key = createHash("sha256")
      .update(format)
      .update("\0")
      .update(ciphertext)
      .update("\0")
      .update(identities)
      .digest("hex");
    let entry = this.entries.get(key);
    if (entry !== undefined) this.entries.delete(key);
    else {
      entry = decrypt();
      entry.catch(() => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      });
    }
    this.entries.set(key, entry);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
    return entry;
  }
}
