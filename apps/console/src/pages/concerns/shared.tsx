import { useEffect, useState } from "react";
import { Tag, Typography } from "antd";
import type { paths } from "../../services/schema";

type Json<T> = T extends { content: { "application/json": infer J } } ? J : never;
export type ConcernDetail = Json<paths["/api/v1/concerns/{id}"]["get"]["responses"][200]>;
export type Concern = Json<paths["/api/v1/concerns"]["get"]["responses"][200]>["items"][number];

export const CATEGORY: Record<string, string> = {
  abuse_suspected: "疑似遭受侵害",
  safety: "安全隐患",
  neglect: "监护缺失",
  health: "健康问题",
  psychological: "心理问题",
  other: "其他",
  dropout_risk: "辍学风险",
};
export const STATUS: Record<string, { text: string; color: string }> = {
  open: { text: "待处理", color: "red" },
  acknowledged: { text: "已受理", color: "magenta" },
  in_progress: { text: "处理中", color: "blue" },
  referred: { text: "已转介", color: "purple" },
  resolved: { text: "已解决", color: "green" },
};
/** The moves the API allows from each status (services/visits/src/data/concerns.ts). */
export const NEXT: Record<string, string[]> = {
  open: ["acknowledged", "in_progress", "referred", "resolved"],
  acknowledged: ["in_progress", "referred", "resolved"],
  in_progress: ["referred", "resolved"],
  referred: ["in_progress", "resolved"],
  resolved: [],
};

/** The current time, refreshed every `ms` (countdowns). */
export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

function duration(ms: number): string {
  // Whole minutes, rounded down: time left is never overstated.
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  if (d > 0) return `${d}天${h}小时`;
  if (h > 0) return `${h}小时${m}分`;
  return `${m}分钟`;
}

export const dateTime = (iso: string | null | undefined) =>
  iso
    ? new Date(iso).toLocaleString("zh-CN", {
        timeZone: "Asia/Shanghai",
        hour12: false,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
      })
    : "—";

/**
 * The response-time limit of a case: time left (剩余) while it waits, how late (已超时)
 * once past it, and after the first response whether it came in time.
 */
export function ResponseClock({ c, now }: { c: Pick<Concern, "respondBy" | "respondedAt" | "responseLimitHours" | "status">; now: number }) {
  const due = Date.parse(c.respondBy);
  if (c.respondedAt) {
    const late = Date.parse(c.respondedAt) > due;
    return (
      <Typography.Text type={late ? "danger" : "success"} data-testid="response-clock">
        {late ? `超时响应（晚 ${duration(Date.parse(c.respondedAt) - due)}）` : "已按时响应"}
      </Typography.Text>
    );
  }
  if (c.status === "resolved") return <Typography.Text type="secondary">—</Typography.Text>;
  const left = due - now;
  return left >= 0 ? (
    <Typography.Text data-testid="response-clock">
      剩余 {duration(left)}
      <Typography.Text type="secondary">（时限 {c.responseLimitHours} 小时）</Typography.Text>
    </Typography.Text>
  ) : (
    <Typography.Text type="danger" strong data-testid="response-clock">
      已超时 {duration(-left)}
    </Typography.Text>
  );
}

export function StatusTag({ status }: { status: string }) {
  const s = STATUS[status] ?? { text: status, color: "default" };
  return <Tag color={s.color}>{s.text}</Tag>;
}

export function EscalatedTag({ at }: { at: string | null }) {
  return at ? (
    <Tag color="red" data-testid="escalated">
      已上报县级 {dateTime(at).slice(0, 10)}
    </Tag>
  ) : null;
}
