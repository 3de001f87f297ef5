/** An error answer of a public API, with the zh-CN message the service gave. */
export class PublicApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** fetch for token-less APIs: JSON in and out, errors as PublicApiError with the service's message. */
export async function publicApi<T>(url: string, init?: { method?: string; body?: unknown }): Promise<T> {
  const res = await fetch(url, {
    method: init?.method ?? "GET",
    headers: init?.body === undefined ? {} : { "content-type": "application/json" },
    body: init?.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const json = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (!res.ok) throw new PublicApiError(res.status, json.error?.code ?? "ERROR", json.error?.message ?? `请求失败（${res.status}）`);
  return json as T;
}
