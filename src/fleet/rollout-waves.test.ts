import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseFerryConfig, type DeclaredEnvironment } from "../config/ferry-config.js";
import { serverConfigSchema, type ServerConfig } from "../config/server-config.js";
import { FerryError } from "../errors.js";
import type { WavePlan } from "../domain/rollout.js";
import { rolloutWaves } from "./rollout-waves.js";

/** The one environment of a `.ferry.yml` whose environment entry is `yaml` (indented 4). */
function declared(yaml: string): DeclaredEnvironment {
  const config = parseFerryConfig(`version: 1\nenvironments:\n  - ${yaml.trim().replace(/\n/g, "\n    ")}\n`);
  const [env] = config.environments;
  assert.ok(env);
  return env;
}

/** An environment `web` of `clusters` (YAML) and `rollout` (YAML, optional), its path templated by region. */
function fleet(clusters: string, rollout?: string): DeclaredEnvironment {
  return declared(
    `name: web\nbranch: main\npath: deploy/\${cluster.labels.region}\nclusters: ${clusters}\nnamespace: shop${rollout === undefined ? "" : `\nrollout: ${rollout}`}`,
  );
}

/** A server config registering `clusters` as name → labels, in order. */
function server(clusters: [string, Record<string, string>][]): ServerConfig {
  return serverConfigSchema.parse({ clusters: clusters.map(([name, labels]) => ({ name, context: name, labels })) });
}

/** The lines of the permanent FerryError `fn` throws. */
function errorLines(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof FerryError, `expected a FerryError, got ${String(error)}`);
    assert.equal(error.kind, "permanent");
    return error.message.split("\n");
  }
  assert.fail("expected a permanent FerryError");
}

/** Each wave as `name: clusters`, for compact assertions on membership. */
const membership = (waves: WavePlan[]) => waves.map((w) => `${w.name}: ${w.clusters.join(" ")}`);

const config = server([
  ["eu-1", { region: "eu", tier: "canary" }],
  ["us-1", { region: "us", tier: "prod" }],
  ["eu-2", { region: "eu", tier: "prod" }],
  ["ap-1", { region: "ap", tier: "prod" }],
  ["eu-3", { region: "eu", tier: "prod" }],
  ["lab", { region: "lab", tier: "dev" }],
]);

describe("rolloutWaves: one cluster", () => {
  it("makes one wave of the environment's cluster, named after it", () => {
    const env = declared(
      "name: web\nbranch: main\npath: deploy/${cluster.labels.region}\ncluster: us-1\nnamespace: shop",
    );
    const { waves, targets } = rolloutWaves(env, config);
    assert.deepEqual(waves, [
      { index: 0, name: "us-1", clusters: ["us-1"], maxParallel: 1, failureBudget: 0, approval: false },
    ]);
    assert.deepEqual(
      [...targets],
      [["us-1", { name: "web", branch: "main", path: "deploy/us", cluster: "us-1", namespace: "shop", prune: true }]],
    );
  });

  it("refuses a cluster that is not registered, as the policy says it", () => {
    const env = declared("name: web\nbranch: main\npath: deploy\ncluster: mars\nnamespace: shop");
    assert.deepEqual(
      errorLines(() => rolloutWaves(env, config)),
      ['environment web: cluster "mars" is not registered with Ferry'],
    );
  });

  it("passes on a template the cluster cannot fill", () => {
    const env = declared(
      "name: web\nbranch: main\npath: deploy/${cluster.labels.zone}\ncluster: us-1\nnamespace: shop",
    );
    assert.deepEqual(
      errorLines(() => rolloutWaves(env, config)),
      ['environment web: cluster "us-1" has no label "zone" (used in path)'],
    );
  });
});

