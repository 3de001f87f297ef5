import { useState } from "react";
import { App, Button, DatePicker, Flex, Form, Input, Modal, Segmented, Select, Space, Table, Tabs, Tag, Typography } from "antd";
import { PlusOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import type { Dayjs } from "dayjs";
import { api, ApiError, unwrap } from "../../services/client";
import { useSession } from "../../auth/session";
import { useOrgUnit, useOrgUnits } from "../../services/hooks";
import type { Campaign, FollowUp } from "./model";

const day = (d: Dayjs) => d.format("YYYY-MM-DD");

function CreateCampaign({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { access } = useSession();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const self = useOrgUnit(access.orgUnit);
  const below = useOrgUnits(access.orgLevel === "village" ? undefined : access.orgUnit);
  const units = [...(self.data ? [{ code: self.data.code, name: self.data.name }] : []), ...(below.data ?? []).map((u) => ({ code: u.code, name: u.name }))];
  const create = useMutation({
    mutationFn: (v: { name: string; provider: string; orgUnits: string[]; period: [Dayjs, Dayjs] }) =>
      unwrap<Campaign>(
        api.POST("/api/v1/campaigns", {
          body: {
            name: v.name,
            provider: v.provider,
            orgUnits: v.orgUnits,
            startDate: v.period ? day(v.period[0]) : "",
            endDate: v.period ? day(v.period[1]) : "",
          },
        }),
      ),
    onSuccess: () => {
      message.success("已创建体检活动");
      void qc.invalidateQueries({ queryKey: ["campaigns"] });
      form.resetFields();
      onClose();
    },
    onError: (err) => {
      if (err instanceof ApiError && err.fieldIssues.length)
        form.setFields(
          err.fieldIssues.map((i) => ({ name: i.field === "startDate" || i.field === "endDate" ? "period" : i.field.split(".")[0]!, errors: [i.message] })),
        );
      else message.error(err instanceof Error ? err.message : "创建失败");
    },
  });
  return (
    <Modal title="新建体检活动" open={open} onCancel={onClose} okText="创建" confirmLoading={create.isPending} onOk={() => form.submit()} destroyOnHidden>
      <Form form={form} layout="vertical" onFinish={(v) => create.mutate(v)}>
        <Form.Item name="name" label="活动名称" rules={[{ required: true, message: "请填写体检活动名称" }]}>
          <Input maxLength={100} placeholder="如 2026年秋季儿童体检" />
        </Form.Item>
        <Form.Item name="orgUnits" label="覆盖范围" rules={[{ required: true, message: "请选择体检覆盖的乡镇或村" }]}>
          <Select mode="multiple" options={units.map((u) => ({ value: u.code, label: u.name }))} placeholder="选择乡镇或村" />
        </Form.Item>
        <Form.Item name="period" label="活动时间" rules={[{ required: true, message: "请选择开始和结束日期" }]}>
          <DatePicker.RangePicker style={{ width: "100%" }} />
        </Form.Item>
        <Form.Item name="provider" label="承担体检的医疗机构" rules={[{ required: true, message: "请填写承担体检的医疗机构" }]}>
          <Input maxLength={100} placeholder="如 长岭乡卫生院" />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function Campaigns() {
  const { access } = useSession();
  const [creating, setCreating] = useState(false);
  const list = useQuery({ queryKey: ["campaigns"], queryFn: async () => (await unwrap<{ items: Campaign[] }>(api.GET("/api/v1/campaigns"))).items });
  return (
    <Flex vertical gap={12}>
      {access.canOrganiseCampaigns && (
        <div>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
            新建体检活动
          </Button>
        </div>
      )}
      <Table<Campaign>
        data-testid="campaigns"
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.data ?? []}
        scroll={{ x: 640 }}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        columns={[
          { title: "活动名称", key: "name", render: (_, c) => <Link to={`/checkups/${c.id}`}>{c.name}</Link> },
          { title: "时间", key: "period", render: (_, c) => `${c.startDate} 至 ${c.endDate}` },
          { title: "医疗机构", dataIndex: "provider" },
          { title: "范围", key: "units", render: (_, c) => c.orgUnits.join("、") },
        ]}
      />
      <CreateCampaign open={creating} onClose={() => setCreating(false)} />
    </Flex>
  );
}

function Referral({ item, onClose }: { item: FollowUp | null; onClose: () => void }) {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const refer = useMutation({
    mutationFn: (v: { hospital: string; date: Dayjs; note?: string }) =>
      unwrap(
        api.POST("/api/v1/follow-ups/{id}/referral", {
          params: { path: { id: item!.id } },
          body: { hospital: v.hospital, date: v.date ? day(v.date) : "", note: v.note || null },
        }),
      ),
    onSuccess: () => {
      message.success("已登记转诊");
      void qc.invalidateQueries({ queryKey: ["follow-ups"] });
      form.resetFields();
      onClose();
    },
    onError: (err) => {
      if (err instanceof ApiError && err.fieldIssues.length) form.setFields(err.fieldIssues.map((i) => ({ name: i.field, errors: [i.message] })));
      else message.error(err instanceof Error ? err.message : "保存失败");
    },
  });
  return (
    <Modal
      title={item ? `登记转诊：${item.childName}（${item.label}）` : ""}
      open={Boolean(item)}
      onCancel={onClose}
      okText="登记"
      confirmLoading={refer.isPending}
      onOk={() => form.submit()}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" onFinish={(v) => refer.mutate(v)}>
        <Form.Item name="hospital" label="转诊医院" rules={[{ required: true, message: "请填写转诊医院" }]}>
          <Input maxLength={100} />
        </Form.Item>
        <Form.Item name="date" label="转诊日期" rules={[{ required: true, message: "请选择转诊日期" }]}>
          <DatePicker style={{ width: "100%" }} />
        </Form.Item>
        <Form.Item name="note" label="说明（可选）">
          <Input.TextArea rows={3} maxLength={500} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

const FOLLOW_STATUS: Record<string, string> = { open: "待随访", referred: "已转诊", resolved: "复查正常", closed: "儿童已退出" };
const followColor: Record<string, string> = { open: "red", referred: "blue", resolved: "green", closed: "default" };

/** 异常与随访: children with findings, who follows each up, and referral. */
function FollowUps() {
  const { access } = useSession();
  const [status, setStatus] = useState<string>("open");
  const [referring, setReferring] = useState<FollowUp | null>(null);
  const list = useQuery({
    queryKey: ["follow-ups", status],
    queryFn: async () =>
      (
        await unwrap<{ items: FollowUp[] }>(
          api.GET("/api/v1/follow-ups", { params: { query: { ...(status ? { status: status as "open" } : {}), limit: 500 } } }),
        )
      ).items,
  });
  const children = new Set((list.data ?? []).map((f) => f.childId)).size;
  return (
    <Flex vertical gap={12}>
      <Space wrap>
        <Segmented
          aria-label="随访状态"
          value={status}
          onChange={(v) => setStatus(String(v))}
          options={[...Object.entries(FOLLOW_STATUS).map(([value, label]) => ({ value, label })), { value: "", label: "全部" }]}
        />
        <Typography.Text data-testid="flagged-count">
          {children} 名儿童 · {list.data?.length ?? 0} 项
        </Typography.Text>
      </Space>
      <Table<FollowUp>
        data-testid="follow-ups"
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.data ?? []}
        scroll={{ x: 720 }}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        columns={[
          { title: "儿童", key: "child", render: (_, f) => <Link to={`/children/${f.childId}`}>{f.childName}</Link> },
          { title: "异常", dataIndex: "label" },
          { title: "发现时间", key: "createdAt", render: (_, f) => f.createdAt.slice(0, 10) },
          { title: "随访人", dataIndex: "ownerName" },
          { title: "状态", key: "status", render: (_, f) => <Tag color={followColor[f.status]}>{f.statusLabel}</Tag> },
          {
            title: "操作",
            key: "op",
            render: (_, f) =>
              access.canReferFollowUps && f.status === "open" ? (
                <Button size="small" onClick={() => setReferring(f)} aria-label={`登记转诊 ${f.childName} ${f.label}`}>
                  登记转诊
                </Button>
              ) : null,
          },
        ]}
      />
      <Referral item={referring} onClose={() => setReferring(null)} />
    </Flex>
  );
}

/** 体检: campaigns (each with its roster, results grid and import) and the findings being followed up. */
export default function Checkups() {
  const [params, setParams] = useSearchParams();
  return (
    <Flex vertical gap={16}>
      <Typography.Title level={4} style={{ margin: 0 }}>
        体检
      </Typography.Title>
      <Tabs
        activeKey={params.get("tab") ?? "campaigns"}
        onChange={(tab) => setParams({ tab })}
        items={[
          { key: "campaigns", label: "体检活动", children: <Campaigns /> },
          { key: "follow-ups", label: "异常与随访", children: <FollowUps /> },
        ]}
      />
    </Flex>
  );
}
