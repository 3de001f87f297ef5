/**
 * WS/T 456-2014《学龄儿童青少年营养不良筛查》(Screening standard for malnutrition of
 * school-age children and adolescents), 中华人民共和国国家卫生和计划生育委员会,
 * issued 2014-06-20, in force 2014-12-15. Ages 6.0–17.5 in half-year bands (a row
 * applies up to the next; 17.5 to 18.0).
 *
 * - Table A.1, stunting (生长迟缓): height (cm) ≤ the value.
 * - Table B.1, wasting (消瘦): BMI (kg/m²) ≤ the moderate-to-severe value → 中重度消瘦;
 *   BMI above it and ≤ the mild value → 轻度消瘦.
 *
 * Wasting: two independent public transcriptions (a SQL reference table and a
 * TypeScript table) agree on every row. Stunting: one public transcription only (a
 * data-build script that checked it against WS/T 423's 2-year rows); no second
 * source was found here — verify against the official text before relying on it,
 * and see the note on issue 5.
 */
export interface StuntingRow {
  age: number;
  /** Height at or below this is stunting. */
  height: number;
}

export interface WastingRow {
  age: number;
  /** BMI at or below: moderate to severe wasting. */
  moderateSevere: number;
  /** BMI at or below (and above moderateSevere): mild wasting. */
  mild: number;
}

const stunting = (values: [number, number][]): StuntingRow[] => values.map(([age, height]) => ({ age, height }));
const wasting = (values: [number, number, number][]): WastingRow[] => values.map(([age, moderateSevere, mild]) => ({ age, moderateSevere, mild }));

export const wst456 = {
  stunting: {
    male: stunting([
      [6.0, 106.3],
      [6.5, 109.5],
      [7.0, 111.3],
      [7.5, 112.8],
      [8.0, 115.4],
      [8.5, 117.6],
      [9.0, 120.6],
      [9.5, 123.0],
      [10.0, 125.2],
      [10.5, 127.0],
      [11.0, 129.1],
      [11.5, 130.8],
      [12.0, 133.1],
      [12.5, 134.9],
      [13.0, 136.9],
      [13.5, 138.6],
      [14.0, 141.9],
      [14.5, 144.7],
      [15.0, 149.6],
      [15.5, 153.6],
      [16.0, 155.1],
      [16.5, 156.4],
      [17.0, 156.8],
      [17.5, 157.1],
    ]),
    female: stunting([
      [6.0, 105.7],
      [6.5, 108.0],
      [7.0, 110.2],
      [7.5, 111.8],
      [8.0, 114.5],
      [8.5, 116.8],
      [9.0, 119.5],
      [9.5, 121.7],
      [10.0, 123.9],
      [10.5, 125.7],
      [11.0, 128.6],
      [11.5, 131.0],
      [12.0, 133.6],
      [12.5, 135.7],
      [13.0, 138.8],
      [13.5, 141.4],
      [14.0, 142.9],
      [14.5, 144.1],
      [15.0, 145.4],
      [15.5, 146.5],
      [16.0, 146.8],
      [16.5, 147.0],
      [17.0, 147.3],
      [17.5, 147.5],
    ]),
  },
  wasting: {
    male: wasting([
      [6.0, 13.2, 13.4],
      [6.5, 13.4, 13.8],
      [7.0, 13.5, 13.9],
      [7.5, 13.5, 13.9],
      [8.0, 13.6, 14.0],
      [8.5, 13.6, 14.0],
      [9.0, 13.7, 14.1],
      [9.5, 13.8, 14.2],
      [10.0, 13.9, 14.4],
      [10.5, 14.0, 14.6],
      [11.0, 14.2, 14.9],
      [11.5, 14.3, 15.1],
      [12.0, 14.4, 15.4],
      [12.5, 14.5, 15.6],
      [13.0, 14.8, 15.9],
      [13.5, 15.0, 16.1],
      [14.0, 15.3, 16.4],
      [14.5, 15.5, 16.7],
      [15.0, 15.8, 16.9],
      [15.5, 16.0, 17.0],
      [16.0, 16.2, 17.3],
      [16.5, 16.4, 17.5],
      [17.0, 16.6, 17.7],
      [17.5, 16.8, 17.9],
    ]),
    female: wasting([
      [6.0, 12.8, 13.1],
      [6.5, 12.9, 13.3],
      [7.0, 13.0, 13.4],
      [7.5, 13.0, 13.5],
      [8.0, 13.1, 13.6],
      [8.5, 13.1, 13.7],
      [9.0, 13.2, 13.8],
      [9.5, 13.2, 13.9],
      [10.0, 13.3, 14.0],
      [10.5, 13.4, 14.1],
      [11.0, 13.7, 14.3],
      [11.5, 13.9, 14.5],
      [12.0, 14.1, 14.7],
      [12.5, 14.3, 14.9],
      [13.0, 14.6, 15.3],
      [13.5, 14.9, 15.6],
      [14.0, 15.3, 16.0],
      [14.5, 15.7, 16.3],
      [15.0, 16.0, 16.6],
      [15.5, 16.2, 16.8],
      [16.0, 16.4, 17.0],
      [16.5, 16.5, 17.1],
      [17.0, 16.6, 17.2],
      [17.5, 16.7, 17.3],
    ]),
  },
} as const;
