import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { webLoginFromEnv } from "./web-login-config.js";

const SECRET = "x".repeat(32);

describe("webLoginFromEnv", () => {
  it("is off (undefined) when no forge's client is configured", () => {
    assert.equal(webLoginFromEnv({ FERRY_SESSION_SECRET: SECRET }), undefined);
  });

  it("refuses a client without a session secret, with a short one, or half a client", () => {
    const github = { FERRY_GITHUB_CLIENT_ID: "Iv1.a", FERRY_GITHUB_CLIENT_SECRET: "s" };
    assert.throws(() => webLoginFromEnv(github), /FERRY_SESSION_SECRET/);
    assert.throws(() => webLoginFromEnv({ ...github, FERRY_SESSION_SECRET: "short" }), /at least 32/);
    assert.throws(() => webLoginFromEnv({ FERRY_GITHUB_CLIENT_ID: "Iv1.a", FERRY_SESSION_SECRET: SECRET }), /both/);
    assert.throws(
      () =>
        webLoginFromEnv({ FERRY_GITLAB_CLIENT_ID: "a", FERRY_GITLAB_CLIENT_SECRET: "b", FERRY_SESSION_SECRET: SECRET }),
      /GITLAB_URL/,
    );
  });

  it("signs in with GitHub (github.com or GHE_HOST) and GitLab, never naming a secret in an error", () => {
    const config = webLoginFromEnv({
      FERRY_GITHUB_CLIENT_ID: "Iv1.a",
      FERRY_GITHUB_CLIENT_SECRET: "github-secret",
      FERRY_GITLAB_CLIENT_ID: "b",
      FERRY_GITLAB_CLIENT_SECRET: "gitlab-secret",
      GITLAB_URL: "https://gitlab.example.com",
      GHE_HOST: "ghe.example.com",
      FERRY_SESSION_SECRET: SECRET,
    });
    assert.deepEqual(
      config?.providers.map((p) => p.forge),
      ["github", "gitlab"],
    );
    const url = config?.providers[0]?.authorizeUrl("st", "https://ferry.example.com/login/github/callback") ?? "";
    assert.match(url, /^https:\/\/ghe\.example\.com\/login\/oauth\/authorize\?client_id=Iv1\.a&/);
    assert.ok(!url.includes("github-secret"));
    try {
      webLoginFromEnv({ FERRY_GITHUB_CLIENT_SECRET: "github-secret" });
    } catch (error) {
      assert.ok(!(error as Error).message.includes("github-secret"));
    }
  });
});
