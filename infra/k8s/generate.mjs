#!/usr/bin/env node
/**
 * Writes infra/k8s/base/ from one table of services, so fourteen Deployments cannot drift
 * apart: `node infra/k8s/generate.mjs` (a test checks the committed files are its output,
 * and validates every resource against the Kubernetes and KEDA schemas offline).
 *
 * Per service: an API Deployment (ROLE=api) + Service + HPA on CPU + PDB, and a worker
 * Deployment (ROLE=worker) + PDB + KEDA ScaledObject on the length of its BullMQ wait
 * lists. The gateway only has the API half. NetworkPolicies: only the gateway takes
 * traffic from outside the namespace; services take it from the gateway (and Prometheus
 * for /metrics); PostgreSQL and Redis are reached by the services only.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";

const base = fileURLToPath(new URL("./base/", import.meta.url));
const PREFIX = "shouhu"; // QUEUE_PREFIX: BullMQ keys are `${PREFIX}:${queue}:wait`
const IMAGE = "registry.example.gov.cn/shouhu";

/** Each service, its port, and the queues its worker drains (what KEDA scales it on). */
export const services = [
  { name: "gateway", port: 3000, worker: false, queues: [] },
  { name: "registry", port: 3001, worker: true, objectStore: true, queues: ["registry.events", "registry.import", "registry.export"] },
  { name: "pairing", port: 3002, worker: true, queues: ["pairing.events", "pairing.snapshot"] },
  { name: "visits", port: 3003, worker: true, objectStore: true, queues: ["visits.events"] },
  { name: "health", port: 3004, worker: true, queues: ["health.events", "health.snapshot"] },
  { name: "notifications", port: 3005, worker: true, queues: ["notifications.events", "notifications.deliver", "notifications.letters"] },
  { name: "reporting", port: 3006, worker: true, queues: ["reporting.events", "reporting.export"] },
  { name: "activities", port: 3007, worker: true, objectStore: true, queues: ["activities.events"] },
];

const labels = (service, role) => ({ "app.kubernetes.io/name": service, "app.kubernetes.io/part-of": "shouhu", "app.kubernetes.io/component": role });
const probe = (path, port, period) => ({ httpGet: { path, port }, periodSeconds: period, timeoutSeconds: 3, failureThreshold: 3 });

function deployment(svc, role) {
  const env = [
    { name: "ROLE", value: role },
    { name: "PORT", value: String(svc.port) },
    { name: "HOST", value: "0.0.0.0" },
    { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "shouhu-database-urls", key: svc.name } } },
    { name: "REDIS_URL", valueFrom: { secretKeyRef: { name: "shouhu-redis", key: "url" } } },
  ];
  // The gateway journals audited responses before they leave (AUDIT_JOURNAL_DIR): on an emptyDir,
  // which outlives a crashed container (the restart replays it) but not the pod; a pod that is
  // deleted writes its journal out during its graceful shutdown.
  // Attachments (packages/attachments): the bucket's address in shouhu-common, the service's key in a Secret.
  if (svc.objectStore) {
    env.push(
      { name: "S3_ACCESS_KEY", valueFrom: { secretKeyRef: { name: "shouhu-object-store", key: "access-key" } } },
      { name: "S3_SECRET_KEY", valueFrom: { secretKeyRef: { name: "shouhu-object-store", key: "secret-key" } } },
    );
  }
  // One-time task links in SMS (issue 22.2): notifications mints, visits verifies, with one secret.
  if (svc.name === "visits" || svc.name === "notifications")
    env.push({ name: "TASK_LINK_SECRET", valueFrom: { secretKeyRef: { name: "shouhu-task-links", key: "secret" } } });
  const mounts = [{ name: "tmp", mountPath: "/tmp" }];
  const volumes = [{ name: "tmp", emptyDir: {} }];
  if (svc.name === "gateway") {
    for (const s of services.filter((x) => x.name !== "gateway")) env.push({ name: `${s.name.toUpperCase()}_URL`, value: `http://${s.name}-api:${s.port}` });
    env.push({ name: "AUDIT_JOURNAL_DIR", value: "/var/lib/shouhu/audit-journal" });
    mounts.push({ name: "audit-journal", mountPath: "/var/lib/shouhu/audit-journal" });
    volumes.push({ name: "audit-journal", emptyDir: {} });
  }
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: `${svc.name}-${role}`, labels: labels(svc.name, role) },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels(svc.name, role) },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: labels(svc.name, role),
          annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(svc.port), "prometheus.io/path": "/metrics" },
        },
        spec: {
          // SHUTDOWN_GRACE_MS (25 s) + drain fits inside the 30 s Kubernetes gives.
          terminationGracePeriodSeconds: 30,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: svc.name,
              image: `${IMAGE}/${svc.name}:latest`,
              ports: [{ name: "http", containerPort: svc.port }],
              envFrom: [{ configMapRef: { name: "shouhu-common" } }],
              env,
              readinessProbe: probe("/readyz", "http", 5),
              livenessProbe: probe("/healthz", "http", 10),
              startupProbe: { ...probe("/healthz", "http", 2), failureThreshold: 60 },
              resources:
                role === "api"
                  ? { requests: { cpu: "200m", memory: "256Mi" }, limits: { memory: "512Mi" } }
                  : { requests: { cpu: "300m", memory: "384Mi" }, limits: { memory: "1Gi" } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  };
}

