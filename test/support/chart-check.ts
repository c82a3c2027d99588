import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Ajv } from "ajv";
import { parse, parseAllDocuments, stringify } from "yaml";
import { testKubeConfigPath, uniqueName } from "./kube.js";

const run = promisify(execFile);
const HELM = process.env.FERRY_HELM ?? "helm";
const KUBECTL = process.env.FERRY_TEST_KUBECTL ?? "kubectl";

/** A rendered Kubernetes object, as far as the chart tests read it. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  subjects?: Array<{ name: string; namespace: string }>;
  [key: string]: unknown;
}

/** A container of a rendered Deployment, as far as the chart tests read it. */
export interface Container {
  args: string[];
  env: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  readinessProbe: { httpGet: { path: string } };
  livenessProbe: { httpGet: { path: string } };
  resources: Record<string, unknown>;
  securityContext: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
}

/** A chart's values. */
export type Values = Record<string, unknown>;

/** Helm's merge of values: objects merge key by key, anything else (arrays included) is replaced. */
export function mergeValues(base: Values, override: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = out[key];
    const isObject = (v: unknown): v is Values => typeof v === "object" && v !== null && !Array.isArray(v);
    out[key] = isObject(current) && isObject(value) ? mergeValues(current, value) : value;
  }
  return out;
}

/** The objects of one kind. */
export function byKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** A Deployment's pod spec and first container. */
export function podOf(object: K8sObject): { container: Container; pod: Record<string, unknown> } {
  const pod = (object.spec?.template as { spec: Record<string, unknown> }).spec;
  const [container] = pod.containers as Container[];
  assert.ok(container);
  return { container, pod };
}

/** A container's environment variables by name. */
export function envOf(container: Container): Map<string, Container["env"][number]> {
  return new Map(container.env.map((e) => [e.name, e]));
}

/**
 * One chart checked as an operator installs it: its values schema (compiled with ajv, as strict as
 * helm), `helm lint --strict`, `helm template`, and a server-side dry-run apply of what it renders
 * against the run's API server; work files in a temp dir `close` removes.
 */
export class ChartCheck {
  private constructor(
    private readonly chart: string,
    private readonly release: string,
    private readonly work: string,
    private readonly validate: ReturnType<Ajv["compile"]>,
    /** The chart's values.yaml. */
    readonly defaults: Values,
  ) {}

  /** Reads `chart`'s schema and defaults; `release` is the name it is templated as. */
  static async open(chart: string, release: string): Promise<ChartCheck> {
    const work = await mkdtemp(join(tmpdir(), `${release}-chart-`));
    const schema = JSON.parse(await readFile(join(chart, "values.schema.json"), "utf8")) as object;
    const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
    const defaults = parse(await readFile(join(chart, "values.yaml"), "utf8")) as Values;
    return new ChartCheck(chart, release, work, validate, defaults);
  }

  /** Removes the work files. */
  async close(): Promise<void> {
    await rm(this.work, { recursive: true, force: true });
  }

  /** Whether the schema accepts `values` over the defaults (and its errors when not). */
  valid(values: Values): { ok: boolean; errors: string } {
    const ok = this.validate(mergeValues(this.defaults, values)) as boolean;
    return { ok, errors: JSON.stringify(this.validate.errors) };
  }

  /** `values` written to a file of the work dir, for `-f`. */
  async valuesFile(values: Values): Promise<string> {
    const file = join(this.work, `${uniqueName("values")}.yaml`);
    await writeFile(file, stringify(values));
    return file;
  }

  /** `kubectl` against the run's API server, `input` on stdin; its stdout. */
  async kubectl(args: string[], input?: string): Promise<string> {
    const child = run(KUBECTL, ["--kubeconfig", testKubeConfigPath(), ...args], { maxBuffer: 16 << 20 });
    if (input !== undefined) child.child.stdin?.end(input);
    return (await child).stdout;
  }

  /**
   * Checks `overrides` against the schema, lints and templates the chart in `namespace`, asserts
   * every namespaced object names it (cluster-scoped ones none; RoleBindings their granted one), and
   * returns the objects; `dryRunApply` then sends them to the API server.
   */
  async render(namespace: string, overrides: Values): Promise<{ objects: K8sObject[]; manifest: string }> {
    const { ok, errors } = this.valid(overrides);
    assert.ok(ok, errors);
    const file = await this.valuesFile(overrides);
    await run(HELM, ["lint", "--strict", this.chart, "-f", file, "--namespace", namespace]);
    const { stdout } = await run(HELM, ["template", this.release, this.chart, "--namespace", namespace, "-f", file], {
      maxBuffer: 16 << 20,
    });
    const objects = parseAllDocuments(stdout)
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);
    for (const o of objects) {
      if (["ClusterRole", "ClusterRoleBinding", "Namespace"].includes(o.kind))
        assert.equal(o.metadata.namespace, undefined);
      else if (o.kind !== "RoleBinding") assert.equal(o.metadata.namespace, namespace, `${o.kind} ${o.metadata.name}`);
    }
    return { objects, manifest: stdout };
  }

  /** A server-side dry-run apply of a rendered manifest: every one of its `count` objects accepted. */
  async dryRunApply(manifest: string, count: number): Promise<void> {
    const applied = await this.kubectl(
      ["apply", "--server-side", "--dry-run=server", "--field-manager=ferry-chart-test", "-f", "-"],
      manifest,
    );
    const lines = applied.trim().split("\n");
    assert.equal(lines.length, count, applied);
    for (const line of lines) assert.match(line, /serverside-applied \(server dry run\)$/);
  }

  /** Asserts that ajv and `helm template` both refuse each of `bad` as the schema forbids. */
  async refusesBadValues(bad: Values[]): Promise<void> {
    for (const values of bad) {
      assert.equal(this.valid(values).ok, false, `ajv accepted ${JSON.stringify(values)}`);
      await assert.rejects(
        this.template(values),
        /values don't meet the specifications of the schema/,
        JSON.stringify(values),
      );
    }
  }

  /** `helm template` of the chart with `values`; rejects with helm's error. */
  async template(values: Values): Promise<string> {
    const file = await this.valuesFile(values);
    return (await run(HELM, ["template", this.release, this.chart, "-f", file])).stdout;
  }
}
