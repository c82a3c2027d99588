import { z } from "zod";

/** A label name, or the name part of a prefixed key: at most 63 characters, alphanumerics at both ends. */
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** A DNS subdomain (RFC 1123), the optional prefix of a label key. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** What a label key must look like, as a config error says it. */
export const LABEL_KEY_RULE =
  "must be a label key: an optional DNS subdomain prefix and /, then a name of at most 63 letters, digits, -, _ or . that starts and ends with a letter or digit";

/** What a label value must look like, as a config error says it. */
export const LABEL_VALUE_RULE =
  "must be a label value: empty, or at most 63 letters, digits, -, _ or . that start and end with a letter or digit";

/** True when `key` is a Kubernetes label key (`tier`, `topology.kubernetes.io/region`). */
export function isLabelKey(key: string): boolean {
  const parts = key.split("/");
  if (parts.length > 2) return false;
  const name = parts.at(-1) ?? "";
  const prefix = parts.length === 2 ? (parts[0] ?? "") : undefined;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && LABEL_NAME.test(name);
}

/** True when `value` is a Kubernetes label value (possibly empty). */
export function isLabelValue(value: string): boolean {
  return value === "" || (value.length <= 63 && LABEL_NAME.test(value));
}

/** A label key, such as `region` or `topology.kubernetes.io/zone`. */
export const labelKeySchema = z.string().refine(isLabelKey, { message: LABEL_KEY_RULE });

/** A label value, such as `eu` (or empty). */
export const labelValueSchema = z.string().refine(isLabelValue, { message: LABEL_VALUE_RULE });

/** A map of labels; each bad key or value is reported at its own entry. */
export const labelsSchema = z.record(z.string(), z.string()).superRefine((labels, ctx) => {
  for (const [key, value] of Object.entries(labels)) {
    if (!isLabelKey(key)) ctx.addIssue({ code: "custom", path: [key], message: `"${key}" ${LABEL_KEY_RULE}` });
    else if (!isLabelValue(value))
      ctx.addIssue({ code: "custom", path: [key], message: `"${value}" ${LABEL_VALUE_RULE}` });
  }
});
