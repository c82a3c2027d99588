import type { WatchEvent } from "../kube/kube-client.js";
import { FIELD_MANAGER } from "../kube/labels.js";

/** One `metadata.managedFields` entry, as far as telling who wrote last goes. */
interface ManagedFieldsEntry {
  manager?: string;
  subresource?: string;
  time?: string;
}

/**
 * Whether a watched change cannot be drift: Ferry's own apply, or a write to the status subresource
 * (a controller reporting), judged by the newest `managedFields` entries (those with the latest
 * time; entries are stamped to the second, so all of a tie must qualify). A deletion, or an object
 * without managedFields, always may be.
 */
export function changedOnlyByFerry(event: WatchEvent): boolean {
  if (event.type !== "ADDED" && event.type !== "MODIFIED") return false;
  const metadata = event.object.metadata as { managedFields?: ManagedFieldsEntry[] } | undefined;
  const entries = metadata?.managedFields ?? [];
  const newest = entries.reduce((latest, e) => ((e.time ?? "") > latest ? (e.time ?? "") : latest), "");
  const last = entries.filter((e) => (e.time ?? "") === newest);
  return last.length > 0 && last.every((e) => e.manager === FIELD_MANAGER || e.subresource === "status");
}
