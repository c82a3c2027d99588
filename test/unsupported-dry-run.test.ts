import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { stringify } from "yaml";
import {
  AUDITED_LABEL,
  registerSideEffectsWebhook,
  startAdmissionWebhook,
  type TestAdmissionWebhook,
} from "./support/admission-webhook.js";
import { configMapYaml, FerryHarness, type TestRepo } from "./support/ferry-harness.js";

/** A ConfigMap the test's webhook judges (its objectSelector picks the label). */
const auditedYaml = (name: string, data: Record<string, string>) =>
  stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels: { [AUDITED_LABEL]: "true" } }, data });

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("an admission webhook that does not support dry run (sideEffects: Some)", () => {
  let h: FerryHarness;
  let webhook: TestAdmissionWebhook;
  const cleanups: Array<() => Promise<void>> = [];
  before(async () => {
    h = await FerryHarness.start("github");
    webhook = await startAdmissionWebhook();
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await webhook?.close();
    await h?.close();
  });

  /** The repository's namespace, created now so objects are dry-run there (where the webhook watches), and the webhook's name. */
  async function guard(repo: TestRepo): Promise<string> {
    await h.kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: repo.namespace } } });
    const hook = await registerSideEffectsWebhook(h.kc, webhook, repo.namespace);
    cleanups.push(() => hook.remove());
    return hook.name;
  }

  test("by default the plan and the release fail, naming the object, the webhook and the setting; nothing is applied", async () => {
    const repo = await h.createRepo();
    const hook = await guard(repo);
    const pr = await h.openPullRequest(repo, {
      "deploy/audited.yaml": auditedYaml("audited", { v: "1" }),
      "deploy/plain.yaml": configMapYaml("plain", { v: "1" }),
    });
    await h.deliver(pr.delivery);
    const plan = (await h.finalStatus(repo, pr.headSha, "ferry/plan/staging")).at(-1);
    assert.equal(plan?.state, "failure");
    const refusal = new RegExp(
      `ConfigMap ${repo.namespace}/audited \\(deploy/audited\\.yaml\\): admission webhook "${escape(hook)}" does not support dry run`,
    );
    assert.match(plan?.description ?? "", refusal);
    const [comment = ""] = await h.comments(repo, pr.number, /Ferry plan/);
    assert.match(comment, refusal);
    assert.match(comment, /set validation: \{ unsupportedDryRun: skip \} on environment staging/);
    assert.doesNotMatch(
      comment,
      /ConfigMap e2e-[0-9a-f]+\/plain/,
      "the other object validated, so the error names only the audited one",
    );

    const merged = await h.mergePullRequest(repo, pr);
    await h.deliver(merged.delivery);
    const deploy = (await h.finalStatus(repo, merged.sha)).at(-1);
    assert.equal(deploy?.state, "failure");
    assert.match(deploy?.description ?? "", refusal);
    const live = await h.list("v1", "ConfigMap", repo.namespace);
    assert.ok(!live.has("audited") && !live.has("plain"), `nothing applied: ${[...live.keys()].join(", ")}`);
    assert.deepEqual(
      webhook.calls.filter((c) => c.namespace === repo.namespace),
      [],
      "the webhook was never called",
    );
  });

  test("with unsupportedDryRun: skip the plan names what was not dry-run and why, everything else is validated, and the release applies it through the webhook", async () => {
    const repo = await h.createRepo({ environment: { validation: { unsupportedDryRun: "skip" } } });
    const hook = await guard(repo);
    const bad = stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "bad" }, spec: { v: 1 } });
    const pr = await h.openPullRequest(repo, {
      "deploy/audited.yaml": auditedYaml("audited", { v: "1" }),
      "deploy/plain.yaml": configMapYaml("plain", { v: "1" }),
      "deploy/bad.yaml": bad,
    });
    await h.deliver(pr.delivery);
    const refused = (await h.finalStatus(repo, pr.headSha, "ferry/plan/staging")).at(-1);
    assert.equal(refused?.state, "failure", "an invalid object still fails the plan");
    assert.match(
      refused?.description ?? "",
      new RegExp(`^failed: ConfigMap ${repo.namespace}/bad \\(deploy/bad\\.yaml\\): .*strict decoding error`),
    );
    assert.doesNotMatch(refused?.description ?? "", /audited|\(and \d+ more\)/);
    const refusedComment =
      (await h.comments(repo, pr.number, /unknown field/)).find((b) => b.includes("unknown field")) ?? "";
    assert.doesNotMatch(refusedComment, /audited/, "the refusal names only the invalid object");

    const fixed = await h.pushToPullRequest(repo, pr, { "deploy/bad.yaml": null });
    await h.deliver(fixed.delivery);
    const plan = (await h.finalStatus(repo, fixed.headSha, "ferry/plan/staging")).at(-1);
    assert.equal(plan?.state, "success");
    assert.equal(plan?.description, "+2 ~0 −0 (0 unchanged); 1 not dry-run");
    const [comment = ""] = await h.comments(repo, pr.number, new RegExp(fixed.headSha.slice(0, 7)));
    assert.match(comment, /\| staging \| test \| 2 \| 0 \| 0 \| 2 to change, ⚠️ 1 not dry-run \|/);
    assert.ok(comment.includes(`staging · + ConfigMap ${repo.namespace}/audited ⚠️ not dry-run</summary>`), comment);
    assert.ok(
      comment.includes(
        `> ⚠️ not dry-run: admission webhook "${hook}" does not support dry run, so the server did not validate this object`,
      ),
      comment,
    );
    assert.ok(comment.includes(`staging · + ConfigMap ${repo.namespace}/plain</summary>`), comment);

    const merged = await h.mergePullRequest(repo, fixed);
    await h.deliver(merged.delivery);
    const deploy = (await h.finalStatus(repo, merged.sha)).at(-1);
    assert.equal(deploy?.state, "success");
    assert.match(deploy?.description ?? "", /^deployed: \+2 ~0 −0/);
    const live = await h.list("v1", "ConfigMap", repo.namespace);
    assert.deepEqual(live.get("audited")?.data, { v: "1" });
    assert.ok(live.has("plain"));
    assert.deepEqual(
      webhook.calls.filter((c) => c.namespace === repo.namespace),
      [{ operation: "CREATE", namespace: repo.namespace, name: "audited", dryRun: false }],
      "the webhook judged the real apply, and only that",
    );
    const result =
      (await h.comments(repo, merged.number, /Ferry release/)).find((b) => b.includes("Ferry release")) ?? "";
    assert.ok(
      result.includes(
        `⚠️ **staging**: applied without a dry-run (validation.unsupportedDryRun: skip): \`ConfigMap ${repo.namespace}/audited\` (admission webhook \`${hook}\` does not support dry run)`,
      ),
      result,
    );

    // An update is refused a dry-run apply the same way: planned without a diff, saying why.
    const update = await h.openPullRequest(repo, { "deploy/audited.yaml": auditedYaml("audited", { v: "2" }) });
    await h.deliver(update.delivery);
    assert.equal(
      (await h.finalStatus(repo, update.headSha, "ferry/plan/staging")).at(-1)?.description,
      "+0 ~1 −0 (1 unchanged); 1 not dry-run",
    );
    const [updateComment = ""] = await h.comments(repo, update.number, /Ferry plan/);
    assert.ok(
      updateComment.includes(`staging · ~ ConfigMap ${repo.namespace}/audited ⚠️ not dry-run</summary>`),
      updateComment,
    );
    assert.match(updateComment, /without a dry-run the server cannot say what this update changes/);
  });
});
