import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDocument } from "yaml";
import { parseFerryConfig } from "../config/ferry-config.js";
import { FerryError } from "../errors.js";
import { parseManifests } from "../render/parse-manifests.js";
import { findTooDeepYaml, MAX_YAML_NESTING, parseBoundedYaml } from "./yaml-nesting.js";

/** `depth` nested flow sequences around a scalar. */
const flow = (depth: number) => `${"[".repeat(depth)}x${"]".repeat(depth)}`;
/** `depth` nested block mappings, each one key deeper. */
const block = (depth: number) => `${Array.from({ length: depth }, (_, i) => `${"  ".repeat(i)}k${i}:`).join("\n")} x\n`;

describe("findTooDeepYaml", () => {
  it("accepts nesting up to the limit, in flow and block style, and reports the first collection past it", () => {
    assert.equal(findTooDeepYaml(flow(MAX_YAML_NESTING)), undefined);
    assert.equal(findTooDeepYaml(block(MAX_YAML_NESTING)), undefined);
    assert.deepEqual(findTooDeepYaml(flow(MAX_YAML_NESTING + 1)), {
      offset: MAX_YAML_NESTING,
      line: 1,
      col: MAX_YAML_NESTING + 1,
      limit: MAX_YAML_NESTING,
    });
    assert.deepEqual(findTooDeepYaml(`a: 1\n---\n${flow(5)}`, 4), { offset: 13, line: 3, col: 5, limit: 4 });
    assert.ok(findTooDeepYaml(block(MAX_YAML_NESTING + 1)));
  });

  it("measures 100,000 levels without using the call stack, so the same text can then be refused as often as it comes", () => {
    const hostile = flow(100_000);
    for (let i = 0; i < 3; i++) assert.equal(findTooDeepYaml(hostile)?.offset, MAX_YAML_NESTING);
  });

  it("leaves documents at the limit parseable", () => {
    const doc = parseDocument(flow(MAX_YAML_NESTING));
    assert.deepEqual(doc.errors, []);
  });

  it("keeps the process alive when .ferry.yml, manifests and chart files nest 1,000 levels deep, however often they come", () => {
    // Before the limit, the second such document killed Node with "RegExpCompiler Allocation failed".
    const hostile = flow(1000);
    for (let i = 0; i < 3; i++) {
      assert.throws(
        () => parseFerryConfig(hostile),
        (error: unknown) =>
          error instanceof FerryError &&
          error.kind === "permanent" &&
          error.message === `.ferry.yml:1:${MAX_YAML_NESTING + 1}: nested more than ${MAX_YAML_NESTING} levels deep`,
      );
      const problems: string[] = [];
      assert.deepEqual(parseManifests(hostile, "deploy/x.yaml", problems), []);
      assert.deepEqual(problems, [
        `deploy/x.yaml:1:${MAX_YAML_NESTING + 1}: nested more than ${MAX_YAML_NESTING} levels deep`,
      ]);
      assert.throws(() => parseBoundedYaml(hostile, {}), /nested more than 200 levels deep/);
    }
  });
});
