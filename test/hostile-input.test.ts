/**
 * Hostile input: every way a forge delivery, a repository or a user can try to get something past
 * Ferry, table-driven, against both forges. Each case asserts Ferry's exact answer (HTTP response,
 * or the final commit status) and that nothing was queued or applied.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { symlink } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { sign } from "@octokit/webhooks-methods";
import { stringify } from "yaml";
import { trimDescription } from "../src/forge/trim-description.js";
import type { Delivery } from "./support/forge-doubles/forge-double.js";
import { configMapYaml, FORGES, TEST_CLUSTER, type TestRepo } from "./support/ferry-harness.js";
import { tarGz, zeroGzip, type TarEntry } from "./support/hostile-archives.js";
import { suiteHarness } from "./support/suite-harness.js";

/** Generous waits: the machine is shared and loaded. */
const SETTLE_MS = 120_000;

type Forge = (typeof FORGES)[number];

/** A delivery as it goes on the wire: event, body bytes and headers, any of them hostile. */
interface RawDelivery {
  event?: string;
  body: string;
  contentType?: string;
  /** `valid`: the forge's own signature or token; `{signedBody}`: a valid signature over other bytes. */
  auth: "valid" | "wrong" | "missing" | { signedBody: string };
}

/** What Ferry must answer. */
interface Answer {
  status: number;
  body: Record<string, string>;
}

/** One webhook-level case: what is sent, what Ferry must answer, on which forges it applies. */
interface WebhookCase {
  name: string;
  forges?: Forge[];
  send: (ctx: WebhookContext) => RawDelivery;
  answer: (ctx: WebhookContext) => Answer;
}

/** What the webhook cases build on: a real merge whose delivery, if accepted, would deploy. */
interface WebhookContext {
  forge: Forge;
  merged: Delivery;
  /** The same merge's payload naming another commit (what an attacker would want deployed). */
  tampered: Delivery;
  fullName: string;
  projectId: number;
}

/** The event name and auth headers each forge sends. */
async function wireHeaders(forge: Forge, secret: string, delivery: RawDelivery): Promise<Record<string, string>> {
  const headers: Record<string, string> = { "content-type": delivery.contentType ?? "application/json" };
  if (forge === "github") {
    if (delivery.event !== undefined) headers["x-github-event"] = delivery.event;
    headers["x-github-delivery"] = randomUUID();
    if (delivery.auth === "wrong") headers["x-hub-signature-256"] = await sign("not-the-secret", delivery.body);
    else if (delivery.auth === "valid") headers["x-hub-signature-256"] = await sign(secret, delivery.body);
    else if (delivery.auth !== "missing") headers["x-hub-signature-256"] = await sign(secret, delivery.auth.signedBody);
  } else {
    if (delivery.event !== undefined) headers["x-gitlab-event"] = delivery.event;
    headers["idempotency-key"] = randomUUID();
    if (delivery.auth === "wrong") headers["x-gitlab-token"] = "not-the-secret";
    else if (delivery.auth !== "missing") headers["x-gitlab-token"] = secret;
  }
  return headers;
}

const body = (delivery: Delivery) => JSON.stringify(delivery.payload);

