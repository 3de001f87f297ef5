import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { childBody, registryTest, type Harness } from "./harness.js";

// The service decides on the route the router matched (after decoding), not on the raw
// URL: no spelling of a path reaches a child record without a token.
let h: Harness;
let port: number;

registryTest("auth_paths").beforeAll(async ({ registry }) => {
  h = registry;
  const url = await h.app.listen({ port: 0, host: "127.0.0.1" });
  port = Number(new URL(url).port);
  const res = await h.app.inject({ method: "POST", url: "/api/v1/children", headers: await h.as("changling.supervisor"), payload: childBody() });
  expect(res.statusCode).toBe(201);
});

/** A raw HTTP GET: the path goes on the wire exactly as written. */
function rawGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET", headers }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("service-side authentication on the normalized path", () => {
  const tricks = [
    "/api/v1/children",
    "/%61pi/v1/children",
    "/%61%70%69/v1/%63hildren",
    "/api/v1/%63hildren?limit=5",
    "/api/v1/children/",
    "//api/v1/children",
    "/api//v1/children",
    "/api/v1/./children",
    "/api/v1/x/../children",
    "/API/v1/children",
    "/api/v1/children%2f",
    "/api/v1/children;x=1",
    "/api/v1/children%00",
    // Token-less routes live under /api/v1/public/: no spelling through it reaches a route that needs a token.
    "/api/v1/public/../children",
    "/api/v1/public/%2e%2e/children",
    "/api/v1/public/..%2fchildren",
    "/api/v1/public%2f..%2fchildren",
  ];
  for (const path of tricks) {
    it(`GET ${path} without a token answers 401 or 404 and holds no child`, async () => {
      const res = await rawGet(path);
      expect([400, 401, 404]).toContain(res.status);
      if (res.status !== 401) expect(res.body).not.toMatch(/李小花|360999/);
      expect(res.body).not.toMatch(/李小花/);
    });
  }

  it("the encoded path reaches the route with a token, so the 401 above was the check, not a miss", async () => {
    const res = await rawGet("/%61pi/v1/children", { authorization: `Bearer ${await h.token("changling.supervisor")}` });
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/李小花/);
  });

  it("probes and the API description stay open", async () => {
    for (const path of ["/healthz", "/readyz", "/metrics", "/openapi.json"]) expect((await rawGet(path)).status).toBe(200);
  });
});
