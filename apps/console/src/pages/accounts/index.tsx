import { useState } from "react";
import { App, Alert, Button, Card, Form, Input, Modal, Popconfirm, Result, Select, Space, Table, Tag, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap } from "../../services/client";
import type { paths } from "../../services/schema";
import { useAccess } from "../../auth/session";
import { ROLE_LABELS } from "../../access";

type AccountList = paths["/api/v1/accounts"]["get"]["responses"][200]["content"]["application/json"];
type Account = AccountList["items"][number];
type CreateBody = paths["/api/v1/accounts"]["post"]["requestBody"]["content"]["application/json"];
type Created = paths["/api/v1/accounts"]["post"]["responses"][201]["content"]["application/json"];

interface Filters {
  q?: string;
  role?: string;
  enabled?: "true" | "false";
}
type FormValues = Partial<CreateBody>;

/** The API's field issues on the form's fields; false when the error names none of them. */
function showFieldErrors(form: ReturnType<typeof Form.useForm<FormValues>>[0], err: unknown): boolean {
  if (!(err instanceof ApiError)) return false;
  const names = ["username", "lastName", "firstName", "role", "orgUnit", "schoolCode", "phone", "email"];
  const issues = err.fieldIssues.filter((i) => names.includes(i.field));
  form.setFields(issues.map((i) => ({ name: i.field as keyof FormValues, errors: [i.message] })));
  return issues.length > 0;
}

/**
 * 账号管理 (county admins): the staff accounts of their jurisdiction, kept in Keycloak —
 * search, create, edit role / org unit / phone / e-mail, disable and enable, and reset the
 * password to a temporary one shown once (the next login asks for a new one). Roles offered
 * are those the gateway lets this admin give (below their own).
 */
