/**
 * School semesters as staff name them: `2026-2027-1` is 2026—2027学年第一学期 (autumn: 1 September to
 * 31 January), `2026-2027-2` the second (spring: 1 February to 31 August, the summer included, so every
 * day of the year belongs to one semester and a summer's visits are in some summary).
 */
export interface Semester {
  code: string;
  label: string;
  from: string;
  to: string;
}

const pattern = /^(\d{4})-(\d{4})-([12])$/;

/** The semester a code names, or null when it is not one (years not consecutive, term not 1 or 2). */
export function parseSemester(code: string): Semester | null {
  const m = pattern.exec(code);
  if (!m) return null;
  const [first, second, term] = [Number(m[1]), Number(m[2]), m[3]];
  if (second !== first + 1) return null;
  const label = `${first}—${second}学年第${term === "1" ? "一" : "二"}学期`;
  return term === "1" ? { code, label, from: `${first}-09-01`, to: `${second}-01-31` } : { code, label, from: `${second}-02-01`, to: `${second}-08-31` };
}

/** The semester a day (YYYY-MM-DD, China time) falls in. */
export function semesterOf(day: string): Semester {
  const year = Number(day.slice(0, 4));
  const month = Number(day.slice(5, 7));
  const code = month >= 9 ? `${year}-${year + 1}-1` : month === 1 ? `${year - 1}-${year}-1` : `${year - 1}-${year}-2`;
  return parseSemester(code)!;
}
