import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import pg from "pg";
import { postgresBinDir, startScratchPostgres } from "@shouhu/testing";

const root = fileURLToPath(new URL("../..", import.meta.url));
const read = (path: string) => readFileSync(`${root}/${path}`, "utf8");

/**
 * No Docker engine runs here, so the compose file is kept honest by the compose
 * tool's own validation where it is installed (Debian's docker-compose 1.29
 * validates without an engine), and by checking what it must contain.
 */
function resolvedCompose(): { services: Record<string, any>; volumes?: Record<string, unknown>; validatedBy: string } {
  for (const cmd of [["docker-compose"], ["docker", "compose"]]) {
    const probe = spawnSync(cmd[0]!, [...cmd.slice(1), "version"], { encoding: "utf8" });
    if (probe.status !== 0) continue;
    // The committed .env.example stands in for the uncommitted .env that holds the secrets.
    const out = execFileSync(cmd[0]!, [...cmd.slice(1), "-f", "docker-compose.yml", "--env-file", ".env.example", "config"], { cwd: root, encoding: "utf8" });
    return { ...parse(out), validatedBy: cmd.join(" ") };
  }
  console.warn("no docker-compose / docker compose found: checking docker-compose.yml as YAML only");
  // YAML merge keys (`<<: *service-env`) are resolved as compose does.
  return { ...parse(read("docker-compose.yml"), { merge: true }), validatedBy: "yaml" };
}

