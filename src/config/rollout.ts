import { z } from "zod";
import { clusterSelectorSchema } from "./cluster-selector.js";
import { durationSchema } from "./duration.js";

/** A percentage from `min`% to 100% (`25%`); `notOne` is what other text is told. */
function percentSchema(min: number, notOne: string) {
  return z.string().superRefine((text, ctx) => {
    if (!/^\d{1,3}%$/.test(text)) ctx.addIssue({ code: "custom", message: notOne });
    else if (Number(text.slice(0, -1)) < min || Number(text.slice(0, -1)) > 100) {
      ctx.addIssue({ code: "custom", message: `must be a percentage from ${min}% to 100%` });
    }
  });
}

/** What maxParallel must be, as a config error says it. */
const MAX_PARALLEL_RULE = "must be a whole number of at least 1 or a percentage such as 25%";

/** What failureBudget must be, as a config error says it. */
const FAILURE_BUDGET_RULE = "must be a whole number or a percentage such as 10%";

/** A count of clusters at least `min`, or a percentage of the wave. */
function countSchema(min: number, rule: string) {
  const count = z.number().int("must be a whole number").min(min, `must be at least ${min}`);
  return z.union([count, percentSchema(min, rule)], { error: rule });
}

/** One wave of a rollout: which of the environment's clusters it takes, and how it proceeds. */
export const waveSchema = z.strictObject({
  /** Name shown in statuses and reports; default `wave-<n>`, counting from 1. */
  name: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label (lower-case letters, digits, -)")
    .max(63)
    .optional(),
  /** The environment's clusters this wave takes (a cluster goes to the first wave selecting it); only the last wave may leave it out, taking the rest. */
  clusters: clusterSelectorSchema.optional(),
  /** Most clusters released at once: a number, or a percentage of the wave (rounded up); default: the whole wave. */
  maxParallel: countSchema(1, MAX_PARALLEL_RULE).optional(),
  /** Clusters of the wave that may fail without stopping the rollout: a number, or a percentage of the wave (rounded down); default 0. */
  failureBudget: countSchema(0, FAILURE_BUDGET_RULE).optional(),
  /** How long to wait after this wave succeeds before the next one starts (at most 24h). */
  pause: durationSchema("24h").optional(),
  /** The next wave waits for someone to approve it once this wave succeeds. */
  approval: z.boolean().optional(),
});

/** How an environment with many clusters is released: waves, one after the other. */
export const rolloutSchema = z
  .strictObject({
    /** The waves, in order; each wave's name defaults to `wave-<n>`. */
    waves: z
      .array(waveSchema)
      .min(1)
      .transform((waves) => waves.map((wave, i) => ({ ...wave, name: wave.name ?? `wave-${i + 1}` }))),
  })
  .superRefine((rollout, ctx) => {
    const names = new Set<string>();
    const last = rollout.waves.length - 1;
    rollout.waves.forEach((wave, i) => {
      if (names.has(wave.name))
        ctx.addIssue({ code: "custom", path: ["waves", i, "name"], message: `duplicate wave name "${wave.name}"` });
      names.add(wave.name);
      if (wave.clusters === undefined && i !== last) {
        ctx.addIssue({
          code: "custom",
          path: ["waves", i, "clusters"],
          message: "only the last wave may leave out clusters: (it takes the rest)",
        });
      }
      if (i === last) {
        if (wave.pause !== undefined)
          ctx.addIssue({
            code: "custom",
            path: ["waves", i, "pause"],
            message: "the last wave cannot pause: no wave follows it",
          });
        if (wave.approval === true)
          ctx.addIssue({
            code: "custom",
            path: ["waves", i, "approval"],
            message: "the last wave cannot ask for approval: no wave follows it",
          });
      } else if (wave.pause !== undefined && wave.approval === true) {
        ctx.addIssue({ code: "custom", path: ["waves", i, "approval"], message: "give pause or approval, not both" });
      }
    });
  });

/** One wave as declared, its name filled in. */
export type Wave = z.output<typeof rolloutSchema>["waves"][number];

/** A validated `rollout:`. */
export type Rollout = z.output<typeof rolloutSchema>;
