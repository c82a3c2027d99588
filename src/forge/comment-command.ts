import type { CommandName, CommandRequest, WebhookIntent } from "../domain/requests.js";

/**
 * Every command a comment may hold, and whether it takes more after the environment (`/ferry freeze
 * <env> <duration> <reason>`; `rollback` reads its `--merge` flag with a line of its own); a Record
 * so that adding a CommandName without it fails to compile.
 */
const COMMANDS: Record<CommandName, { args: boolean }> = {
  plan: { args: false },
  continue: { args: false },
  abort: { args: false },
  heal: { args: false },
  rollback: { args: false },
  freeze: { args: true },
  unfreeze: { args: false },
  deploy: { args: true },
};
const NAMES = Object.keys(COMMANDS).join("|");

/** A comment line holding a command: `/ferry <command>`, `/ferry <command> <env>`, or (some) more after it. */
const COMMAND_LINE = new RegExp(`^/ferry (${NAMES})(?:\\s+(\\S+))?(?:\\s+(.+))?$`);
/** `/ferry rollback [env] [--merge]`: the one command that takes a flag (an environment never starts with `--`). */
const ROLLBACK_LINE = /^\/ferry rollback(?:\s+(?!--)(\S+))?(\s+--merge)?$/;
/** A line addressed to Ferry, command or not. */
const FERRY_LINE = /^\/ferry(?:\s|$)/;
/** A command named anywhere in the text, e.g. inside a sentence or a quote. */
const MENTION = new RegExp(`/ferry (${NAMES})\\b`);
/** How much of a line that is not a command the ignore reason quotes. */
const QUOTED_LINE_MAX = 60;

/** Where a comment was written and by whom: what a command request carries besides the command itself. */
export type CommentSource = Pick<CommandRequest, "repo" | "change" | "commentId" | "user" | "deliveryId">;

/**
 * The command a comment asks for when a line of its `body` is `/ferry <command> [env]` (`freeze` and
 * `deploy` take more after the environment; `rollback` an optional `--merge`; the first such line
 * counts), or an ignore saying what the `noun` ("comment", "note") held instead: a `/ferry` line that
 * is not a command, a command named but not on a line of its own, or nothing.
 */
export function commentCommandIntent(body: string, source: CommentSource, noun: string): WebhookIntent {
  const lines = body.split(/\r?\n/).map((line) => line.trim());
  for (const line of lines) {
    const rollback = ROLLBACK_LINE.exec(line);
    if (rollback !== null) {
      const [, environment, merge] = rollback;
      const options = {
        ...(environment === undefined ? {} : { environment }),
        ...(merge === undefined ? {} : { merge: true }),
      };
      return { kind: "command", request: { ...source, command: "rollback", ...options } };
    }
    const match = COMMAND_LINE.exec(line);
    const command = match?.[1];
    if (command === undefined || command === "rollback" || !isCommandName(command)) continue;
    const environment = match?.[2];
    const args = match?.[3];
    if (args !== undefined && !COMMANDS[command].args) return notACommand(noun, line);
    return {
      kind: "command",
      request: {
        ...source,
        command,
        ...(environment === undefined ? {} : { environment }),
        ...(args === undefined ? {} : { args }),
      },
    };
  }
  const other = lines.find((line) => FERRY_LINE.test(line));
  if (other !== undefined) return notACommand(noun, other);
  const mentioned = MENTION.exec(body)?.[1];
  return { kind: "ignore", reason: `${noun} holds no /ferry ${mentioned === undefined ? "" : `${mentioned} `}command` };
}

/** The answer to a `/ferry` line that is not a command. */
function notACommand(noun: string, line: string): WebhookIntent {
  return { kind: "ignore", reason: `${noun} line "${quoted(line)}" is not a command: /ferry ${NAMES} [environment]` };
}

/** A command as its comment wrote it: `/ferry rollback staging --merge`, `/ferry freeze production 2h incident`. */
export function commandText(request: Pick<CommandRequest, "command" | "environment" | "merge" | "args">): string {
  const environment = request.environment === undefined ? "" : ` ${request.environment}`;
  const args = request.args === undefined ? "" : ` ${request.args}`;
  return `/ferry ${request.command}${environment}${args}${request.merge === true ? " --merge" : ""}`;
}

function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** A line short enough to quote in a log line and a webhook answer. */
function quoted(line: string): string {
  return line.length <= QUOTED_LINE_MAX ? line : `${line.slice(0, QUOTED_LINE_MAX)}…`;
}
