import { useState } from "react";
import { Alert, App, Button, Card, Flex, Form, Grid, Input, Modal, Select, Space, Table, Tag, Typography } from "antd";
import type { ColumnsType } from "antd/es/table";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Navigate } from "react-router";
import { useSession } from "../../auth/session";
import { api, ApiError, unwrap } from "../../services/client";
import { useSchools, useVillageNames } from "../../services/hooks";
import { labels } from "../../services/labels";
import { contains, orgLevel } from "../../services/org-units";

/** services/registry/src/data/transfers.ts TransferView. */
interface Transfer {
  id: string;
  direction: "incoming" | "outgoing";
  status: "pending" | "approved" | "refused";
  reason: string;
  toVillage: { code: string; name: string | null };
  toSchool: { id: string; name: string | null } | null;
  fromTownship: { code: string; name: string | null } | null;
  requestedBy: string | null;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionNote: string | null;
  child: { id: string; name: string; grade: string | null; schoolName: string | null; villageCode: string } | null;
}

const STATUS: Record<Transfer["status"], { label: string; color: string }> = {
  pending: { label: labels.transferStatus.pending, color: "blue" },
  approved: { label: labels.transferStatus.approved, color: "green" },
  refused: { label: labels.transferStatus.refused, color: "red" },
};
const KEY = ["transfers"];
const errorText = (err: unknown) => (err instanceof ApiError ? err.message : "操作失败，请稍后再试");
const date = (iso: string | null) => (iso ? new Date(iso).toLocaleDateString("zh-CN") : "—");

function RequestForm() {
  const { access } = useSession();
  const names = useVillageNames(access.orgUnit);
  const schools = useSchools();
  const qc = useQueryClient();
  const [form] = Form.useForm<{ idNumber: string; villageCode: string; schoolId?: string; reason: string }>();
  const [answer, setAnswer] = useState<{ ok: boolean; text: string }>();
  const villages = [...(names.data?.entries() ?? [])].filter(([code]) => orgLevel(code) === "village" && contains(access.orgUnit, code));
  const send = useMutation({
    mutationFn: (v: { idNumber: string; villageCode: string; schoolId?: string; reason: string }) =>
      unwrap<{ id: string; message: string }>(api.POST("/api/v1/transfers", { body: { ...v, schoolId: v.schoolId ?? null } })),
    onSuccess: (r) => {
      setAnswer({ ok: true, text: `${r.message}（申请编号 ${r.id.slice(-8)}）` });
      form.resetFields();
      void qc.invalidateQueries({ queryKey: KEY });
    },
    onError: (err) => {
      const issues = err instanceof ApiError ? err.fieldIssues : [];
      const detail = err instanceof ApiError && !Array.isArray(err.details) ? (err.details as { field?: string } | undefined) : undefined;
      if (issues.length) form.setFields(issues.map((i) => ({ name: i.field as never, errors: [i.message] })));
      else if (detail?.field) form.setFields([{ name: detail.field as never, errors: [errorText(err)] }]);
      setAnswer({ ok: false, text: errorText(err) });
    },
  });
  return (
    <Card title="申请转入">
      <Typography.Paragraph type="secondary">
        儿童已在其他乡镇建档时，按身份证号申请转入；对方乡镇批准后，档案、走访安排随儿童转入本乡镇，原结对解除，本乡镇将收到结对建议。
      </Typography.Paragraph>
      <Form form={form} layout="vertical" style={{ maxWidth: 560 }} onFinish={(v) => send.mutate(v)} onValuesChange={() => setAnswer(undefined)}>
        <Form.Item name="idNumber" label="身份证号" rules={[{ required: true, message: "请填写身份证号" }]}>
          <Input aria-label="身份证号" maxLength={18} autoComplete="off" />
        </Form.Item>
        <Form.Item name="villageCode" label="转入村（社区）" rules={[{ required: true, message: "请选择转入村（社区）" }]}>
          <Select aria-label="转入村（社区）" showSearch optionFilterProp="label" options={villages.map(([code, name]) => ({ value: code, label: name }))} />
        </Form.Item>
        <Form.Item name="schoolId" label="转入学校（可不填）">
          <Select
            aria-label="转入学校"
            allowClear
            options={(schools.data ?? []).filter((s) => !s.retiredAt && contains(access.orgUnit, s.townshipCode)).map((s) => ({ value: s.id, label: s.name }))}
          />
        </Form.Item>
        <Form.Item name="reason" label="原因" rules={[{ required: true, message: "请说明原因" }]}>
          <Input.TextArea aria-label="原因" maxLength={200} rows={2} />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={send.isPending}>
          提交申请
        </Button>
      </Form>
      {answer && <Alert style={{ marginTop: 16 }} type={answer.ok ? "success" : "error"} showIcon title={answer.text} />}
    </Card>
  );
}

