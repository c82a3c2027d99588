import { parseTemplates, type TemplateRef } from "../config/cluster-templates.js";
import {
  isDnsLabel,
  isRelativeInside,
  type DeclaredEnvironment,
  type Environment,
  type HelmOptions,
} from "../config/ferry-config.js";
import { permanent } from "../errors.js";
import { labelOf, type SelectableCluster } from "./cluster-matcher.js";

/**
 * `env` resolved for one of its clusters: `${cluster.name}` and `${cluster.labels.<key>}` in `path`,
 * `namespace`, `helm.valuesFiles` and the strings of `helm.values` filled in from `cluster`. Throws a
 * permanent FerryError, one line per problem, when the cluster lacks a label a template reads or the
 * result is not a valid path or namespace.
 */
export function environmentFor(env: DeclaredEnvironment, cluster: SelectableCluster): Environment {
  return environmentResolver(env)(cluster);
}

/**
 * `environmentFor` for many clusters: reads `env`'s templates once and returns what resolves it for
 * one cluster. Throws at once for templates no cluster can fill; the function it returns throws as
 * `environmentFor` does. Parts of `env` without templates are shared, not copied.
 */
export function environmentResolver(env: DeclaredEnvironment): (cluster: SelectableCluster) => Environment {
  const problems: string[] = [];
  const compile = (text: string, field: string, check?: (filled: string) => string | undefined): Slot => {
    const parsed = parseTemplates(text);
    for (const problem of parsed.problems) problems.push(`environment ${env.name}: ${field}: ${problem}`);
    const [first] = parsed.pieces;
    if (parsed.pieces.length !== 1 || typeof first !== "string") return { field, pieces: parsed.pieces, check };
    const problem = parsed.problems.length === 0 ? check?.(first) : undefined;
    if (problem !== undefined) problems.push(`environment ${env.name}: ${problem}`);
    return first;
  };

  const { cluster: _cluster, clusters: _clusters, rollout: _rollout, ...rest } = env;
  const path = compile(env.path, "path", (p) =>
    isRelativeInside(p) ? undefined : `path "${p}" leaves the repository`,
  );
  const namespace = compile(env.namespace, "namespace", (ns) =>
    isDnsLabel(ns)
      ? undefined
      : `namespace "${ns}" is not a DNS label of at most 63 characters (lower-case letters, digits, -)`,
  );
  const helm = env.helm === undefined ? undefined : compileHelm(env.helm, compile);
  if (problems.length > 0) throw permanent(problems.join("\n"));

  return (cluster) => {
    const fill: Filler = { env: env.name, cluster, problems: [] };
    const resolved: Environment = {
      ...rest,
      path: fillSlot(path, fill),
      namespace: fillSlot(namespace, fill),
      cluster: cluster.name,
    };
    if (helm !== undefined) resolved.helm = helm(fill);
    if (fill.problems.length > 0) throw permanent(fill.problems.join("\n"));
    return resolved;
  };
}

/** A string as written (no templates), or one whose templates are filled in per cluster, then checked. */
type Slot =
  | string
  | { field: string; pieces: (string | TemplateRef)[]; check?: ((filled: string) => string | undefined) | undefined };

/** Compiles a string of `env` at `field`, checking it when it has no templates. */
type Compile = (text: string, field: string, check?: (filled: string) => string | undefined) => Slot;

/** What filling in one cluster's templates needs, and where its problems go. */
interface Filler {
  env: string;
  cluster: SelectableCluster;
  problems: string[];
}

/** `slot` for `fill.cluster`: a missing label, or a result its check refuses, is noted in `fill.problems`. */
function fillSlot(slot: Slot, fill: Filler): string {
  if (typeof slot === "string") return slot;
  let text = "";
  let missing: string[] | undefined;
  for (const piece of slot.pieces) {
    if (typeof piece === "string") text += piece;
    else if (piece.kind === "name") text += fill.cluster.name;
    else {
      const value = labelOf(fill.cluster.labels, piece.key);
      if (value !== undefined) text += value;
      else if (!missing?.includes(piece.key)) (missing ??= []).push(piece.key);
    }
  }
  const where = `environment ${fill.env}: cluster "${fill.cluster.name}"`;
  if (missing !== undefined) {
    for (const key of missing) fill.problems.push(`${where} has no label "${key}" (used in ${slot.field})`);
  } else {
    const problem = slot.check?.(text);
    if (problem !== undefined) fill.problems.push(`${where}: ${problem}`);
  }
  return text;
}

/** Helm options for one cluster; the declared options themselves when they hold no templates. */
function compileHelm(helm: HelmOptions, compile: Compile): (fill: Filler) => HelmOptions {
  const { valuesFiles, values, ...options } = helm;
  const files = valuesFiles?.map((file, i) =>
    compile(file, `helm.valuesFiles.${i}`, (f) =>
      isRelativeInside(f) ? undefined : `helm.valuesFiles.${i} "${f}" leaves the chart's directory`,
    ),
  );
  const tree = values === undefined ? undefined : compileValue(values, ["helm", "values"], compile);
  if (
    (files === undefined || files.every((f) => typeof f === "string")) &&
    (tree === undefined || tree.kind === "constant")
  )
    return () => helm;
  return (fill) => {
    const filled: HelmOptions = { ...options };
    if (files !== undefined) filled.valuesFiles = files.map((slot) => fillSlot(slot, fill));
    if (tree !== undefined) filled.values = buildValue(tree, fill) as Record<string, unknown>;
    return filled;
  };
}

/** Helm values read once: subtrees without templates are kept as constants, shared by every cluster. */
type ValueNode =
  | { kind: "constant"; value: unknown }
  | { kind: "text"; slot: Slot }
  | { kind: "array"; items: ValueNode[] }
  | { kind: "object"; entries: [string, ValueNode][] };

/** Reads the templates of a Helm values subtree at `path`. */
function compileValue(value: unknown, path: (string | number)[], compile: Compile): ValueNode {
  if (typeof value === "string") {
    const slot = compile(value, path.join("."));
    return typeof slot === "string" ? { kind: "constant", value: slot } : { kind: "text", slot };
  }
  if (Array.isArray(value)) {
    const items = value.map((item, i) => compileValue(item, [...path, i], compile));
    return items.every((n) => n.kind === "constant") ? { kind: "constant", value } : { kind: "array", items };
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).map(([key, item]): [string, ValueNode] => [
      key,
      compileValue(item, [...path, key], compile),
    ]);
    return entries.every(([, n]) => n.kind === "constant") ? { kind: "constant", value } : { kind: "object", entries };
  }
  return { kind: "constant", value };
}

/** A compiled Helm values subtree for one cluster. */
function buildValue(node: ValueNode, fill: Filler): unknown {
  switch (node.kind) {
    case "constant":
      return node.value;
    case "text":
      return fillSlot(node.slot, fill);
    case "array":
      return node.items.map((item) => buildValue(item, fill));
    case "object":
      return Object.fromEntries(node.entries.map(([key, item]) => [key, buildValue(item, fill)]));
  }
}