const webhookCases: WebhookCase[] = [
  {
    name: "a wrong signature (GitHub) or token (GitLab)",
    send: ({ merged }) => ({ event: merged.event, body: body(merged), auth: "wrong" }),
    answer: ({ forge }) => ({
      status: 401,
      body: {
        error:
          forge === "github"
            ? "signature does not match payload and secret"
            : "X-Gitlab-Token does not match the webhook's secret",
      },
    }),
  },
  {
    name: "a missing signature (GitHub) or token (GitLab)",
    send: ({ merged }) => ({ event: merged.event, body: body(merged), auth: "missing" }),
    answer: ({ forge }) => ({
      status: 401,
      body: { error: forge === "github" ? "missing X-Hub-Signature-256" : "missing X-Gitlab-Token" },
    }),
  },
  {
    name: "a valid signature over a different body (the merge, re-pointed at another commit)",
    forges: ["github"],
    send: ({ merged, tampered }) => ({ event: merged.event, body: body(tampered), auth: { signedBody: body(merged) } }),
    answer: () => ({ status: 401, body: { error: "signature does not match payload and secret" } }),
  },
  {
    name: "an unknown event with a wrong signature (authentication comes first)",
    send: ({ forge }) => ({ event: forge === "github" ? "issues" : "Pipeline Hook", body: "{}", auth: "wrong" }),
    answer: ({ forge }) => ({
      status: 401,
      body: {
        error:
          forge === "github"
            ? "signature does not match payload and secret"
            : "X-Gitlab-Token does not match the webhook's secret",
      },
    }),
  },
  {
    name: "malformed JSON",
    send: ({ merged }) => ({ event: merged.event, body: body(merged).slice(0, -10), auth: "valid" }),
    answer: () => ({ status: 400, body: { error: "body is not valid JSON" } }),
  },
  {
    name: "JSON nested 100,000 levels deep",
    send: ({ forge }) => ({
      event: forge === "github" ? "push" : "Push Hook",
      body: `${"[".repeat(100_000)}${"]".repeat(100_000)}`,
      auth: "valid",
    }),
    answer: ({ forge }) => ({
      status: 400,
      body: {
        error: `${forge === "github" ? "push" : "Push Hook"} payload: (top level): Invalid input: expected object, received array`,
      },
    }),
  },
  {
    name: "a form-encoded body (the forge's other content type)",
    send: ({ merged }) => ({
      event: merged.event,
      body: `payload=${encodeURIComponent(body(merged))}`,
      contentType: "application/x-www-form-urlencoded",
      auth: "valid",
    }),
    answer: () => ({ status: 415, body: { error: "Content-Type must be application/json" } }),
  },
  {
    name: "a body over the 25 MB limit",
    send: ({ merged }) => ({
      event: merged.event,
      body: JSON.stringify({ ...merged.payload, padding: "x".repeat(26 * 1024 * 1024) }),
      auth: "valid",
    }),
    answer: () => ({ status: 413, body: { error: "body too large" } }),
  },
  {
    name: "an unknown event",
    send: ({ forge, fullName, projectId }) =>
      forge === "github"
        ? {
            event: "deployment",
            body: JSON.stringify({ action: "created", repository: { full_name: fullName } }),
            auth: "valid",
          }
        : {
            event: "Pipeline Hook",
            body: JSON.stringify({
              object_kind: "pipeline",
              project: { id: projectId, path_with_namespace: fullName },
            }),
            auth: "valid",
          },
    answer: ({ forge }) => ({
      status: 202,
      body: {
        ignored:
          forge === "github" ? "Ferry does not act on deployment.created" : "Ferry does not act on Pipeline Hook",
      },
    }),
  },
  {
    name: "no event header",
    send: ({ merged }) => ({ body: body(merged), auth: "valid" }),
    answer: ({ forge }) => ({
      status: 400,
      body: { error: `missing headers: ${forge === "github" ? "x-github-event" : "x-gitlab-event"}` },
    }),
  },
  {
    name: "a merge payload missing the fields that name what to deploy",
    send: ({ forge, merged, fullName, projectId }) =>
      forge === "github"
        ? {
            event: merged.event,
            body: JSON.stringify({ action: "closed", repository: { full_name: fullName }, sender: { login: "dev" } }),
            auth: "valid",
          }
        : {
            event: merged.event,
            body: JSON.stringify({
              object_kind: "merge_request",
              project: { id: projectId, path_with_namespace: fullName },
              user: { username: "dev" },
              object_attributes: { action: "merge", iid: 1 },
            }),
            auth: "valid",
          },
    answer: ({ forge }) => ({
      status: 400,
      body: {
        error:
          forge === "github"
            ? "pull_request.closed payload: pull_request: Invalid input: expected object, received undefined"
            : "Merge Request Hook.merge payload: object_attributes.target_branch: Invalid input: expected string, received undefined",
      },
    }),
  },
  {
    name: "a merge payload delivered as a push (fields of the wrong event)",
    send: ({ forge, merged }) => ({
      event: forge === "github" ? "push" : "Push Hook",
      body: body(merged),
      auth: "valid",
    }),
    answer: ({ forge }) => ({
      status: 400,
      body: {
        error:
          forge === "github"
            ? "push payload: ref: Invalid input: expected string, received undefined"
            : "Push Hook payload: ref: Invalid input: expected string, received undefined",
      },
    }),
  },
];

/** The top-level directory each forge's archive of `sha` has, as `git archive` made it for the simulator. */
function archivePrefix(forge: Forge, fullName: string, sha: string): string {
  const [owner = "", name = ""] = fullName.split("/");
  return forge === "github" ? `${owner}-${name}-${sha.slice(0, 7)}` : `${name}-${sha}-${sha}`;
}

/** The `.ferry.yml` the harness writes, as text, for hand-made archives. */
function ferryYml(repo: TestRepo): string {
  return stringify({
    version: 1,
    environments: [
      { name: "staging", branch: "main", path: "deploy", cluster: TEST_CLUSTER, namespace: repo.namespace },
    ],
  });
}

/** A path outside everything Ferry owns that a hostile archive tries to write; it must never appear. */
const sentinel = () => `/tmp/ferry-hostile-${randomUUID()}`;

/** One hand-made archive case: its entries (given the top-level directory and a sentinel path), and the status Ferry must set. */
interface ArchiveCase {
  name: string;
  archive: (top: string, repo: TestRepo, outside: string) => Promise<Buffer>;
  description: (top: string, outside: string) => string;
}