export default function AccountsPage() {
  const access = useAccess();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [filters, setFilters] = useState<Filters>({});
  const [editing, setEditing] = useState<Account | "new" | null>(null);
  const [password, setPassword] = useState<{ username: string; value: string } | null>(null);
  const [form] = Form.useForm<FormValues>();
  const role = Form.useWatch("role", form);

  const list = useQuery({
    queryKey: ["accounts", filters],
    enabled: access.canManageAccounts,
    queryFn: () => unwrap<AccountList>(api.GET("/api/v1/accounts", { params: { query: filters } })),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["accounts"] });

  const save = useMutation({
    mutationFn: async (values: FormValues) => {
      const body = { ...values, schoolCode: values.role === "teacher" ? values.schoolCode || null : null };
      if (editing === "new") return unwrap<Created>(api.POST("/api/v1/accounts", { body: body as CreateBody }));
      const patch: Partial<typeof body> = { ...body };
      delete patch.username;
      await unwrap(api.PATCH("/api/v1/accounts/{id}", { params: { path: { id: (editing as Account).id } }, body: patch }));
      return undefined;
    },
    onSuccess: (created) => {
      if (created) setPassword({ username: created.account.username, value: created.temporaryPassword });
      else void message.success("已保存");
      setEditing(null);
      void refresh();
    },
    onError: (err) => {
      if (!showFieldErrors(form, err)) void message.error(err instanceof Error ? err.message : "保存失败");
    },
  });
  const act = useMutation({
    mutationFn: async ({ account, action }: { account: Account; action: "disable" | "enable" | "reset-password" }) => {
      const path = { params: { path: { id: account.id } } };
      if (action === "reset-password") return unwrap<{ temporaryPassword: string }>(api.POST("/api/v1/accounts/{id}/reset-password", path));
      await unwrap(action === "disable" ? api.POST("/api/v1/accounts/{id}/disable", path) : api.POST("/api/v1/accounts/{id}/enable", path));
      return undefined;
    },
    onSuccess: (result, { account, action }) => {
      if (result) setPassword({ username: account.username, value: result.temporaryPassword });
      else void message.success(action === "disable" ? `已停用 ${account.name}` : `已启用 ${account.name}`);
      void refresh();
    },
    onError: (err) => void message.error(err instanceof Error ? err.message : "操作失败"),
  });

  if (!access.canManageAccounts) return <Result status="403" title="只有县级管理员可以管理账号" />;
  const assignable = list.data?.assignableRoles ?? [];

  const open = (account: Account | "new") => {
    form.resetFields();
    if (account !== "new")
      form.setFieldsValue({
        username: account.username,
        lastName: account.lastName ?? "",
        firstName: account.firstName ?? "",
        role: account.role ?? undefined,
        orgUnit: account.orgUnit ?? "",
        schoolCode: account.schoolCode ?? "",
        phone: account.phone ?? "",
        email: account.email ?? "",
      } as FormValues);
    setEditing(account);
  };

  return (
    <div>
      <Typography.Title level={4} style={{ marginTop: 0 }}>
        账号管理
      </Typography.Title>
      <Card size="small" style={{ marginBottom: 16 }}>
        <Space wrap>
          <Input.Search
            placeholder="用户名、姓名、手机号"
            allowClear
            style={{ width: 220 }}
            aria-label="搜索账号"
            onSearch={(q) => setFilters((f) => ({ ...f, q: q.trim() || undefined }))}
          />
          <Select
            placeholder="角色"
            allowClear
            style={{ width: 160 }}
            aria-label="角色"
            options={Object.entries(ROLE_LABELS).map(([value, label]) => ({ value, label }))}
            onChange={(r?: string) => setFilters((f) => ({ ...f, role: r }))}
          />
          <Select
            placeholder="状态"
            allowClear
            style={{ width: 120 }}
            aria-label="状态"
            options={[
              { value: "true", label: "启用" },
              { value: "false", label: "已停用" },
            ]}
            onChange={(e?: "true" | "false") => setFilters((f) => ({ ...f, enabled: e }))}
          />
          <Button type="primary" onClick={() => open("new")}>
            新建账号
          </Button>
        </Space>
      </Card>
      {list.error && <Alert type="error" showIcon message={(list.error as Error).message} style={{ marginBottom: 16 }} />}
      <Table<Account>
        rowKey="id"
        size="middle"
        loading={list.isLoading}
        dataSource={list.data?.items ?? []}
        scroll={{ x: 860 }}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        columns={[
          { title: "姓名", dataIndex: "name", width: 100, fixed: "left" },
          { title: "用户名", dataIndex: "username", width: 160 },
          { title: "角色", dataIndex: "role", width: 130, render: (r: string | null) => (r ? ROLE_LABELS[r] : "—") },
          { title: "所属单位", dataIndex: "orgUnit", width: 130 },
          { title: "手机号", dataIndex: "phone", width: 120, render: (p: string | null) => p ?? "—" },
          {
            title: "状态",
            key: "state",
            width: 130,
            render: (_: unknown, a: Account) => (
              <Space size={4} wrap>
                {a.enabled ? <Tag color="green">启用</Tag> : <Tag>已停用</Tag>}
                {a.mustChangePassword && <Tag color="orange">待改密</Tag>}
              </Space>
            ),
          },
          {
            title: "操作",
            key: "actions",
            width: 200,
            render: (_: unknown, a: Account) =>
              a.manageable ? (
                <Space size={0} wrap>
                  <Button type="link" size="small" onClick={() => open(a)}>
                    编辑
                  </Button>
                  <Popconfirm
                    title={a.enabled ? `停用 ${a.name} 的账号？停用后不能登录。` : `启用 ${a.name} 的账号？`}
                    onConfirm={() => act.mutate({ account: a, action: a.enabled ? "disable" : "enable" })}
                  >
                    <Button type="link" size="small" danger={a.enabled}>
                      {a.enabled ? "停用" : "启用"}
                    </Button>
                  </Popconfirm>
                  <Popconfirm title={`为 ${a.name} 重置密码？将生成临时密码。`} onConfirm={() => act.mutate({ account: a, action: "reset-password" })}>
                    <Button type="link" size="small">
                      重置密码
                    </Button>
                  </Popconfirm>
                </Space>
              ) : (
                <Typography.Text type="secondary">—</Typography.Text>
              ),
          },
        ]}
      />

      <Modal
        open={editing !== null}
        title={editing === "new" ? "新建账号" : `编辑账号：${editing?.name ?? ""}`}
        okText="保存"
        cancelText="取消"
        confirmLoading={save.isPending}
        onOk={() => form.submit()}
        onCancel={() => setEditing(null)}
        destroyOnHidden
      >
        <Form<FormValues> form={form} layout="vertical" onFinish={(v) => save.mutate(v)} requiredMark>
          <Form.Item
            name="username"
            label="用户名"
            rules={[{ required: true, message: "请输入用户名" }]}
            extra="小写字母开头，3–32 位字母、数字、点、下划线或连字符"
          >
            <Input disabled={editing !== "new"} autoComplete="off" />
          </Form.Item>
          <Space.Compact block>
            <Form.Item name="lastName" label="姓" rules={[{ required: true, message: "请输入姓" }]} style={{ width: "40%" }}>
              <Input />
            </Form.Item>
            <Form.Item name="firstName" label="名" rules={[{ required: true, message: "请输入名" }]} style={{ width: "60%" }}>
              <Input />
            </Form.Item>
          </Space.Compact>
          <Form.Item name="role" label="角色" rules={[{ required: true, message: "请选择角色" }]}>
            <Select options={assignable.map((r) => ({ value: r, label: ROLE_LABELS[r] ?? r }))} />
          </Form.Item>
          <Form.Item
            name="orgUnit"
            label="所属单位（行政区划代码）"
            rules={[{ required: true, message: "请输入行政区划代码" }]}
            extra={`本辖区：${access.orgUnit} 开头`}
          >
            <Input inputMode="numeric" />
          </Form.Item>
          {role === "teacher" && (
            <Form.Item name="schoolCode" label="学校代码">
              <Input />
            </Form.Item>
          )}
          <Form.Item name="phone" label="手机号">
            <Input inputMode="tel" />
          </Form.Item>
          <Form.Item name="email" label="邮箱">
            <Input inputMode="email" />
          </Form.Item>
        </Form>
      </Modal>

      <Modal
        open={password !== null}
        title="临时密码"
        footer={<Button onClick={() => setPassword(null)}>我已记下</Button>}
        closable={false}
        maskClosable={false}
      >
        <p>
          账号 <b>{password?.username}</b> 的临时密码（只显示这一次）：
        </p>
        <Typography.Paragraph copyable code style={{ fontSize: 20 }} data-testid="temporary-password">
          {password?.value}
        </Typography.Paragraph>
        <Alert type="warning" showIcon message="请当面或电话告知本人。下次登录时须修改密码。" />
      </Modal>
    </div>
  );
}
