import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expandTemplates, parseTemplates, type TemplateRef } from "./cluster-templates.js";

const cluster = {
  name: "eu-1",
  labels: { region: "eu", "topology.kubernetes.io/zone": "eu-1a" } as Record<string, string>,
};
const valueOf = (ref: TemplateRef) => (ref.kind === "name" ? cluster.name : (cluster.labels[ref.key] ?? "?"));

describe("expandTemplates", () => {
  it("fills in the cluster's name and labels, as often as they appear", () => {
    assert.deepEqual(expandTemplates("deploy/${cluster.labels.region}/${cluster.name}", valueOf), {
      text: "deploy/eu/eu-1",
      problems: [],
    });
    assert.deepEqual(expandTemplates("${cluster.name}-${cluster.name}", valueOf), { text: "eu-1-eu-1", problems: [] });
    assert.deepEqual(expandTemplates("zone-${cluster.labels.topology.kubernetes.io/zone}", valueOf), {
      text: "zone-eu-1a",
      problems: [],
    });
  });

  it("leaves text without templates alone, including a lone $", () => {
    assert.deepEqual(expandTemplates("price: $5 {x}", valueOf), { text: "price: $5 {x}", problems: [] });
  });

  it("reads $${ as a literal ${", () => {
    assert.deepEqual(expandTemplates("echo $${HOME} on ${cluster.name}", valueOf), {
      text: "echo ${HOME} on eu-1",
      problems: [],
    });
  });

  it("reports any other ${...}, a label key that is not one, and an unclosed ${, leaving them as written", () => {
    const allowed = "only ${cluster.name} and ${cluster.labels.<key>} are allowed (write $${ for a literal ${)";
    assert.deepEqual(expandTemplates("${HOME}/${cluster.labels.Bad Key}/${ cluster.name }/${cluster.name", valueOf), {
      text: "${HOME}/${cluster.labels.Bad Key}/${ cluster.name }/${cluster.name",
      problems: [
        `unknown template \${HOME}: ${allowed}`,
        '${cluster.labels.Bad Key}: "Bad Key" is not a label key',
        `unknown template \${ cluster.name }: ${allowed}`,
        `unclosed \${: ${allowed}`,
      ],
    });
    assert.deepEqual(expandTemplates("${cluster.labels.}", valueOf).problems, [
      '${cluster.labels.}: "" is not a label key',
    ]);
    assert.deepEqual(expandTemplates("${}", valueOf).problems, [`unknown template \${}: ${allowed}`]);
  });
});

describe("parseTemplates", () => {
  it("splits text into literal pieces and templates", () => {
    assert.deepEqual(parseTemplates("deploy/${cluster.labels.region}/${cluster.name}"), {
      pieces: ["deploy/", { kind: "label", key: "region" }, "/", { kind: "name" }],
      problems: [],
    });
    assert.deepEqual(parseTemplates("${cluster.name}"), { pieces: [{ kind: "name" }], problems: [] });
    assert.deepEqual(parseTemplates(""), { pieces: [""], problems: [] });
  });

  it("joins escapes and refused templates into the literal text around them", () => {
    const parsed = parseTemplates("a $${HOME} ${nope} b");
    assert.deepEqual(parsed.pieces, ["a ${HOME} ${nope} b"]);
    assert.equal(parsed.problems.length, 1);
  });
});