function Requests() {
  const { message } = App.useApp();
  const screens = Grid.useBreakpoint();
  const qc = useQueryClient();
  const [refusing, setRefusing] = useState<Transfer>();
  const [reason, setReason] = useState("");
  const list = useQuery({ queryKey: KEY, queryFn: async () => (await unwrap<{ items: Transfer[] }>(api.GET("/api/v1/transfers"))).items });
  const decide = useMutation({
    mutationFn: ({ t, approve, note }: { t: Transfer; approve: boolean; note?: string }) =>
      approve
        ? unwrap(api.POST("/api/v1/transfers/{id}/approve", { params: { path: { id: t.id } }, body: {} }))
        : unwrap(api.POST("/api/v1/transfers/{id}/refuse", { params: { path: { id: t.id } }, body: { reason: note ?? "" } })),
    onSuccess: (_, v) => {
      message.success(v.approve ? "已批准，儿童档案已转出" : "已拒绝");
      setRefusing(undefined);
      setReason("");
      void qc.invalidateQueries({ queryKey: KEY });
    },
    onError: (err) => message.error(errorText(err)),
  });
  const columns: ColumnsType<Transfer> = [
    { title: "方向", dataIndex: "direction", render: (d: string) => (d === "outgoing" ? <Tag color="orange">转出</Tag> : <Tag color="cyan">转入</Tag>) },
    {
      title: "儿童",
      key: "child",
      render: (_, t) =>
        t.child ? (
          <Flex vertical>
            <span>{t.child.name}</span>
            {!screens.md && <Typography.Text type="secondary">{STATUS[t.status].label}</Typography.Text>}
          </Flex>
        ) : (
          <Typography.Text type="secondary">在其他乡镇登记（批准后可见）</Typography.Text>
        ),
    },
    { title: "转入", key: "to", render: (_, t) => `${t.toVillage.name ?? t.toVillage.code}${t.toSchool ? ` · ${t.toSchool.name}` : ""}`, responsive: ["sm"] },
    { title: "原因", dataIndex: "reason", responsive: ["lg"] },
    { title: "申请", key: "requested", render: (_, t) => `${t.requestedBy ?? ""} ${date(t.requestedAt)}`, responsive: ["lg"] },
    {
      title: "状态",
      key: "status",
      responsive: ["md"],
      render: (_, t) => (
        <Flex vertical>
          <Tag color={STATUS[t.status].color}>{STATUS[t.status].label}</Tag>
          {t.decisionNote && <Typography.Text type="secondary">{t.decisionNote}</Typography.Text>}
        </Flex>
      ),
    },
    {
      title: "操作",
      key: "actions",
      render: (_, t) =>
        t.direction === "outgoing" && t.status === "pending" ? (
          <Space wrap>
            <Button type="primary" size="small" onClick={() => decide.mutate({ t, approve: true })}>
              批准
            </Button>
            <Button size="small" danger onClick={() => setRefusing(t)}>
              拒绝
            </Button>
          </Space>
        ) : null,
    },
  ];
  return (
    <Card title="转移申请">
      <Table rowKey="id" size="small" loading={list.isLoading} columns={columns} dataSource={list.data ?? []} locale={{ emptyText: "暂无转移申请" }} />
      <Modal
        title={`拒绝转出：${refusing?.child?.name ?? ""}`}
        open={Boolean(refusing)}
        okText="拒绝"
        okButtonProps={{ danger: true, disabled: !reason.trim(), loading: decide.isPending }}
        onOk={() => refusing && decide.mutate({ t: refusing, approve: false, note: reason })}
        onCancel={() => setRefusing(undefined)}
      >
        <Input.TextArea
          aria-label="拒绝原因"
          placeholder="请说明拒绝原因（必填）"
          rows={3}
          maxLength={200}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
      </Modal>
    </Card>
  );
}

/** 转移: transfers between townships and counties (issue 19.6). */
export default function TransfersPage() {
  const { access } = useSession();
  if (!access.canTransfer) return <Navigate to="/" replace />;
  return (
    <Flex vertical gap={16}>
      <Requests />
      <RequestForm />
    </Flex>
  );
}
