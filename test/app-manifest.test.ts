import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { parse } from "yaml";

const root = new URL("../", import.meta.url);

/** The parts of a GitHub App manifest this test checks. */
interface AppManifest {
  name?: unknown;
  description?: unknown;
  url?: unknown;
  public?: unknown;
  hook_attributes?: { url?: unknown };
  callback_urls?: unknown;
  request_oauth_on_install?: unknown;
  default_events?: unknown;
  default_permissions?: unknown;
}

async function manifest(): Promise<AppManifest> {
  return parse(await readFile(new URL("app.yml", root), "utf8")) as AppManifest;
}

/** The events `parseGitHubWebhook` acts on, read from its source so a new one cannot be missed. */
async function handledEvents(): Promise<string[]> {
  const source = await readFile(new URL("src/forge/github/parse-github-webhook.ts", root), "utf8");
  return [...new Set([...source.matchAll(/event === "([a-z_]+)"/g)].map((m) => m[1] ?? ""))];
}

describe("app.yml", () => {
  it("names the app and keeps it private", async () => {
    const m = await manifest();
    assert.equal(m.name, "Ferry");
    assert.equal(m.public, false);
    assert.equal(typeof m.description, "string");
    assert.match(String(m.url), /^https:\/\//);
    assert.match(String(m.hook_attributes?.url), /^https:\/\/.+\/api\/github\/webhooks$/);
  });

  it("sends the web view's sign-in back to its callback, and asks for no authorization at install", async () => {
    const m = await manifest();
    assert.deepEqual(m.callback_urls, ["https://ferry.example.com/login/github/callback"]);
    assert.equal(m.request_oauth_on_install, false);
  });

  it("asks for exactly the permissions Ferry uses", async () => {
    assert.deepEqual((await manifest()).default_permissions, {
      statuses: "write",
      checks: "write",
      pull_requests: "write",
      issues: "write",
      deployments: "write",
      contents: "write",
      metadata: "read",
    });
  });

  it("subscribes to exactly the events Ferry uses", async () => {
    const events = (await manifest()).default_events;
    assert.ok(Array.isArray(events));
    assert.deepEqual([...(events as unknown[])].sort(), [
      "check_run",
      "check_suite",
      "issue_comment",
      "pull_request",
      "push",
    ]);
  });

  it("subscribes to every event the webhook parser acts on", async () => {
    const events = (await manifest()).default_events as string[];
    const handled = await handledEvents();
    assert.deepEqual(
      [...handled].sort(),
      ["check_run", "check_suite", "issue_comment", "pull_request", "push"],
      "the parser's events changed: update app.yml and this test",
    );
    for (const event of handled) assert.ok(events.includes(event), `app.yml does not subscribe to ${event}`);
  });
});
