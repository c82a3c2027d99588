import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sign, verify } from "@octokit/webhooks-methods";
import { mergedPullRequest } from "../../../test/support/webhooks.js";
import { deliveryBody } from "../delivery-body.js";
import { githubIntake, GITHUB_WEBHOOK_PATH } from "./github-intake.js";

const SECRET = "intake-secret";
const intake = githubIntake({ verify: (body, signature) => verify(SECRET, body, signature) });
const body = JSON.stringify(
  mergedPullRequest({
    repo: "acme/shop",
    number: 7,
    base: "main",
    headSha: "a".repeat(40),
    mergeCommitSha: "b".repeat(40),
    mergedBy: "dev",
  }),
);
const headers = async (text = body, secret = SECRET) => ({
  "x-github-event": "pull_request",
  "x-github-delivery": "d-1",
  "x-hub-signature-256": await sign(secret, text),
});

describe("githubIntake", () => {
  it("is GitHub's, at Probot's webhook path", () => {
    assert.deepEqual([intake.forge, intake.path], ["github", GITHUB_WEBHOOK_PATH]);
    assert.equal(GITHUB_WEBHOOK_PATH, "/api/github/webhooks");
  });

  it("accepts a delivery signed over its exact body, with its log fields and a parser bound to its event and id", async () => {
    const delivery = await intake.authenticate(await headers(), deliveryBody(body));
    assert.ok(delivery.ok);
    assert.deepEqual(delivery.logFields, { forge: "github", delivery: "d-1", event: "pull_request" });
    const intent = delivery.parse(JSON.parse(body));
    assert.deepEqual(intent.kind === "deploy" && [intent.request.deliveryId, intent.request.sha], [
      "d-1",
      "b".repeat(40),
    ]);
  });

  it("refuses a signature by another secret, or over other bytes, with a warning naming the delivery", async () => {
    for (const sent of [await headers(body, "guess"), await headers(`${body} `)]) {
      assert.deepEqual(await intake.authenticate(sent, deliveryBody(body)), {
        ok: false,
        status: 401,
        reason: "authentication",
        error: "signature does not match payload and secret",
        warning: {
          message: "webhook rejected: signature does not match",
          fields: { forge: "github", delivery: "d-1", event: "pull_request" },
        },
      });
    }
  });

  it("refuses when verification itself fails, as a signature that does not match", async () => {
    const failing = githubIntake({ verify: () => Promise.reject(new Error("malformed signature")) });
    const delivery = await failing.authenticate(await headers(), deliveryBody(body));
    assert.equal(!delivery.ok && delivery.error, "signature does not match payload and secret");
  });

  it("refuses a delivery without a signature as unauthenticated, before any other missing header", async () => {
    assert.deepEqual(await intake.authenticate({ "x-github-delivery": "d-1" }, deliveryBody(body)), {
      ok: false,
      status: 401,
      reason: "authentication",
      error: "missing X-Hub-Signature-256",
    });
  });

  it("answers 400 naming the missing event and delivery headers, without counting a rejection", async () => {
    const { ["x-github-event"]: _, ["x-github-delivery"]: __, ...signatureOnly } = await headers();
    assert.deepEqual(await intake.authenticate(signatureOnly, deliveryBody(body)), {
      ok: false,
      status: 400,
      reason: undefined,
      error: "missing headers: x-github-event, x-github-delivery",
    });
  });

  it("never parses the body of a delivery it refuses", async () => {
    let parsed = false;
    const watched = { text: body, json: () => ((parsed = true), { valid: false as const }) };
    await intake.authenticate(await headers(body, "guess"), watched);
    assert.equal(parsed, false);
  });
});