const service = (svc) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: `${svc.name}-api`, labels: labels(svc.name, "api") },
  spec: { selector: labels(svc.name, "api"), ports: [{ name: "http", port: svc.port, targetPort: "http" }] },
});

const pdb = (svc, role) => ({
  apiVersion: "policy/v1",
  kind: "PodDisruptionBudget",
  metadata: { name: `${svc.name}-${role}` },
  spec: { minAvailable: 1, selector: { matchLabels: labels(svc.name, role) } },
});

const hpa = (svc) => ({
  apiVersion: "autoscaling/v2",
  kind: "HorizontalPodAutoscaler",
  metadata: { name: `${svc.name}-api` },
  spec: {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: `${svc.name}-api` },
    minReplicas: 2,
    maxReplicas: 6,
    metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
  },
});

// KEDA: a worker scales on the jobs waiting in its queues (Redis list `${prefix}:${queue}:wait`).
const scaledObject = (svc) => ({
  apiVersion: "keda.sh/v1alpha1",
  kind: "ScaledObject",
  metadata: { name: `${svc.name}-worker` },
  spec: {
    scaleTargetRef: { name: `${svc.name}-worker` },
    minReplicaCount: 1,
    maxReplicaCount: 8,
    pollingInterval: 15,
    cooldownPeriod: 300,
    triggers: svc.queues.map((queue) => ({
      type: "redis",
      metadata: { addressFromEnv: "REDIS_ADDRESS", listName: `${PREFIX}:${queue}:wait`, listLength: "1000", activationListLength: "1" },
      authenticationRef: { name: "shouhu-redis" },
    })),
  },
});

const triggerAuth = {
  apiVersion: "keda.sh/v1alpha1",
  kind: "TriggerAuthentication",
  metadata: { name: "shouhu-redis" },
  spec: { secretTargetRef: [{ parameter: "password", name: "shouhu-redis", key: "password" }] },
};

const policies = [
  {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "default-deny-ingress" },
    spec: { podSelector: {}, policyTypes: ["Ingress"] },
  },
  {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "gateway-from-anywhere" },
    spec: { podSelector: { matchLabels: labels("gateway", "api") }, policyTypes: ["Ingress"], ingress: [{ ports: [{ port: 3000 }] }] },
  },
  ...services
    .filter((s) => s.name !== "gateway")
    .map((s) => ({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: `${s.name}-from-gateway-and-monitoring` },
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/name": s.name } },
        policyTypes: ["Ingress"],
        ingress: [
          { from: [{ podSelector: { matchLabels: labels("gateway", "api") } }], ports: [{ port: s.port }] },
          { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }], ports: [{ port: s.port }] },
        ],
      },
    })),
  {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "data-stores-from-services" },
    spec: {
      podSelector: { matchExpressions: [{ key: "app.kubernetes.io/name", operator: "In", values: ["postgresql", "redis", "minio"] }] },
      policyTypes: ["Ingress"],
      ingress: [
        { from: [{ podSelector: { matchLabels: { "app.kubernetes.io/part-of": "shouhu" } } }], ports: [{ port: 5432 }, { port: 6379 }, { port: 9000 }] },
      ],
    },
  },
];

const common = {
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "shouhu-common" },
  data: {
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    QUEUE_PREFIX: PREFIX,
    OIDC_ISSUER_URL: "https://sso.example.gov.cn/realms/shouhu",
    OIDC_AUDIENCE: "shouhu-api",
    REDIS_ADDRESS: "redis:6379",
    S3_ENDPOINT: "http://minio:9000",
    S3_BUCKET: "shouhu-attachments",
    S3_FORCE_PATH_STYLE: "true",
    PUBLIC_LINK_BASE_URL: "https://shouhu.example.gov.cn",
  },
};

export function resources() {
  const files = { "common.yaml": [common, triggerAuth], "network-policies.yaml": policies };
  for (const svc of services) {
    const docs = [deployment(svc, "api"), service(svc), hpa(svc), pdb(svc, "api")];
    if (svc.worker) docs.push(deployment(svc, "worker"), pdb(svc, "worker"), scaledObject(svc));
    files[`${svc.name}.yaml`] = docs;
  }
  return files;
}

export function render() {
  const files = resources();
  const out = {};
  const header = "# Generated by infra/k8s/generate.mjs — edit the table there, then run it.\n";
  for (const [name, docs] of Object.entries(files)) out[name] = header + docs.map((d) => stringify(d, { lineWidth: 0 })).join("---\n");
  out["kustomization.yaml"] =
    header +
    stringify({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      labels: [{ pairs: { "app.kubernetes.io/part-of": "shouhu" } }],
      resources: Object.keys(files).sort(),
    });
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  for (const [name, text] of Object.entries(render())) writeFileSync(base + name, text);
  console.log(`wrote ${Object.keys(render()).length} files to infra/k8s/base/`);
}
