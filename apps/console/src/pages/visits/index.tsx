import { useMemo, useState } from "react";
import { Alert, Button, Empty, Input, Segmented, Skeleton, Space, Switch, Tag, Typography } from "antd";
import { PlusOutlined, ReloadOutlined, ScanOutlined } from "@ant-design/icons";
import { Link, useNavigate } from "react-router";
import dayjs from "dayjs";
import { useSession } from "../../auth/session";
import { useOnline } from "../../offline/online";
import { OFFLINE_TTL_DAYS } from "../../offline/store";
import type { VisitItem } from "../../services/models";
import { label, riskColor } from "../../services/labels";
import { useCaseload } from "./caseload";
import { SendTaskLink } from "./SendTaskLink";
import styles from "./visits.module.css";

/** Whether the signed-in person answers for the item: their paired child's, or the village director's where nobody is paired. */
function isMine(item: VisitItem, username: string, role: string): boolean {
  if (item.responsible.kind === "helper") return item.responsible.username === username;
  return role === "village-director";
}

function ItemRow({ item, overdue }: { item: VisitItem; overdue: boolean }) {
  const navigate = useNavigate();
  const { access } = useSession();
  const online = useOnline();
  // A helper without an account (a proxy parent) cannot sign in: staff send them a one-time link instead.
  const proxy = item.responsible.kind === "helper" && !item.responsible.username;
  return (
    <div className={`${styles.item} ${overdue ? styles.overdue : styles.due}`} data-testid={overdue ? "overdue-item" : "due-item"}>
      <div>
        <div className={styles.name}>
          {item.childName} · {item.kindLabel}
        </div>
        <div className={styles.meta}>
          {overdue ? <span className={styles.late}>已逾期 {item.daysOverdue} 天</span> : <span>{dayjs(item.dueDate).format("M月D日")}前</span>}
          {" · "}应于 {item.dueDate} · {item.responsible.name ?? "村儿童主任"}
        </div>
      </div>
      <Space size={4} wrap style={{ justifyContent: "flex-end" }}>
        {proxy && access.canIssueTaskLinks && online && <SendTaskLink item={item} />}
        <Button type={overdue ? "primary" : "default"} onClick={() => void navigate(`/visits/new?childId=${item.childId}&kind=${item.kind}`)}>
          登记
        </Button>
      </Space>
    </div>
  );
}

/**
 * 我的走访, made for a phone first: overdue visits in red with their days, then those due
 * this week, then the caseload to record any visit — from the device when offline.
 */
