import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Rollout } from "../domain/rollout.js";
import type { MergedChange } from "../forge/types.js";
import {
  alreadyAnswer,
  changeRef,
  openedAnswer,
  revertBody,
  revertMarker,
  revertRefusedAnswer,
  revertTitle,
} from "./rollback-words.js";

const change: MergedChange = {
  number: 7,
  title: "Raise replicas",
  baseBranch: "main",
  mergeSha: "8f14e45fceea167a5a36dedd4bea2543d5b0e1c2",
  url: "https://gitlab.example.com/acme/shop/-/merge_requests/7",
};
const released = { id: "r1", environment: "staging", sha: change.mergeSha, state: "succeeded" } as Rollout;
const revert = { number: 9, url: "https://x/9", headSha: "abc", branch: "ferry/revert-7", created: true };

describe("rollback words", () => {
  it("titles a revert as the forges' Revert buttons do, and refers to changes in each forge's notation", () => {
    assert.equal(revertTitle(change), 'Revert "Raise replicas"');
    assert.deepEqual([changeRef("github", 7), changeRef("gitlab", 7)], ["#7", "!7"]);
  });

  it("describes the change, its releases with their rollout pages, who asked, and ends with the marker", () => {
    const body = revertBody({
      repo: { forge: "gitlab", fullName: "acme/shop" },
      change,
      releases: [released],
      user: "lead",
      command: "/ferry rollback staging",
      rolloutPage: (id) => `https://ferry.example.com/rollouts/${id}`,
    });
    assert.equal(
      body,
      [
        "Reverts !7 (Raise replicas), merged as `8f14e45`, as @lead asked with `/ferry rollback staging`.",
        "",
        "Its releases:",
        "",
        "- staging: `8f14e45` succeeded ([rollout](https://ferry.example.com/rollouts/r1))",
        "",
        "Ferry plans this change as any other: its plan comment shows what the rollback changes in each cluster. " +
          "Merging it deploys it, so Git stays the single source of truth.",
        "",
        "<!-- ferry:revert-of:7 -->",
      ].join("\n"),
    );
    assert.ok(body.endsWith(revertMarker(7)));
  });

  it("answers an opened, merged, refused and repeated rollback with a link to the revert", () => {
    assert.match(openedAnswer("lead", "github", revert, undefined), /^@lead opened \[#9\]\(https:\/\/x\/9\) to roll/);
    assert.match(openedAnswer("lead", "github", revert, { merged: true }), /opened and merged \[#9\]/);
    assert.match(
      openedAnswer("lead", "gitlab", revert, { merged: false, refused: "405 Method Not Allowed" }),
      /GitLab would not let Ferry merge it:\n\n> 405 Method Not Allowed\n/,
    );
    assert.match(
      alreadyAnswer("lead", "gitlab", revert, true),
      /already rolled back: \[!9\]\(https:\/\/x\/9\) reverted it/,
    );
    assert.match(alreadyAnswer("lead", "gitlab", revert, false), /rollback is already open: \[!9\]/);
  });

  it("quotes the forge's refusal of a revert and says how to revert by hand", () => {
    const answer = revertRefusedAnswer("lead", "gitlab", change, "Sorry, we cannot revert this commit automatically.");
    assert.match(answer, /^@lead GitLab could not revert !7 automatically:\n\n> Sorry, we cannot revert/);
    assert.match(answer, /on a branch off main, `git revert -m 1 8f14e45fceea167a5a36dedd4bea2543d5b0e1c2`/);
  });
});
