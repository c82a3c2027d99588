import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { commentCommandIntent, type CommentSource } from "./comment-command.js";

const source: CommentSource = {
  repo: { forge: "github", fullName: "acme/shop", installationId: 7 },
  change: 42,
  commentId: 9001,
  user: "octo",
  deliveryId: "d",
};
const read = (body: string) => commentCommandIntent(body, source, "comment");
const NAMES = "/ferry plan|continue|abort|heal|rollback|freeze|unfreeze|deploy";

describe("commentCommandIntent", () => {
  it("reads each command, with or without an environment", () => {
    const cases: Array<[string, string, string | undefined]> = [
      ["/ferry plan", "plan", undefined],
      ["/ferry plan staging", "plan", "staging"],
      ["/ferry continue", "continue", undefined],
      ["/ferry continue production", "continue", "production"],
      ["/ferry abort", "abort", undefined],
      ["/ferry abort eu-west", "abort", "eu-west"],
      ["/ferry heal", "heal", undefined],
      ["/ferry heal production", "heal", "production"],
      ["/ferry unfreeze production", "unfreeze", "production"],
      ["/ferry deploy", "deploy", undefined],
    ];
    for (const [body, command, environment] of cases) {
      assert.deepEqual(
        read(body),
        { kind: "command", request: { ...source, command, ...(environment === undefined ? {} : { environment }) } },
        body,
      );
    }
  });

  it("reads what follows the environment for the commands that take more, and only for them", () => {
    assert.deepEqual(read("/ferry freeze production 2h  incident 4711 "), {
      kind: "command",
      request: { ...source, command: "freeze", environment: "production", args: "2h  incident 4711" },
    });
    assert.deepEqual(read("/ferry deploy production --override-freeze"), {
      kind: "command",
      request: { ...source, command: "deploy", environment: "production", args: "--override-freeze" },
    });
    assert.equal(read("/ferry heal production now").kind, "ignore");
  });

  it("reads /ferry rollback with an environment, --merge, both or neither; nothing else after it", () => {
    const cases: Array<[string, string | undefined, boolean]> = [
      ["/ferry rollback", undefined, false],
      ["/ferry rollback staging", "staging", false],
      ["/ferry rollback --merge", undefined, true],
      ["/ferry rollback   production\t--merge", "production", true],
    ];
    for (const [body, environment, merge] of cases) {
      assert.deepEqual(
        read(body),
        {
          kind: "command",
          request: {
            ...source,
            command: "rollback",
            ...(environment === undefined ? {} : { environment }),
            ...(merge ? { merge: true } : {}),
          },
        },
        body,
      );
    }
    for (const line of [
      "/ferry rollback a b",
      "/ferry rollback --merge staging",
      "/ferry rollback --force",
      "/ferry rollback staging --merge x",
    ]) {
      assert.deepEqual(
        read(line),
        {
          kind: "ignore",
          reason: `comment line "${line}" is not a command: ${NAMES} [environment]`,
        },
        line,
      );
    }
  });

  it("finds the command on any line, trimmed, and the first command line wins", () => {
    assert.deepEqual(read("Rollout looks healthy.\r\n  /ferry continue\tproduction  \r\nthanks"), {
      kind: "command",
      request: { ...source, command: "continue", environment: "production" },
    });
    const first = read("/ferry ship\n/ferry abort\n/ferry plan staging");
    assert.deepEqual(first.kind === "command" && [first.request.command, first.request.environment], [
      "abort",
      undefined,
    ]);
  });

  it("says which /ferry line is not a command", () => {
    for (const line of [
      "/ferry ship",
      "/ferry plan a b",
      "/ferry unfreeze staging now",
      "/ferry continue staging prod",
      "/ferry  abort",
      "/ferry aborted",
      "/ferry",
      "/ferry Plan",
    ]) {
      assert.deepEqual(
        read(`Please:\n${line}\n`),
        {
          kind: "ignore",
          reason: `comment line "${line}" is not a command: ${NAMES} [environment]`,
        },
        line,
      );
    }
  });

  it("quotes at most 60 characters of a line that is not a command", () => {
    const intent = read(`/ferry ship ${"x".repeat(10_000)}`);
    assert.equal(
      intent.kind === "ignore" && intent.reason,
      `comment line "/ferry ship ${"x".repeat(48)}…" is not a command: ${NAMES} [environment]`,
    );
  });

  it("names a command written inside a sentence, a quote or code, which is not one", () => {
    const mentions: Array<[string, string]> = [
      ["could someone run /ferry abort please", "abort"],
      ["> /ferry continue", "continue"],
      ["`/ferry plan staging`", "plan"],
    ];
    for (const [body, command] of mentions) {
      assert.deepEqual(read(body), { kind: "ignore", reason: `comment holds no /ferry ${command} command` }, body);
    }
  });

  it("says the comment holds no command when it names none, with the forge's noun", () => {
    for (const body of ["LGTM", "", "/Ferry plan", "/ferryplan", "ferry continue"]) {
      assert.deepEqual(read(body), { kind: "ignore", reason: "comment holds no /ferry command" }, body);
    }
    assert.deepEqual(commentCommandIntent("LGTM", source, "note"), {
      kind: "ignore",
      reason: "note holds no /ferry command",
    });
  });
});
