import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";

const ROOT = new URL("..", import.meta.url).pathname;

/** A version as three numbers. */
type Version = [number, number, number];
/** Half-open bounds a comparator set allows: `[low, high)`, `high` undefined for none; `lowOpen` for `>`. */
interface Bounds {
  low: Version;
  lowOpen: boolean;
  high?: Version;
  highClosed: boolean;
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * The bounds of one comparator as npm's semver reads it, for the forms `engines` fields use:
 * `>=`, `>`, `<`, `<=`, `=`, `^`, `~` and bare versions, any part of which may be missing, `x` or `*`.
 */
function bounds(comparator: string): Bounds {
  const match = /^(>=|<=|>|<|=|\^|~)?v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?$/.exec(comparator);
  assert.ok(match, `a comparator this test reads: ${comparator}`);
  const [, op = "=", ...raw] = match;
  const parts = raw.map((p) => (p === undefined || /^[xX*]$/.test(p) ? undefined : Number(p)));
  const given = parts.findIndex((p) => p === undefined);
  const exact = given === -1 ? 3 : given; // how many leading parts are numbers
  const v: Version = [parts[0] ?? 0, exact > 1 ? (parts[1] ?? 0) : 0, exact > 2 ? (parts[2] ?? 0) : 0];
  const bump = (at: number): Version =>
    at === 0 ? [v[0] + 1, 0, 0] : at === 1 ? [v[0], v[1] + 1, 0] : [v[0], v[1], v[2] + 1];
  const none: Version = [0, 0, 0];
  if (exact === 0) return { low: none, lowOpen: false, highClosed: false };
  switch (op) {
    case ">=":
      return { low: v, lowOpen: false, highClosed: false };
    case ">":
      return exact === 3
        ? { low: v, lowOpen: true, highClosed: false }
        : { low: bump(exact - 1), lowOpen: false, highClosed: false };
    case "<":
      return { low: none, lowOpen: false, high: v, highClosed: false };
    case "<=":
      return exact === 3
        ? { low: none, lowOpen: false, high: v, highClosed: true }
        : { low: none, lowOpen: false, high: bump(exact - 1), highClosed: false };
    case "^":
      return {
        low: v,
        lowOpen: false,
        high: bump(v[0] > 0 || exact === 1 ? 0 : v[1] > 0 || exact === 2 ? 1 : 2),
        highClosed: false,
      };
    case "~":
      return { low: v, lowOpen: false, high: bump(exact === 1 ? 0 : 1), highClosed: false };
    default:
      return exact === 3
        ? { low: v, lowOpen: false, high: v, highClosed: true }
        : { low: v, lowOpen: false, high: bump(exact - 1), highClosed: false };
  }
}

/** True when `version` satisfies the npm range `range` (alternatives joined by `||`, comparators by spaces). */
function satisfies(version: Version, range: string): boolean {
  return range.split("||").some((alternative) => {
    const comparators = alternative
      .trim()
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, "$1")
      .split(/\s+/)
      .filter(Boolean);
    return (comparators.length === 0 ? ["*"] : comparators).map(bounds).every((b) => {
      const fromLow = compare(version, b.low);
      if (fromLow < 0 || (fromLow === 0 && b.lowOpen)) return false;
      if (b.high === undefined) return true;
      const toHigh = compare(version, b.high);
      return toHigh < 0 || (toHigh === 0 && b.highClosed);
    });
  });
}

describe("the Node.js versions Ferry says it runs on", () => {
  test("the range reader agrees with npm's semver on the forms engines fields use", () => {
    const cases: Array<[string, string, boolean]> = [
      ["22.0.0", ">=22", true],
      ["20.18.1", ">=22", false],
      ["22.0.0", "^20.18.1 || >= 22", true],
      ["21.0.0", "^20.18.1 || >= 22", false],
      ["22.0.0", "^20.19.0 || ^22.13.0 || >=24", false],
      ["22.13.0", "^20.19.0 || ^22.13.0 || >=24", true],
      ["22.0.0", "6.* || 8.* || >= 10.*", true],
      ["22.0.0", "20 || >=22", true],
      ["22.0.0", "^16 || ^18 || >=20", true],
      ["22.0.0", "*", true],
      ["22.0.0", "~20.17.0", false],
      ["22.0.0", ">20", true],
      ["20.5.0", ">20", false],
    ];
    for (const [version, range, expected] of cases) {
      assert.equal(satisfies(version.split(".").map(Number) as Version, range), expected, `${version} in ${range}`);
    }
  });

  test("engines.node is at least Node 22, admitted by every production dependency's engines, and what the README says", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } };
    const lock = JSON.parse(await readFile(join(ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { engines?: { node?: string } | string[]; dev?: boolean }>;
    };
    const floor = /^>=(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(pkg.engines.node);
    assert.ok(floor, `engines.node is a floor (>=X.Y.Z): ${pkg.engines.node}`);
    const lowest: Version = [Number(floor[1]), Number(floor[2] ?? 0), Number(floor[3] ?? 0)];
    assert.ok(lowest[0] >= 22, `Node 20 is past its end of life: ${pkg.engines.node}`);
    assert.deepEqual(lock.packages[""]?.engines, pkg.engines, "package-lock.json records the same engines");

    const refusing = Object.entries(lock.packages)
      .filter(
        ([path, entry]) =>
          path !== "" &&
          !entry.dev &&
          entry.engines !== undefined &&
          !Array.isArray(entry.engines) &&
          entry.engines.node,
      )
      .filter(([, entry]) => !satisfies(lowest, (entry.engines as { node: string }).node))
      .map(
        ([path, entry]) =>
          `${path.replace(/^.*node_modules\//, "")} needs node ${(entry.engines as { node: string }).node}`,
      );
    assert.deepEqual(
      refusing,
      [],
      `Node ${lowest.join(".")}, the lowest engines.node admits, is refused by dependencies`,
    );

    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    assert.ok(
      readme.includes(`Node.js ${pkg.engines.node.replace(">=", ">= ")}`),
      "the README's prerequisites name the same floor",
    );
  });
});
