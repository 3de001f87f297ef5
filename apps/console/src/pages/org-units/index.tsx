import { useMemo, useState } from "react";
import { Alert, App, Button, Card, Flex, Form, Grid, Input, Modal, Select, Space, Switch, Table, Tabs, Tag, Typography, Upload } from "antd";
import type { ColumnsType } from "antd/es/table";
import { PlusOutlined, UploadOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Navigate } from "react-router";
import { useSession } from "../../auth/session";
import { api, ApiError, unwrap } from "../../services/client";
import type { ListImportResult, MergeResult, OrgOverview, OverviewSchool, OverviewUnit } from "../../services/models";

const LEVEL: Record<string, string> = { county: "县", township: "乡镇", village: "村（社区）" };
const SCHOOL_TYPES = ["小学", "初中", "九年一贯制"] as const;
const errorText = (err: unknown, fallback: string) => (err instanceof ApiError ? err.message : fallback);
const KEY = ["org-units", "overview"];

/** Townships with their villages under them (the table's tree). */
function tree(units: OverviewUnit[], showRetired: boolean): (OverviewUnit & { key: string; rows?: OverviewUnit[] })[] {
  const shown = units.filter((u) => u.level !== "county" && (showRetired || !u.retiredAt));
  return shown
    .filter((u) => u.level === "township")
    .map((t) => {
      const villages = shown.filter((v) => v.parentCode === t.code).map((v) => ({ ...v, key: v.code }));
      return { ...t, key: t.code, ...(villages.length ? { rows: villages } : {}) };
    });
}

function Status({ unit, names }: { unit: { retiredAt: string | null; mergedInto?: string | null }; names: Map<string, string> }) {
  if (!unit.retiredAt) return <Tag color="green">在用</Tag>;
  if (unit.mergedInto) return <Tag>已并入{names.get(unit.mergedInto) ?? unit.mergedInto}</Tag>;
  return <Tag>已撤销</Tag>;
}

/** On a phone the name carries the count of children and (when retired) the status: four columns do not fit. */
function NameCell({ name, count, phone, status, retired }: { name: string; count: number; phone: boolean; status: React.ReactNode; retired: boolean }) {
  if (!phone) return name;
  return (
    <Flex vertical gap={2}>
      <span>{name}</span>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        在册儿童 {count}
      </Typography.Text>
      {retired && status}
    </Flex>
  );
}

/** The outcome of a list import: counts, then every row not imported with its reasons. */
function ImportOutcome({ result, title, onClose }: { result: ListImportResult; title: string; onClose: () => void }) {
  return (
    <Card size="small" title={title} extra={<Button onClick={onClose}>关闭</Button>} data-testid="import-outcome">
      <Space wrap size={[16, 8]}>
        <Typography.Text type="success">新增 {result.created}</Typography.Text>
        <span>更新 {result.updated}</span>
        <span>无变化 {result.unchanged}</span>
        <Typography.Text type={result.rejections.length ? "danger" : "secondary"}>未导入 {result.rejections.length} 行</Typography.Text>
      </Space>
      {result.rejections.length > 0 && (
        <Table
          style={{ marginTop: 12 }}
          size="small"
          rowKey="rowNumber"
          pagination={false}
          scroll={{ x: 560 }}
          dataSource={result.rejections}
          columns={[
            { title: "行号", dataIndex: "rowNumber", width: 64 },
            { title: "代码", dataIndex: "code", width: 140, render: (v: string | null) => v ?? "—" },
            { title: "名称", dataIndex: "name", width: 140, render: (v: string | null) => v ?? "—" },
            { title: "未导入原因", dataIndex: "reasons", render: (r: string[]) => <Typography.Text type="danger">{r.join("；")}</Typography.Text> },
          ]}
        />
      )}
    </Card>
  );
}

function useListImport(path: "/api/v1/org-units/import" | "/api/v1/schools/import") {
  const qc = useQueryClient();
  const { message } = App.useApp();
  const [result, setResult] = useState<ListImportResult | null>(null);
  const mutation = useMutation({
    mutationFn: async (file: File) => {
      const body = new FormData();
      body.append("file", file);
      return unwrap<ListImportResult>(api.POST(path, { body: body as never, bodySerializer: () => body }));
    },
    onSuccess: (r) => {
      setResult(r);
      void qc.invalidateQueries({ queryKey: KEY });
    },
    onError: (err) => message.error(errorText(err, "导入失败")),
  });
  return { result, clear: () => setResult(null), mutation };
}

