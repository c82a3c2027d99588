import { z } from "zod";
import { labelKeySchema, labelsSchema, labelValueSchema } from "./label-syntax.js";

/** Operators of a label requirement, as in Kubernetes label selectors. */
export const labelOperatorSchema = z.enum(["In", "NotIn", "Exists", "DoesNotExist"]);

/**
 * One `matchExpressions` entry: `In`/`NotIn` need at least one value, `Exists`/`DoesNotExist` take none.
 * A cluster without the label fails `In` and `Exists` and passes `NotIn` and `DoesNotExist`.
 */
export const labelRequirementSchema = z
  .strictObject({
    /** The label key the requirement is about. */
    key: labelKeySchema,
    /** How the cluster's value of `key` is tested. */
    operator: labelOperatorSchema,
    /** The values `In` and `NotIn` test against. */
    values: z.array(labelValueSchema).optional(),
  })
  .superRefine((req, ctx) => {
    const wantsValues = req.operator === "In" || req.operator === "NotIn";
    if (wantsValues && (req.values === undefined || req.values.length === 0)) {
      ctx.addIssue({ code: "custom", path: ["values"], message: `${req.operator} needs at least one value` });
    } else if (!wantsValues && req.values !== undefined && req.values.length > 0) {
      ctx.addIssue({ code: "custom", path: ["values"], message: `${req.operator} takes no values` });
    }
  });

/** One requirement on a cluster's labels. */
export type LabelRequirement = z.output<typeof labelRequirementSchema>;

/**
 * Which registered clusters something applies to. A cluster is selected when `names` lists it, or
 * when it matches the label part: every `matchLabels` entry and every `matchExpressions` requirement
 * (an empty `matchLabels` or `matchExpressions` adds nothing). With neither names nor a label part
 * (`{}`), every cluster is selected, as an empty Kubernetes selector does.
 */
export const clusterSelectorObjectSchema = z.strictObject({
  /** Clusters selected by name, whatever their labels. */
  names: z.array(z.string().min(1)).min(1).optional(),
  /** Labels a cluster must carry with exactly these values. */
  matchLabels: labelsSchema.optional(),
  /** Requirements a cluster's labels must all meet. */
  matchExpressions: z.array(labelRequirementSchema).optional(),
});

/** A cluster selector, in its object form (a list of names is read as `{ names }`). */
export type ClusterSelector = z.output<typeof clusterSelectorObjectSchema>;

/** What a selector must look like, as a config error says it. */
const SELECTOR_RULE = "must be a list of cluster names or a selector { names, matchLabels, matchExpressions }";

const nameList = z.array(z.string().min(1)).min(1);

/**
 * A cluster selector as `.ferry.yml` writes it: a list of cluster names (`[eu-1, eu-2]`), read as
 * `{ names: [...] }`, or the object form. Errors point into whichever form was written.
 */
export const clusterSelectorSchema = z.unknown().transform((value, ctx): ClusterSelector => {
  if (Array.isArray(value)) {
    const names = nameList.safeParse(value);
    if (names.success) return { names: names.data };
    for (const issue of names.error.issues) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
    return z.NEVER;
  }
  if (typeof value !== "object" || value === null) {
    ctx.addIssue({ code: "custom", message: SELECTOR_RULE });
    return z.NEVER;
  }
  const selector = clusterSelectorObjectSchema.safeParse(value);
  if (selector.success) return selector.data;
  for (const issue of selector.error.issues) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
  return z.NEVER;
});
