import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { FerryHarness } from "./support/ferry-harness.js";

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("queue dashboard at /admin/queues, with credentials configured", () => {
  let h: FerryHarness;
  before(
    async () =>
      (h = await FerryHarness.start("github", {
        FERRY_ADMIN_USER: "ops",
        FERRY_ADMIN_PASSWORD: "correct horse battery staple",
      })),
  );
  after(async () => h.close());

  test("answers 401 with a basic-auth challenge without credentials, and with wrong ones", async () => {
    for (const path of ["/admin/queues", "/admin/queues/api/queues"]) {
      const bare = await fetch(`${h.url}${path}`);
      assert.equal(bare.status, 401, path);
      assert.match(bare.headers.get("www-authenticate") ?? "", /^Basic realm="Ferry queues"/);
    }
    for (const authorization of [
      basic("ops", "wrong"),
      basic("someone", "correct horse battery staple"),
      basic("ops", "correct horse battery stapl"),
      "Bearer x",
      "Basic !!!",
    ]) {
      assert.equal((await fetch(`${h.url}/admin/queues`, { headers: { authorization } })).status, 401, authorization);
    }
  });

  test("with the credentials it serves the dashboard and lists Ferry's seven queues", async () => {
    const authorization = basic("ops", "correct horse battery staple");
    const page = await fetch(`${h.url}/admin/queues`, { headers: { authorization } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    const api = await fetch(`${h.url}/admin/queues/api/queues`, { headers: { authorization } });
    assert.equal(api.status, 200);
    const { queues } = (await api.json()) as { queues: Array<{ name: string }> };
    assert.deepEqual(queues.map((q) => q.name).sort(), [
      "ferry-agent-release",
      "ferry-command",
      "ferry-deploy",
      "ferry-plan",
      "ferry-reconcile",
      "ferry-release",
      "ferry-rollout",
    ]);
  });
});

describe("queue dashboard when not configured (a user name without a password)", () => {
  let h: FerryHarness;
  before(async () => (h = await FerryHarness.start("github", { FERRY_ADMIN_USER: "ops", FERRY_ADMIN_PASSWORD: "" })));
  after(async () => h.close());

  test("is not served at all: 404, with or without an Authorization header", async () => {
    assert.equal((await fetch(`${h.url}/admin/queues`)).status, 404);
    assert.equal(
      (await fetch(`${h.url}/admin/queues/api/queues`, { headers: { authorization: basic("ops", "") } })).status,
      404,
    );
  });
});
