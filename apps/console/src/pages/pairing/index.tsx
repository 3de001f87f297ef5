import { Tabs, Typography } from "antd";
import { useSearchParams } from "react-router";
import { useAccess } from "../../auth/session";
import Proposals from "./Proposals";
import Helpers from "./Helpers";
import Unpaired from "./Unpaired";
import ActivePairings from "./ManualPairing";

/**
 * 结对帮扶: the optimiser's proposals to approve, the helpers and their load, and the
 * children still without a mentor, village by village. The tab is in the URL so the
 * 工作台 can link straight to 待审批 or 未结对.
 */
export default function PairingPage() {
  const access = useAccess();
  const [params, setParams] = useSearchParams();
  const tab = params.get("tab") ?? "proposals";
  return (
    <div>
      <Typography.Title level={4} style={{ marginTop: 0 }}>
        结对帮扶
      </Typography.Title>
      <Tabs
        activeKey={tab}
        onChange={(key) => setParams({ tab: key })}
        destroyOnHidden
        items={[
          { key: "proposals", label: "待审批建议", children: <Proposals canDecide={access.canApprovePairings} /> },
          { key: "active", label: "结对中", children: <ActivePairings canDecide={access.canApprovePairings} /> },
          { key: "helpers", label: "帮扶人", children: <Helpers /> },
          { key: "unpaired", label: "未结对儿童", children: <Unpaired canRunMatching={access.canRunMatching} /> },
        ]}
      />
    </div>
  );
}