const top = "acme-shop-0000000";
const MiB = 1024 * 1024;
const validTree = (t: string, repo: TestRepo): TarEntry[] => [
  { name: `${t}/`, type: "directory" },
  { name: `${t}/.ferry.yml`, content: ferryYml(repo) },
  { name: `${t}/deploy/`, type: "directory" },
  { name: `${t}/deploy/a.yaml`, content: configMapYaml("a", { v: "1" }) },
];

const archiveCases: ArchiveCase[] = [
  {
    name: "a symlink to an absolute path",
    archive: (t, repo) =>
      tarGz([...validTree(t, repo), { name: `${t}/deploy/passwd.yaml`, type: "symlink", linkname: "/etc/passwd" }]),
    description: (t) => `archive entry ${t}/deploy/passwd.yaml: symlink to /etc/passwd points outside the repository`,
  },
  {
    name: "a symlink climbing out of the tree, then a file written through it",
    archive: (t, repo, outside) =>
      tarGz([
        ...validTree(t, repo),
        { name: `${t}/escape`, type: "symlink", linkname: `../../../../../../../..${outside}` },
        { name: `${t}/escape/evil.yaml`, content: "x" },
      ]),
    description: (t, outside) =>
      `archive entry ${t}/escape: symlink to ../../../../../../../..${outside} points outside the repository`,
  },
  {
    name: "a hard link to a file outside the tree",
    archive: (t, repo) =>
      tarGz([...validTree(t, repo), { name: `${t}/deploy/shadow.yaml`, type: "link", linkname: "/etc/shadow" }]),
    description: (t) => `archive entry ${t}/deploy/shadow.yaml: hard link to /etc/shadow points outside the repository`,
  },
  {
    name: "an absolute path",
    archive: (t, repo, outside) => tarGz([...validTree(t, repo), { name: `${outside}/evil.yaml`, content: "x" }]),
    description: (_t, outside) => `archive entry ${outside}/evil.yaml: absolute path ${outside}/evil.yaml`,
  },
  {
    name: "a path with ..",
    archive: (t, repo, outside) =>
      tarGz([...validTree(t, repo), { name: `${t}/../../../../../../..${outside}/evil.yaml`, content: "x" }]),
    description: (t, outside) =>
      `archive entry ${t}/../../../../../../..${outside}/evil.yaml: path ${t}/../../../../../../..${outside}/evil.yaml contains ..`,
  },
  {
    name: "an entry outside the top-level directory",
    archive: (t, repo) =>
      tarGz([...validTree(t, repo), { name: "other/deploy/evil.yaml", content: configMapYaml("evil", { v: "1" }) }]),
    description: (t) => `archive entry other/deploy/evil.yaml: outside the archive's top-level directory ${t}/`,
  },
  {
    name: "a decompression bomb: one file of 1 GiB of zeros (1 MB compressed)",
    archive: (t, repo) => tarGz([...validTree(t, repo), { name: `${t}/deploy/bomb.yaml`, zeros: 1024 * MiB }]),
    description: (t) => `archive entry ${t}/deploy/bomb.yaml: larger than the ${16 * MiB}-byte limit per file`,
  },
  {
    name: "a decompression bomb hidden after the end of the tar: 400 MiB of zeros (0.4 MB compressed)",
    archive: async (t, repo) => Buffer.concat([await tarGz(validTree(t, repo)), zeroGzip(400 * MiB)]),
    description: () => `archive decompresses to more than ${256 * MiB + 20_000 * 4096 + MiB} bytes`,
  },
  {
    name: "20,001 entries",
    archive: (t, repo) =>
      tarGz([
        ...validTree(t, repo),
        ...Array.from({ length: 20_001 }, (_, i): TarEntry => ({
          name: `${t}/links/l${i}`,
          type: "symlink",
          linkname: "../deploy",
        })),
      ]),
    description: () => "archive has more than 20000 entries",
  },
  {
    name: "the same file twice (the second would replace what was checked)",
    archive: (t, repo) =>
      tarGz([...validTree(t, repo), { name: `${t}/deploy/a.yaml`, content: configMapYaml("evil", { v: "1" }) }]),
    description: (t) => `archive entry ${t}/deploy/a.yaml: cannot be written (EEXIST)`,
  },
  {
    name: "bytes that are not gzip",
    archive: () => Promise.resolve(Buffer.from("<html>rate limited</html>")),
    description: () => "not a valid gzip-compressed tar archive: incorrect header check",
  },
  {
    name: "a truncated archive",
    archive: async (t, repo) => (await tarGz(validTree(t, repo))).subarray(0, 60),
    description: () => "not a valid gzip-compressed tar archive: unexpected end of file",
  },
];

/** `depth` nested flow sequences: a few kilobytes that used to exhaust the YAML parser's stack. */
const deeplyNested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

/** A `.ferry.yml` of the harness's environment with `edit` applied, as YAML. */
const configWith = (repo: TestRepo, edit: Record<string, unknown>) =>
  stringify({
    version: 1,
    environments: [
      { name: "staging", branch: "main", path: "deploy", cluster: TEST_CLUSTER, namespace: repo.namespace, ...edit },
    ],
  });

