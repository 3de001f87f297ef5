import { useState } from "react";
import { Button, Space, Tag } from "antd";
import { useNavigate } from "react-router";
import dayjs from "dayjs";
import { useOnline } from "../../offline/online";
import type { VisitItem } from "../../services/models";
import { useSession } from "../../auth/session";
import { PlanModal } from "./PlanModal";
import { SendTaskLink } from "./SendTaskLink";
import styles from "./visits.module.css";

/** One due visit or call: child, kind, due date, who answers for it, its 预约; 登记, and online 预约 and (for a proxy parent) 发送填报链接. */
export function ItemRow({ item, overdue }: { item: VisitItem; overdue: boolean }) {
  const navigate = useNavigate();
  const online = useOnline();
  const { access } = useSession();
  const [planning, setPlanning] = useState(false);
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
        {item.plan && (
          <div className={styles.meta} data-testid="item-plan">
            <Tag color="blue">已预约 {dayjs(item.plan.at).format("M月D日 HH:mm")}</Tag>
            {item.plan.note}
          </div>
        )}
      </div>
      <Space direction="vertical" size={4}>
        <Button type={overdue ? "primary" : "default"} onClick={() => void navigate(`/visits/new?childId=${item.childId}&kind=${item.kind}`)}>
          登记
        </Button>
        {online && (
          <Button size="small" type="link" onClick={() => setPlanning(true)}>
            {item.plan ? "改预约" : "预约"}
          </Button>
        )}
        {proxy && access.canIssueTaskLinks && online && <SendTaskLink item={item} />}
      </Space>
      {planning && <PlanModal item={item} onClose={() => setPlanning(false)} />}
    </div>
  );
}
