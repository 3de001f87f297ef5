import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { redactPaths, scrubText, scrubbingOptions } from "../src/index.js";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  const logger = pino({ level: "info", ...scrubbingOptions, redact: { paths: redactPaths, censor: "[redacted]" } }, stream);
  return { logger, lines };
}

const ID = "360999201503070021";
const PHONE = "13907310001";

describe("log redaction at every depth", () => {
  it("masks ID numbers to their region and mobiles to 139****0001 in any text", () => {
    expect(scrubText(`身份证号 ${ID} 已存在`)).toBe("身份证号 360999************ 已存在");
    expect(scrubText(`电话 ${PHONE}，+86 139-0731-0001，86 13907310001`)).toBe("电话 139****0001，+86 139****0001，86 139****0001");
    expect(scrubText("order 20260101123456789012345")).toBe("order 20260101123456789012345"); // longer digit runs are not IDs
  });

  it("replaces personal fields however deep, in arrays and errors, and the message text too", () => {
    const { logger, lines } = capture();
    const err = Object.assign(new Error(`duplicate key (id_number)=(${ID}) phone ${PHONE}`), { code: "23505", detail: `Key (id_number)=(${ID})` });
    logger.error(
      {
        err,
        batch: { rows: [{ row: 3, child: { name: "李小花", idNumber: ID, guardians: [{ name: "李大山", phone: PHONE, relation: "祖父" }] } }] },
        concern: { category: "abuse_suspected", description: "邻居反映李小花身上有伤", notes: ["母亲电话 13800000002"] },
        note: `free text with ${PHONE} inside`,
        queue: "registry.imports",
      },
      `import failed for ${ID}`,
    );
    const line = lines.join("");
    for (const secret of [ID, PHONE, "13800000002", "李小花", "李大山", "身上有伤"]) expect(line).not.toContain(secret);
    const parsed = JSON.parse(line);
    expect(parsed.msg).toBe("import failed for 360999************");
    expect(parsed.batch.rows[0].child.guardians[0]).toEqual({ name: "[redacted]", phone: "[redacted]", relation: "祖父" });
    expect(parsed.batch.rows[0].row).toBe(3);
    expect(parsed.err.code).toBe("23505");
    expect(parsed.err.message).toContain("360999************");
    expect(parsed.queue).toBe("registry.imports");
    expect(parsed.concern.category).toBe("abuse_suspected");
  });

  it("survives circular objects", () => {
    const { logger, lines } = capture();
    const a: Record<string, unknown> = { phone: PHONE };
    a.self = a;
    logger.warn({ a }, "circular");
    expect(lines.join("")).not.toContain(PHONE);
  });

  it("scrubs a child logger's bindings too, keeping the logger's own name", () => {
    const lines: string[] = [];
    const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const root = pino({ name: "registry", level: "info", ...scrubbingOptions, redact: { paths: redactPaths, censor: "[redacted]" } }, stream);
    const child = root.child({ row: { name: "李小花", idNumber: ID, guardian: { phone: PHONE } }, step: `监护人 ${PHONE}`, batchId: "b1" });
    child.info("row rejected");
    child.child({ guardianName: "李大山" }).warn("nested child");
    const text = lines.join("");
    for (const secret of [ID, PHONE, "李小花", "李大山"]) expect(text).not.toContain(secret);
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({ name: "registry", batchId: "b1", step: "监护人 139****0001" });
    expect(first.row).toMatchObject({ name: "[redacted]", idNumber: "[redacted]" });
  });
});
