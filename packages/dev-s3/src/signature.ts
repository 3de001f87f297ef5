/**
 * AWS Signature V4 checked on every request to the embedded server, as S3 and MinIO do: the
 * expected signature is recomputed with the SDK's own signer (@smithy/signature-v4) from the
 * request's method, raw path, query and the headers it names as signed, under the secret of the
 * access key in its credential — no hand-written crypto. s3rver's own check is left off
 * (`allowMismatchedSignatures`: it canonicalises bucket-level paths differently from the SDK).
 */
import { timingSafeEqual } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { HttpRequest } from "@smithy/core/protocols";
import { Hash } from "@smithy/core/serde";

/** Why a request is refused, as S3 names it (code → 403 in S3's XML error shape). */
export class SignatureError extends Error {
  constructor(
    readonly code: "AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "RequestTimeTooSkewed" | "AuthorizationHeaderMalformed" | "InvalidRequest",
    message: string,
  ) {
    super(message);
  }
}

export interface SignedRequest {
  method: string;
  /** The request target as received: raw (still percent-encoded) path and query. */
  url: string;
  /** Lower-case names, as Node gives them. */
  headers: Record<string, string | string[] | undefined>;
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;
/** S3 refuses a request signed more than 15 minutes from its clock. */
const MAX_SKEW_MS = 15 * 60_000;

const header = (headers: SignedRequest["headers"], name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v.join(",") : v;
};

function parseAmzDate(value: string | undefined): Date | null {
  const m = value ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value) : null;
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : null;
}

function parseQuery(rawQuery: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const part of rawQuery.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const [k, v] = (eq < 0 ? [part, ""] : [part.slice(0, eq), part.slice(eq + 1)]).map((s) => {
      try {
        return decodeURIComponent(s.replace(/\+/g, "%20"));
      } catch {
        // A broken percent-escape is the client's fault: 400, as S3 answers it, not the URIError's 500.
        throw new SignatureError("InvalidRequest", "The query string has an invalid percent-escape");
      }
    });
    const prev = query[k!];
    query[k!] = prev === undefined ? v! : Array.isArray(prev) ? [...prev, v!] : [prev, v!];
  }
  return query;
}

/**
 * Verifies the request's header signature (`Authorization: AWS4-HMAC-SHA256 …`) with the secret of
 * its access key; throws a SignatureError otherwise. The payload is whatever `x-amz-content-sha256`
 * declares (a hex digest, UNSIGNED-PAYLOAD, or a STREAMING-… mode): it is part of what is signed.
 * Anonymous, V2 and presigned (query-string) requests are refused: nothing here issues them.
 */
export async function verifySignature(req: SignedRequest, secretOf: (accessKey: string) => string | undefined, now = new Date()): Promise<void> {
  const [rawPath = "/", rawQuery = ""] = req.url.split(/\?(.*)/s, 2);
  const query = parseQuery(rawQuery);
  if ("X-Amz-Signature" in query || "Signature" in query) throw new SignatureError("AccessDenied", "Presigned URLs are not accepted by this server");
  const authorization = header(req.headers, "authorization");
  if (!authorization) throw new SignatureError("AccessDenied", "Anonymous requests are not accepted: sign with AWS Signature V4");
  const m = AUTH.exec(authorization);
  if (!m) throw new SignatureError("AuthorizationHeaderMalformed", "The authorization header is not an AWS4-HMAC-SHA256 header auth");
  const [, accessKeyId, scopeDate, region, service, signedList, signature] = m as unknown as [string, string, string, string, string, string, string];
  const secretAccessKey = secretOf(accessKeyId);
  if (secretAccessKey === undefined) throw new SignatureError("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
  const signingDate = parseAmzDate(header(req.headers, "x-amz-date"));
  if (!signingDate) throw new SignatureError("AccessDenied", "AWS authentication requires a valid x-amz-date header");
  if (Math.abs(now.getTime() - signingDate.getTime()) > MAX_SKEW_MS)
    throw new SignatureError("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.");
  if (scopeDate !== header(req.headers, "x-amz-date")!.slice(0, 8))
    throw new SignatureError("AuthorizationHeaderMalformed", "The credential's date is not the request's");
  if (!header(req.headers, "x-amz-content-sha256"))
    throw new SignatureError("InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
  const signed = signedList.split(";");
  if (!signed.includes("host") || !signed.includes("x-amz-date") || !signed.includes("x-amz-content-sha256"))
    throw new SignatureError("AccessDenied", "host, x-amz-date and x-amz-content-sha256 must be signed");

  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = header(req.headers, name);
    if (value === undefined) throw new SignatureError("SignatureDoesNotMatch", `Signed header ${name} is missing`);
    headers[name] = value;
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey },
    region,
    service,
    sha256: Hash.bind(null, "sha256"),
    // S3 signs the path as sent (already percent-encoded once), not normalised and encoded again.
    uriEscapePath: false,
    applyChecksum: false,
  });
  const expected = await signer.sign(new HttpRequest({ method: req.method, protocol: "http:", hostname: "", path: rawPath, query, headers }), {
    signingDate,
    signingRegion: region,
    signingService: service,
    signableHeaders: new Set(signed),
  });
  const want = /Signature=([0-9a-f]{64})$/.exec(header(expected.headers as SignedRequest["headers"], "authorization") ?? "")?.[1] ?? "";
  if (!timingSafeEqual(Buffer.from(want.padEnd(64, "0")), Buffer.from(signature)) || want.length !== 64)
    throw new SignatureError(
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    );
}
