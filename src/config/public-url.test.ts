import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { publicUrlOf } from "./public-url.js";

describe("publicUrlOf", () => {
  const listening = "http://127.0.0.1:3000";
  it("takes the server config's publicUrl first, then FERRY_PUBLIC_URL", () => {
    const env = { FERRY_PUBLIC_URL: "https://env.example.com" };
    assert.deepEqual(publicUrlOf({ publicUrl: "https://config.example.com" }, env, listening), {
      url: "https://config.example.com",
      fallback: false,
    });
    assert.deepEqual(publicUrlOf({}, env, listening), { url: "https://env.example.com", fallback: false });
  });

  it("falls back to Ferry's own address, and says so, when neither is set (an empty variable is unset)", () => {
    assert.deepEqual(publicUrlOf({}, {}, listening), { url: listening, fallback: true });
    assert.deepEqual(publicUrlOf({}, { FERRY_PUBLIC_URL: "" }, listening), { url: listening, fallback: true });
  });
});
