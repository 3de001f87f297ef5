import { useState } from "react";
import { App, Button, DatePicker, Flex, Form, Input, Modal, Progress, Radio, Select, Table, Tag, Typography } from "antd";
import { PlusOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import type { Dayjs } from "dayjs";
import { api, ApiError, unwrap } from "../../services/client";
import { useSession } from "../../auth/session";
import { useOrgUnit, useOrgUnits } from "../../services/hooks";
import type { SafetyCampaign } from "../../services/models";

const percent = (c: { total: number; reached: number }) => (c.total ? Math.round((c.reached / c.total) * 100) : 0);

function CreateCampaign({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { access } = useSession();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const topics = useQuery({
    queryKey: ["safety-topics"],
    staleTime: Infinity,
    queryFn: async () => (await unwrap<{ items: string[] }>(api.GET("/api/v1/safety-campaigns/topics"))).items,
  });
  const self = useOrgUnit(access.orgUnit);
  const townships = useOrgUnits(access.orgLevel === "county" ? access.orgUnit : undefined, "township");
  const units = [
    ...(self.data ? [{ code: self.data.code, name: self.data.name }] : []),
    ...(townships.data ?? []).map((u) => ({ code: u.code, name: u.name })),
  ];
  const create = useMutation({
    mutationFn: (v: { title: string; topic: string; orgUnit: string; deadline: Dayjs; description?: string }) =>
      unwrap(
        api.POST("/api/v1/safety-campaigns", {
          body: {
            title: v.title,
            topic: v.topic as never,
            orgUnit: v.orgUnit,
            deadline: v.deadline ? v.deadline.format("YYYY-MM-DD") : "",
            description: v.description || null,
          },
        }),
      ),
    onSuccess: () => {
      message.success("已布置专题教育");
      void qc.invalidateQueries({ queryKey: ["safety-campaigns"] });
      form.resetFields();
      onClose();
    },
    onError: (err) => {
      if (err instanceof ApiError && err.fieldIssues.length) form.setFields(err.fieldIssues.map((i) => ({ name: i.field, errors: [i.message] })));
      else message.error(err instanceof Error ? err.message : "保存失败");
    },
  });
  return (
    <Modal title="布置安全专题教育" open={open} onCancel={onClose} okText="布置" confirmLoading={create.isPending} onOk={() => form.submit()} destroyOnHidden>
      <Form form={form} layout="vertical" initialValues={{ topic: "防溺水", orgUnit: access.orgUnit }} onFinish={(v) => create.mutate(v)}>
        <Form.Item name="topic" label="主题" rules={[{ required: true }]}>
          <Radio.Group optionType="button" options={(topics.data ?? []).map((t) => ({ value: t, label: t }))} />
        </Form.Item>
        <Form.Item name="title" label="名称" rules={[{ required: true, message: "请填写名称" }]}>
          <Input maxLength={60} placeholder="如 2027年暑期防溺水专题教育" />
        </Form.Item>
        <Form.Item name="orgUnit" label="范围" rules={[{ required: true, message: "请选择范围" }]}>
          <Select options={units.map((u) => ({ value: u.code, label: u.name }))} />
        </Form.Item>
        <Form.Item name="deadline" label="完成期限" rules={[{ required: true, message: "请选择完成期限" }]}>
          <DatePicker style={{ width: "100%" }} inputReadOnly />
        </Form.Item>
        <Form.Item name="description" label="要求（可选）">
          <Input.TextArea rows={3} maxLength={2000} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

/** 安全教育: campaigns in the user's area with how many of their children have been reached. */
export default function SafetyCampaigns() {
  const { access } = useSession();
  const [creating, setCreating] = useState(false);
  const list = useQuery({
    queryKey: ["safety-campaigns"],
    queryFn: async () => (await unwrap<{ items: SafetyCampaign[] }>(api.GET("/api/v1/safety-campaigns"))).items,
  });
  return (
    <Flex vertical gap={12}>
      <Flex justify="space-between" align="center" wrap gap={8}>
        <Typography.Title level={4} style={{ margin: 0 }}>
          安全专题教育
        </Typography.Title>
        {access.canSetSafety && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
            布置专题教育
          </Button>
        )}
      </Flex>
      <Table<SafetyCampaign>
        data-testid="safety-campaigns"
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.data ?? []}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        columns={[
          {
            title: "名称",
            key: "title",
            render: (_, c) => (
              <Flex vertical gap={2}>
                <Link to={`/safety/${c.id}`}>{c.title}</Link>
                <span>
                  <Tag color="blue">{c.topic}</Tag>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {c.orgUnitName ?? c.orgUnit} · 期限 {c.deadline}
                  </Typography.Text>
                  {c.overdue && <Tag color="red">已逾期</Tag>}
                </span>
              </Flex>
            ),
          },
          {
            title: "完成",
            key: "progress",
            width: 150,
            render: (_, c) => (
              <Flex vertical gap={0}>
                <Progress percent={percent(c)} size="small" aria-label={`${c.title} 完成进度`} />
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {c.reached}/{c.total} 名儿童
                </Typography.Text>
              </Flex>
            ),
          },
        ]}
      />
      <CreateCampaign open={creating} onClose={() => setCreating(false)} />
    </Flex>
  );
}
