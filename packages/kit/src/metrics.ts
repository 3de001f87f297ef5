import { Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * Metrics of the process's background work (queues, outbox, consumers, jobs), kept in
 * one registry per process and served by every `/metrics` beside the HTTP metrics of
 * the app that serves it — so an api-only, worker-only or all-in-one process shows
 * what it runs. Metrics are made once (by name), whoever asks first.
 */
export const processMetrics = new Registry();

const made = new Map<string, Gauge | Histogram | Counter>();

export function processGauge(name: string, help: string, labelNames: string[], collect?: (gauge: Gauge) => Promise<void> | void): Gauge {
  const existing = made.get(name);
  if (existing) return existing as Gauge;
  const gauge = new Gauge({
    name,
    help,
    labelNames,
    registers: [processMetrics],
    ...(collect
      ? {
          collect: async function (this: Gauge) {
            await collect(this);
          },
        }
      : {}),
  });
  made.set(name, gauge);
  return gauge;
}

export function processHistogram(name: string, help: string, labelNames: string[], buckets: number[]): Histogram {
  const existing = made.get(name);
  if (existing) return existing as Histogram;
  const histogram = new Histogram({ name, help, labelNames, buckets, registers: [processMetrics] });
  made.set(name, histogram);
  return histogram;
}

export function processCounter(name: string, help: string, labelNames: string[]): Counter {
  const existing = made.get(name);
  if (existing) return existing as Counter;
  const counter = new Counter({ name, help, labelNames, registers: [processMetrics] });
  made.set(name, counter);
  return counter;
}
