import { after, before } from "node:test";
import { FerryHarness, type FORGES } from "./ferry-harness.js";
import { JobCounter } from "./job-counter.js";

/** A running Ferry for one suite, and a counter of the jobs in its Redis. Filled in before the suite's first test. */
export interface SuiteHarness {
  /** Ferry with a forge double, Redis and the test cluster. */
  h: FerryHarness;
  /** Ferry's queues, to count jobs and wait until they settle. */
  jobs: JobCounter;
}

/** Starts Ferry for `forge` before the calling suite's tests and closes it after them. */
export function suiteHarness(forge: (typeof FORGES)[number]): SuiteHarness {
  const suite = {} as SuiteHarness;
  before(async () => {
    suite.h = await FerryHarness.start(forge);
    suite.jobs = JobCounter.open(suite.h.redisTarget);
  });
  after(async () => {
    await suite.jobs?.close();
    await suite.h?.close();
  });
  return suite;
}