describe("docker-compose.yml", () => {
  const compose = resolvedCompose();

  it("validates and runs the production shape", () => {
    const production = Object.entries(compose.services)
      .filter(([, s]) => !s.profiles)
      .map(([n]) => n);
    expect(production.sort()).toEqual([
      "activities-api",
      "activities-worker",
      "gateway",
      "health-api",
      "health-worker",
      "keycloak",
      "minio",
      "notifications-api",
      "notifications-worker",
      "pairing-api",
      "pairing-worker",
      "postgres",
      "redis",
      "registry-api",
      "registry-worker",
      "reporting-api",
      "reporting-worker",
      "visits-api",
      "visits-worker",
    ]);
  });

  it("gives every service its own database", () => {
    const init = read("infra/postgres/init-databases.sh");
    for (const svc of ["gateway", "registry", "pairing", "visits", "health", "notifications", "reporting", "activities"])
      expect(init).toMatch(new RegExp(`for svc in .*\\b${svc}\\b`));
    expect(compose.services["registry-api"].environment.DATABASE_URL).toMatch(/\/shouhu_registry$/);
    expect(compose.services.gateway.environment.DATABASE_URL).toMatch(/\/shouhu_gateway$/);
    expect(compose.services["pairing-api"].environment.DATABASE_URL).toMatch(/\/shouhu_pairing$/);
  });

  it("configures Redis for BullMQ: AOF every second, never evict", () => {
    const conf = read("infra/redis/redis.conf");
    expect(conf).toMatch(/^maxmemory-policy noeviction$/m);
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(conf).toMatch(/^appendfsync everysec$/m);
    expect(JSON.stringify(compose.services.redis.volumes)).toContain("redis.conf");
  });

  it("imports the realm into Keycloak under the hostname the services expect in iss", () => {
    const kc = compose.services.keycloak;
    expect(kc.command.join(" ")).toContain("--import-realm");
    expect(JSON.stringify(kc.volumes)).toContain("/opt/keycloak/data/import");
    const issuer = compose.services.gateway.environment.OIDC_ISSUER_URL as string;
    expect(issuer).toBe(`${kc.environment.KC_HOSTNAME}/realms/shouhu`);
    expect(compose.services["registry-api"].environment.OIDC_ISSUER_URL).toBe(issuer);
  });

  it("runs the registry API and worker separately from one image", () => {
    expect(compose.services["registry-api"].environment.ROLE).toBe("api");
    expect(compose.services["registry-worker"].environment.ROLE).toBe("worker");
    expect(compose.services["registry-worker"].image).toBe(compose.services["registry-api"].image);
  });

  it("builds services with a multi-stage, non-root Dockerfile that generates Prisma offline", () => {
    for (const name of ["gateway", "registry-api"]) {
      const build = compose.services[name].build;
      const dockerfile = read(build.dockerfile);
      expect(dockerfile.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(3);
      expect(dockerfile).toMatch(/^USER node$/m);
      expect(dockerfile).toMatch(/PRISMA_SCHEMA_ENGINE_BINARY/);
      expect(build.args.SERVICE).toBeTruthy();
    }
  });

  it("copies every workspace's manifest before npm ci (a missing one breaks the image build)", () => {
    const dockerfile = read("infra/docker/service.Dockerfile");
    const workspaces = ["packages", "services"].flatMap((dir) =>
      readdirSync(`${root}/${dir}`)
        .filter((name) => existsSync(`${root}/${dir}/${name}/package.json`))
        .map((name) => `${dir}/${name}`),
    );
    for (const ws of workspaces) expect(dockerfile, ws).toContain(`COPY ${ws}/package.json ${ws}/`);
  });

  it("runs every service's API and worker from one image, each on its own database", () => {
    for (const svc of ["registry", "pairing", "visits", "health", "notifications", "reporting", "activities"]) {
      expect(compose.services[`${svc}-api`].environment.ROLE).toBe("api");
      expect(compose.services[`${svc}-worker`].environment.ROLE).toBe("worker");
      expect(compose.services[`${svc}-worker`].image).toBe(compose.services[`${svc}-api`].image);
      expect(compose.services[`${svc}-api`].environment.DATABASE_URL).toMatch(new RegExp(`/shouhu_${svc}$`));
    }
  });

  it("points the gateway at every service's API and starts it after them", () => {
    const gw = compose.services.gateway;
    for (const [svc, port] of [
      ["registry", 3001],
      ["pairing", 3002],
      ["visits", 3003],
      ["health", 3004],
      ["notifications", 3005],
      ["reporting", 3006],
      ["activities", 3007],
    ] as const) {
      expect(gw.environment[`${svc.toUpperCase()}_URL`], svc).toBe(`http://${svc}-api:${port}`);
      expect(gw.depends_on[`${svc}-api`], svc).toEqual({ condition: "service_healthy" });
    }
  });

  it("keeps attachments in MinIO: bucket and the services' own key (that bucket only) made at start, registry, visits and activities pointed at it", () => {
    const minio = compose.services.minio;
    expect(minio.ports).toBeUndefined();
    expect(Object.keys(compose.volumes ?? {})).toContain("minio-data");
    const start = read("infra/minio/start.sh");
    expect(start).toContain('mc mb --ignore-existing "local/$S3_BUCKET"');
    expect(start).toContain('mc admin user add local "$S3_ACCESS_KEY" "$S3_SECRET_KEY"');
    const policy = JSON.parse(read("infra/minio/attachments-policy.json")) as { Statement: { Resource: string[] }[] };
    for (const st of policy.Statement) for (const r of st.Resource) expect(r).toMatch(/^arn:aws:s3:::shouhu-attachments(\/\*)?$/);
    for (const svc of ["registry-api", "registry-worker", "visits-api", "visits-worker", "activities-api", "activities-worker"]) {
      const env = compose.services[svc].environment;
      expect(env, svc).toMatchObject({
        S3_ENDPOINT: "http://minio:9000",
        S3_BUCKET: "shouhu-attachments",
        S3_ACCESS_KEY: "shouhu-attachments",
        S3_FORCE_PATH_STYLE: "true",
      });
      expect(env.S3_SECRET_KEY, svc).toBe(minio.environment.S3_SECRET_KEY);
    }
    for (const svc of ["registry-api", "visits-api", "activities-api"])
      expect(compose.services[svc].depends_on.minio, svc).toEqual({ condition: "service_healthy" });
  });

  it("keeps the gateway's audit journal on a named volume, so a recreated container replays what was not yet written", () => {
    const gw = compose.services.gateway;
    const dir = gw.environment.AUDIT_JOURNAL_DIR as string;
    expect(dir).toBe("/var/lib/shouhu/audit-journal");
    expect(JSON.stringify(gw.volumes)).toContain(dir);
    expect(Object.keys(compose.volumes ?? {})).toContain("gateway-audit-journal");
  });
  it("keeps secrets out of the repository: every one comes from .env, required, and .env.example names them all", () => {
    const raw = read("docker-compose.yml");
    expect(raw).not.toMatch(/postgresql:\/\/shouhu:shouhu@|PASSWORD: (admin|shouhu)\b/);
    const required = new Set([...raw.matchAll(/\$\{([A-Z_]+):\?/g)].map((m) => m[1]!));
    for (const name of [
      "POSTGRES_PASSWORD",
      "REDIS_PASSWORD",
      "KEYCLOAK_ADMIN_PASSWORD",
      "SHOUHU_SERVICE_SECRET",
      "REGISTRY_DB_PASSWORD",
      "GATEWAY_DB_PASSWORD",
    ])
      expect(required).toContain(name);
    const example = new Set([...read(".env.example").matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]!));
    for (const name of required) expect(example, name).toContain(name);
    expect(read(".gitignore")).toMatch(/^\.env$/m);
  });

  it("imports no human users in the production shape; docker-compose.dev.yml adds the demo users file", () => {
    expect(JSON.stringify(compose.services.keycloak.volumes)).not.toContain("users");
    expect(compose.services["notifications-api"].environment.DEV_USERS_FILE).toBeUndefined();
    expect(read(".dockerignore")).toMatch(/^infra\/keycloak\/dev$/m);
    const dev = parse(read("docker-compose.dev.yml")) as { services: Record<string, { volumes?: string[]; environment?: Record<string, string> }> };
    expect(dev.services.keycloak!.volumes).toEqual(["./infra/keycloak/dev/shouhu-users-0.json:/opt/keycloak/data/import/shouhu-users-0.json:ro"]);
    for (const svc of ["notifications-api", "notifications-worker"]) {
      const file = dev.services[svc]!.environment!.DEV_USERS_FILE!;
      expect(
        dev.services[svc]!.volumes!.some((v) => v.split(":")[1] === file),
        svc,
      ).toBe(true);
    }
    for (const cmd of [["docker-compose"], ["docker", "compose"]]) {
      if (spawnSync(cmd[0]!, [...cmd.slice(1), "version"], { encoding: "utf8" }).status !== 0) continue;
      const merged = parse(
        execFileSync(cmd[0]!, [...cmd.slice(1), "-f", "docker-compose.yml", "-f", "docker-compose.dev.yml", "--env-file", ".env.example", "config"], {
          cwd: root,
          encoding: "utf8",
        }),
      );
      expect(JSON.stringify(merged.services.keycloak.volumes)).toContain("shouhu-users-0.json");
      expect(JSON.stringify(merged.services.keycloak.volumes)).toContain("shouhu-realm.json");
      break;
    }
  });

  it("publishes only the gateway and Keycloak; Redis needs a password", () => {
    const published = Object.entries(compose.services)
      .filter(([, svc]) => svc.ports?.length && !svc.profiles?.includes("observability"))
      .map(([name]) => name)
      .sort();
    expect(published).toEqual(["gateway", "keycloak"]);
    // The observability UIs are on the host's loopback only.
    for (const [name, svc] of Object.entries(compose.services).filter(([, s]) => s.profiles?.includes("observability"))) {
      for (const port of svc.ports ?? []) expect(JSON.stringify(port), name).toMatch(/127\.0\.0\.1/);
    }
    expect(compose.services.redis.command.join(" ")).toContain("--requirepass");
    expect(compose.services["registry-api"].environment.REDIS_URL).toMatch(/^redis:\/\/:[^@]+@redis:6379$/);
  });

  it("connects each service with its own PostgreSQL role, owner of its database only", () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      const url = svc.environment?.DATABASE_URL as string | undefined;
      if (!url) continue;
      const m = /^postgresql:\/\/(shouhu_[a-z]+):[^@]+@postgres:5432\/(shouhu_[a-z]+)$/.exec(url);
      expect(m, name).not.toBeNull();
      expect(m![1], name).toBe(m![2]);
    }
    const init = read("infra/postgres/init-databases.sh");
    expect(init).toMatch(/CREATE ROLE :"role" LOGIN PASSWORD/);
    expect(init).toMatch(/CREATE DATABASE :"db" OWNER :"role"/);
    expect(init).toMatch(/REVOKE ALL ON DATABASE :"db" FROM PUBLIC/);
  });

  it("has an observability profile: Prometheus scraping every API and worker, Grafana provisioned with dashboards, an OpenTelemetry collector in front of Jaeger", () => {
    const profiled = Object.entries(compose.services)
      .filter(([, s]) => s.profiles?.includes("observability"))
      .map(([n]) => n)
      .sort();
    expect(profiled).toEqual(["grafana", "jaeger", "otel-collector", "prometheus"]);
    // Traces: OTLP in on 4318 (what the services' exporter sends), batched, to Jaeger's OTLP port, with credentials scrubbed.
    const collector = parse(read("infra/observability/otel-collector.yaml"));
    expect(collector.receivers.otlp.protocols.http.endpoint).toMatch(/:4318$/);
    expect(collector.exporters["otlp/jaeger"].endpoint).toBe("jaeger:4317");
    expect(collector.service.pipelines.traces).toEqual({
      receivers: ["otlp"],
      processors: ["memory_limiter", "attributes/scrub", "batch"],
      exporters: ["otlp/jaeger"],
    });
    expect(collector.processors["attributes/scrub"].actions.map((a: { key: string }) => a.key)).toContain("http.request.header.authorization");
    expect(read("infra/observability/otel-collector.Dockerfile")).toContain("COPY otel-collector.yaml /etc/otelcol/config.yaml");
    expect(collector.extensions.health_check.endpoint).toMatch(/:13133$/);
    const prometheus = parse(read("infra/observability/prometheus.yml"));
    const targets = prometheus.scrape_configs.flatMap((c: { static_configs: { targets: string[] }[] }) => c.static_configs.flatMap((s) => s.targets));
    const apps = Object.entries(compose.services)
      .filter(([, s]) => !s.profiles && s.environment?.DATABASE_URL)
      .map(([n, s]) => `${n}:${s.environment.PORT}`);
    expect(targets.sort()).toEqual(apps.sort());
    for (const file of readdirSync(`${root}/infra/observability/grafana/dashboards`)) {
      const dashboard = JSON.parse(read(`infra/observability/grafana/dashboards/${file}`));
      const exprs = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map((t) => t.expr)).join(" ");
      // Every metric a dashboard plots is one the services export.
      for (const metric of exprs.match(/[a-z_]+(?=\{|\[)/g) ?? []) {
        if (["sum", "rate", "max", "histogram_quantile", "by"].includes(metric)) continue;
        expect(
          read("packages/messaging/src/metrics.ts") +
            read("packages/kit/src/health.ts") +
            read("services/registry/src/jobs/import-register.ts") +
            "process_resident_memory_bytes",
          `${file}: ${metric}`,
        ).toContain(metric.replace(/_(bucket|sum|count)$/, ""));
      }
    }
  });

  it("restarts every container by itself, checks each one's health, and starts services after their dependencies are healthy", () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      expect(svc.restart, name).toBe("unless-stopped");
      expect(svc.healthcheck?.test, name).toBeDefined();
      for (const [dep, cond] of Object.entries((svc.depends_on ?? {}) as Record<string, { condition: string }>))
        expect(cond.condition, `${name} → ${dep}`).toBe("service_healthy");
    }
  });
  it("the PostgreSQL init script, run for real: each service's role reaches its own database and no other", async () => {
    if (!postgresBinDir()) return;
    const pgc = await startScratchPostgres();
    try {
      const env = { ...process.env, POSTGRES_USER: "root", PGHOST: "127.0.0.1", PGPORT: String(pgc.port) } as Record<string, string>;
      for (const svc of ["GATEWAY", "REGISTRY", "PAIRING", "VISITS", "HEALTH", "NOTIFICATIONS", "REPORTING", "ACTIVITIES"])
        env[`${svc}_DB_PASSWORD`] = `pw-${svc}`;
      env.GATEWAY_APP_DB_PASSWORD = "pw-gateway-app";
      execFileSync("sh", [`${root}/infra/postgres/init-databases.sh`], { env, stdio: "pipe" });
      const as = async (user: string, db: string, sql: string) => {
        const c = new pg.Client({ connectionString: `postgresql://${user}@127.0.0.1:${pgc.port}/${db}` });
        await c.connect();
        try {
          return await c.query(sql);
        } finally {
          await c.end();
        }
      };
      await as("shouhu_registry", "shouhu_registry", "CREATE TABLE t (id int); INSERT INTO t VALUES (1)");
      await expect(as("shouhu_registry", "shouhu_pairing", "SELECT 1")).rejects.toThrow(/permission denied/);
      await expect(as("shouhu_pairing", "shouhu_registry", "SELECT 1")).rejects.toThrow(/permission denied/);
      // The gateway's runtime role reaches the gateway's database only, and owns nothing there.
      await as("shouhu_gateway_app", "shouhu_gateway", "SELECT 1");
      await expect(as("shouhu_gateway_app", "shouhu_registry", "SELECT 1")).rejects.toThrow(/permission denied/);
      await expect(as("shouhu_gateway_app", "shouhu_gateway", "CREATE TABLE x (id int)")).rejects.toThrow(/permission denied/);
      const owners = await as("root", "postgres", "SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname LIKE 'shouhu_%' ORDER BY 1");
      expect(owners.rows.every((r: { datname: string; owner: string }) => r.owner === r.datname)).toBe(true);
      expect(owners.rows).toHaveLength(8);
    } finally {
      pgc.destroy();
    }
  });
});
