import { Button } from "antd";
import { PlusOutlined } from "@ant-design/icons";
import { Link, useNavigate, useParams } from "react-router";
import { useCaseload } from "./caseload";
import { VisitHistory } from "./VisitHistory";

/** /visits/child/:id — a child's visits on a phone, reachable offline from 我的走访 (the full 档案 needs network). */
export default function ChildVisits() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const child = useCaseload().data?.children.find((c) => c.id === id);
  return (
    <div>
      <div className="page-header">
        <h1>{child ? `${child.name} · 走访记录` : "走访记录"}</h1>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => void navigate(`/visits/new?childId=${id}`)}>
          登记走访
        </Button>
      </div>
      <VisitHistory childId={id} />
      <div style={{ marginTop: 12 }}>
        <Link to="/visits">返回我的走访</Link>
        {" · "}
        <Link to={`/children/${id}`}>儿童档案</Link>
      </div>
    </div>
  );
}