export default function MyVisits() {
  const { claims, access } = useSession();
  const online = useOnline();
  const navigate = useNavigate();
  const caseload = useCaseload();
  const [onlyMine, setOnlyMine] = useState(access.primaryRole === "teacher" || access.primaryRole === "village-director");
  const [view, setView] = useState<"items" | "children">("items");
  const [q, setQ] = useState("");
  const data = caseload.data;

  const items = useMemo(
    () => (data?.items ?? []).filter((i) => i.status === "open" && (!onlyMine || isMine(i, claims.username, access.primaryRole))),
    [data, onlyMine, claims.username, access.primaryRole],
  );
  const overdue = items.filter((i) => i.daysOverdue > 0).sort((a, b) => b.daysOverdue - a.daysOverdue);
  const due = items.filter((i) => i.daysOverdue === 0);
  const children = (data?.children ?? []).filter((c) => !q || c.name.includes(q.trim()));

  return (
    <div>
      <div className="page-header">
        <h1>我的走访</h1>
        <Space wrap>
          <Button icon={<ScanOutlined />} onClick={() => void navigate("/visits/scan")}>
            扫码
          </Button>
          <Button icon={<ReloadOutlined />} disabled={!online} loading={caseload.isFetching} onClick={() => void caseload.refetch()}>
            刷新
          </Button>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => void navigate("/visits/new")}>
            登记走访
          </Button>
        </Space>
      </div>
      {caseload.isError && (
        <Alert type="error" showIcon message="读取走访事项失败" description={(caseload.error as Error).message} style={{ marginBottom: 12 }} />
      )}
      {data?.expired && (
        <Alert
          type="warning"
          showIcon
          message={`本机的离线资料已超过 ${OFFLINE_TTL_DAYS} 天，已清除`}
          description="请联网后刷新，再离线使用。"
          style={{ marginBottom: 12 }}
        />
      )}
      {data?.offline && data.cachedAt && (
        <Alert
          type="info"
          showIcon
          data-testid="offline-caseload"
          message={`离线：显示本机保存的资料（更新于 ${dayjs(data.cachedAt).format("M月D日 HH:mm")}，${OFFLINE_TTL_DAYS} 天内有效）`}
          style={{ marginBottom: 12 }}
        />
      )}
      {data?.offline && !data.cachedAt && !data.expired && (
        <Alert type="warning" showIcon message="离线且本机没有保存的资料：请联网打开一次“我的走访”" style={{ marginBottom: 12 }} />
      )}
      <Space wrap style={{ marginBottom: 8 }}>
        <Segmented
          value={view}
          onChange={(v) => setView(v as "items" | "children")}
          options={[
            { value: "items", label: `待走访 ${overdue.length + due.length}` },
            { value: "children", label: `我的儿童 ${data?.children.length ?? 0}` },
          ]}
        />
        {view === "items" && (
          <Space size={4}>
            <Switch size="small" checked={onlyMine} onChange={setOnlyMine} aria-label="只看我负责的" />
            <Typography.Text>只看我负责的</Typography.Text>
          </Space>
        )}
      </Space>
      {caseload.isLoading ? (
        <Skeleton active />
      ) : view === "items" ? (
        <>
          <div className={styles.section}>
            已逾期 <Tag color="error">{overdue.length}</Tag>
          </div>
          {overdue.length ? (
            <div className={styles.grid}>
              {overdue.map((i) => (
                <ItemRow key={i.id} item={i} overdue />
              ))}
            </div>
          ) : (
            <Typography.Text type="secondary">没有逾期的走访</Typography.Text>
          )}
          <div className={styles.section}>
            本周到期 <Tag>{due.length}</Tag>
          </div>
          {due.length ? (
            <div className={styles.grid}>
              {due.map((i) => (
                <ItemRow key={i.id} item={i} overdue={false} />
              ))}
            </div>
          ) : (
            <Typography.Text type="secondary">本周没有到期的走访</Typography.Text>
          )}
        </>
      ) : (
        <>
          <Input.Search
            allowClear
            placeholder="按姓名查找"
            aria-label="按姓名查找"
            value={q}
            onChange={(e) => setQ(e.target.value)}
            style={{ maxWidth: 320, marginBottom: 8 }}
          />
          {children.length ? (
            <div className={styles.grid}>
              {children.map((c) => (
                <div key={c.id} className={styles.item} data-testid="caseload-child">
                  <div>
                    <div className={styles.name}>
                      {c.name} <Tag color={riskColor[c.riskLevel]}>风险{label("riskLevel", c.riskLevel)}</Tag>
                    </div>
                    <div className={styles.meta}>
                      {label("sex", c.sex)} · {c.birthDate} · {label("leftBehindType", c.leftBehindType)}
                      {c.guardians[0] ? ` · 监护人 ${c.guardians[0].name}${c.guardians[0].phone ? ` ${c.guardians[0].phone}` : ""}` : ""}
                    </div>
                    <Link to={`/visits/child/${c.id}`} style={{ fontSize: 13 }}>
                      走访记录
                    </Link>
                  </div>
                  <Button onClick={() => void navigate(`/visits/new?childId=${c.id}`)}>登记</Button>
                </div>
              ))}
            </div>
          ) : (
            <Empty description={q ? "没有找到" : "没有儿童"} />
          )}
        </>
      )}
    </div>
  );
}
