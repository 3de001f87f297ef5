import { useState } from "react";
import { CursorPager, useCursorPages } from "../../components/CursorPager";
import { Button, Card, DatePicker, Form, Input, Result, Select, Space, Table, Tag, Typography } from "antd";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import type { Dayjs } from "dayjs";
import { api, unwrap } from "../../services/client";
import type { AuditEntry, AuditPage } from "../../services/models";
import { useAccess } from "../../auth/session";
import { ROLE_LABELS } from "../../access";

const PAGE_SIZE = 50;
const beijing = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
});
const actionLabel: Record<string, string> = {
  read: "查看",
  list: "列表",
  export: "导出",
  create: "建档",
  update: "修改",
  "status-change": "变更状态",
  import: "导入",
  "import-preview": "查看导入预览",
  "import-confirm": "确认重新导入",
  "pairing-read": "查看结对",
  "pairing-decision": "审批结对",
  "pairing-end": "解除结对",
  "pairing-create": "人工结对",
  "pairing-transfer": "移交结对",
  matching: "结对匹配",
  promote: "学年升级",
  handover: "查看交接名单",
  "transfer-request": "申请转入",
  "transfer-approve": "批准转出",
  "transfer-refuse": "拒绝转出",
  growth: "查看成长档案",
  "growth-add": "记成长记录",
  "growth-remove": "删除成长记录",
  "attachment-list": "查看附件列表",
  "attachment-read": "查看/下载附件",
  "attachment-upload": "上传附件",
  "attachment-delete": "删除附件",
  "enrolment-preview": "查看学籍名单预览",
  "enrolment-confirm": "确认学籍名单",
  "enrolment-missing": "查看未入学籍名单儿童",
  "enrolment-read": "查看学籍记录",
  "enrolment-set": "登记就读状态",
  "account-list": "查看账号列表",
  "account-read": "查看账号",
  "account-create": "新建账号",
  "account-update": "修改账号",
  "account-disable": "停用账号",
  "account-enable": "启用账号",
  "account-reset-pw": "重置密码",
};

interface Filters {
  childId?: string;
  username?: string;
  outcome?: "allowed" | "refused";
  from?: string;
  to?: string;
}

/**
 * 审计 (county admins): who read, exported or changed — or tried to — which child's record,
 * newest first, filtered by child, user, outcome and period; the gateway answers only the
 * admin's own county.
 */
export default function AuditPageView() {
  const access = useAccess();
  const [filters, setFilters] = useState<Filters>({});
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const list = useQuery({
    queryKey: ["audit", filters, cursor],
    enabled: access.canReadAudit,
    placeholderData: keepPreviousData,
    queryFn: () =>
      unwrap<AuditPage>(api.GET("/api/v1/audit", { params: { query: { ...filters, limit: PAGE_SIZE, ...(cursor ? { cursor: Number(cursor) } : {}) } } })),
  });
  if (!access.canReadAudit) return <Result status="403" title="只有县级管理员可以查看审计记录" />;

  const apply = (v: { childId?: string; username?: string; outcome?: "allowed" | "refused"; period?: [Dayjs | null, Dayjs | null] | null }) => {
    const [from, to] = v.period ?? [null, null];
    pages.reset();
    setFilters({
      ...(v.childId?.trim() ? { childId: v.childId.trim() } : {}),
      ...(v.username?.trim() ? { username: v.username.trim() } : {}),
      ...(v.outcome ? { outcome: v.outcome } : {}),
      ...(from ? { from: from.startOf("day").toISOString() } : {}),
      ...(to ? { to: to.add(1, "day").startOf("day").toISOString() } : {}),
    });
  };

  return (
    <div>
      <Typography.Title level={4} style={{ marginTop: 0 }}>
        审计记录
      </Typography.Title>
      <Typography.Paragraph type="secondary">本县工作人员查看、导出、修改儿童档案的记录，以及被拒绝的访问。记录只增不改，按时间倒序。</Typography.Paragraph>
      <Card style={{ marginBottom: 16 }}>
        <Form layout="inline" onFinish={apply} style={{ rowGap: 12 }}>
          <Form.Item name="childId" label="儿童编号" rules={[{ pattern: /^[0-9a-f-]{36}$/i, message: "儿童编号格式不正确" }]}>
            <Input placeholder="从儿童档案页复制" allowClear style={{ width: "min(300px, 62vw)" }} />
          </Form.Item>
          <Form.Item name="username" label="用户">
            <Input placeholder="登录名，如 changling.supervisor" allowClear style={{ width: "min(220px, 62vw)" }} />
          </Form.Item>
          <Form.Item name="outcome" label="结果">
            <Select
              allowClear
              placeholder="全部"
              style={{ width: 110 }}
              options={[
                { value: "allowed", label: "已允许" },
                { value: "refused", label: "被拒绝" },
              ]}
            />
          </Form.Item>
          <Form.Item name="period" label="时间">
            <DatePicker.RangePicker allowEmpty={[true, true]} />
          </Form.Item>
          <Button type="primary" htmlType="submit">
            查询
          </Button>
        </Form>
      </Card>
      <Card>
        <Table<AuditEntry>
          rowKey="id"
          size="middle"
          data-testid="audit-table"
          loading={list.isFetching}
          dataSource={list.data?.items ?? []}
          pagination={false}
          scroll={{ x: 1000 }}
          locale={{ emptyText: list.isError ? (list.error as Error).message : "没有符合条件的记录" }}
          columns={[
            // Staff read Beijing time whatever the browser's zone.
            { title: "时间", dataIndex: "at", width: 170, render: (v: string) => beijing.format(new Date(v)).replace(/\//g, "-") },
            {
              title: "用户",
              key: "user",
              width: 200,
              render: (_, e) => (
                <Space direction="vertical" size={0}>
                  <span>{e.username ?? "（未登录）"}</span>
                  <Typography.Text type="secondary">{e.roles.map((r) => ROLE_LABELS[r] ?? r).join("、")}</Typography.Text>
                </Space>
              ),
            },
            { title: "操作", dataIndex: "action", width: 100, render: (v: string) => actionLabel[v] ?? v },
            {
              title: "结果",
              dataIndex: "outcome",
              width: 90,
              render: (v: string, e) => (v === "refused" ? <Tag color="red">被拒绝 {e.status}</Tag> : <Tag color="green">已允许</Tag>),
            },
            {
              title: "涉及儿童",
              key: "children",
              render: (_, e) =>
                e.childIds.length === 0 ? "—" : e.childIds.length === 1 ? <Link to={`/children/${e.childIds[0]}`}>查看档案</Link> : `${e.childIds.length} 名`,
            },
            { title: "请求", key: "path", width: 260, render: (_, e) => <Typography.Text code>{`${e.method} ${e.path}`}</Typography.Text> },
            { title: "来源地址", dataIndex: "sourceIp", width: 130, render: (v: string | null) => v ?? "—" },
          ]}
        />
        <CursorPager pages={pages} nextCursor={list.data?.nextCursor} style={{ marginTop: 16 }} />
      </Card>
    </div>
  );
}
