import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { Deployment } from "kubernetes-models/apps/v1";
import { Service, ConfigMap } from "kubernetes-models/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { kedaSh } from "@kubernetes-models/keda";
// @ts-expect-error a plain .mjs script without types
import { render, services } from "../k8s/generate.mjs";

/**
 * The Kubernetes manifests, checked offline (no cluster, no kustomize binary here): the
 * committed base is the generator's output, every resource validates against the
 * Kubernetes and KEDA schemas, and each overlay's patches apply to resources that exist
 * and still validate afterwards.
 */
const dir = fileURLToPath(new URL("../k8s/", import.meta.url));
type Doc = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any };
const models: Record<string, new (doc: any) => { validate(): void }> = {
  "apps/v1/Deployment": Deployment,
  "v1/Service": Service,
  "v1/ConfigMap": ConfigMap,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "keda.sh/v1alpha1/ScaledObject": kedaSh.v1alpha1.ScaledObject,
  "keda.sh/v1alpha1/TriggerAuthentication": kedaSh.v1alpha1.TriggerAuthentication,
};
const validate = (doc: Doc) => {
  const Model = models[`${doc.apiVersion}/${doc.kind}`];
  expect(Model, `${doc.apiVersion} ${doc.kind}`).toBeDefined();
  expect(() => new Model!(doc).validate(), `${doc.kind} ${doc.metadata.name}`).not.toThrow();
};
const baseDocs = (): Doc[] => {
  const kustomization = parse(readFileSync(`${dir}base/kustomization.yaml`, "utf8"));
  return kustomization.resources.flatMap((f: string) => parseAllDocuments(readFileSync(`${dir}base/${f}`, "utf8")).map((d) => d.toJS() as Doc));
};

/** JSON-patch `replace` as kustomize applies it, on a copy; throws when the path does not exist. */
function replace(doc: Doc, path: string, value: unknown): Doc {
  const copy = structuredClone(doc) as any;
  const keys = path.split("/").slice(1);
  let at = copy;
  for (const key of keys.slice(0, -1)) {
    at = at[key];
    if (at === undefined) throw new Error(`${doc.kind} ${doc.metadata.name}: no ${path}`);
  }
  if (!(keys.at(-1)! in at)) throw new Error(`${doc.kind} ${doc.metadata.name}: no ${path}`);
  at[keys.at(-1)!] = value;
  return copy;
}

describe("infra/k8s", () => {
  it("the committed base is what generate.mjs writes", () => {
    const rendered = render() as Record<string, string>;
    expect(readdirSync(`${dir}base`).sort()).toEqual(Object.keys(rendered).sort());
    for (const [name, text] of Object.entries(rendered)) expect(readFileSync(`${dir}base/${name}`, "utf8"), name).toBe(text);
  });

  it("validates every base resource against the Kubernetes and KEDA schemas", () => {
    const docs = baseDocs();
    expect(docs.length).toBeGreaterThan(40);
    for (const doc of docs) validate(doc);
  });

  it("runs each service as api and worker with probes, a PDB, an HPA for the API and a KEDA ScaledObject on the worker's queues", () => {
    const docs = baseDocs();
    const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);
    for (const svc of services as { name: string; worker: boolean; queues: string[] }[]) {
      const roles = svc.worker ? ["api", "worker"] : ["api"];
      for (const role of roles) {
        const deployment = find("Deployment", `${svc.name}-${role}`);
        const container = deployment?.spec.template.spec.containers[0];
        expect(container.env.find((e: { name: string }) => e.name === "ROLE").value, svc.name).toBe(role);
        expect(container.readinessProbe.httpGet.path).toBe("/readyz");
        expect(container.livenessProbe.httpGet.path).toBe("/healthz");
        expect(find("PodDisruptionBudget", `${svc.name}-${role}`)).toBeDefined();
      }
      expect(find("HorizontalPodAutoscaler", `${svc.name}-api`)).toBeDefined();
      if (svc.worker) {
        const lists = find("ScaledObject", `${svc.name}-worker`)!.spec.triggers.map((t: { metadata: { listName: string } }) => t.metadata.listName);
        expect(lists).toContain(`shouhu:${svc.name}.events:wait`);
      }
    }
  });

  it("lets only the gateway take traffic from anywhere; data stores from the services only", () => {
    const policies = baseDocs().filter((d) => d.kind === "NetworkPolicy");
    expect(policies.find((p) => p.metadata.name === "default-deny-ingress")!.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
    const open = policies.filter((p) => p.spec.ingress?.some((rule: { from?: unknown }) => !rule.from));
    expect(open.map((p) => p.metadata.name)).toEqual(["gateway-from-anywhere"]);
  });

  it.each(["county", "province"])("the %s overlay patches resources that exist, and they still validate", (overlay) => {
    const kustomization = parse(readFileSync(`${dir}overlays/${overlay}/kustomization.yaml`, "utf8"));
    expect(kustomization.resources).toEqual(["../../base"]);
    let docs = baseDocs();
    for (const { target, patch } of kustomization.patches as { target: { kind: string; labelSelector?: string }; patch: string }[]) {
      const [key, value] = target.labelSelector?.split("=") ?? [];
      const hit = (d: Doc) => d.kind === target.kind && (!key || d.metadata.labels?.[key] === value);
      expect(docs.filter(hit).length, JSON.stringify(target)).toBeGreaterThan(0);
      for (const op of parse(patch) as { op: string; path: string; value: unknown }[]) {
        expect(op.op).toBe("replace");
        docs = docs.map((d) => (hit(d) ? replace(d, op.path, op.value) : d));
      }
    }
    for (const doc of docs) validate(doc);
  });
});
