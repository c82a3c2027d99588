import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { afterProblems, type AfterLink } from "./after-chains.js";

const env = (name: string, after?: string, branch = "main"): AfterLink => ({ name, branch, after });

describe("afterProblems", () => {
  it("accepts chains within one branch", () => {
    assert.deepEqual(
      afterProblems([
        env("dev"),
        env("staging", "dev"),
        env("prod", "staging"),
        env("prod-us", "staging"),
        env("hotfix", undefined, "release"),
      ]),
      [],
    );
  });

  it("refuses a name no environment has, the environment itself, and another branch's environment", () => {
    assert.deepEqual(
      afterProblems([env("a", "nope"), env("b", "b"), env("staging", undefined, "release"), env("prod", "staging")]),
      [
        { index: 0, message: 'no environment named "nope"' },
        { index: 1, message: "b cannot wait for itself" },
        { index: 3, message: "staging is deployed from branch release, not main: promotion waits for the same commit" },
      ],
    );
  });

  it("reports each cycle once, at its first environment, naming it in order", () => {
    assert.deepEqual(
      afterProblems([
        env("x"),
        env("c", "a"),
        env("a", "b"),
        env("b", "c"),
        env("d", "a"),
        env("e", "f"),
        env("f", "e"),
      ]),
      [
        { index: 1, message: "environments wait for each other in a cycle: c → a → b → c" },
        { index: 5, message: "environments wait for each other in a cycle: e → f → e" },
      ],
    );
  });
});
