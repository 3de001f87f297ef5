/**
 * Minors' personal data never reaches a log line, at any depth: fields that hold it
 * are replaced by name, and ID numbers and mobile numbers are masked wherever they
 * appear in text (an error message quoting a row, a stack, a free-text note).
 * pino's own `redact` covers fixed paths only; this walks the whole object.
 */

const REDACTED = "[redacted]";

// Field names whose values are personal data or secrets, whatever their nesting.
const SENSITIVE_KEY =
  /^(id_?number|idNumbers?|phones?|mobile|tel|.*(Phone|_phone|Mobile)|password|passwd|secret|.*(Secret|_secret)|access_token|refresh_token|id_token|token|authorization|cookie|set-cookie|name|names|.*(Name|_name)|address|description|notes?|narrative|findings|remarks?|content|comment|reasons?)$/;
// Keys that end like a sensitive one but name no person (queue, route, service, logger names).
const SAFE_KEY =
  /^(queue(Name)?|jobName|route(Name)?|service(Name)?|closer|type(Name)?|event(Name)?|span(Name)?|table(Name)?|file(Name)?|sheet(Name)?|hostname|host(Name)?|pathname|realm(Name)?|client(Name)?)$/;

// 18-digit resident ID (GB 11643): keep the 6-digit region, as the need-to-know rule allows.
const ID_NUMBER = /(?<![0-9A-Za-z])(\d{6})\d{11}[\dXx](?![0-9A-Za-z])/g;
// Mainland mobile numbers, with or without +86 / 86 and dashes or spaces between groups.
const MOBILE = /(?<!\d)((?:\+?86[- ]?)?1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?!\d)/g;

export function scrubText(text: string): string {
  if (text.length < 11) return text;
  return text.replace(ID_NUMBER, "$1************").replace(MOBILE, "$1****$2");
}

export function scrubValue(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === "string") return scrubText(value);
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value) || depth > 10) return "[…]";
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1, seen));
  if (value instanceof Error) {
    const e = value as Error & Record<string, unknown>;
    const out: Record<string, unknown> = { type: e.name, message: scrubText(e.message), stack: e.stack ? scrubText(e.stack) : undefined };
    for (const key of Object.keys(e)) out[key] = scrubEntry(key, e[key], depth, seen);
    if (e.cause !== undefined) out.cause = scrubValue(e.cause, depth + 1, seen);
    return out;
  }
  if (value instanceof Date || Buffer.isBuffer(value) || value instanceof Map || value instanceof Set) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = scrubEntry(key, (value as Record<string, unknown>)[key], depth, seen);
  return out;
}

// A logger's own bindings that name the process, not a person.
const LOGGER_KEYS = new Set(["name", "service", "pid", "hostname", "reqId"]);

/**
 * A child logger's bindings (`logger.child({ child })`) are serialised once and then
 * written on every line, past the `log` formatter: scrub them the same way, keeping
 * the logger's own name and service.
 */
export function scrubBindings(bindings: Record<string, unknown>): Record<string, unknown> {
  const seen = new WeakSet<object>();
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(bindings)) out[key] = LOGGER_KEYS.has(key) ? scrubValue(bindings[key], 1, seen) : scrubEntry(key, bindings[key], 0, seen);
  return out;
}

function scrubEntry(key: string, v: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (v !== undefined && v !== null && v !== "" && SENSITIVE_KEY.test(key) && !SAFE_KEY.test(key)) return REDACTED;
  return scrubValue(v, depth + 1, seen);
}
