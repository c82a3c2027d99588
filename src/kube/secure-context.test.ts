import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { test } from "node:test";
import { secureContextFor } from "./secure-context.js";

const pem = () =>
  Buffer.from(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }));

test("connections with the same material share one TLS context; other material gets its own", () => {
  const [a, b] = [pem(), pem()];
  assert.equal(secureContextFor({ key: a }), secureContextFor({ key: Buffer.from(a) }));
  assert.notEqual(secureContextFor({ key: a }), secureContextFor({ key: b }));
  assert.notEqual(secureContextFor({}), secureContextFor({ key: a }));
});

test("material split differently between fields is other material", () => {
  const key = pem();
  assert.notEqual(secureContextFor({ key }), secureContextFor({ ca: Buffer.alloc(0), key }));
});
