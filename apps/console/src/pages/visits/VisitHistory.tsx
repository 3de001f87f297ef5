import { useEffect, useState } from "react";
import { Alert, Empty, List, Skeleton, Space, Tag, Typography } from "antd";
import { useQuery } from "@tanstack/react-query";
import { useSession } from "../../auth/session";
import { api, unwrap } from "../../services/client";
import type { VisitRecord, VisitRecordPage } from "../../services/models";
import { label } from "../../services/labels";
import { OFFLINE_CHANGED, offlineStoreExists } from "../../offline/store";
import { useOnline } from "../../offline/online";
import type { QueuedRecord } from "../../offline/db";
import { VisitPhotos } from "./VisitPhotos";

const findingLabels: [keyof NonNullable<VisitRecord["findings"]>, string][] = [
  ["metWith", "见到"],
  ["livingConditions", "生活"],
  ["study", "学习"],
  ["health", "身体"],
  ["mood", "情绪"],
  ["safety", "安全"],
];

/** This child's records still on the device (made offline); Dexie is loaded only if the store exists. */
function useQueuedFor(childId: string): QueuedRecord[] {
  const { claims } = useSession();
  const [rows, setRows] = useState<QueuedRecord[]>([]);
  useEffect(() => {
    const load = async () => setRows((await offlineStoreExists()) ? await (await import("../../offline/queue")).queuedFor(claims.username, childId) : []);
    void load();
    const changed = () => void load();
    window.addEventListener(OFFLINE_CHANGED, changed);
    return () => window.removeEventListener(OFFLINE_CHANGED, changed);
  }, [childId, claims.username]);
  return rows;
}

/**
 * A child's visit history, newest first: the records the API gives this user (need-to-know:
 * the narrative for case workers and the child's helper; date, kind and on time for
 * inspectors), with the records still waiting on this device on top.
 */
export function VisitHistory({ childId }: { childId: string }) {
  const online = useOnline();
  const local = useQueuedFor(childId);
  const records = useQuery({
    queryKey: ["visit-history", childId],
    retry: false,
    queryFn: async () => (await unwrap<VisitRecordPage>(api.GET("/api/v1/visit-records", { params: { query: { childId, limit: 100 } } }))).items,
  });
  return (
    <div data-testid="visit-history">
      {local.length > 0 && (
        <List
          size="small"
          dataSource={local}
          renderItem={(q) => (
            <List.Item>
              <Space wrap>
                <Typography.Text strong>{q.body.date}</Typography.Text>
                <span>{label("visitKind", q.body.kind)}</span>
                {q.status === "pending" ? <Tag color="processing">待同步</Tag> : <Tag color="error">未能保存：{q.message}</Tag>}
              </Space>
            </List.Item>
          )}
        />
      )}
      {!online && !records.data && <Alert type="info" showIcon message="离线：只显示本机待同步的记录，联网后显示全部走访记录" />}
      {records.isLoading && online ? (
        <Skeleton active />
      ) : records.isError && online ? (
        <Alert type="error" showIcon message="读取走访记录失败" description={(records.error as Error).message} />
      ) : records.data && !records.data.length && !local.length ? (
        <Empty description="还没有走访记录" />
      ) : (
        <List
          dataSource={records.data ?? []}
          renderItem={(r) => (
            <List.Item data-testid="visit-record">
              <div style={{ width: "100%" }}>
                <Space wrap>
                  <Typography.Text strong>{r.date}</Typography.Text>
                  <span>{r.kindLabel}</span>
                  {r.visitorName && <Typography.Text type="secondary">{r.visitorName}</Typography.Text>}
                  {r.via === "task_link" && <Tag color="purple">代理家长 · 短信链接</Tag>}
                  {r.onTime === true && <Tag color="success">按时</Tag>}
                  {r.onTime === false && <Tag>补访</Tag>}
                  {r.followUpNeeded && <Tag>需跟进</Tag>}
                  {r.call && (
                    <Tag color={r.call.connected ? "blue" : "default"} data-testid="call-tag">
                      {r.call.with.map((p) => label("callParty", p)).join("、")}
                      {r.call.connected ? (r.durationMinutes ? ` · 通话 ${r.durationMinutes} 分钟` : " · 已接通") : " · 未接通"}
                    </Tag>
                  )}
                </Space>
                {r.findings &&
                  findingLabels
                    .filter(([k]) => r.findings?.[k])
                    .map(([k, name]) => (
                      <div key={k} style={{ fontSize: 13 }}>
                        <Typography.Text type="secondary">{k === "mood" && r.kind === "parent_call" ? "通话情况" : name}：</Typography.Text>
                        {r.findings?.[k]}
                      </div>
                    ))}
                {r.followUpNote && (
                  <div style={{ fontSize: 13 }}>
                    <Typography.Text type="secondary">跟进：</Typography.Text>
                    {r.followUpNote}
                  </div>
                )}
                {/* Photos are narrative: not for the summary view (inspectors), which has no findings. */}
                {online && "findings" in r && <VisitPhotos recordId={r.id} />}
              </div>
            </List.Item>
          )}
        />
      )}
    </div>
  );
}
