// initTelemetry without an OTLP endpoint or exporter (its own file: the provider is once per process).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trace } from "@opentelemetry/api";
import { createLogger, createServiceApp, currentTraceparent, initTelemetry, tracer, type ServiceApp } from "../src/index.js";

describe("telemetry with nowhere to export", () => {
  let app: ServiceApp;
  let exporting: boolean;

  beforeAll(async () => {
    const telemetry = initTelemetry({ serviceName: "kit-unexported" });
    exporting = telemetry.exporting;
    app = await createServiceApp({ service: "kit-unexported", logger: createLogger("kit-unexported", "silent"), instrumentation: telemetry.instrumentation });
    app.get("/trace", async () => ({ traceparent: currentTraceparent(), recording: trace.getActiveSpan()?.isRecording() ?? null }));
    await app.ready();
  });
  afterAll(async () => app.close());

  it("says so", () => {
    expect(exporting).toBe(false);
  });

  it("records no span of a trace it starts, but still propagates one (trace id, span id, not sampled)", async () => {
    const first = (await app.inject({ url: "/trace" })).json();
    const second = (await app.inject({ url: "/trace" })).json();
    expect(first.recording).toBe(false);
    expect(first.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(first.traceparent.slice(3, 35)).not.toBe(second.traceparent.slice(3, 35));
    const span = tracer().startSpan("work");
    expect(span.isRecording()).toBe(false);
    span.end();
  });

  it("continues a caller's sampled trace as sampled, so services that export downstream still see it", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = (await app.inject({ url: "/trace", headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } })).json();
    expect(res.traceparent).toMatch(new RegExp(`^00-${traceId}-(?!00f067aa0ba902b7)[0-9a-f]{16}-01$`));
  });

  it("continues a caller's unsampled trace unsampled", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const res = (await app.inject({ url: "/trace", headers: { traceparent: `00-${traceId}-b7ad6b7169203331-00` } })).json();
    expect(res.recording).toBe(false);
    expect(res.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
  });
});
