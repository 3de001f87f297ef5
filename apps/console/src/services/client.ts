import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";
import { currentAccessToken, onUnauthorized } from "../auth/oidc";

/** The API's one error shape (DESIGN.md "Cross-cutting"). */
export interface FieldIssue {
  field: string;
  message: string;
}
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
  /** Field-level issues of a 400, e.g. `guardians.0.phone`. */
  get fieldIssues(): FieldIssue[] {
    return Array.isArray(this.details) ? (this.details as FieldIssue[]).filter((d) => d && typeof d.field === "string") : [];
  }
}

const auth: Middleware = {
  async onRequest({ request }) {
    const token = await currentAccessToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  async onResponse({ response }) {
    if (response.status === 401) onUnauthorized();
    return response;
  },
};

/** Typed by the gateway's merged OpenAPI document (`npm run generate -w apps/console`). */
export const api = createClient<paths>({ baseUrl: "" });
api.use(auth);

/**
 * Unwraps an openapi-fetch result: the data, or an ApiError carrying the API's
 * zh-CN message. The API documents no response schemas yet, so callers name the
 * shape they read (services/models.ts, taken from the services' own types).
 */
export async function unwrap<T>(call: Promise<{ data?: unknown; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const body = (error ?? {}) as { error?: { code?: string; message?: string; details?: unknown } };
  const message = body.error?.message ?? (response.status >= 500 ? "服务暂时不可用，请稍后再试" : `请求失败（${response.status}）`);
  throw new ApiError(response.status, body.error?.code ?? String(response.status), message, body.error?.details);
}

/** For downloads (xlsx) that openapi-fetch would parse as JSON. */
export async function fetchBlob(path: string): Promise<Blob> {
  const token = await currentAccessToken();
  const res = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  if (!res.ok) throw new ApiError(res.status, String(res.status), `下载失败（${res.status}）`);
  return res.blob();
}

/** Hands a downloaded file to the browser under the given name. */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement("a"), { href: url, download: fileName });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