/** A repository change that makes a deploy fail, and the final status it must end with. */
interface RepoCase {
  name: string;
  /** Files the merge writes (after the repository is created with `owner`, when given). */
  files: (repo: TestRepo) => Record<string, string>;
  owner?: string;
  context: string;
  description: (repo: TestRepo) => string | RegExp;
  /** Anything beyond the namespace that must not exist afterwards: [apiVersion, kind, namespace or "", name]. */
  absent?: (repo: TestRepo) => [string, string, string, string];
}

const aliasBomb = [
  "a: &a [x, x, x, x, x, x, x, x, x]",
  ...["b", "c", "d", "e", "f", "g"].map(
    (name, i) => `${name}: &${name} [${Array(9).fill(`*${"abcdefg"[i]}`).join(", ")}]`,
  ),
].join("\n");

const configCases: RepoCase[] = [
  {
    name: "a YAML alias bomb",
    files: () => ({ ".ferry.yml": `${aliasBomb}\n` }),
    context: "ferry/deploy",
    description: () => ".ferry.yml: Excessive alias count indicates a resource exhaustion attack",
  },
  {
    name: "a huge document (300 KiB)",
    files: (repo) => ({ ".ferry.yml": `${configWith(repo, {})}# ${"x".repeat(300 * 1024)}\n` }),
    context: "ferry/deploy",
    description: () => ".ferry.yml: larger than 256 KiB",
  },
  {
    name: "a document nested 10,000 levels deep (20 KB)",
    files: () => ({ ".ferry.yml": `version: 1\nenvironments: ${deeplyNested(10_000)}\n` }),
    context: "ferry/deploy",
    description: () => ".ferry.yml:2:214: nested more than 200 levels deep",
  },
  {
    name: "path traversal (path: ../..)",
    files: (repo) => ({ ".ferry.yml": configWith(repo, { path: "../.." }) }),
    context: "ferry/deploy",
    description: () =>
      ".ferry.yml:5:11: environments.0.path: must be a relative path inside the repository (no leading /, no ..)",
  },
  {
    name: "an absolute path (path: /etc)",
    files: (repo) => ({ ".ferry.yml": configWith(repo, { path: "/etc" }) }),
    context: "ferry/deploy",
    description: () =>
      ".ferry.yml:5:11: environments.0.path: must be a relative path inside the repository (no leading /, no ..)",
  },
  {
    name: "an unknown key that would pick credentials (kubeconfig)",
    files: (repo) => ({ ".ferry.yml": configWith(repo, { kubeconfig: "/root/.kube/config" }) }),
    context: "ferry/deploy",
    description: () => '.ferry.yml:3:5: environments.0: Unrecognized key: "kubeconfig"',
  },
  {
    name: "an unknown top-level key that would register a cluster",
    files: (repo) => ({
      ".ferry.yml": `${configWith(repo, {})}clusters:\n  - name: mine\n    server: https://evil.example.com\n`,
    }),
    context: "ferry/deploy",
    description: () => '.ferry.yml:1:1: (top level): Unrecognized key: "clusters"',
  },
  {
    name: "Helm values read from outside the chart",
    files: (repo) => ({
      ".ferry.yml": configWith(repo, { render: "helm", helm: { valuesFiles: ["../../../etc/passwd"] } }),
    }),
    context: "ferry/deploy",
    description: () =>
      ".ferry.yml:11:11: environments.0.helm.valuesFiles.0: must be a relative path inside the chart's directory (no leading /, no ..)",
  },
  {
    name: "a cluster the server config does not register",
    files: (repo) => ({ ".ferry.yml": configWith(repo, { cluster: "production" }) }),
    context: "ferry/deploy/staging",
    description: () => /^(environment staging: )?cluster "production" is not registered with Ferry$/,
  },
  {
    name: "a namespace the policy does not give the repository",
    files: (repo) => ({
      ".ferry.yml": configWith(repo, { namespace: "kube-system" }),
      "deploy/a.yaml": configMapYaml("intruder", { v: "1" }),
    }),
    context: "ferry/deploy/staging",
    description: (repo) =>
      `environment staging: policy does not allow ${repo.fullName} to deploy to namespace "kube-system" on cluster "test"`,
    absent: () => ["v1", "ConfigMap", "kube-system", "intruder"],
  },
  {
    name: "a repository the policy does not name",
    owner: "mallory",
    files: () => ({ "deploy/a.yaml": configMapYaml("a", { v: "1" }) }),
    context: "ferry/deploy/staging",
    description: (repo) => `environment staging: policy does not allow ${repo.fullName} to deploy to cluster "test"`,
  },
];

