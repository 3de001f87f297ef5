/** Quiet hours in China time, e.g. 21:00–08:00: SMS waits for the morning unless urgent. */
export interface QuietHours {
  /** Minutes after midnight, China time. */
  start: number;
  end: number;
}

const CHINA_OFFSET_MS = 8 * 3600_000;

export function parseQuietHours(spec: string): QuietHours {
  const match = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/.exec(spec.trim());
  if (!match) throw new Error(`quiet hours must look like 21:00-08:00, got ${spec}`);
  const [h1, m1, h2, m2] = match.slice(1).map(Number) as [number, number, number, number];
  if (h1 > 23 || h2 > 23 || m1 > 59 || m2 > 59) throw new Error(`quiet hours out of range: ${spec}`);
  return { start: h1 * 60 + m1, end: h2 * 60 + m2 };
}

/** When a message created at `now` may go out: now, or the end of the quiet period it falls in. */
export function earliestSend(now: Date, quiet: QuietHours, applies: boolean): Date {
  if (!applies || quiet.start === quiet.end) return now;
  const china = new Date(now.getTime() + CHINA_OFFSET_MS);
  const minute = china.getUTCHours() * 60 + china.getUTCMinutes();
  const wraps = quiet.start > quiet.end; // 21:00–08:00 spans midnight
  const inside = wraps ? minute >= quiet.start || minute < quiet.end : minute >= quiet.start && minute < quiet.end;
  if (!inside) return now;
  // The end of the quiet period, today or tomorrow (China date).
  const endToday = Date.UTC(china.getUTCFullYear(), china.getUTCMonth(), china.getUTCDate()) + quiet.end * 60_000 - CHINA_OFFSET_MS;
  return new Date(wraps && minute >= quiet.start ? endToday + 86_400_000 : endToday);
}