function ImportButton({ label, run, testId }: { label: string; run: ReturnType<typeof useListImport>["mutation"]; testId: string }) {
  return (
    <span data-testid={testId}>
      <Upload
        accept=".xlsx"
        showUploadList={false}
        beforeUpload={(file) => {
          run.mutate(file);
          return false;
        }}
      >
        <Button icon={<UploadOutlined />} loading={run.isPending}>
          {label}
        </Button>
      </Upload>
    </span>
  );
}

type UnitDialog = { kind: "new" } | { kind: "rename"; unit: OverviewUnit } | { kind: "merge"; unit: OverviewUnit };

function UnitsTab({ data }: { data: OrgOverview }) {
  const { message, modal } = App.useApp();
  const qc = useQueryClient();
  const [showRetired, setShowRetired] = useState(false);
  const [dialog, setDialog] = useState<UnitDialog | null>(null);
  const [form] = Form.useForm();
  const names = useMemo(() => new Map(data.units.map((u) => [u.code, u.name])), [data.units]);
  const imports = useListImport("/api/v1/org-units/import");
  const done = (text: string) => {
    message.success(text);
    setDialog(null);
    void qc.invalidateQueries({ queryKey: KEY });
  };

  const save = useMutation({
    mutationFn: async (values: { code?: string; name?: string; into?: string }) => {
      if (dialog?.kind === "new") return unwrap(api.POST("/api/v1/org-units", { body: { code: values.code!, name: values.name! } }));
      if (dialog?.kind === "rename")
        return unwrap(api.PATCH("/api/v1/org-units/{code}", { params: { path: { code: dialog.unit.code } }, body: { name: values.name! } }));
      if (dialog?.kind === "merge")
        return unwrap<MergeResult>(api.POST("/api/v1/org-units/{code}/merge", { params: { path: { code: dialog.unit.code } }, body: { into: values.into! } }));
      return null;
    },
    onSuccess: (r) => {
      if (dialog?.kind === "merge") {
        const m = r as MergeResult;
        done(`已合并：迁入在册儿童 ${m.movedChildren} 名${m.movedSchools ? `、学校 ${m.movedSchools} 所` : ""}`);
      } else done(dialog?.kind === "new" ? "已新建" : "已改名");
    },
    onError: (err) => {
      if (err instanceof ApiError && err.fieldIssues.length) {
        form.setFields(err.fieldIssues.map((i) => ({ name: i.field === "into" ? "into" : i.field, errors: [i.message] })));
      } else modal.error({ title: "未能保存", content: errorText(err, "保存失败") });
    },
  });

  const retire = (unit: OverviewUnit) =>
    modal.confirm({
      title: `撤销${LEVEL[unit.level]}：${unit.name}`,
      content: "撤销后不再出现在选择列表中；代码保留、不再启用，历史档案仍显示其名称。仍有在册儿童、学校或下级村（社区）时不能撤销。",
      okText: "撤销",
      okButtonProps: { danger: true },
      cancelText: "取消",
      onOk: async () => {
        try {
          await unwrap(api.POST("/api/v1/org-units/{code}/retire", { params: { path: { code: unit.code } } }));
          done(`已撤销${unit.name}`);
        } catch (err) {
          modal.error({ title: "不能撤销", content: errorText(err, "撤销失败") });
        }
      },
    });

  const phone = !Grid.useBreakpoint().md;
  const columns: ColumnsType<OverviewUnit> = [
    {
      title: "名称",
      dataIndex: "name",
      width: phone ? undefined : 200,
      render: (name: string, u) => (
        <NameCell name={name} count={u.childCount} phone={phone} status={<Status unit={u} names={names} />} retired={Boolean(u.retiredAt)} />
      ),
    },
    // On a phone: name, children, status and actions (the code is in each dialog's title and text).
    { title: "代码", dataIndex: "code", width: 140, responsive: ["md"] },
    { title: "级别", dataIndex: "level", width: 100, responsive: ["md"], render: (l: string) => LEVEL[l] },
    { title: "在册儿童", dataIndex: "childCount", width: 90, align: "right", responsive: ["md"] },
    { title: "状态", key: "status", width: 140, responsive: ["md"], render: (_, u) => <Status unit={u} names={names} /> },
    {
      title: "操作",
      key: "actions",
      width: 200,
      render: (_, u) =>
        u.retiredAt ? null : (
          <Space size={0}>
            <Button
              type="link"
              size="small"
              onClick={() => (form.resetFields(), form.setFieldsValue({ name: u.name }), setDialog({ kind: "rename", unit: u }))}
            >
              改名
            </Button>
            <Button type="link" size="small" onClick={() => (form.resetFields(), setDialog({ kind: "merge", unit: u }))}>
              合并
            </Button>
            <Button type="link" size="small" danger onClick={() => retire(u)}>
              撤销
            </Button>
          </Space>
        ),
    },
  ];

  const mergeTargets =
    dialog?.kind === "merge"
      ? data.units
          .filter((u) => u.level === dialog.unit.level && !u.retiredAt && u.code !== dialog.unit.code)
          .map((u) => ({ value: u.code, label: `${u.name}（${u.code}）` }))
      : [];

  return (
    <Flex vertical gap={12}>
      <Flex wrap gap={8} align="center">
        <Button type="primary" icon={<PlusOutlined />} onClick={() => (form.resetFields(), setDialog({ kind: "new" }))}>
          新建乡镇/村
        </Button>
        <ImportButton label="导入区划代码表" run={imports.mutation} testId="division-import" />
        <Space>
          <Switch checked={showRetired} onChange={setShowRetired} aria-label="显示已撤销" />
          <span>显示已撤销</span>
        </Space>
      </Flex>
      <Typography.Text type="secondary">
        区划代码表（.xlsx）需有“区划代码”“名称”两列，“级别”可选；统计用12位代码（如 {data.county.code}100000）按其级别读取。
      </Typography.Text>
      {imports.result && <ImportOutcome title="区划代码表导入结果" result={imports.result} onClose={imports.clear} />}
      <Table
        data-testid="org-unit-table"
        size="middle"
        rowKey="code"
        columns={columns}
        dataSource={tree(data.units, showRetired)}
        expandable={{ childrenColumnName: "rows", defaultExpandAllRows: true }}
        pagination={false}
        scroll={{ x: "max-content" }}
      />
      <Modal
        open={dialog !== null}
        title={
          dialog?.kind === "new" ? "新建乡镇或村（社区）" : dialog?.kind === "rename" ? `改名：${dialog.unit.name}` : dialog ? `合并：${dialog.unit.name}` : ""
        }
        okText={dialog?.kind === "merge" ? "合并" : "保存"}
        cancelText="取消"
        confirmLoading={save.isPending}
        onOk={() => form.submit()}
        onCancel={() => setDialog(null)}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)}>
          {dialog?.kind === "new" && (
            <Form.Item
              name="code"
              label="行政区划代码"
              extra="9位为乡镇，12位为村（社区）；代码建立后不可修改"
              rules={[{ required: true, message: "请填写代码" }]}
            >
              <Input inputMode="numeric" maxLength={12} />
            </Form.Item>
          )}
          {dialog?.kind === "rename" && <Typography.Paragraph type="secondary">代码 {dialog.unit.code} 不变，只改名称。</Typography.Paragraph>}
          {(dialog?.kind === "new" || dialog?.kind === "rename") && (
            <Form.Item name="name" label="名称" rules={[{ required: true, whitespace: true, message: "请填写名称" }]}>
              <Input maxLength={60} />
            </Form.Item>
          )}
          {dialog?.kind === "merge" && (
            <>
              <Alert
                type="warning"
                showIcon
                style={{ marginBottom: 16 }}
                title={
                  dialog.unit.level === "village"
                    ? `${dialog.unit.name}的 ${dialog.unit.childCount} 名在册儿童将迁入所选村（社区），每人档案记下这次变更；${dialog.unit.name}随后撤销。`
                    : `${dialog.unit.name}的学校将迁入所选乡镇，${dialog.unit.name}随后撤销。其下的村（社区）须先合并到所选乡镇的村（社区）。`
                }
              />
              <Form.Item name="into" label="并入" rules={[{ required: true, message: "请选择并入的区划" }]}>
                <Select showSearch optionFilterProp="label" options={mergeTargets} placeholder="选择同级区划" />
              </Form.Item>
            </>
          )}
        </Form>
      </Modal>
    </Flex>
  );
}

