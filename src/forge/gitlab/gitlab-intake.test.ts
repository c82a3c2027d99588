import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gitlabFixture, gitlabFixtureFiles, gitlabNoteEvent } from "../../../test/support/gitlab-webhooks.js";
import { deliveryBody } from "../delivery-body.js";
import { gitlabIntake, GITLAB_WEBHOOK_PATH } from "./gitlab-intake.js";

const SHARED = "shared-secret";
const OWN = "diaspora-only-secret";
// GitLab's own push example is about mike/diaspora, which has a secret of its own here.
const push = JSON.stringify(gitlabFixture(gitlabFixtureFiles.push));
const secrets = new Map([["mike/diaspora", OWN]]);
const intake = gitlabIntake({
  secretFor: (project) => (project === undefined ? SHARED : (secrets.get(project) ?? SHARED)),
  botUsername: "ferry-bot",
});
const headers = (token: string | undefined, extra: Record<string, string> = {}) => ({
  "x-gitlab-event": "Push Hook",
  "x-gitlab-event-uuid": "uuid-1",
  ...(token === undefined ? {} : { "x-gitlab-token": token }),
  ...extra,
});

describe("gitlabIntake", () => {
  it("is GitLab's, at its webhook path", () => {
    assert.deepEqual([intake.forge, intake.path], ["gitlab", GITLAB_WEBHOOK_PATH]);
    assert.equal(GITLAB_WEBHOOK_PATH, "/api/gitlab/webhooks");
  });

  it("accepts the token of the project the payload names, with log fields naming the project", async () => {
    const delivery = await intake.authenticate(headers(OWN), deliveryBody(push));
    assert.ok(delivery.ok);
    assert.deepEqual(delivery.logFields, {
      forge: "gitlab",
      delivery: "uuid-1",
      event: "Push Hook",
      project: "mike/diaspora",
    });
    const intent = delivery.parse(JSON.parse(push));
    assert.deepEqual(intent.kind === "deploy" && [intent.request.deliveryId, intent.request.branch], [
      "uuid-1",
      "master",
    ]);
  });

  it("refuses the shared secret, and a prefix of the project's own, where the project has its own", async () => {
    for (const token of [SHARED, OWN.slice(0, -1), `${OWN} `]) {
      assert.deepEqual(
        await intake.authenticate(headers(token), deliveryBody(push)),
        {
          ok: false,
          status: 401,
          reason: "authentication",
          error: "X-Gitlab-Token does not match the webhook's secret",
          warning: {
            message: "webhook rejected: token does not match",
            fields: { forge: "gitlab", delivery: "uuid-1", event: "Push Hook", project: "mike/diaspora" },
          },
        },
        token,
      );
    }
  });

  it("checks a body that is not JSON against the shared secret, leaving the JSON error to the route", async () => {
    const delivery = await intake.authenticate(headers(SHARED), deliveryBody("{not json"));
    assert.deepEqual(delivery.ok && delivery.logFields, {
      forge: "gitlab",
      delivery: "uuid-1",
      event: "Push Hook",
      project: undefined,
    });
  });

  it("refuses every delivery when the project has no secret, even an empty token", async () => {
    const none = gitlabIntake({ secretFor: () => undefined });
    for (const token of ["", SHARED])
      assert.equal((await none.authenticate(headers(token), deliveryBody(push))).ok, false);
    const empty = gitlabIntake({ secretFor: () => "" });
    assert.equal((await empty.authenticate(headers(""), deliveryBody(push))).ok, false);
  });

  it("refuses a missing token as unauthenticated, and a missing event header as malformed", async () => {
    assert.deepEqual(await intake.authenticate(headers(undefined), deliveryBody(push)), {
      ok: false,
      status: 401,
      reason: "authentication",
      error: "missing X-Gitlab-Token",
    });
    const { ["x-gitlab-event"]: _, ...noEvent } = headers(OWN);
    assert.deepEqual(await intake.authenticate(noEvent, deliveryBody(push)), {
      ok: false,
      status: 400,
      reason: "malformed",
      error: "missing headers: x-gitlab-event",
    });
  });

  it("takes the delivery id from Idempotency-Key, else X-Gitlab-Event-UUID, else makes one up", async () => {
    const idOf = async (ids: Record<string, string>) => {
      const delivery = await intake.authenticate(
        { "x-gitlab-event": "Push Hook", "x-gitlab-token": OWN, ...ids },
        deliveryBody(push),
      );
      return delivery.ok ? delivery.logFields["delivery"] : undefined;
    };
    assert.equal(await idOf({ "idempotency-key": "key-1", "x-gitlab-event-uuid": "uuid-1" }), "key-1");
    assert.equal(await idOf({ "x-gitlab-event-uuid": "uuid-1" }), "uuid-1");
    assert.match(String(await idOf({})), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it("parses with the bot's username, so Ferry's own notes run nothing", async () => {
    const note = JSON.stringify(
      gitlabNoteEvent({
        project: { id: 3, path: "acme/shop" },
        iid: 1,
        body: "/ferry plan",
        user: "ferry-bot",
        noteId: 5,
      }),
    );
    const delivery = await intake.authenticate(headers(SHARED, { "x-gitlab-event": "Note Hook" }), deliveryBody(note));
    assert.deepEqual(delivery.ok && delivery.parse(JSON.parse(note)), {
      kind: "ignore",
      reason: "note by Ferry (ferry-bot)",
    });
  });
});
