/**
 * The intake benchmark's baseline: a bare express endpoint on the webhook path that only answers
 * 202 (it verifies, parses and queues nothing), in its own process like `ferry web`. Prints
 * `listening <port>` once it listens on loopback.
 *
 * Usage: node --import tsx bench/intake/bare-endpoint.ts
 */
import type { AddressInfo } from "node:net";
import express from "express";

const app = express();
app.disable("x-powered-by");
app.post("/api/github/webhooks", (_req, res) => {
  res.status(202).json({ accepted: true });
});
const server = app.listen(0, "127.0.0.1", () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
