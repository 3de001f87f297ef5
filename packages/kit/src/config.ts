import { z } from "zod";

/** Settings every service process shares. Services extend this with their own. */
export const baseConfigSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  HOST: z.string().default("127.0.0.1"),
  ROLE: z.enum(["api", "worker", "all"]).default("all"),
  // Empty means "no tracing backend" (compose passes `${OTEL_EXPORTER_OTLP_ENDPOINT:-}`).
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess((v) => (v === "" ? undefined : v), z.url().optional()),
  /** On SIGTERM: in-flight requests and jobs get this long to finish before the process exits 1 (below Kubernetes' 30 s). */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(25_000),
  /** On SIGTERM: how long /readyz says "not ready" before the server stops taking connections, so load balancers look elsewhere first. */
  SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).default(1_000),
});

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`Invalid configuration: ${problems.map((p) => `${p.variable}: ${p.message}`).join("; ")}`);
    this.name = "ConfigError";
  }
}

/**
 * Validates the environment against a schema once, at start-up, so a missing or
 * bad value stops the process with the variable's name instead of failing later.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      variable: issue.path.join(".") || "(env)",
      message: issue.message,
    })),
  );
}

/** `a,b, c` → `["a", "b", "c"]` (lists in env variables). */
export const commaList = z.string().transform((s) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean),
);

/** Port numbers as env strings. */
export const portSchema = (defaultPort: number) => z.coerce.number().int().min(0).max(65535).default(defaultPort);

/**
 * What every backend service reads beyond the base: its port and database (defaults
 * for this machine), Redis, the realm it trusts and the queue prefix. Services extend
 * it with their own settings, so the shared names are spelled once.
 */
export function serviceConfigSchema(defaults: { port: number; database: string }) {
  return baseConfigSchema.extend({
    PORT: portSchema(defaults.port),
    DATABASE_URL: z.url().default(`postgresql://root@127.0.0.1:5432/${defaults.database}`),
    REDIS_URL: z.url().default("redis://127.0.0.1:6379"),
    OIDC_ISSUER_URL: z.url().default("http://127.0.0.1:8081/realms/shouhu"),
    OIDC_AUDIENCE: z.string().default("shouhu-api"),
    OIDC_ALLOWED_CLIENTS: commaList.default(["shouhu-web", "shouhu-console", "shouhu-service"]),
    QUEUE_PREFIX: z.string().default("shouhu"),
  });
}

export type ServiceConfig = z.output<ReturnType<typeof serviceConfigSchema>>;
