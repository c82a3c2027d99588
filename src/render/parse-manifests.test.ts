import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseManifests } from "./parse-manifests.js";

/** Parses `text` as `deploy/x.yaml`; returns the objects' names and the problems found. */
function parse(text: string): { names: string[]; problems: string[] } {
  const problems: string[] = [];
  const names = parseManifests(text, "deploy/x.yaml", problems).map((o) => o.object.metadata.name);
  return { names, problems };
}

describe("parseManifests", () => {
  it("refuses an object with generateName as kubectl does: apply cannot use a generated name", () => {
    const { names, problems } = parse("apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\n");
    assert.deepEqual(names, []);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? "", /^deploy\/x\.yaml: from migrate-: cannot use generate name with apply /);
    assert.match(problems[0] ?? "", /server-side apply needs metadata\.name/);
    assert.doesNotMatch(problems[0] ?? "", /not a Kubernetes object/);
  });

  it("takes an object with both name and generateName (the name wins, as with kubectl)", () => {
    const { names, problems } = parse(
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  generateName: settings-\n",
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(names, ["settings"]);
  });

  it("still says an object without name or generateName is missing metadata.name", () => {
    const { problems } = parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n");
    assert.deepEqual(problems, ["deploy/x.yaml: not a Kubernetes object: missing metadata.name"]);
  });
});
