import { Button, Typography } from "antd";
import { PlusOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "react-router";
import { api, unwrap } from "../../services/client";
import type { VisitItemPage } from "../../services/models";
import { useOnline } from "../../offline/online";
import { useCaseload } from "./caseload";
import { ItemRow } from "./ItemRow";
import { VisitHistory } from "./VisitHistory";
import styles from "./visits.module.css";

/**
 * /visits/child/:id — a child's visits on a phone, reachable offline from 我的走访 (the full 档案 needs network):
 * what is still due for the child this period (online: to plan a 亲情电话 or a visit, 预约), then the records.
 */
export default function ChildVisits() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const online = useOnline();
  const child = useCaseload().data?.children.find((c) => c.id === id);
  const open = useQuery({
    queryKey: ["child-items", id],
    enabled: online,
    retry: false,
    queryFn: async () => (await unwrap<VisitItemPage>(api.GET("/api/v1/visit-items", { params: { query: { childId: id, view: "open", limit: 50 } } }))).items,
  });
  return (
    <div>
      <div className="page-header">
        <h1>{child ? `${child.name} · 走访记录` : "走访记录"}</h1>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => void navigate(`/visits/new?childId=${id}`)}>
          登记走访
        </Button>
      </div>
      {open.data && open.data.length > 0 && (
        <>
          <div className={styles.section}>本期待办</div>
          <div className={styles.grid} data-testid="child-open-items">
            {open.data.map((i) => (
              <ItemRow key={i.id} item={i} overdue={i.daysOverdue > 0} />
            ))}
          </div>
          <Typography.Title level={5} style={{ marginTop: 16 }}>
            走访记录
          </Typography.Title>
        </>
      )}
      <VisitHistory childId={id} />
      <div style={{ marginTop: 12 }}>
        <Link to="/visits">返回我的走访</Link>
        {" · "}
        <Link to={`/children/${id}`}>儿童档案</Link>
      </div>
    </div>
  );
}
