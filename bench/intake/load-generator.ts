/**
 * The intake benchmark's load generator, run as its own process so it does not share an event loop
 * with what it measures: it signs `warmup + count` distinct merged-pull-request webhooks (GitHub's
 * own example payload, about 23 KB each) before the clock starts, then posts them over loopback
 * with `concurrency` requests in flight, and prints one JSON line: {@link LoadResult}.
 *
 * Usage: node --import tsx bench/intake/load-generator.ts '<LoadOptions as JSON>'
 */
import { sign } from "@octokit/webhooks-methods";
import { Pool } from "undici";
import { mergedPullRequest } from "../../test/support/webhooks.js";

/** What one load run sends, and where. */
export interface LoadOptions {
  /** Base URL, loopback only. */
  url: string;
  /** Requests whose timings are not kept (connections, JIT), sent first. */
  warmup: number;
  /** Requests measured. */
  count: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** The run stops (and fails) past this. */
  timeoutMs: number;
  /** Webhook secret to sign with. */
  secret: string;
  /** Distinguishes this run's commits from other runs', so every delivery queues a new job. */
  runId: number;
}

/** What one load run measured. */
export interface LoadResult {
  /** Measured requests answered, by HTTP status. */
  statuses: Record<string, number>;
  /** Measured requests per second, over the measured part of the run. */
  rps: number;
  /** Median latency of the measured requests, ms. */
  p50: number;
  /** 99th percentile latency, ms. */
  p99: number;
  /** Measured requests answered 202 with a job id (so queued). */
  queued: number;
}

/** A signed delivery ready to send. */
interface Prepared {
  body: string;
  headers: Record<string, string>;
}

async function prepare(options: LoadOptions): Promise<Prepared[]> {
  const total = options.warmup + options.count;
  const template = JSON.stringify(
    mergedPullRequest({
      repo: "bench/intake",
      number: 1,
      base: "main",
      headSha: "a".repeat(40),
      mergeCommitSha: "MERGE_SHA_PLACEHOLDER",
      mergedBy: "dev",
    }),
  );
  const prepared: Prepared[] = [];
  for (let i = 0; i < total; i++) {
    const sha = `${options.runId.toString(16).padStart(8, "0")}${i.toString(16).padStart(32, "0")}`;
    const body = template.replaceAll("MERGE_SHA_PLACEHOLDER", sha);
    prepared.push({
      body,
      headers: {
        "content-type": "application/json",
        "user-agent": "GitHub-Hookshot/bench",
        "x-github-event": "pull_request",
        "x-github-delivery": `bench-${options.runId}-${i}`,
        "x-hub-signature-256": await sign(options.secret, body),
      },
    });
  }
  return prepared;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

async function run(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname))
    throw new Error(`loopback only, not ${url.hostname}`);
  const deliveries = await prepare(options);
  const pool = new Pool(url.origin, { connections: options.concurrency, pipelining: 1 });
  const deadline = Date.now() + options.timeoutMs;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let queued = 0;
  /** Sends deliveries [from, to) with `concurrency` in flight; `measure` keeps their timings. */
  const phase = async (from: number, to: number, measure: boolean) => {
    let next = from;
    const worker = async () => {
      for (let i = next++; i < to; i = next++) {
        if (Date.now() > deadline) throw new Error(`load run exceeded ${options.timeoutMs} ms`);
        const delivery = deliveries[i] as Prepared;
        const start = process.hrtime.bigint();
        const res = await pool.request({
          method: "POST",
          path: "/api/github/webhooks",
          headers: delivery.headers,
          body: delivery.body,
        });
        const text = await res.body.text();
        if (!measure) continue;
        latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        if (res.statusCode === 202 && text.includes('"queued"')) queued++;
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  };
  // The warm-up runs first, so the measured part starts with every connection open and the code hot.
  await phase(0, options.warmup, false);
  const measuredFrom = process.hrtime.bigint();
  await phase(options.warmup, deliveries.length, true);
  const elapsed = Number(process.hrtime.bigint() - measuredFrom) / 1e9;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return {
    statuses,
    rps: options.count / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    queued,
  };
}

const options = JSON.parse(process.argv[2] ?? "{}") as LoadOptions;
process.stdout.write(`${JSON.stringify(await run(options))}\n`);
