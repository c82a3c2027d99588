import assert from "node:assert/strict";
import { test } from "node:test";
import { forgeCredentialsIn } from "./forge-credentials-in.js";

test("names the forge credentials set, never their values, and ignores empty ones", () => {
  const found = forgeCredentialsIn({ GITLAB_TOKEN: "glpat-secret", PRIVATE_KEY: "", REDIS_PASSWORD: "x", APP_ID: "7" });
  assert.deepEqual(found, ["APP_ID", "GITLAB_TOKEN"]);
  assert.deepEqual(forgeCredentialsIn({ REDIS_URL: "redis://h", REDIS_PASSWORD: "p" }), []);
});
