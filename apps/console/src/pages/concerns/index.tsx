import { useState } from "react";
import { App, Button, Card, Flex, Form, Input, Modal, Select, Space, Table, Typography } from "antd";
import { PlusOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router";
import { api, ApiError, unwrap } from "../../services/client";
import { useSession } from "../../auth/session";
import { CATEGORY, EscalatedTag, ResponseClock, STATUS, StatusTag, dateTime, useNow, type Concern } from "./shared";

type Filters = { status?: string; category?: string; overdue?: "true" | "false"; open?: "true" };
const options = (m: Record<string, string>) => Object.entries(m).map(([value, label]) => ({ value, label }));

/** 报告关注事项: a child found by name, the category and what was seen. */
function RaiseDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { message } = App.useApp();
  const [form] = Form.useForm<{ childId: string; category: string; description: string }>();
  const [q, setQ] = useState("");
  const navigate = useNavigate();
  const qc = useQueryClient();
  const children = useQuery({
    queryKey: ["concern-children", q],
    enabled: open && q.trim().length > 0,
    queryFn: async () =>
      (await unwrap<{ items: { id: string; name: string; birthDate?: string | null }[] }>(api.GET("/api/v1/children", { params: { query: { q, limit: 20 } } })))
        .items,
  });
  const raise = useMutation({
    mutationFn: (v: { childId: string; category: string; description: string }) => unwrap<{ id: string }>(api.POST("/api/v1/concerns", { body: v as never })),
    onSuccess: (r) => {
      message.success("已报告，乡镇督导员会立即收到通知");
      void qc.invalidateQueries({ queryKey: ["concerns"] });
      onClose();
      form.resetFields();
      void navigate(`/concerns/${r.id}`);
    },
    onError: (err) => {
      if (err instanceof ApiError && err.fieldIssues.length)
        form.setFields(err.fieldIssues.map((i) => ({ name: i.field as "description", errors: [i.message] })));
      else message.error(err instanceof Error ? err.message : "报告失败");
    },
  });
  return (
    <Modal title="报告关注事项" open={open} onCancel={onClose} okText="报告" confirmLoading={raise.isPending} onOk={() => form.submit()} destroyOnHidden>
      <Form form={form} layout="vertical" onFinish={(v) => raise.mutate(v)}>
        <Form.Item name="childId" label="儿童" rules={[{ required: true, message: "请选择儿童" }]}>
          <Select
            showSearch={{ filterOption: false, onSearch: setQ }}
            placeholder="输入姓名查找"
            loading={children.isFetching}
            options={(children.data ?? []).map((c) => ({ value: c.id, label: `${c.name}${c.birthDate ? `（${c.birthDate}）` : ""}` }))}
            notFoundContent={q ? "未找到" : "请输入姓名"}
          />
        </Form.Item>
        <Form.Item name="category" label="类别" rules={[{ required: true, message: "请选择类别" }]}>
          <Select options={options(CATEGORY)} placeholder="请选择" />
        </Form.Item>
        <Form.Item name="description" label="发现的情况" rules={[{ required: true, message: "请描述发现的情况" }]}>
          <Input.TextArea rows={4} maxLength={2000} showCount />
        </Form.Item>
      </Form>
    </Modal>
  );
}

/**
 * 关注事项: cases in the user's area (or those they raised), filtered by status,
 * category and whether past their response limit; each with its countdown and
 * whether it went up to the county.
 */
export default function ConcernList() {
  const { access } = useSession();
  const [filters, setFilters] = useState<Filters>({ open: "true" });
  const [raising, setRaising] = useState(false);
  const now = useNow();
  const list = useQuery({
    queryKey: ["concerns", filters],
    queryFn: async () => (await unwrap<{ items: Concern[] }>(api.GET("/api/v1/concerns", { params: { query: { ...(filters as object), limit: 200 } } }))).items,
  });
  const set = (k: keyof Filters) => (v: string | undefined) => setFilters((f) => ({ ...f, [k]: v || undefined }));

  return (
    <Flex vertical gap={16}>
      <Flex justify="space-between" align="center" wrap gap={8}>
        <Typography.Title level={4} style={{ margin: 0 }}>
          关注事项
        </Typography.Title>
        {access.canRaiseConcerns && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setRaising(true)}>
            报告关注事项
          </Button>
        )}
      </Flex>
      <Card size="small">
        <Space wrap size={[12, 8]} data-testid="concern-filters">
          <Select
            aria-label="处理状态"
            style={{ width: 150 }}
            value={filters.status ?? (filters.open ? "__open" : "__all")}
            onChange={(v) => setFilters((f) => ({ ...f, status: v.startsWith("__") ? undefined : v, open: v === "__open" ? "true" : undefined }))}
            options={[
              { value: "__open", label: "未解决" },
              { value: "__all", label: "全部状态" },
              ...Object.entries(STATUS).map(([value, s]) => ({ value, label: s.text })),
            ]}
          />
          <Select
            aria-label="类别"
            style={{ width: 150 }}
            allowClear
            placeholder="全部类别"
            value={filters.category}
            onChange={set("category")}
            options={options(CATEGORY)}
          />
          <Select
            aria-label="响应时限"
            style={{ width: 150 }}
            allowClear
            placeholder="是否超时"
            value={filters.overdue}
            onChange={set("overdue")}
            options={[
              { value: "true", label: "已超时未响应" },
              { value: "false", label: "未超时" },
            ]}
          />
        </Space>
      </Card>
      <Table<Concern>
        data-testid="concern-list"
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.data ?? []}
        scroll={{ x: 900 }}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        columns={[
          { title: "儿童", key: "child", render: (_, c) => (c.childName ? <Link to={`/concerns/${c.id}`}>{c.childName}</Link> : "—") },
          { title: "响应时限", key: "clock", render: (_, c) => <ResponseClock c={c} now={now} /> },
          { title: "类别", key: "category", render: (_, c) => c.categoryLabel },
          { title: "状态", key: "status", render: (_, c) => <StatusTag status={c.status} /> },
          { title: "报告时间", key: "raisedAt", render: (_, c) => dateTime(c.raisedAt) },
          { title: "升级", key: "escalated", render: (_, c) => (c.escalatedAt ? <EscalatedTag at={c.escalatedAt} /> : "—") },
          {
            title: "操作",
            key: "op",
            render: (_, c) => (
              <Link to={`/concerns/${c.id}`} aria-label={`查看 ${c.childName ?? ""} 的关注事项`}>
                查看
              </Link>
            ),
          },
        ]}
      />
      <RaiseDialog open={raising} onClose={() => setRaising(false)} />
    </Flex>
  );
}
