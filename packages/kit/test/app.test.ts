import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-node";
import {
  ConfigError,
  ConflictError,
  createLogger,
  createServiceApp,
  currentTraceparent,
  initTelemetry,
  loadConfig,
  portSchema,
  baseConfigSchema,
  type ServiceApp,
} from "../src/index.js";

describe("loadConfig", () => {
  const schema = baseConfigSchema.extend({ PORT: portSchema(3001), DATABASE_URL: z.url() });

  it("applies defaults and coerces", () => {
    const cfg = loadConfig(schema, { DATABASE_URL: "postgresql://root@127.0.0.1/x" });
    expect(cfg.PORT).toBe(3001);
    expect(cfg.ROLE).toBe("all");
  });

  it("fails fast naming every bad variable", () => {
    expect(() => loadConfig(schema, { PORT: "70000" })).toThrowError(ConfigError);
    try {
      loadConfig(schema, { PORT: "70000" });
    } catch (err) {
      const names = (err as ConfigError).problems.map((p) => p.variable).sort();
      expect(names).toEqual(["DATABASE_URL", "PORT"]);
      expect((err as Error).message).toMatch(/DATABASE_URL/);
    }
  });
});

describe("createServiceApp", () => {
  const exporter = new InMemorySpanExporter();
  let app: ServiceApp;
  let dbUp = true;

  beforeAll(async () => {
    const { instrumentation } = initTelemetry({ serviceName: "kit-test", exporter });
    app = await createServiceApp({
      service: "kit-test",
      logger: createLogger("kit-test", "silent"),
      instrumentation,
      readiness: [
        {
          name: "db",
          check: async () => {
            if (!dbUp) throw new Error("down");
          },
        },
      ],
    });
    app.post(
      "/things",
      { schema: { body: z.object({ name: z.string().min(1), guardians: z.array(z.object({ phone: z.string().regex(/^1\d{10}$/) })) }) } },
      async (request) => ({ ok: true, name: request.body.name }),
    );
    app.get("/boom", async () => {
      throw new Error("secret internals");
    });
    app.get("/conflict", async () => {
      throw new ConflictError("DUPLICATE", "已存在", { existingId: "x" });
    });
    app.get("/trace", async () => ({ traceparent: currentTraceparent() }));
    await app.ready();
  });
  afterAll(async () => app.close());

  it("names the offending field on bad input", async () => {
    const res = await app.inject({ method: "POST", url: "/things", payload: { name: "", guardians: [{ phone: "12" }] } });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe("VALIDATION_FAILED");
    const fields = body.error.details.map((d: { field: string }) => d.field);
    expect(fields).toContain("name");
    expect(fields).toContain("guardians.0.phone");
  });

  it("rejects malformed JSON with 400 in the same shape", async () => {
    const res = await app.inject({ method: "POST", url: "/things", headers: { "content-type": "application/json" }, payload: "{bad" });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("VALIDATION_FAILED");
  });

  it("hides internals of unexpected errors behind a 500", async () => {
    const res = await app.inject({ method: "GET", url: "/boom" });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toMatch(/secret/);
    expect(res.json().error.code).toBe("INTERNAL");
  });

  it("renders AppErrors with their status and details", async () => {
    const res = await app.inject({ method: "GET", url: "/conflict" });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ error: { code: "DUPLICATE", message: "已存在", details: { existingId: "x" } } });
  });

  it("returns 404 JSON for unknown routes", async () => {
    const res = await app.inject({ method: "GET", url: "/nope" });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("NOT_FOUND");
  });

  it("serves health, readiness and metrics", async () => {
    expect((await app.inject({ url: "/healthz" })).statusCode).toBe(200);
    expect((await app.inject({ url: "/readyz" })).statusCode).toBe(200);
    dbUp = false;
    const notReady = await app.inject({ url: "/readyz" });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json().checks[0]).toMatchObject({ name: "db", ok: false });
    dbUp = true;
    const metrics = await app.inject({ url: "/metrics" });
    expect(metrics.body).toMatch(/http_request_duration_seconds/);
  });

  it("echoes or assigns a request id", async () => {
    const res = await app.inject({ url: "/healthz", headers: { "x-request-id": "abc-123" } });
    expect(res.headers["x-request-id"]).toBe("abc-123");
  });

  it("continues the caller's trace", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await app.inject({ url: "/trace", headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    expect(res.json().traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  });

  it("publishes an OpenAPI document", async () => {
    const res = await app.inject({ url: "/openapi.json" });
    expect(res.json().paths["/things"]).toBeDefined();
  });
});
