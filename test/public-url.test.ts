import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { serverConfigSchema } from "../src/config/server-config.js";
import { startFerry } from "../src/ferry.js";
import { createLogger } from "../src/logger.js";
import { startTestRedis } from "./support/redis.js";
import { waitUntil } from "./support/wait-until.js";

/** A log line as pino writes it. */
interface LogLine {
  level: number;
  msg: string;
  publicUrl?: string;
}

const WARN = 40;
/** GitLab credentials: a forge Ferry posts statuses and comments to (nothing is called at start-up). */
const GITLAB = { GITLAB_URL: "http://127.0.0.1:9", GITLAB_TOKEN: "token" };

describe("links in statuses and comments", () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let dataDir: string;
  before(async () => {
    redis = await startTestRedis();
    dataDir = await mkdtemp(join(tmpdir(), "ferry-public-url-"));
  });
  after(async () => {
    await redis.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Starts and stops Ferry (web and worker) with `env` and `publicUrl`; returns its URL and its start-up log's warnings. */
  async function startUp(env: NodeJS.ProcessEnv, publicUrl?: string): Promise<{ url: string; warnings: LogLine[] }> {
    const lines: LogLine[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    const ferry = await startFerry({
      roles: { web: true, worker: true },
      config: serverConfigSchema.parse(publicUrl === undefined ? {} : { publicUrl }),
      log: createLogger({ level: "info", destination: sink }),
      port: 0,
      redisUrl: redis.url,
      dataDir,
      env,
      githubWriteSpacing: false,
    });
    // Ready (Redis answers, the queues are up) before closing: this test is about start-up, not about closing mid-way.
    await waitUntil("ready", async () => (await fetch(`${ferry.url}/readyz`)).status === 200, 10_000);
    await ferry.close();
    assert.ok(
      lines.some((l) => l.msg === "worker started"),
      "the start-up was logged in full",
    );
    return { url: ferry.url ?? "", warnings: lines.filter((l) => l.level >= WARN) };
  }

  test("with a forge and no public URL, a warning at start-up says links point at Ferry's own address and how to fix it", async () => {
    const { url, warnings } = await startUp(GITLAB);
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.equal(warnings[0]?.publicUrl, url);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(warnings[0]?.msg ?? "", /FERRY_PUBLIC_URL/);
    assert.match(warnings[0]?.msg ?? "", /publicUrl/);
  });

  test("no warning once FERRY_PUBLIC_URL or the server config's publicUrl is set, or with no forge to post links to", async () => {
    assert.deepEqual((await startUp({ ...GITLAB, FERRY_PUBLIC_URL: "https://ferry.example.com" })).warnings, []);
    assert.deepEqual((await startUp(GITLAB, "https://ferry.example.com")).warnings, []);
    assert.deepEqual((await startUp({})).warnings, []);
  });
});
