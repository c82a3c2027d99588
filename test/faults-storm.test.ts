/**
 * A storm of merges: 50 merges in quick succession, their deliveries (merged change and push, some
 * twice) shuffled and sent while merging goes on. The cluster ends at the branch head; a watch on the
 * deployed object shows no older commit ever applied after a newer one; every commit ends with
 * exactly one final status, naming itself or a newer release.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { Watch, type KubernetesObject } from "@kubernetes/client-node";
import type { Delivery } from "./support/forge-doubles/forge-double.js";
import { configMapYaml, FORGES } from "./support/ferry-harness.js";
import { suiteHarness } from "./support/suite-harness.js";

const MERGES = 50;
const SETTLE_MS = 300_000;
const CONTEXT = "ferry/deploy/staging";

/** A deterministic shuffle (the seed is printed, so a failure can be replayed). */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  const random = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

for (const forge of FORGES)
  describe(`a storm of ${MERGES} merges (${forge})`, () => {
    const suite = suiteHarness(forge);

    test(`${MERGES} merges, deliveries shuffled and duplicated: the cluster ends at the head, never goes back, one final status per commit`, async () => {
      const seed = Date.now() % 100_000;
      const repo = await suite.h.createRepo();
      // Every version of the deployed ConfigMap the API server ever held, in order.
      const applied: number[] = [];
      const watch = await new Watch(suite.h.kc).watch(
        `/api/v1/namespaces/${repo.namespace}/configmaps`,
        { fieldSelector: "metadata.name=a" },
        (type: string, object: KubernetesObject & { data?: Record<string, string> }) => {
          if (type === "ADDED" || type === "MODIFIED") applied.push(Number(object.data?.v));
        },
        () => undefined,
      );
      try {
        const index = new Map<string, number>();
        const pending: Delivery[] = [];
        let before = await repo.git.head("main");
        let sent = 0;
        const send = async (deliveries: Delivery[]) => {
          const answers = await Promise.all(deliveries.map((d) => suite.h.deliver(d, randomUUID())));
          sent += answers.length;
          assert.deepEqual([...new Set(answers.map((a) => a.status))], [202], JSON.stringify(answers));
        };
        for (let i = 0; i < MERGES; i++) {
          const merge = await suite.h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: String(i) }) });
          index.set(merge.sha, i);
          pending.push(merge.delivery, suite.h.push(repo, before, merge.sha));
          if (i % 3 === 0) pending.push(merge.delivery); // redelivered
          before = merge.sha;
          // While merging goes on, send a random part of what is pending, in random order.
          if (i % 5 === 4) {
            const mixed = shuffled(pending, seed + i);
            await send(mixed.splice(0, Math.ceil(mixed.length / 2)));
            pending.splice(0, pending.length, ...mixed);
          }
        }
        await send(shuffled(pending, seed));
        const shas = [...index.keys()];
        const head = await repo.git.head("main");
        for (const sha of shas) await suite.h.finalStatus(repo, sha, CONTEXT, SETTLE_MS);
        await suite.jobs.settled(SETTLE_MS);

        // The cluster ends at the head, and the watch never saw it go back.
        assert.deepEqual((await suite.h.list("v1", "ConfigMap", repo.namespace)).get("a")?.data, {
          v: String(MERGES - 1),
        });
        for (let i = 1; i < applied.length; i++)
          assert.ok((applied[i] ?? 0) >= (applied[i - 1] ?? 0), `seed ${seed}: applied ${applied.join(",")}`);
        assert.equal(applied.at(-1), MERGES - 1);

        // Each commit: exactly one final status, the last one, naming itself or a newer release.
        for (const sha of shas) {
          const statuses = suite.h.statuses(repo, sha).filter((s) => s.context === CONTEXT);
          const finals = statuses.filter((s) => s.state === "success" || s.state === "failure");
          assert.equal(finals.length, 1, `seed ${seed}, commit ${index.get(sha)}: ${JSON.stringify(statuses)}`);
          assert.equal(statuses.at(-1), finals[0]);
          assert.equal(finals[0]?.state, "success", JSON.stringify(finals));
          // Included in a newer release, or superseded by a newer rollout before or while it released.
          const included = /^(?:included in release of|superseded by) ([0-9a-f]{7})/.exec(
            finals[0]?.description ?? "",
          )?.[1];
          if (included !== undefined) {
            const by = shas.find((s) => s.startsWith(included));
            assert.ok(
              by !== undefined && (index.get(by) ?? -1) > (index.get(sha) ?? 0),
              `commit ${index.get(sha)} reported as included in an older release ${included}`,
            );
          } else {
            assert.match(finals[0]?.description ?? "", /^deployed/);
          }
        }
        assert.equal(
          suite.h
            .statuses(repo, head)
            .filter((s) => s.context === CONTEXT)
            .at(-1)?.state,
          "success",
        );
        console.log(
          `storm (${forge}, seed ${seed}): ${sent} deliveries for ${MERGES} merges, ${applied.length} versions applied: ${applied.join(",")}`,
        );
        assert.deepEqual(suite.h.forge.refusedTransitions(), []);
      } finally {
        watch.abort();
      }
    });
  });