const manifestCases: RepoCase[] = [
  {
    name: "a manifest that is a string",
    files: () => ({ "deploy/a.yaml": "just some text\n" }),
    context: "ferry/deploy/staging",
    description: () => "deploy/a.yaml: not a Kubernetes object: expected a mapping, found string",
  },
  {
    name: "a manifest that is a list of names",
    files: () => ({ "deploy/a.yaml": "- a\n- b\n" }),
    context: "ferry/deploy/staging",
    description: () => "deploy/a.yaml: not a Kubernetes object: expected a mapping, found a sequence",
  },
  {
    name: "a mapping without kind",
    files: () => ({ "deploy/a.yaml": stringify({ apiVersion: "v1", metadata: { name: "a" }, data: { v: "1" } }) }),
    context: "ferry/deploy/staging",
    description: () => "deploy/a.yaml: not a Kubernetes object: missing kind",
  },
  {
    name: "a namespace that is not a string",
    files: () => ({
      "deploy/a.yaml": stringify({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "a", namespace: { $ne: "" } },
      }),
    }),
    context: "ferry/deploy/staging",
    description: () => "deploy/a.yaml: not a Kubernetes object: metadata.namespace must be a string",
  },
  {
    name: "a List without items",
    files: () => ({ "deploy/a.yaml": stringify({ apiVersion: "v1", kind: "List" }) }),
    context: "ferry/deploy/staging",
    description: () => "deploy/a.yaml: List without an items sequence",
  },
  {
    name: "a YAML alias bomb in a manifest",
    files: () => ({ "deploy/a.yaml": `${aliasBomb}\n` }),
    context: "ferry/deploy/staging",
    description: () => "deploy/a.yaml: Excessive alias count indicates a resource exhaustion attack",
  },
  {
    name: "a manifest nested 50,000 levels deep (100 KB)",
    files: () => ({ "deploy/a.yaml": `${deeplyNested(50_000)}\n` }),
    context: "ferry/deploy/staging",
    description: () => "deploy/a.yaml:1:201: nested more than 200 levels deep",
  },
  {
    name: "a kind no cluster serves",
    files: () => ({
      "deploy/a.yaml": stringify({ apiVersion: "evil.example.com/v1", kind: "Backdoor", metadata: { name: "x" } }),
    }),
    context: "ferry/deploy/staging",
    description: () =>
      'Backdoor x (deploy/a.yaml): no matches for kind "Backdoor" in version "evil.example.com/v1" (ensure CRDs are installed first)',
  },
  {
    name: "the same object twice, so one would silently win",
    files: () => ({ "deploy/a.yaml": configMapYaml("a", { v: "1" }), "deploy/b.yaml": configMapYaml("a", { v: "2" }) }),
    context: "ferry/deploy/staging",
    description: () => "deploy/b.yaml: duplicate ConfigMap a, also in deploy/a.yaml",
  },
];

const policyCases: RepoCase[] = [
  {
    name: "an object in a namespace the policy does not allow",
    files: () => ({
      "deploy/a.yaml": configMapYaml("a", { v: "1" }),
      "deploy/x.yaml": stringify({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "intruder", namespace: "kube-system" },
        data: { v: "1" },
      }),
    }),
    context: "ferry/deploy/staging",
    description: () =>
      'ConfigMap kube-system/intruder: policy does not allow namespace "kube-system" on cluster "test"',
    absent: () => ["v1", "ConfigMap", "kube-system", "intruder"],
  },
  {
    name: "a ClusterRoleBinding making the repository cluster-admin",
    files: (repo) => ({
      "deploy/a.yaml": configMapYaml("a", { v: "1" }),
      "deploy/crb.yaml": stringify({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: `${repo.namespace}-admin` },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
        subjects: [{ kind: "ServiceAccount", name: "default", namespace: repo.namespace }],
      }),
    }),
    context: "ferry/deploy/staging",
    description: (repo) =>
      `ClusterRoleBinding ${repo.namespace}-admin: policy does not allow cluster-scoped ClusterRoleBinding objects on cluster "test"`,
    absent: (repo) => ["rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", `${repo.namespace}-admin`],
  },
  {
    name: "a Namespace the policy does not allow",
    files: () => ({
      "deploy/ns.yaml": stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "hostile-ns" } }),
    }),
    context: "ferry/deploy/staging",
    description: () => 'Namespace hostile-ns: policy does not allow cluster-scoped Namespace objects on cluster "test"',
    absent: () => ["v1", "Namespace", "", "hostile-ns"],
  },
  {
    name: "a CustomResourceDefinition",
    files: () => ({
      "deploy/crd.yaml": stringify({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: "backdoors.evil.example.com" },
        spec: {
          group: "evil.example.com",
          scope: "Namespaced",
          names: { plural: "backdoors", singular: "backdoor", kind: "Backdoor" },
          versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object" } } }],
        },
      }),
    }),
    context: "ferry/deploy/staging",
    description: () =>
      'CustomResourceDefinition backdoors.evil.example.com: policy does not allow cluster-scoped CustomResourceDefinition objects on cluster "test"',
    absent: () => ["apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "backdoors.evil.example.com"],
  },
];

