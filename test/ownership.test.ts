import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { INVENTORY_ANNOTATION, TAKE_OVER_ANNOTATION } from "../src/kube/labels.js";
import { configMapYaml, FerryHarness } from "./support/ferry-harness.js";

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

describe("objects another environment owns", () => {
  let h: FerryHarness;
  before(async () => (h = await FerryHarness.start("github")));
  after(async () => h.close());

  test("are refused to a second repository in its plan and its release, naming the owner, until it takes them over on purpose; then the first hears of it", async () => {
    const first = await h.createRepo();
    const second = await h.createRepo({ environment: { namespace: first.namespace } });
    const owner = (repo: typeof first) => `${repo.fullName}@staging`;
    const released = await h.merge(first, { "deploy/shared.yaml": configMapYaml("shared", { owner: "first" }) });
    await h.deliver(released.delivery);
    assert.equal((await h.finalStatus(first, released.sha)).at(-1)?.state, "success");
    const ownedBy = (repo: typeof first, source: string) =>
      // Statuses hold 140 characters: the owner is named before the inventory.
      new RegExp(`^ConfigMap ${first.namespace}/shared \\(${escape(source)}\\) is owned by ${escape(owner(repo))}`);

    // The plan says what the release would do: refuse, naming the owner.
    const pr = await h.openPullRequest(second, {
      "deploy/shared.yaml": configMapYaml("shared", { owner: "second" }),
      "deploy/own.yaml": configMapYaml("own", { v: "1" }),
    });
    await h.deliver(pr.delivery);
    const plan = (await h.finalStatus(second, pr.headSha, "ferry/plan/staging")).at(-1);
    assert.equal(plan?.state, "failure");
    assert.match(plan?.description ?? "", /^failed: /);
    assert.match((plan?.description ?? "").replace(/^failed: /, ""), ownedBy(first, "deploy/shared.yaml"));
    const [comment = ""] = await h.comments(second, pr.number, /Ferry plan/);
    assert.match(
      comment,
      new RegExp(`is owned by ${escape(owner(first))} \\(inventory ${first.namespace}/ferry-staging-[0-9a-f]+\\)`),
    );
    assert.ok(comment.includes(`annotate it ${TAKE_OVER_ANNOTATION}: "true"`), comment);

    // The release refuses before applying anything: not even the second repository's own object.
    const merged = await h.mergePullRequest(second, pr);
    await h.deliver(merged.delivery);
    const refused = (await h.finalStatus(second, merged.sha)).at(-1);
    assert.equal(refused?.state, "failure");
    assert.match(refused?.description ?? "", ownedBy(first, "deploy/shared.yaml"));
    let live = await h.list("v1", "ConfigMap", first.namespace);
    assert.deepEqual(live.get("shared")?.data, { owner: "first" });
    assert.ok(!live.has("own"), "nothing of the refused release was applied");

    // Taken over on purpose, with the annotation.
    const takeOver = stringify({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "shared", annotations: { [TAKE_OVER_ANNOTATION]: "true" } },
      data: { owner: "second" },
    });
    const taken = await h.merge(second, { "deploy/shared.yaml": takeOver });
    await h.deliver(taken.delivery);
    assert.equal((await h.finalStatus(second, taken.sha)).at(-1)?.state, "success");
    live = await h.list("v1", "ConfigMap", first.namespace);
    assert.deepEqual(live.get("shared")?.data, { owner: "second" });
    const secondInventory = live.get("shared")?.metadata?.annotations?.[INVENTORY_ANNOTATION] ?? "";
    assert.ok(live.has("own"));

    // The first repository's next release does not take it back silently: it fails, naming the new owner.
    const next = await h.merge(first, { "deploy/more.yaml": configMapYaml("more", { v: "1" }) });
    await h.deliver(next.delivery);
    const fought = (await h.finalStatus(first, next.sha)).at(-1);
    assert.equal(fought?.state, "failure");
    assert.match(fought?.description ?? "", ownedBy(second, "deploy/shared.yaml"));
    live = await h.list("v1", "ConfigMap", first.namespace);
    assert.equal(live.get("shared")?.metadata?.annotations?.[INVENTORY_ANNOTATION], secondInventory);
    assert.deepEqual(live.get("shared")?.data, { owner: "second" });
    assert.ok(!live.has("more"));
  });
});
