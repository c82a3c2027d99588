import { generateKeyPairSync, randomBytes, verify, type KeyObject } from "node:crypto";

/** How long an installation token lives, as on GitHub. */
const tokenLifetimeMs = 60 * 60 * 1000;
/** Clock skew tolerated on a JWT's `iat`/`exp`, in seconds. */
const skewSeconds = 60;

/** Outcome of checking a credential: accepted, or rejected with GitHub's message. */
export type AuthCheck<T> = { ok: true; value: T } | { ok: false; message: string };

/** An installation token the simulator issued. */
export interface IssuedToken {
  /** The `ghs_…` token string. */
  token: string;
  /** Installation the token acts for. */
  installationId: number;
  /** When the token stops working. */
  expiresAt: Date;
}

/** The GitHub App's key pair, and the tokens issued to its installations. */
export class AppAuth {
  /** The app's id; the JWT's `iss` must equal it. */
  readonly appId: number;
  /** PKCS#1 PEM private key, as GitHub hands it out when an app key is generated. */
  readonly privateKeyPem: string;
  private readonly publicKey: KeyObject;
  private readonly tokens = new Map<string, IssuedToken>();

  constructor(appId: number) {
    this.appId = appId;
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    this.privateKeyPem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    this.publicKey = publicKey;
  }

  /** Checks an `Authorization: Bearer <jwt>` header: RS256, signed by the app key, iss = appId, not expired. */
  verifyJwt(authorization: string | undefined): AuthCheck<null> {
    const undecodable = { ok: false, message: "A JSON web token could not be decoded" } as const;
    const credential = parseAuthorization(authorization);
    if (credential === undefined || credential.scheme !== "bearer") return undecodable;
    const parts = credential.value.split(".");
    if (parts.length !== 3) return undecodable;
    const [encodedHeader = "", encodedPayload = "", encodedSignature = ""] = parts;
    const header = decodeJsonSegment(encodedHeader);
    const payload = decodeJsonSegment(encodedPayload);
    if (header === undefined || payload === undefined || header["alg"] !== "RS256") return undecodable;
    const signed = verify(
      "sha256",
      Buffer.from(`${encodedHeader}.${encodedPayload}`),
      this.publicKey,
      Buffer.from(encodedSignature, "base64url"),
    );
    if (!signed) return undecodable;
    if (String(payload["iss"]) !== String(this.appId)) {
      return { ok: false, message: "'Issuer' claim ('iss') must be an Integer" };
    }
    const now = Math.floor(Date.now() / 1000);
    const iat = payload["iat"];
    const exp = payload["exp"];
    if (typeof iat !== "number" || iat > now + skewSeconds) {
      return {
        ok: false,
        message: "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
      };
    }
    if (typeof exp !== "number" || exp <= now || exp > now + 600 + skewSeconds) {
      return {
        ok: false,
        message:
          "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
      };
    }
    return { ok: true, value: null };
  }

  /** Issues a fresh installation token valid for an hour. */
  issueToken(installationId: number): IssuedToken {
    const issued: IssuedToken = {
      token: `ghs_${randomBytes(18).toString("hex")}`,
      installationId,
      expiresAt: new Date(Date.now() + tokenLifetimeMs),
    };
    this.tokens.set(issued.token, issued);
    return issued;
  }

  /** Checks an `Authorization: token <t>` (or `Bearer <t>`) header against the issued, unexpired tokens. */
  verifyInstallationToken(authorization: string | undefined): AuthCheck<IssuedToken> {
    const credential = parseAuthorization(authorization);
    const issued = credential === undefined ? undefined : this.tokens.get(credential.value);
    if (issued === undefined || issued.expiresAt.getTime() <= Date.now()) {
      return { ok: false, message: "Bad credentials" };
    }
    return { ok: true, value: issued };
  }

  /** Makes every issued token expire now, to test that clients fetch new ones. */
  expireTokens(): void {
    for (const issued of this.tokens.values()) issued.expiresAt = new Date(0);
  }
}

function parseAuthorization(header: string | undefined): { scheme: string; value: string } | undefined {
  const match = /^(\w+)\s+(\S+)\s*$/.exec(header ?? "");
  if (match === null || match[1] === undefined || match[2] === undefined) return undefined;
  return { scheme: match[1].toLowerCase(), value: match[2] };
}

function decodeJsonSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
    return parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
