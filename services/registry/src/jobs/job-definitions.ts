import { UnrecoverableError, type Job, type JobsOptions, type Queue } from "bullmq";
import type { z } from "zod";

/**
 * A kind of job on one of the service's queues: its id (the BullMQ job name), the zod schema
 * of its data, and the handler that runs it. Data is checked when the job is added and again
 * when it runs (a job queued by an older version, or by hand); a job no handler knows, or
 * with data its schema refuses, fails at once instead of being retried.
 */
export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  id: string;
  schema: S;
  handler?: (data: z.infer<S>, job: Job) => Promise<unknown>;
}

export const defineJob = <S extends z.ZodType>(definition: JobDefinition<S>): JobDefinition<S> => definition;

/** A definition with its handler, as a worker takes it (the handler gets data its schema parsed). */
export interface HandledJob {
  id: string;
  schema: z.ZodType;
  handler?: (data: unknown, job: Job) => Promise<unknown>;
}

/** The definition with the handler this worker runs it with. */
export function handle<S extends z.ZodType>(definition: JobDefinition<S>, handler: (data: z.infer<S>, job: Job) => Promise<unknown>): HandledJob {
  return { id: definition.id, schema: definition.schema, handler: handler as HandledJob["handler"] };
}

/** Adds a job after checking its data against its definition's schema. */
export function addJob<S extends z.ZodType>(queue: Queue, definition: JobDefinition<S>, data: z.input<S>, opts?: JobsOptions) {
  return queue.add(definition.id, definition.schema.parse(data), opts);
}

/**
 * The processor of a queue's worker: one handler per job id. Refuses to start (throws) when a
 * definition has no handler or an id is defined twice, so a worker never takes jobs it cannot run.
 */
export function jobProcessor(queue: string, definitions: readonly HandledJob[]): (job: Job) => Promise<unknown> {
  const byId = new Map<string, HandledJob>();
  for (const d of definitions) {
    if (!d.handler) throw new Error(`${queue}: job "${d.id}" has no handler; the worker does not start without one`);
    if (byId.has(d.id)) throw new Error(`${queue}: job "${d.id}" is defined twice`);
    byId.set(d.id, d);
  }
  return async (job) => {
    const d = byId.get(job.name);
    if (!d) throw new UnrecoverableError(`${queue}: no handler for job "${job.name}"`);
    const parsed = d.schema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`${queue}: job "${job.name}" has invalid data: ${parsed.error.message}`);
    return d.handler!(parsed.data, job);
  };
}
