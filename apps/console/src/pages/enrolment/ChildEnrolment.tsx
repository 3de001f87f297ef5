import { useState } from "react";
import { Alert, Button, Flex, Table, Tag } from "antd";
import { useQuery } from "@tanstack/react-query";
import dayjs from "dayjs";
import { api, unwrap } from "../../services/client";
import { useAccess } from "../../auth/session";
import { recentSemesters } from "../reports/format";
import type { ChildEnrolments } from "../../services/models";
import { MarkStatus } from "./MarkStatus";

const STATUS_COLOR: Record<string, string> = { enrolled: "green", suspended: "blue", dropped_out: "red", transferred_out: "purple" };

/** The child's 学籍 tab: every recorded status by semester (newest first), and 登记 for this semester. */
export function ChildEnrolment({ child }: { child: { id: string; name: string } }) {
  const access = useAccess();
  const [semester] = useState(() => recentSemesters(dayjs().format("YYYY-MM-DD"), 1)[0]!);
  const [open, setOpen] = useState(false);
  const items = useQuery({
    queryKey: ["child-enrolments", child.id],
    queryFn: () => unwrap<ChildEnrolments>(api.GET("/api/v1/children/{id}/enrolments", { params: { path: { id: child.id } } })),
  });
  return (
    <Flex vertical gap={8}>
      {access.canKeepEnrolment && (
        <Button style={{ alignSelf: "flex-start" }} onClick={() => setOpen(true)}>
          登记{semester.label}就读状态
        </Button>
      )}
      {items.error && <Alert type="error" showIcon message={(items.error as Error).message} />}
      <Table
        size="small"
        rowKey={(r) => `${r.semester}-${r.at}`}
        aria-label="学籍记录"
        loading={items.isLoading}
        dataSource={items.data?.items ?? []}
        pagination={false}
        columns={[
          { title: "学期", dataIndex: "semester" },
          { title: "状态", dataIndex: "statusLabel", render: (v: string, r) => <Tag color={STATUS_COLOR[r.status]}>{v}</Tag> },
          { title: "学校", dataIndex: "schoolName", render: (v: string | null) => v ?? "—" },
          { title: "来源", dataIndex: "source", responsive: ["md"], render: (v: string) => (v === "import" ? "学籍名单" : "人工登记") },
          { title: "说明", dataIndex: "note", responsive: ["md"], render: (v: string | null) => v ?? "" },
          { title: "登记", dataIndex: "at", responsive: ["md"], render: (v: string, r) => `${r.actorName ?? ""} ${dayjs(v).format("YYYY-MM-DD")}` },
        ]}
      />
      {open && <MarkStatus child={child} semester={semester.value} onClose={() => setOpen(false)} />}
    </Flex>
  );
}
