/**
 * The agent suite once more, with Ferry and its agents on a Redis Cluster of three masters
 * (`FERRY_TEST_REDIS=cluster`): each agent's user set on every node by `ferry agent-credentials
 * --apply`, its keys on its own slot (the three agents' on three different primaries), and another
 * agent's keys refused with NOPERM. A file of its own, so it runs beside the other cluster suites.
 */
process.env.FERRY_TEST_REDIS = "cluster";
await import("./agent-rollout.test.js");
