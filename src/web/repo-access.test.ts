import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { OAuthProvider } from "../forge/oauth-provider.js";
import { ACCESS_TTL_MS, RepoAccess } from "./repo-access.js";
import type { WebSession } from "./web-sessions.js";

const session = (id: string): WebSession => ({ id, forge: "github", login: "alice", token: `t-${id}`, csrf: "c" });

describe("RepoAccess", () => {
  it("asks the forge once per session and repository within a minute, then again", async () => {
    const asked: string[] = [];
    let readable = true;
    const provider = {
      forge: "github",
      canRead: (token: string, repo: string) => {
        asked.push(`${token} ${repo}`);
        return Promise.resolve(readable);
      },
    } as unknown as OAuthProvider;
    let now = 0;
    const access = new RepoAccess([provider], () => now);
    assert.equal(await access.canRead(session("a"), "github", "acme/shop"), true);
    readable = false;
    assert.equal(await access.canRead(session("a"), "github", "acme/shop"), true, "cached");
    assert.equal(await access.canRead(session("b"), "github", "acme/shop"), false, "another session asks itself");
    assert.equal(await access.canRead(session("a"), "gitlab", "acme/shop"), false, "another forge is never readable");
    now += ACCESS_TTL_MS;
    assert.equal(await access.canRead(session("a"), "github", "acme/shop"), false, "asked again after a minute");
    assert.deepEqual(asked, ["t-a acme/shop", "t-b acme/shop", "t-a acme/shop"]);
  });
});