function SchoolsTab({ data }: { data: OrgOverview }) {
  const { message, modal } = App.useApp();
  const qc = useQueryClient();
  const [showRetired, setShowRetired] = useState(false);
  const [editing, setEditing] = useState<OverviewSchool | "new" | null>(null);
  const [form] = Form.useForm();
  const imports = useListImport("/api/v1/schools/import");
  const townships = data.units.filter((u) => u.level === "township");
  const townshipName = new Map(townships.map((t) => [t.code, t.name]));
  const done = (text: string) => {
    message.success(text);
    setEditing(null);
    void qc.invalidateQueries({ queryKey: KEY });
  };

  const save = useMutation({
    mutationFn: async (v: { code: string; name: string; townshipCode: string; type: (typeof SCHOOL_TYPES)[number] }) =>
      editing === "new"
        ? unwrap(api.POST("/api/v1/schools", { body: v }))
        : unwrap(
            api.PATCH("/api/v1/schools/{id}", {
              params: { path: { id: (editing as OverviewSchool).id } },
              body: { name: v.name, townshipCode: v.townshipCode, type: v.type },
            }),
          ),
    onSuccess: () => done(editing === "new" ? "已新建学校" : "已保存"),
    onError: (err) => {
      if (err instanceof ApiError && err.fieldIssues.length) form.setFields(err.fieldIssues.map((i) => ({ name: i.field, errors: [i.message] })));
      else if (err instanceof ApiError && (err.details as { field?: string } | undefined)?.field)
        form.setFields([{ name: (err.details as { field: string }).field, errors: [err.message] }]);
      else modal.error({ title: "未能保存", content: errorText(err, "保存失败") });
    },
  });

  const retire = (s: OverviewSchool) =>
    modal.confirm({
      title: `撤销学校：${s.name}`,
      content: "撤销后不再出现在就读学校的选择中；仍有在册儿童就读时不能撤销。",
      okText: "撤销",
      okButtonProps: { danger: true },
      cancelText: "取消",
      onOk: async () => {
        try {
          await unwrap(api.POST("/api/v1/schools/{id}/retire", { params: { path: { id: s.id } } }));
          done(`已撤销${s.name}`);
        } catch (err) {
          modal.error({ title: "不能撤销", content: errorText(err, "撤销失败") });
        }
      },
    });

  const open = (s: OverviewSchool | "new") => {
    form.resetFields();
    if (s !== "new") form.setFieldsValue({ code: s.code ?? s.id, name: s.name, townshipCode: s.townshipCode, type: s.type ?? undefined });
    setEditing(s);
  };

  const phone = !Grid.useBreakpoint().md;
  const columns: ColumnsType<OverviewSchool> = [
    {
      title: "学校名称",
      dataIndex: "name",
      width: phone ? undefined : 200,
      render: (name: string, s) => (
        <NameCell name={name} count={s.childCount} phone={phone} status={<Status unit={s} names={townshipName} />} retired={Boolean(s.retiredAt)} />
      ),
    },
    { title: "学校标识码", key: "code", width: 130, responsive: ["md"], render: (_, s) => s.code ?? "—" },
    { title: "办学类型", dataIndex: "type", width: 110, responsive: ["md"], render: (t: string | null) => t ?? "—" },
    { title: "所在乡镇", dataIndex: "townshipCode", width: 120, render: (c: string) => townshipName.get(c) ?? c },
    { title: "在册儿童", dataIndex: "childCount", width: 90, align: "right", responsive: ["md"] },
    { title: "状态", key: "status", width: 90, responsive: ["md"], render: (_, s) => <Status unit={s} names={townshipName} /> },
    {
      title: "操作",
      key: "actions",
      width: 140,
      render: (_, s) =>
        s.retiredAt ? null : (
          <Space size={0}>
            <Button type="link" size="small" onClick={() => open(s)}>
              编辑
            </Button>
            <Button type="link" size="small" danger onClick={() => retire(s)}>
              撤销
            </Button>
          </Space>
        ),
    },
  ];

  return (
    <Flex vertical gap={12}>
      <Flex wrap gap={8} align="center">
        <Button type="primary" icon={<PlusOutlined />} onClick={() => open("new")}>
          新建学校
        </Button>
        <ImportButton label="导入学校名单" run={imports.mutation} testId="school-import" />
        <Space>
          <Switch checked={showRetired} onChange={setShowRetired} aria-label="显示已撤销的学校" />
          <span>显示已撤销</span>
        </Space>
      </Flex>
      <Typography.Text type="secondary">
        学校名单（.xlsx）需有“学校名称”“学校标识码”（10位）“所在乡镇”（名称或9位代码）“办学类型”（小学/初中/九年一贯制）四列。
      </Typography.Text>
      {imports.result && <ImportOutcome title="学校名单导入结果" result={imports.result} onClose={imports.clear} />}
      <Table
        data-testid="school-table"
        size="middle"
        rowKey="id"
        columns={columns}
        dataSource={data.schools.filter((s) => showRetired || !s.retiredAt)}
        pagination={false}
        scroll={{ x: "max-content" }}
      />
      <Modal
        open={editing !== null}
        title={editing === "new" ? "新建学校" : editing ? `编辑：${editing.name}` : ""}
        okText="保存"
        cancelText="取消"
        confirmLoading={save.isPending}
        onOk={() => form.submit()}
        onCancel={() => setEditing(null)}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)}>
          <Form.Item
            name="code"
            label="学校标识码"
            extra={editing === "new" ? "教育部颁发的10位学校标识码；建立后不可修改" : "标识码不可修改"}
            rules={[{ required: true, pattern: /^\d{10}$/, message: "学校标识码应为10位数字" }]}
          >
            <Input inputMode="numeric" maxLength={10} disabled={editing !== "new"} />
          </Form.Item>
          <Form.Item name="name" label="学校名称" rules={[{ required: true, whitespace: true, message: "请填写学校名称" }]}>
            <Input maxLength={60} />
          </Form.Item>
          <Form.Item name="townshipCode" label="所在乡镇" rules={[{ required: true, message: "请选择所在乡镇" }]}>
            <Select options={townships.filter((t) => !t.retiredAt).map((t) => ({ value: t.code, label: t.name }))} />
          </Form.Item>
          <Form.Item name="type" label="办学类型" rules={[{ required: true, message: "请选择办学类型" }]}>
            <Select options={SCHOOL_TYPES.map((t) => ({ value: t, label: t }))} />
          </Form.Item>
        </Form>
      </Modal>
    </Flex>
  );
}

/**
 * 区划与学校: a county admin keeps the county's townships, villages and schools — rename,
 * merge, retire (refused while children are on the register there, with the count), new
 * ones, and the division-code table and school list imported with the rows not taken.
 */
export default function OrgUnitsPage() {
  const { access } = useSession();
  const overview = useQuery({
    queryKey: KEY,
    enabled: access.canKeepOrgUnits,
    queryFn: () => unwrap<OrgOverview>(api.GET("/api/v1/org-units/overview")),
  });
  if (!access.canKeepOrgUnits) return <Navigate to="/" replace />;
  return (
    <Flex vertical gap={16}>
      <Typography.Title level={4} style={{ margin: 0 }}>
        区划与学校{overview.data ? `（${overview.data.county.name}）` : ""}
      </Typography.Title>
      {overview.error && <Alert type="error" showIcon title={errorText(overview.error, "加载失败")} />}
      <Card loading={overview.isLoading}>
        {overview.data && (
          <Tabs
            items={[
              { key: "units", label: "乡镇与村（社区）", children: <UnitsTab data={overview.data} /> },
              { key: "schools", label: "学校", children: <SchoolsTab data={overview.data} /> },
            ]}
          />
        )}
      </Card>
    </Flex>
  );
}
