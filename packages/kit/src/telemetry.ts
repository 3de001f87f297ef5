import { context, propagation, trace } from "@opentelemetry/api";
import {
  NodeTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  AlwaysOffSampler,
  ParentBasedSampler,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-node";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { FastifyOtelInstrumentation } from "@fastify/otel";

let provider: NodeTracerProvider | undefined;
let fastifyInstrumentation: FastifyOtelInstrumentation | undefined;
let exporting = false;

export interface TelemetryOptions {
  serviceName: string;
  /**
   * Where spans go: OTLP over HTTP when set. Without it (and without `exporter`)
   * traces this process starts are not recorded, but their context (trace id, a
   * span id per hop) is still propagated through HTTP and jobs.
   */
  otlpEndpoint?: string;
  /** Extra exporter (tests use an in-memory one). */
  exporter?: SpanExporter;
}

/**
 * Registers the tracer provider, the AsyncLocalStorage context manager and the
 * W3C propagator once per process; trace context then flows through Fastify
 * requests, outgoing calls and BullMQ jobs (via the event envelope).
 */
export function initTelemetry(options: TelemetryOptions): {
  instrumentation: FastifyOtelInstrumentation;
  /** Whether spans go anywhere (an OTLP endpoint or an exporter was given to the first call). */
  exporting: boolean;
  shutdown: () => Promise<void>;
} {
  if (!provider) {
    const spanProcessors = [];
    if (options.otlpEndpoint) {
      spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: `${options.otlpEndpoint.replace(/\/$/, "")}/v1/traces` })));
    }
    if (options.exporter) spanProcessors.push(new SimpleSpanProcessor(options.exporter));
    exporting = spanProcessors.length > 0;
    provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ "service.name": options.serviceName }),
      spanProcessors,
      // Nowhere to send spans: don't build them (attributes, timings, events on
      // every request and hook for nothing). A caller's sampled trace is still
      // recorded (ParentBased), so its flag reaches the next service unchanged.
      ...(spanProcessors.length === 0 ? { sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }) } : {}),
    });
    provider.register();
    fastifyInstrumentation = new FastifyOtelInstrumentation({ ignorePaths: (r) => /^\/(healthz|readyz|metrics)/.test(r.url) });
    fastifyInstrumentation.setTracerProvider(provider);
  }
  const p = provider;
  return { instrumentation: fastifyInstrumentation!, exporting, shutdown: () => p.shutdown() };
}

export const tracer = () => trace.getTracer("shouhu");

/** The active trace context as W3C headers, for outgoing HTTP calls. */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** The active traceparent, for event envelopes. */
export function currentTraceparent(): string | undefined {
  return traceHeaders().traceparent;
}