for (const forge of FORGES)
  describe(`hostile input (${forge})`, () => {
    const suite = suiteHarness(forge);

    /** Ferry's own secret for this forge. */
    const secret = () => {
      const env = suite.h.forge.ferryEnv();
      return (forge === "github" ? env.WEBHOOK_SECRET : env.GITLAB_WEBHOOK_SECRET) ?? "";
    };
    const post = async (delivery: RawDelivery): Promise<Answer> => {
      const response = await fetch(`${suite.h.url}/api/${forge}/webhooks`, {
        method: "POST",
        headers: await wireHeaders(forge, secret(), delivery),
        body: delivery.body,
      });
      return { status: response.status, body: (await response.json()) as Record<string, string> };
    };
    /** A status description as this forge shows it (GitHub cuts them at 140 characters, GitLab at 255). */
    const shown = (description: string) => trimDescription(description, forge === "github" ? 140 : 255);
    /** Asserts a final status is a failure saying exactly `description` (or matching it). */
    const assertFailure = (final: { state: string; description: string } | undefined, description: string | RegExp) => {
      assert.equal(final?.state, "failure", JSON.stringify(final));
      if (typeof description === "string") assert.equal(final.description, shown(description));
      else assert.match(final.description, description);
    };
    /** Waits for the merge's deploy to end with a final status on `context`, and returns that status. */
    const finalOf = async (repo: TestRepo, sha: string, context: string) =>
      (await suite.h.finalStatus(repo, sha, context, SETTLE_MS)).at(-1);

    describe("webhooks: exact answer, nothing queued, nothing applied", () => {
      let repo: TestRepo;
      let ctx: WebhookContext;
      let mergeSha: string;
      before(async () => {
        repo = await suite.h.createRepo();
        const merge = await suite.h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
        mergeSha = merge.sha;
        const other = await suite.h.merge(repo, { "deploy/b.yaml": configMapYaml("b", { v: "1" }) });
        const payload = JSON.parse(JSON.stringify(merge.delivery.payload).replaceAll(merge.sha, other.sha)) as object;
        const projectId =
          forge === "gitlab" ? Number((merge.delivery.payload as { project?: { id?: number } }).project?.id) : 0;
        ctx = {
          forge,
          merged: merge.delivery,
          tampered: { event: merge.delivery.event, payload },
          fullName: repo.fullName,
          projectId,
        };
      });

      for (const c of webhookCases.filter((c) => (c.forges ?? FORGES).includes(forge))) {
        test(`${c.name}: answered exactly, nothing queued`, async () => {
          const queued = await suite.jobs.counts();
          assert.deepEqual(await post(c.send(ctx)), c.answer(ctx));
          assert.deepEqual(await suite.jobs.counts(), queued, "no job was queued");
        });
      }

      test("after every hostile delivery: no status on the commits and no namespace in the cluster", async () => {
        assert.deepEqual([...suite.h.statuses(repo), ...suite.h.planResults(repo)], []);
        assert.equal(await suite.h.namespaceExists(repo.namespace), false);
        // The genuine delivery of the same merge still works, so the cases above were refused for what they were.
        assert.equal((await suite.h.deliver(ctx.merged)).status, 202);
        assert.equal((await finalOf(repo, mergeSha, "ferry/deploy/staging"))?.state, "success");
      });
    });

    /** Runs repository cases: merge, deliver, wait for the final status, then check nothing was applied. */
    const repoCases = (cases: RepoCase[]) => {
      for (const c of cases) {
        test(`${c.name}: ${c.context} fails, nothing applied`, async () => {
          const repo = await suite.h.createRepo(c.owner === undefined ? {} : { owner: c.owner });
          const merge = await suite.h.merge(repo, c.files(repo));
          assert.equal((await suite.h.deliver(merge.delivery)).status, 202);
          assertFailure(await finalOf(repo, merge.sha, c.context), c.description(repo));
          assert.equal(await suite.h.namespaceExists(repo.namespace), false, "not even the namespace was created");
          const absent = c.absent?.(repo);
          if (absent !== undefined) {
            const [apiVersion, kind, namespace, name] = absent;
            const names =
              namespace === "" || (await suite.h.namespaceExists(namespace))
                ? await suite.h.list(apiVersion, kind, namespace)
                : new Map();
            assert.equal(names.has(name), false, `${kind} ${name} was not created`);
          }
        });
      }
    };

    describe(".ferry.yml", { concurrency: 4 }, () => repoCases(configCases));
    describe("manifests that are not Kubernetes objects", { concurrency: 4 }, () => repoCases(manifestCases));
    describe("objects outside the policy's namespaces and kinds", { concurrency: 4 }, () => repoCases(policyCases));

    describe("repository links out of the tree (served by git archive)", { concurrency: 3 }, () => {
      const linkCases: Array<{ name: string; link: string; target: string; description: (prefix: string) => string }> =
        [
          {
            name: ".ferry.yml as a symlink to /etc/passwd",
            link: ".ferry.yml",
            target: "/etc/passwd",
            description: (p) => `archive entry ${p}/.ferry.yml: symlink to /etc/passwd points outside the repository`,
          },
          {
            name: "the environment's path as a symlink to /",
            link: "deploy-link",
            target: "/",
            description: (p) => `archive entry ${p}/deploy-link: symlink to / points outside the repository`,
          },
          {
            name: "a manifest as a relative symlink out of the repository",
            link: "deploy/token.yaml",
            target: "../../../../var/run/secrets/kubernetes.io/serviceaccount/token",
            description: (p) =>
              `archive entry ${p}/deploy/token.yaml: symlink to ../../../../var/run/secrets/kubernetes.io/serviceaccount/token points outside the repository`,
          },
        ];
      for (const c of linkCases) {
        test(`${c.name}: ferry/deploy fails, nothing applied`, async () => {
          const repo = await suite.h.createRepo();
          const pr = await suite.h.openPullRequest(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
          await repo.git.checkout(pr.branch);
          await symlink(c.target, join(repo.git.dir, c.link)).catch(async () => {
            await repo.git.writeFiles({ [c.link]: null });
            await symlink(c.target, join(repo.git.dir, c.link));
          });
          const head = await repo.git.commit("add a link");
          await repo.git.checkout("main");
          const merge = await suite.h.mergePullRequest(repo, { ...pr, headSha: head });
          await suite.h.deliver(merge.delivery);
          assertFailure(
            await finalOf(repo, merge.sha, "ferry/deploy"),
            c.description(archivePrefix(forge, repo.fullName, merge.sha)),
          );
          assert.equal(await suite.h.namespaceExists(repo.namespace), false);
        });
      }
    });

    describe("hand-made hostile archives (served by the simulator for the merged commit)", { concurrency: 3 }, () => {
      for (const c of archiveCases) {
        test(`${c.name}: ferry/deploy fails clearly, nothing applied or written outside`, async () => {
          const repo = await suite.h.createRepo();
          const merge = await suite.h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
          const outside = sentinel();
          suite.h.forge.serveArchive(repo.fullName, merge.sha, await c.archive(top, repo, outside));
          assert.equal((await suite.h.deliver(merge.delivery)).status, 202);
          assertFailure(await finalOf(repo, merge.sha, "ferry/deploy"), c.description(top, outside));
          assert.equal(await suite.h.namespaceExists(repo.namespace), false, "nothing was applied");
          assert.equal(existsSync(outside), false, `${outside} was not written`);
          const [comment = ""] = await suite.h.comments(repo, merge.number, /Ferry release/, SETTLE_MS);
          assert.ok(comment.includes(c.description(top, outside)) && comment.includes("Nothing was deployed"), comment);
        });
      }

      test("a change whose archive is hostile gets a failed ferry/plan status and writes nothing", async () => {
        const repo = await suite.h.createRepo();
        const pr = await suite.h.openPullRequest(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
        suite.h.forge.serveArchive(
          repo.fullName,
          pr.headSha,
          await tarGz([
            ...validTree(top, repo),
            { name: `${top}/deploy/passwd.yaml`, type: "symlink", linkname: "/etc/passwd" },
          ]),
        );
        assert.equal((await suite.h.deliver(pr.delivery)).status, 202);
        assertFailure(
          await finalOf(repo, pr.headSha, "ferry/plan"),
          `archive entry ${top}/deploy/passwd.yaml: symlink to /etc/passwd points outside the repository`,
        );
        assert.equal(await suite.h.namespaceExists(repo.namespace), false);
      });
    });

    describe("a manifest nested 100,000 levels deep, planned and then deployed by the same worker", () => {
      test("fails plan and deploy with the same clear message, and the worker lives on to deploy the fix", async () => {
        const repo = await suite.h.createRepo();
        const pr = await suite.h.openPullRequest(repo, { "deploy/a.yaml": `${deeplyNested(100_000)}\n` });
        await suite.h.deliver(pr.delivery);
        const message = "deploy/a.yaml:1:201: nested more than 200 levels deep";
        assertFailure(await finalOf(repo, pr.headSha, "ferry/plan/staging"), `failed: ${message}`);
        const merge = await suite.h.mergePullRequest(repo, pr);
        await suite.h.deliver(merge.delivery);
        assertFailure(await finalOf(repo, merge.sha, "ferry/deploy/staging"), message);
        const fix = await suite.h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "fixed" }) });
        await suite.h.deliver(fix.delivery);
        assert.equal((await finalOf(repo, fix.sha, "ferry/deploy/staging"))?.state, "success");
        assert.deepEqual((await suite.h.list("v1", "ConfigMap", repo.namespace)).get("a")?.data, { v: "fixed" });
      });
    });

    describe("comment commands", () => {
      const users: Array<{ name: string; user: string; access?: "read" }> = [
        { name: "a user with read access", user: "reader", access: "read" },
        { name: "a user with no access at all", user: "stranger" },
      ];
      for (const u of users) {
        test(`/ferry plan from ${u.name} is refused with a reply, and nothing is planned`, async () => {
          const repo = await suite.h.createRepo();
          if (u.access !== undefined) suite.h.forge.setAccess(repo.fullName, u.user, u.access);
          const pr = await suite.h.openPullRequest(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
          const answer = await suite.h.deliver(suite.h.comment(repo, pr, u.user, "/ferry plan"));
          assert.equal(answer.status, 202);
          assert.match(answer.body, /"queued":"command-[0-9a-f]{32}"/);
          await suite.h.comments(
            repo,
            pr.number,
            new RegExp(
              `^@${u.user} only people with write access to this repository can run \`/ferry plan\`\\.\n\n<!-- ferry:reply:\\d+ -->$`,
            ),
            SETTLE_MS,
          );
          await suite.jobs.settled(SETTLE_MS);
          assert.deepEqual(
            [...suite.h.statuses(repo, pr.headSha), ...suite.h.planResults(repo, pr.headSha)],
            [],
            "nothing planned",
          );
          assert.equal(await suite.h.namespaceExists(repo.namespace), false);
        });
      }

      test("a command written by a bot, or holding Ferry's own marker, is dropped at intake", async () => {
        const repo = await suite.h.createRepo();
        const pr = await suite.h.openPullRequest(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
        const queued = await suite.jobs.counts();
        if (forge === "github") {
          const delivery = suite.h.comment(repo, pr, "evil-bot[bot]", "/ferry plan");
          const payload = delivery.payload as { comment: { user: { type: string } } };
          payload.comment.user.type = "Bot";
          assert.deepEqual(await suite.h.deliver(delivery), {
            status: 202,
            body: JSON.stringify({ ignored: "comment by bot evil-bot[bot]" }),
          });
        } else {
          const delivery = suite.h.comment(repo, pr, "writer", "<!-- ferry:plan -->\n/ferry plan");
          assert.deepEqual(await suite.h.deliver(delivery), {
            status: 202,
            body: JSON.stringify({ ignored: "note written by Ferry" }),
          });
        }
        const inline = suite.h.comment(repo, pr, "writer", "could someone run /ferry plan please");
        assert.deepEqual(await suite.h.deliver(inline), {
          status: 202,
          body: JSON.stringify({ ignored: `${forge === "github" ? "comment" : "note"} holds no /ferry plan command` }),
        });
        assert.deepEqual(await suite.jobs.counts(), queued);
      });
    });

    describe("changes from forks", () => {
      test("a change from a fork is not planned, and /ferry plan by a writer does not plan it either", async () => {
        const repo = await suite.h.createRepo();
        suite.h.forge.setAccess(repo.fullName, "writer", "write");
        const pr = await suite.h.openPullRequest(
          repo,
          { "deploy/a.yaml": configMapYaml("a", { v: "from-fork" }) },
          { fromFork: true },
        );
        assert.equal((await suite.h.deliver(pr.delivery)).status, 202);
        assert.equal((await suite.h.deliver(suite.h.comment(repo, pr, "writer", "/ferry plan"))).status, 202);
        await suite.jobs.settled(SETTLE_MS);
        assert.deepEqual([...suite.h.statuses(repo, pr.headSha), ...suite.h.planResults(repo, pr.headSha)], []);
        assert.deepEqual(
          suite.h.rawComments(repo, pr.number).filter((c) => c.body.includes("ferry:")),
          [],
        );
        assert.equal(await suite.h.namespaceExists(repo.namespace), false);
      });

      test("a merge webhook naming a fork's commit deploys the deploy branch's head, never the fork's content", async () => {
        const repo = await suite.h.createRepo();
        const base = await suite.h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "main" }) });
        await suite.h.deliver(base.delivery);
        await finalOf(repo, base.sha, "ferry/deploy/staging");
        const fork = await suite.h.openPullRequest(
          repo,
          {
            "deploy/a.yaml": configMapYaml("a", { v: "from-fork" }),
            "deploy/evil.yaml": configMapYaml("evil", { v: "1" }),
          },
          { fromFork: true },
        );
        // A delivery claiming the fork's head is what got merged (it never reached main).
        suite.h.forge.updateChange(repo.fullName, { ...fork, mergeSha: fork.headSha, merged: true });
        await suite.h.deliver(suite.h.forge.mergedEvent(repo.fullName, { ...fork, mergeSha: fork.headSha }));
        await suite.jobs.settled(SETTLE_MS);
        const live = await suite.h.list("v1", "ConfigMap", repo.namespace);
        assert.deepEqual(live.get("a")?.data, { v: "main" });
        assert.equal(live.has("evil"), false);
      });
    });

    test("the forge refused no status transition in this suite", () => {
      assert.deepEqual(suite.h.forge.refusedTransitions(), []);
    });
  });