describe("rolloutWaves: many clusters", () => {
  it("without rollout:, releases every selected cluster in one wave named all, in the server config's order", () => {
    const { waves, targets } = rolloutWaves(fleet("{matchLabels: {tier: prod}}"), config);
    assert.deepEqual(waves, [
      {
        index: 0,
        name: "all",
        clusters: ["us-1", "eu-2", "ap-1", "eu-3"],
        maxParallel: 4,
        failureBudget: 0,
        approval: false,
      },
    ]);
    assert.deepEqual(
      [...targets].map(([name, env]) => [name, env.cluster, env.path]),
      [
        ["us-1", "us-1", "deploy/us"],
        ["eu-2", "eu-2", "deploy/eu"],
        ["ap-1", "ap-1", "deploy/ap"],
        ["eu-3", "eu-3", "deploy/eu"],
      ],
    );
    assert.equal("clusters" in (targets.get("us-1") ?? {}), false, "a target is an environment of one cluster");
  });

  it("puts each cluster in the first wave selecting it, among the environment's clusters only, the last wave taking the rest", () => {
    const env = fleet(
      "{matchExpressions: [{key: tier, operator: NotIn, values: [dev]}]}",
      `{waves: [
        {name: canary, clusters: {matchLabels: {tier: canary}}, approval: true},
        {clusters: {matchLabels: {region: eu}}, pause: 10m},
        {clusters: {matchExpressions: [{key: region, operator: In, values: [eu, us, lab]}]}},
        {}]}`,
    );
    const { waves, targets } = rolloutWaves(env, config);
    assert.deepEqual(membership(waves), ["canary: eu-1", "wave-2: eu-2 eu-3", "wave-3: us-1", "wave-4: ap-1"]);
    assert.deepEqual(
      waves.map((w) => [w.index, w.approval, w.pauseMs]),
      [
        [0, true, undefined],
        [1, false, 600_000],
        [2, false, undefined],
        [3, false, undefined],
      ],
    );
    assert.equal("pauseMs" in (waves[0] ?? {}), false);
    assert.deepEqual([...targets.keys()], ["eu-1", "us-1", "eu-2", "ap-1", "eu-3"]);
  });

  it("selects by a list of names, in the server config's order", () => {
    const { waves } = rolloutWaves(fleet("[eu-3, eu-1]", "{waves: [{clusters: [eu-3]}, {}]}"), config);
    assert.deepEqual(membership(waves), ["wave-1: eu-3", "wave-2: eu-1"]);
  });

  it("leaves out a last wave without clusters: when earlier waves took every cluster, and the gate before it", () => {
    const env = fleet(
      "{matchLabels: {region: eu}}",
      "{waves: [{clusters: [eu-1], pause: 5m}, {clusters: {matchLabels: {tier: prod}}, approval: true}, {}]}",
    );
    const { waves } = rolloutWaves(env, config);
    assert.deepEqual(waves, [
      {
        index: 0,
        name: "wave-1",
        clusters: ["eu-1"],
        maxParallel: 1,
        failureBudget: 0,
        pauseMs: 300_000,
        approval: false,
      },
      { index: 1, name: "wave-2", clusters: ["eu-2", "eu-3"], maxParallel: 2, failureBudget: 0, approval: false },
    ]);
  });
});

describe("rolloutWaves: counts", () => {
  const many = server(
    Array.from({ length: 15 }, (_, i): [string, Record<string, string>] => [
      `c${i}`,
      { region: "eu", first: i < 10 ? "yes" : "no" },
    ]),
  );
  const plan = (wave: string) =>
    rolloutWaves(fleet("{}", `{waves: [{clusters: {matchLabels: {first: "yes"}}, ${wave}}, {}]}`), many).waves;

  it("rounds maxParallel percentages up, at least 1, and caps numbers at the wave's size", () => {
    assert.deepEqual(
      plan("maxParallel: 25%").map((w) => w.maxParallel),
      [3, 5],
      "ceil(2.5) = 3; the rest of 5 all at once",
    );
    assert.equal(plan("maxParallel: 1%")[0]?.maxParallel, 1);
    assert.equal(plan("maxParallel: 100%")[0]?.maxParallel, 10);
    assert.equal(plan("maxParallel: 30%")[0]?.maxParallel, 3);
    assert.equal(plan("maxParallel: 2")[0]?.maxParallel, 2);
    assert.equal(plan("maxParallel: 50")[0]?.maxParallel, 10);
  });

  it("rounds failureBudget percentages down, 0 when absent, and caps numbers at the wave's size", () => {
    assert.deepEqual(
      plan("failureBudget: 15%").map((w) => w.failureBudget),
      [1, 0],
      "floor(1.5) = 1; absent = 0",
    );
    assert.equal(plan("failureBudget: 9%")[0]?.failureBudget, 0);
    assert.equal(plan("failureBudget: 0%")[0]?.failureBudget, 0);
    assert.equal(plan("failureBudget: 100%")[0]?.failureBudget, 10);
    assert.equal(plan("failureBudget: 3")[0]?.failureBudget, 3);
    assert.equal(plan("failureBudget: 30")[0]?.failureBudget, 10);
  });

  it("resolves percentages against each wave's own size", () => {
    const waves = rolloutWaves(
      fleet(
        "{}",
        '{waves: [{clusters: {matchLabels: {first: "yes"}}, maxParallel: 50%, failureBudget: 50%}, {maxParallel: 50%, failureBudget: 50%}]}',
      ),
      many,
    ).waves;
    assert.deepEqual(
      waves.map((w) => [w.clusters.length, w.maxParallel, w.failureBudget]),
      [
        [10, 5, 5],
        [5, 3, 2],
      ],
    );
  });
});

