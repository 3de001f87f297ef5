import fastifySwaggerUi from "@fastify/swagger-ui";
import type { ServiceApp } from "@shouhu/kit";
import type { Upstream } from "../upstreams.js";

type OpenApi = { paths?: Record<string, unknown>; components?: { schemas?: Record<string, unknown> }; tags?: { name: string }[]; [k: string]: unknown };

/**
 * One OpenAPI document for the whole API: the gateway's own routes plus each
 * service's `/openapi.json`. A service that is down keeps its last good copy.
 */
export class OpenApiAggregator {
  private cache = new Map<string, OpenApi>();
  private fetchedAt = 0;

  constructor(
    private readonly upstreams: Upstream[],
    private readonly ttlMs = 60_000,
  ) {}

  async refresh(force = false): Promise<void> {
    if (!force && Date.now() - this.fetchedAt < this.ttlMs && this.cache.size === this.upstreams.length) return;
    await Promise.all(
      this.upstreams.map(async (u) => {
        try {
          const res = await fetch(`${u.url}/openapi.json`, { signal: AbortSignal.timeout(2000) });
          if (res.ok) this.cache.set(u.name, (await res.json()) as OpenApi);
        } catch {
          /* keep the last good copy */
        }
      }),
    );
    this.fetchedAt = Date.now();
  }

  merge(own: OpenApi): OpenApi {
    const merged: OpenApi = {
      ...own,
      info: {
        title: "守护 Shouhu API",
        version: "1.0.0",
        description: "所有接口均需 Bearer 令牌（Keycloak 签发）；数据范围按所属单位代码（org_unit）前缀限定。",
      },
    };
    merged.paths = { ...(own.paths ?? {}) };
    merged.components = { ...(own.components ?? {}), schemas: { ...(own.components?.schemas ?? {}) } };
    const tags = new Map((own.tags ?? []).map((t) => [t.name, t]));
    for (const doc of this.cache.values()) {
      Object.assign(merged.paths, doc.paths ?? {});
      Object.assign(merged.components.schemas!, doc.components?.schemas ?? {});
      for (const t of doc.tags ?? []) tags.set(t.name, t);
    }
    merged.tags = [...tags.values()];
    return merged;
  }
}

export async function registerDocs(app: ServiceApp, aggregator: OpenApiAggregator): Promise<void> {
  app.addHook("onRequest", (request, _reply, done) => {
    if (!request.url.startsWith("/api/docs")) return done();
    aggregator.refresh().then(() => done(), done);
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: "/api/docs",
    staticCSP: true,
    transformSpecification: (spec) => aggregator.merge(spec as OpenApi),
    transformSpecificationClone: true,
  });
}
