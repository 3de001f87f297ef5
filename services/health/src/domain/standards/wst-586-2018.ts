/**
 * WS/T 586-2018《学龄儿童青少年超重与肥胖筛查》(Screening for overweight and obesity
 * among school-age children and adolescents), 中华人民共和国国家卫生健康委员会,
 * issued 2018-02-23, in force 2018-08-01. Table 1: BMI cut-offs (kg/m²) by sex and
 * age, 6.0–18.0 years in half-year bands; a row applies from its age up to the next
 * (7.0 covers 7 years 0 months to 7 years 5 months). Overweight: BMI ≥ the
 * overweight value; obesity: BMI ≥ the obesity value.
 *
 * Transcribed from two independent public transcriptions that agree on every row
 * (a TypeScript table and a Python table in public repositories), with the
 * standard's anchor rows 6.0 (16.4/17.7 boys, 16.2/17.5 girls) and 18.0 (24.0/28.0).
 */
export interface Bmi586Row {
  age: number;
  overweight: number;
  obese: number;
}

const rows = (values: [number, number, number][]): Bmi586Row[] => values.map(([age, overweight, obese]) => ({ age, overweight, obese }));

export const wst586 = {
  male: rows([
    [6.0, 16.4, 17.7],
    [6.5, 16.7, 18.1],
    [7.0, 17.0, 18.7],
    [7.5, 17.4, 19.2],
    [8.0, 17.8, 19.7],
    [8.5, 18.1, 20.3],
    [9.0, 18.5, 20.8],
    [9.5, 18.9, 21.4],
    [10.0, 19.2, 21.9],
    [10.5, 19.6, 22.5],
    [11.0, 19.9, 23.0],
    [11.5, 20.3, 23.6],
    [12.0, 20.7, 24.1],
    [12.5, 21.0, 24.7],
    [13.0, 21.4, 25.2],
    [13.5, 21.9, 25.7],
    [14.0, 22.3, 26.1],
    [14.5, 22.6, 26.4],
    [15.0, 22.9, 26.6],
    [15.5, 23.1, 26.9],
    [16.0, 23.3, 27.1],
    [16.5, 23.5, 27.4],
    [17.0, 23.7, 27.6],
    [17.5, 23.8, 27.8],
    [18.0, 24.0, 28.0],
  ]),
  female: rows([
    [6.0, 16.2, 17.5],
    [6.5, 16.5, 18.0],
    [7.0, 16.8, 18.5],
    [7.5, 17.2, 19.0],
    [8.0, 17.6, 19.4],
    [8.5, 18.1, 19.9],
    [9.0, 18.5, 20.4],
    [9.5, 19.0, 21.0],
    [10.0, 19.5, 21.5],
    [10.5, 20.0, 22.1],
    [11.0, 20.5, 22.7],
    [11.5, 21.1, 23.3],
    [12.0, 21.5, 23.9],
    [12.5, 21.9, 24.5],
    [13.0, 22.2, 25.0],
    [13.5, 22.6, 25.6],
    [14.0, 22.8, 25.9],
    [14.5, 23.0, 26.3],
    [15.0, 23.2, 26.6],
    [15.5, 23.4, 26.9],
    [16.0, 23.6, 27.1],
    [16.5, 23.7, 27.4],
    [17.0, 23.8, 27.6],
    [17.5, 23.9, 27.8],
    [18.0, 24.0, 28.0],
  ]),
} as const;
