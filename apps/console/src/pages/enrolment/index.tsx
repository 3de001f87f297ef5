import { useState } from "react";
import { Alert, App, Button, Card, Checkbox, Flex, Input, Result, Select, Space, Table, Tag, Typography, Upload } from "antd";
import type { ColumnsType } from "antd/es/table";
import { UploadOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import dayjs from "dayjs";
import { useAccess } from "../../auth/session";
import { api, ApiError, unwrap } from "../../services/client";
import { recentSemesters } from "../reports/format";
import type { EnrolmentImport, EnrolmentMissing, EnrolmentSchools } from "../../services/models";
import { MarkStatus } from "./MarkStatus";

/** The registry's answers, as its OpenAPI document gives them. */
export type SchoolRow = EnrolmentSchools["items"][number];
type MissingChild = EnrolmentMissing["items"][number];
type ImportPreview = EnrolmentImport;
type ListRow = ImportPreview["rows"][number];

const errorText = (err: unknown) => (err instanceof ApiError ? err.message : "操作失败，请稍后再试");
// Tag colours with AA contrast (DEVELOPERS.md: gold, orange, cyan and volcano are too light).
const KIND_COLOR: Record<ListRow["kind"], string> = { matched: "green", name_mismatch: "magenta", not_in_register: "default", invalid: "red" };

/**
 * 控辍保学: a semester's enrolment — each school's list uploaded, previewed and confirmed; the per-school table;
 * the register's school-age children in no list; a child's status by hand. 辍学 opens a 关注事项 for the township.
 */
export default function EnrolmentPage() {
  const access = useAccess();
  const [semesters] = useState(() => recentSemesters(dayjs().format("YYYY-MM-DD")));
  const [semester, setSemester] = useState(semesters[0]!.value);
  const [marking, setMarking] = useState<{ id: string; name: string } | null>(null);
  const schools = useQuery({
    queryKey: ["enrolment", "schools", semester],
    enabled: access.canSeeEnrolment,
    queryFn: () => unwrap<{ items: SchoolRow[] }>(api.GET("/api/v1/enrolments/schools", { params: { query: { semester } } })),
  });
  if (!access.canSeeEnrolment) return <Result status="403" title="当前角色无权查看控辍保学" />;
  const rows = schools.data?.items ?? [];
  const columns: ColumnsType<SchoolRow> = [
    { title: "学校", dataIndex: "schoolName" },
    { title: "乡镇", dataIndex: "townshipName", responsive: ["md"] },
    { title: "在读", dataIndex: "enrolled", align: "right" },
    { title: "休学", dataIndex: "suspended", align: "right" },
    { title: "辍学", dataIndex: "droppedOut", align: "right", render: (v: number) => (v > 0 ? <Tag color="red">{v}</Tag> : v) },
    { title: "转学", dataIndex: "transferredOut", align: "right", responsive: ["sm"] },
    { title: "本校建档儿童", dataIndex: "registered", align: "right", responsive: ["md"] },
    { title: "未入名单", dataIndex: "missing", align: "right", render: (v: number) => (v > 0 ? <Tag color="purple">{v}</Tag> : v) },
    {
      title: "名单",
      dataIndex: "lastImportAt",
      responsive: ["md"],
      render: (v: string | null) => (v ? `已上传 ${dayjs(v).format("MM-DD HH:mm")}` : <Typography.Text type="secondary">未上传</Typography.Text>),
    },
  ];
  return (
    <Flex vertical gap={16}>
      <Flex wrap gap={12} align="center" justify="space-between">
        <Typography.Title level={4} style={{ margin: 0 }}>
          控辍保学
        </Typography.Title>
        <Select aria-label="学期" value={semester} onChange={setSemester} options={semesters} style={{ width: 230 }} />
      </Flex>
      <Card title="各校学籍" size="small">
        {schools.error && <Alert type="error" showIcon message={errorText(schools.error)} />}
        <Table size="small" rowKey="schoolId" aria-label="各校学籍" loading={schools.isLoading} dataSource={rows} columns={columns} pagination={false} />
      </Card>
      {access.canKeepEnrolment && <ListUpload semester={semester} schools={rows} />}
      {access.canKeepEnrolment && (
        <Card title="登记就读状态" size="small">
          <ChildPicker onPick={setMarking} />
        </Card>
      )}
      {access.canSeeMissingEnrolment && <Missing semester={semester} onMark={access.canKeepEnrolment ? setMarking : undefined} />}
      {marking && <MarkStatus child={marking} semester={semester} onClose={() => setMarking(null)} />}
    </Flex>
  );
}

function ListUpload({ semester, schools }: { semester: string; schools: SchoolRow[] }) {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [schoolId, setSchoolId] = useState<string>();
  const [preview, setPreview] = useState<ImportPreview>();
  const [withMismatches, setWithMismatches] = useState(false);
  const [error, setError] = useState<string>();
  const upload = useMutation({
    mutationFn: async (file: File) => {
      const body = new FormData();
      body.append("file", file);
      return unwrap<ImportPreview>(
        api.POST("/api/v1/enrolment-imports", { params: { query: { schoolId: schoolId!, semester } }, body: body as never, bodySerializer: () => body }),
      );
    },
    onSuccess: (p) => {
      setPreview(p);
      setError(undefined);
    },
    onError: (err) => setError(errorText(err)),
  });
  const confirm = useMutation({
    mutationFn: () =>
      unwrap<{ changed: number; unchanged: number; skipped: number; import: ImportPreview }>(
        api.POST("/api/v1/enrolment-imports/{id}/confirm", { params: { path: { id: preview!.id } }, body: { includeNameMismatches: withMismatches } }),
      ),
    onSuccess: (r) => {
      setPreview(r.import);
      message.success(`已记入本学期学籍：变更 ${r.changed} 人，未变 ${r.unchanged} 人`);
      void qc.invalidateQueries({ queryKey: ["enrolment"] });
    },
    onError: (err) => setError(errorText(err)),
  });
  const s = preview?.summary;
  const columns: ColumnsType<ListRow> = [
    { title: "行", dataIndex: "rowNumber", width: 56 },
    { title: "姓名", dataIndex: "name", render: (v: string, r) => (r.registerName ? `${v}（档案：${r.registerName}）` : v) },
    { title: "身份证号", dataIndex: "idNumber", responsive: ["md"] },
    { title: "年级班级", render: (_, r) => [r.grade, r.className].filter(Boolean).join(" ") || "—", responsive: ["md"] },
    { title: "状态", dataIndex: "statusLabel" },
    { title: "比对", dataIndex: "kind", render: (k: ListRow["kind"], r) => <Tag color={KIND_COLOR[k]}>{r.kindLabel}</Tag> },
    { title: "说明", dataIndex: "reasons", render: (v: string[]) => v.join("；") },
  ];
  return (
    <Card title="上传学校学籍名单" size="small">
      <Typography.Paragraph type="secondary">
        .xlsx，第一张工作表，需“身份证号”“姓名”两列，可选“年级”“班级”“就读状态”（在读、休学、辍学、转学；空为在读）。按身份证号与留守儿童档案比对，确认后才记入学籍。
      </Typography.Paragraph>
      <Space wrap>
        <Select
          aria-label="学校"
          placeholder="选择学校"
          style={{ minWidth: 220 }}
          value={schoolId}
          onChange={(v) => {
            setSchoolId(v);
            setPreview(undefined);
          }}
          options={schools.map((x) => ({ value: x.schoolId, label: x.schoolName }))}
        />
        <Upload
          accept=".xlsx"
          showUploadList={false}
          disabled={!schoolId}
          beforeUpload={(file) => {
            upload.mutate(file);
            return false;
          }}
        >
          <Button icon={<UploadOutlined />} disabled={!schoolId} loading={upload.isPending}>
            上传名单
          </Button>
        </Upload>
      </Space>
      {error && <Alert style={{ marginTop: 12 }} type="error" showIcon message={error} />}
      {preview && s && (
        <Flex vertical gap={8} style={{ marginTop: 12 }}>
          <Space wrap aria-label="比对结果">
            <Tag color="green">已匹配 {s.matched}</Tag>
            <Tag color="magenta">姓名不一致 {s.nameMismatch}</Tag>
            <Tag>未在档案中 {s.notInRegister}</Tag>
            <Tag color="red">未通过 {s.invalid}</Tag>
            <Typography.Text type="secondary">共 {s.total} 行</Typography.Text>
          </Space>
          <Table
            size="small"
            rowKey="rowNumber"
            aria-label="名单预览"
            dataSource={preview.rows.filter((r) => r.kind !== "not_in_register")}
            columns={columns}
            pagination={{ pageSize: 20, hideOnSinglePage: true }}
          />
          {preview.state === "confirmed" ? (
            <Alert type="success" showIcon message="该名单已确认，记入本学期学籍" />
          ) : (
            <Space wrap>
              {s.nameMismatch > 0 && (
                <Checkbox checked={withMismatches} onChange={(e) => setWithMismatches(e.target.checked)}>
                  姓名不一致的 {s.nameMismatch} 人也按身份证号记入
                </Checkbox>
              )}
              <Button
                type="primary"
                loading={confirm.isPending}
                onClick={() => confirm.mutate()}
                disabled={s.matched + (withMismatches ? s.nameMismatch : 0) === 0}
              >
                确认导入
              </Button>
            </Space>
          )}
        </Flex>
      )}
    </Card>
  );
}

function Missing({ semester, onMark }: { semester: string; onMark?: (c: { id: string; name: string }) => void }) {
  const missing = useQuery({
    queryKey: ["enrolment", "missing", semester],
    queryFn: () =>
      unwrap<{ total: number; schoolsWithLists: number; items: MissingChild[] }>(api.GET("/api/v1/enrolments/missing", { params: { query: { semester } } })),
  });
  const d = missing.data;
  const columns: ColumnsType<MissingChild> = [
    { title: "姓名", dataIndex: "name" },
    { title: "出生日期", dataIndex: "birthDate", responsive: ["md"] },
    { title: "村", dataIndex: "villageName" },
    { title: "档案学校", dataIndex: "schoolName", render: (v: string | null, r) => [v, r.grade, r.className].filter(Boolean).join(" ") || "—" },
    ...(onMark
      ? [
          {
            title: "",
            key: "mark",
            render: (_: unknown, r: MissingChild) => (
              <Button size="small" onClick={() => onMark({ id: r.id, name: r.name })}>
                登记状态
              </Button>
            ),
          },
        ]
      : []),
  ];
  return (
    <Card title={`未在任何学校名单中${d ? `（${d.total}人）` : ""}`} size="small">
      <Typography.Paragraph type="secondary">
        辖区内6–15周岁在册儿童，本学期没有任何学校名单或人工登记的学籍记录。{d ? `本学期已有 ${d.schoolsWithLists} 所学校确认名单。` : ""}
      </Typography.Paragraph>
      {missing.error && <Alert type="error" showIcon message={errorText(missing.error)} />}
      <Table
        size="small"
        rowKey="id"
        aria-label="未在任何学校名单中"
        loading={missing.isLoading}
        dataSource={d?.items ?? []}
        columns={columns}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
      />
    </Card>
  );
}

function ChildPicker({ onPick }: { onPick: (c: { id: string; name: string }) => void }) {
  const [q, setQ] = useState("");
  const found = useQuery({
    queryKey: ["enrolment", "child-search", q],
    enabled: q.length > 0,
    queryFn: () =>
      unwrap<{ items: { id: string; name: string; villageCode: string; grade: string | null }[] }>(
        api.GET("/api/v1/children", { params: { query: { q, limit: 10 } } }),
      ),
  });
  return (
    <Flex vertical gap={8}>
      <Input.Search
        aria-label="查找儿童"
        placeholder="输入姓名查找儿童，登记在读、休学、辍学或转学"
        allowClear
        enterButton="查找"
        onSearch={(v) => setQ(v.trim())}
        style={{ maxWidth: 420 }}
      />
      {(found.data?.items ?? []).map((c) => (
        <Space key={c.id}>
          <span>{c.name}</span>
          <Typography.Text type="secondary">{c.grade ?? ""}</Typography.Text>
          <Button size="small" onClick={() => onPick({ id: c.id, name: c.name })}>
            登记状态
          </Button>
        </Space>
      ))}
      {found.data && found.data.items.length === 0 && <Typography.Text type="secondary">未找到</Typography.Text>}
    </Flex>
  );
}
