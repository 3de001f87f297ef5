/**
 * Peak memory of reading an uploaded register, with the limits that run before any
 * parsing (@shouhu/spreadsheet inspectXlsx): a 100,000-row register, a whole-sheet
 * merge (A1:XFD1048576) and a zip bomb (50 MB of XML in ~50 kB). Each case runs in a
 * fresh process and reports its peak RSS (maxRSS); the baseline is the same process
 * loading the same modules and doing nothing. The merge bomb is also parsed WITHOUT
 * the check, with the heap capped at 1 GB, to show what the check prevents.
 *
 *   npx tsx --conditions=source bench/spreadsheet-limits.ts [--rows 100000]
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const mode = process.argv[2];

if (mode === "--child") {
  const [, , , kind, file] = process.argv;
  const { inspectXlsx } = await import("../packages/spreadsheet/src/index.js");
  const { parseRegisterWorkbook } = await import("../services/registry/src/spreadsheet/register-import.js");
  const content = kind === "baseline" ? Buffer.alloc(0) : readFileSync(file!);
  const t0 = performance.now();
  let outcome = "ok";
  let rows = 0;
  const parse = () =>
    parseRegisterWorkbook(content, {
      resolveVillage: () => ({ villageCode: "360999101201" }),
      resolveSchool: () => ({ schoolId: "S360999101001" }),
      today: "2026-11-22",
      batchSize: 1000,
      onBatch: async (batch) => void (rows += batch.length),
    });
  try {
    if (kind === "checked") {
      inspectXlsx(content);
      await parse();
    } else if (kind === "unchecked") await parse();
  } catch (err) {
    outcome = `refused: ${(err as Error).message.slice(0, 60)}`;
  }
  console.log(JSON.stringify({ outcome, rows, ms: Math.round(performance.now() - t0), maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));
  process.exit(0);
}

const rowsArg = process.argv.indexOf("--rows");
const rowCount = rowsArg > 0 ? Number(process.argv[rowsArg + 1]) : 100_000;
const tmp = os.tmpdir();
const register = `${tmp}/shouhu-bench-register-${rowCount}.xlsx`;
console.log(`generating a ${rowCount}-row register → ${register}`);
execFileSync(
  "npx",
  ["tsx", "--conditions=source", "services/registry/samples/generate-register.ts", "--rows", String(rowCount), "--out", register, "--clean"],
  { cwd: root, stdio: "inherit" },
);

const { handMadeXlsx, sheetRows, sheetXml } = await import("../packages/testing/src/xlsx.js");
const mergeBomb = `${tmp}/shouhu-bench-merge-bomb.xlsx`;
writeFileSync(mergeBomb, handMadeXlsx(sheetXml(sheetRows(3), `<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>`)));
const zipBomb = `${tmp}/shouhu-bench-zip-bomb.xlsx`;
writeFileSync(zipBomb, handMadeXlsx(Buffer.concat([Buffer.from(sheetXml("")), Buffer.alloc(50 * 1024 * 1024, 0x20)]), { "xl/worksheets/sheet1.xml": 4096 }));

function run(kind: string, file = "", heapMb?: number) {
  const args = [
    ...(heapMb ? [`--max-old-space-size=${heapMb}`] : []),
    "--import",
    "tsx",
    "--conditions=source",
    fileURLToPath(import.meta.url),
    "--child",
    kind,
    file,
  ];
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", timeout: 300_000 });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as { outcome: string; rows: number; ms: number; maxRssMb: number };
  } catch {
    return {
      outcome: `process died (${r.signal ?? `exit ${r.status}`}): ${r.stderr.split("\n").find((l) => /heap|memory/i.test(l)) ?? ""}`.slice(0, 90),
      rows: 0,
      ms: 0,
      maxRssMb: NaN,
    };
  }
}

const baseline = run("baseline");
const cases: [string, ReturnType<typeof run>, number][] = [
  ["baseline (modules loaded, nothing read)", baseline, 0],
  [`${rowCount}-row register, checked then parsed`, run("checked", register), readFileSync(register).length],
  ["whole-sheet merge, checked", run("checked", mergeBomb), readFileSync(mergeBomb).length],
  ["zip bomb (50 MB claimed 4 kB), checked", run("checked", zipBomb), readFileSync(zipBomb).length],
  ["whole-sheet merge, NOT checked (heap 1 GB)", run("unchecked", mergeBomb, 1024), readFileSync(mergeBomb).length],
];
console.log("\ncase | file | outcome | rows | ms | peak RSS MB | × baseline");
for (const [name, r, size] of cases) {
  console.log(`${name} | ${(size / 1024).toFixed(0)} kB | ${r.outcome} | ${r.rows} | ${r.ms} | ${r.maxRssMb} | ${(r.maxRssMb / baseline.maxRssMb).toFixed(2)}`);
}
