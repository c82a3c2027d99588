/**
 * The end-to-end deploy and fleet suites once more, with Ferry on a Redis Cluster of three masters
 * (`FERRY_TEST_REDIS=cluster`: the harness starts one per suite, and Ferry spreads its queues over
 * it in groups), so `npm test` proves both layouts. Each test file runs in a process of its own, so
 * setting the variable here changes only these suites.
 */
process.env.FERRY_TEST_REDIS = "cluster";
await import("./deploy-on-merge.test.js");
await import("./fleet-rollout.test.js");
