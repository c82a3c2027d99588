import { createHmac, timingSafeEqual } from "node:crypto";

/** `value.signature`: `value` with an HMAC-SHA256 (base64url) of the cookie's name and value under `secret`. */
export function signCookie(name: string, value: string, secret: string): string {
  return `${value}.${mac(name, value, secret)}`;
}

/** The value of a cookie signed by {@link signCookie} under `secret`, or undefined when unsigned, altered or renamed. */
export function verifyCookie(name: string, signed: string | undefined, secret: string): string | undefined {
  if (signed === undefined) return undefined;
  const dot = signed.lastIndexOf(".");
  if (dot <= 0) return undefined;
  const value = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1));
  const expected = Buffer.from(mac(name, value, secret));
  return given.length === expected.length && timingSafeEqual(given, expected) ? value : undefined;
}

/** The cookies of a `Cookie` header by name (the first of each name). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name !== "" && !cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

function mac(name: string, value: string, secret: string): string {
  return createHmac("sha256", secret).update(`${name}=${value}`).digest("base64url");
}
