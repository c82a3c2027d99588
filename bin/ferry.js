#!/usr/bin/env node
// Entry point: runs the compiled CLI when built (the Docker image), the TypeScript sources otherwise.
import { existsSync } from "node:fs";

const built = new URL("../dist/cli/main.js", import.meta.url);
if (existsSync(built)) {
  const { main } = await import(built.href);
  await main(process.argv);
} else {
  const { tsImport } = await import("tsx/esm/api");
  const { main } = await tsImport("../src/cli/main.ts", import.meta.url);
  await main(process.argv);
}
