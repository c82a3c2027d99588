import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { FerryError } from "../errors.js";
import { PlainRenderer } from "./plain-renderer.js";

/** A ConfigMap manifest named `name`. */
const configMap = (name: string, extra = "") => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}`;

/** Expects a permanent FerryError and returns its message lines. */
async function problems(promise: Promise<unknown>): Promise<string[]> {
  let message = "";
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FerryError, `expected a FerryError, got ${String(error)}`);
    assert.equal(error.kind, "permanent");
    message = error.message;
    return true;
  });
  return message.split("\n");
}

describe("PlainRenderer", () => {
  let work: string;
  let count = 0;
  const renderer = new PlainRenderer();

  /** Writes `files` (path → content) into a fresh repository directory and returns it. */
  async function repo(files: Record<string, string>): Promise<string> {
    const root = path.join(work, `repo-${++count}`);
    for (const [name, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(root, name)), { recursive: true });
      await writeFile(path.join(root, name), content);
    }
    await mkdir(root, { recursive: true });
    return root;
  }

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), "ferry-render-"));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("reads YAML and JSON files recursively in sorted order, skipping hidden and other files", async () => {
    const root = await repo({
      "deploy/b.yaml": `${configMap("b1")}---\n${configMap("b2")}`,
      "deploy/a.yml": configMap("a"),
      "deploy/sub/c.json": JSON.stringify({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "c", namespace: "shop" },
      }),
      "deploy/aa/d.yaml": `---\n${configMap("d")}---\n`,
      "deploy/.hidden/e.yaml": configMap("e"),
      "deploy/.f.yaml": configMap("f"),
      "deploy/README.md": "not a manifest",
      "other/g.yaml": configMap("g"),
    });
    const rendered = await renderer.render(root, { path: "deploy" });
    assert.deepEqual(
      rendered.map((r) => [r.source, r.object.metadata.name]),
      [
        ["deploy/a.yml", "a"],
        ["deploy/aa/d.yaml", "d"],
        ["deploy/b.yaml#1", "b1"],
        ["deploy/b.yaml#2", "b2"],
        ["deploy/sub/c.json", "c"],
      ],
    );
    assert.deepEqual(rendered[4]?.object, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "c", namespace: "shop" },
    });
  });

  it("numbers documents by position, skipping empty and null ones", async () => {
    const root = await repo({ "env/x.yaml": `${configMap("one")}---\n---\nnull\n---\n${configMap("two")}` });
    const rendered = await renderer.render(root, { path: "env" });
    assert.deepEqual(
      rendered.map((r) => r.source),
      ["env/x.yaml#1", "env/x.yaml#4"],
    );
  });

  it("renders the repository root for . and an empty path", async () => {
    const root = await repo({ "a.yaml": configMap("a") });
    assert.equal((await renderer.render(root, { path: "." }))[0]?.source, "a.yaml");
    assert.equal((await renderer.render(root, { path: "" }))[0]?.source, "a.yaml");
  });

  it("expands List and *List kinds in JSON and YAML", async () => {
    const list = {
      apiVersion: "v1",
      kind: "List",
      items: [
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } },
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "y" } },
      ],
    };
    const root = await repo({
      "env/list.json": JSON.stringify(list, null, "\t"),
      "env/maps.yaml": `apiVersion: v1\nkind: ConfigMapList\nitems:\n  - ${configMap("z").replaceAll("\n", "\n    ")}`,
    });
    const rendered = await renderer.render(root, { path: "env" });
    assert.deepEqual(
      rendered.map((r) => [r.source, r.object.metadata.name]),
      [
        ["env/list.json items[0]", "x"],
        ["env/list.json items[1]", "y"],
        ["env/maps.yaml items[0]", "z"],
      ],
    );
  });

  it("reads YAML 1.1 as kubectl does", async () => {
    const root = await repo({ "env/a.yaml": configMap("a", "mode: 0644\nat: 12:30\nday: 2001-12-14\nflag: yes\n") });
    const [only] = await renderer.render(root, { path: "env" });
    assert.deepEqual(
      { mode: only?.object.mode, at: only?.object.at, day: only?.object.day, flag: only?.object.flag },
      { mode: 420, at: "12:30", day: "2001-12-14", flag: true },
    );
  });

  it("refuses a billion-laughs alias bomb quickly", async () => {
    const levels = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    const lines = levels.map((level, i) =>
      i === 0
        ? `  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`
        : `  ${level}: &${level} [${Array(9)
            .fill(`*${levels[i - 1]}`)
            .join(",")}]`,
    );
    const root = await repo({ "env/bomb.yaml": configMap("bomb", `data:\n${lines.join("\n")}\n`) });
    const started = Date.now();
    assert.deepEqual(await problems(renderer.render(root, { path: "env" })), [
      "env/bomb.yaml: Excessive alias count indicates a resource exhaustion attack",
    ]);
    assert.ok(Date.now() - started < 1000);
  });

  it("names file, line and column for a YAML syntax error", async () => {
    const root = await repo({
      "deploy/app.yaml": `${configMap("ok")}---\napiVersion: v1\nkind: ConfigMap: x\nmetadata: {}\n`,
    });
    assert.deepEqual(await problems(renderer.render(root, { path: "deploy" })), [
      "deploy/app.yaml:7:7: Nested mappings are not allowed in compact mappings",
    ]);
  });

  it("says what is missing from something that is not a Kubernetes object", async () => {
    const root = await repo({
      "deploy/x.yaml": [
        "just a string",
        "- a\n- sequence",
        "kind: ConfigMap\nmetadata: {name: a}",
        "apiVersion: v1\nmetadata: {name: a}",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: shop}",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: 3}",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {replicas: 3}}",
        "apiVersion: v1\nkind: List",
      ].join("\n---\n"),
    });
    assert.deepEqual(await problems(renderer.render(root, { path: "deploy" })), [
      "deploy/x.yaml#1: not a Kubernetes object: expected a mapping, found string",
      "deploy/x.yaml#2: not a Kubernetes object: expected a mapping, found a sequence",
      "deploy/x.yaml#3: not a Kubernetes object: missing apiVersion",
      "deploy/x.yaml#4: not a Kubernetes object: missing kind",
      "deploy/x.yaml#5: not a Kubernetes object: missing metadata.name",
      "deploy/x.yaml#6: not a Kubernetes object: metadata.namespace must be a string",
      "deploy/x.yaml#7: not a Kubernetes object: metadata.labels.replicas must be a string",
      "deploy/x.yaml#8: List without an items sequence",
    ]);
  });

  it("refuses paths that leave the repository or are not directories", async () => {
    const root = await repo({ "deploy/a.yaml": configMap("a") });
    await mkdir(path.join(work, "outside"), { recursive: true });
    await writeFile(path.join(work, "outside/secret.yaml"), configMap("stolen"));
    const cases: Array<[string, RegExp]> = [
      ["../..", /must not contain \.\./],
      ["deploy/../../outside", /must not contain \.\./],
      ["/etc", /must be relative/],
      ["missing", /environment path missing does not exist/],
      ["deploy/a.yaml", /environment path deploy\/a\.yaml is not a directory/],
    ];
    for (const [envPath, pattern] of cases) {
      const [line] = await problems(renderer.render(root, { path: envPath }));
      assert.match(line ?? "", pattern);
    }
  });

  it("refuses symlinks that lead outside the repository, follows those that stay inside", async () => {
    const root = await repo({ "deploy/a.yaml": configMap("a"), "base/b.yaml": configMap("b") });
    await mkdir(path.join(work, "outside"), { recursive: true });
    await writeFile(path.join(work, "outside/secret.yaml"), configMap("stolen"));
    await symlink(path.join(work, "outside"), path.join(root, "escape"));
    const [line] = await problems(renderer.render(root, { path: "escape" }));
    assert.match(line ?? "", /environment path escape leads outside the repository through a symlink/);

    await symlink("../../outside/secret.yaml", path.join(root, "deploy/secret.yaml"));
    assert.deepEqual(await problems(renderer.render(root, { path: "deploy" })), [
      "deploy/secret.yaml: symlink leads outside the repository",
    ]);
    await rm(path.join(root, "deploy/secret.yaml"));

    await symlink("../base/b.yaml", path.join(root, "deploy/b.yaml"));
    await symlink("../base", path.join(root, "deploy/base-dir"));
    const rendered = await renderer.render(root, { path: "deploy" });
    assert.deepEqual(
      rendered.map((r) => r.source),
      ["deploy/a.yaml", "deploy/b.yaml"],
    );
  });

  it("refuses the same object twice, naming both sources", async () => {
    const deployment = (apiVersion: string, name: string, namespace?: string) =>
      `apiVersion: ${apiVersion}\nkind: Deployment\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ""}`;
    const root = await repo({
      "env/a.yaml": `${deployment("apps/v1", "web", "shop")}---\n${deployment("apps/v1", "web")}`,
      "env/b.yaml": `${deployment("apps/v1beta1", "web", "shop")}---\n${deployment("example.com/v1", "web", "shop")}`,
      "env/c.yaml": configMap("web"),
    });
    assert.deepEqual(await problems(renderer.render(root, { path: "env" })), [
      "env/b.yaml#1: duplicate Deployment shop/web, also in env/a.yaml#1",
    ]);
  });

  it("reports every problem across files in one error", async () => {
    const root = await repo({
      "env/1-syntax.yaml": "a: [\n",
      "env/2-missing.yaml": "apiVersion: v1\nkind: ConfigMap\n",
      "env/3-ok.yaml": configMap("ok"),
      "env/4-dup.yaml": configMap("ok"),
      "env/5-bad.json": '{"apiVersion": "v1"',
    });
    const lines = await problems(renderer.render(root, { path: "env" }));
    assert.equal(lines.length, 4, lines.join("\n"));
    assert.match(lines[0] ?? "", /^env\/1-syntax\.yaml:\d+:\d+: /);
    assert.equal(lines[1], "env/2-missing.yaml: not a Kubernetes object: missing metadata.name");
    assert.match(lines[2] ?? "", /^env\/5-bad\.json:1:\d+: /);
    assert.equal(lines[3], "env/4-dup.yaml: duplicate ConfigMap ok, also in env/3-ok.yaml");
  });

  it("enforces the document and file size limits", async () => {
    const root = await repo({ "env/a.yaml": `${configMap("a")}---\n${configMap("b")}---\n${configMap("c")}` });
    const [tooMany] = await problems(new PlainRenderer({ maxDocuments: 2 }).render(root, { path: "env" }));
    assert.equal(tooMany, "env: more than 2 objects");
    const [tooBig] = await problems(new PlainRenderer({ maxFileBytes: 50 }).render(root, { path: "env" }));
    assert.equal(tooBig, "env/a.yaml: larger than the 50-byte limit per manifest file");
  });
});
