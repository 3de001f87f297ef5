/**
 * `npm run audit:verify` · `npm run audit:archive` · `npm run audit:verify-archive -- FILE`
 *
 * Runs against the gateway's database as its owner role (DATABASE_URL); archiving also
 * reads AUDIT_ARCHIVE_DIR (default ./audit-archive) and AUDIT_RETENTION_DAYS (default 180,
 * never less). Exit code 0 when the chain holds, 1 when it is broken, 2 on misuse.
 */
import { createPgPool } from "@shouhu/db";
import { archiveChain, verifyArchive, verifyChain, type VerifyResult } from "./chain.js";

const [command, arg] = process.argv.slice(2);
const databaseUrl = process.env.DATABASE_URL ?? "postgresql://root@127.0.0.1:5432/shouhu_gateway";
const pool = createPgPool(databaseUrl, { max: 2 });

function report(what: string, r: VerifyResult): number {
  if (r.ok) {
    console.log(`${what}：哈希链完整，共 ${r.rows} 条${r.fromSeq ? `（序号 ${r.fromSeq}–${r.toSeq}）` : ""}`);
    return 0;
  }
  console.error(`${what}：哈希链在序号 ${r.seq} 处断开：${r.reason}`);
  return 1;
}

let code = 2;
try {
  if (command === "verify") code = report("审计记录", await verifyChain(pool));
  else if (command === "verify-archive" && arg) code = report(`归档文件 ${arg}`, await verifyArchive(pool, arg));
  else if (command === "archive") {
    const retentionDays = Number(process.env.AUDIT_RETENTION_DAYS ?? 180);
    const result = await archiveChain(pool, { dir: process.env.AUDIT_ARCHIVE_DIR ?? "audit-archive", retentionDays });
    console.log(result.file ? `已归档 ${result.rows} 条（至序号 ${result.lastSeq}）到 ${result.file}` : `没有早于 ${retentionDays} 天的审计记录，无需归档`);
    code = 0;
  } else console.error("用法：cli.js verify | archive | verify-archive <归档文件>");
} catch (err) {
  console.error(`审计命令失败：${(err as Error).message}`);
  code = 2;
} finally {
  await pool.end();
}
process.exit(code);
