import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCookies, signCookie, verifyCookie } from "./signed-cookie.js";

const SECRET = "s".repeat(32);

describe("signed cookies", () => {
  it("verifies what it signed, and nothing altered, renamed or signed under another secret", () => {
    const signed = signCookie("ferry_session", "abc", SECRET);
    assert.equal(verifyCookie("ferry_session", signed, SECRET), "abc");
    assert.equal(verifyCookie("ferry_session", signed.replace("abc", "abd"), SECRET), undefined);
    assert.equal(verifyCookie("ferry_login", signed, SECRET), undefined);
    assert.equal(verifyCookie("ferry_session", signed, "t".repeat(32)), undefined);
    assert.equal(verifyCookie("ferry_session", "abc", SECRET), undefined);
    assert.equal(verifyCookie("ferry_session", undefined, SECRET), undefined);
  });

  it("reads a Cookie header", () => {
    const cookies = parseCookies("a=1; b=x.y ;a=2");
    assert.equal(cookies.get("a"), "1");
    assert.equal(cookies.get("b"), "x.y");
  });
});