describe("rolloutWaves: errors", () => {
  it("refuses a selector that selects no registered cluster, naming it", () => {
    assert.deepEqual(
      errorLines(() =>
        rolloutWaves(
          fleet("{matchLabels: {tier: staging}, matchExpressions: [{key: region, operator: In, values: [eu]}]}"),
          config,
        ),
      ),
      ["environment web: clusters: region In (eu), tier=staging selects no registered cluster"],
    );
    assert.deepEqual(
      errorLines(() => rolloutWaves(fleet("{}"), server([]))),
      ["environment web: clusters: every cluster selects no registered cluster"],
    );
  });

  it("refuses names that are not registered, even when others are", () => {
    assert.deepEqual(
      errorLines(() => rolloutWaves(fleet("[eu-1, eu-9, mars]"), config)),
      [
        'environment web: cluster "eu-9" is not registered with Ferry',
        'environment web: cluster "mars" is not registered with Ferry',
      ],
    );
    assert.deepEqual(
      errorLines(() => rolloutWaves(fleet("[mars]"), config)),
      [
        'environment web: cluster "mars" is not registered with Ferry',
        "environment web: clusters: names (mars) selects no registered cluster",
      ],
    );
  });

  it("reports every wave problem and the clusters left over, all at once", () => {
    const env = fleet(
      "{matchLabels: {tier: prod}}",
      `{waves: [
        {name: canary, clusters: {matchLabels: {tier: canary}}},
        {name: eu, clusters: {matchLabels: {region: eu}}},
        {name: again, clusters: {matchLabels: {region: eu}}},
        {name: named, clusters: [eu-1, mars, us-1]}]}`,
    );
    assert.deepEqual(
      errorLines(() => rolloutWaves(env, config)),
      [
        "environment web: wave canary (tier=canary) selects no cluster: none of the environment's clusters (tier=prod) match",
        "environment web: wave again (region=eu) selects no cluster: earlier waves took every cluster it selects",
        'environment web: wave named: cluster "eu-1" is not one of the environment\'s clusters (tier=prod)',
        'environment web: wave named: cluster "mars" is not registered with Ferry',
        "environment web: 1 cluster is in no wave: ap-1; add a last wave without clusters: to release the rest",
      ],
    );
  });

  it("lists at most 10 clusters left over, then counts the rest", () => {
    const many = server(
      Array.from({ length: 25 }, (_, i): [string, Record<string, string>] => [
        `c${i}`,
        { region: "eu", canary: i === 0 ? "yes" : "no" },
      ]),
    );
    assert.deepEqual(
      errorLines(() => rolloutWaves(fleet("{}", '{waves: [{clusters: {matchLabels: {canary: "yes"}}}]}'), many)),
      [
        "environment web: 24 clusters are in no wave: c1, c2, c3, c4, c5, c6, c7, c8, c9, c10 and 14 more; add a last wave without clusters: to release the rest",
      ],
    );
  });

  it("reports the clusters templates cannot be filled in for, the first 10 in full", () => {
    const many = server(
      Array.from({ length: 12 }, (_, i): [string, Record<string, string>] => [
        `c${i}`,
        i === 3 ? { region: "eu" } : {},
      ]),
    );
    const lines = errorLines(() => rolloutWaves(fleet("{}"), many));
    assert.deepEqual(lines, [
      ...["c0", "c1", "c2", "c4", "c5", "c6", "c7", "c8", "c9", "c10"].map(
        (c) => `environment web: cluster "${c}" has no label "region" (used in path)`,
      ),
      "environment web: and 1 more clusters the templates cannot be filled in for",
    ]);
  });
});

describe("rolloutWaves: a fleet of 10,000 clusters", () => {
  it("splits 10,000 clusters into three waves correctly", () => {
    const regions = ["eu", "us", "ap", "sa"];
    const clusters = Array.from({ length: 10_000 }, (_, i): [string, Record<string, string>] => [
      `cluster-${i}`,
      {
        region: regions[i % 4] ?? "eu",
        tier: i % 10 === 0 ? "canary" : "prod",
        ...(i % 500 === 0 ? { retired: "true" } : {}),
      },
    ]);
    const env = fleet(
      "{matchExpressions: [{key: retired, operator: DoesNotExist}]}",
      "{waves: [{name: canary, clusters: {matchLabels: {tier: canary}}, maxParallel: 10%, failureBudget: 1%}, {name: eu, clusters: {matchLabels: {region: eu}}, maxParallel: 25%}, {name: rest, maxParallel: 50}]}",
    );
    const { waves, targets } = rolloutWaves(env, server(clusters));
    // Retired: every 500th cluster (20 of them, all canaries, region eu). Canaries: every 10th (1,000), less the 20 retired.
    assert.deepEqual(
      waves.map((w) => [w.name, w.clusters.length, w.maxParallel, w.failureBudget]),
      [
        ["canary", 980, 98, 9],
        ["eu", 2_000, 500, 0],
        ["rest", 7_000, 50, 0],
      ],
    );
    assert.equal(targets.size, 9_980);
    assert.equal(new Set(waves.flatMap((w) => w.clusters)).size, 9_980, "each cluster in one wave only");
    assert.ok(waves[1]?.clusters.every((name) => Number(name.slice(8)) % 4 === 0 && Number(name.slice(8)) % 10 !== 0));
    assert.deepEqual(
      waves[0]?.clusters.slice(0, 3),
      ["cluster-10", "cluster-20", "cluster-30"],
      "in the server config's order",
    );
    assert.equal(targets.get("cluster-6")?.path, "deploy/ap");
  });
});
