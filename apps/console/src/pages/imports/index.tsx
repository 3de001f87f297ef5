import { useState } from "react";
import { App, Alert, Button, Card, Flex, Grid, Progress, Radio, Space, Table, Tag, Typography, Upload } from "antd";
import { useNavigate } from "react-router";
import { DownloadOutlined, InboxOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import dayjs from "dayjs";
import { api, ApiError, fetchBlob, saveBlob, unwrap } from "../../services/client";
import type { ImportBatch, ImportRejection, Page } from "../../services/models";

const STATUS: Record<string, { text: string; color: string }> = {
  queued: { text: "排队中", color: "default" },
  running: { text: "导入中", color: "processing" },
  completed: { text: "已完成", color: "success" },
  failed: { text: "失败", color: "error" },
  preview: { text: "待确认", color: "warning" },
  rejected: { text: "整表未导入", color: "error" },
};
const statusOf = (s: string) => STATUS[s] ?? { text: s, color: "default" };
const done = (b: ImportBatch) => ["completed", "failed", "rejected", "preview"].includes(b.status);

/** Every rejection of a batch (the API pages by cursor; a register has at most a few thousand rows). */
async function allRejections(id: string): Promise<ImportRejection[]> {
  const out: ImportRejection[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<ImportRejection> = await unwrap(
      api.GET("/api/v1/imports/{id}/rejections", { params: { path: { id }, query: { limit: 500, ...(cursor ? { cursor: Number(cursor) } : {}) } } }),
    );
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

async function downloadRejections(batch: ImportBatch, rows: ImportRejection[]) {
  const { default: writeXlsxFile } = await import("write-excel-file/browser");
  const header = ["工作表", "行号", "姓名", "未导入原因"].map((value) => ({ value, fontWeight: "bold" as const }));
  const data = [header, ...rows.map((r) => [r.sheet, r.rowNumber, r.name ?? "", r.reasons.join("；")])];
  await writeXlsxFile(data, { columns: [{ width: 14 }, { width: 8 }, { width: 12 }, { width: 80 }], sheet: "未导入的行" }).toFile(
    `未导入的行-${batch.fileName.replace(/\.xlsx$/i, "")}.xlsx`,
  );
}

/**
 * 导入: the template, an upload, the batch's progress polled until it finishes,
 * then the rows that were not imported with their reasons (to correct in the
 * register and upload again) and the recent batches.
 */
export default function ImportPage() {
  const { message } = App.useApp();
  const screens = Grid.useBreakpoint();
  const qc = useQueryClient();
  const [current, setCurrent] = useState<string | null>(null);
  const [mode, setMode] = useState<"create" | "update">("create");
  const navigate = useNavigate();

  const batches = useQuery({
    queryKey: ["imports"],
    queryFn: async () => (await unwrap<{ items: ImportBatch[] }>(api.GET("/api/v1/imports"))).items,
  });
  const batch = useQuery({
    queryKey: ["imports", current],
    enabled: Boolean(current),
    queryFn: () => unwrap<ImportBatch>(api.GET("/api/v1/imports/{id}", { params: { path: { id: current! } } })),
    refetchInterval: (q) => (q.state.data && done(q.state.data) ? false : 1000),
  });
  const finished = batch.data && done(batch.data);
  const rejections = useQuery({
    queryKey: ["imports", current, "rejections"],
    enabled: Boolean(current && finished && batch.data!.rejectedRows > 0),
    queryFn: () => allRejections(current!),
  });
  if (finished && batches.data?.find((b) => b.id === current && !done(b))) void qc.invalidateQueries({ queryKey: ["imports"], exact: true });

  const upload = useMutation({
    mutationFn: async (file: File) => {
      const body = new FormData();
      body.append("file", file);
      return unwrap<ImportBatch>(api.POST("/api/v1/imports", { params: { query: { mode } }, body: body as never, bodySerializer: () => body }));
    },
    onSuccess: (b) => {
      setCurrent(b.id);
      void qc.invalidateQueries({ queryKey: ["imports"], exact: true });
      message.success(
        b.duplicateUpload ? "该文件已上传过，显示原批次结果" : b.mode === "update" ? "已上传，正在与现有档案比对，生成预览" : "已上传，正在逐行校验导入",
      );
    },
    onError: (err) => message.error(err instanceof ApiError ? err.message : "上传失败"),
  });
  const template = useMutation({
    mutationFn: async () => saveBlob(await fetchBlob("/api/v1/imports/template"), "留守儿童登记表模板.xlsx"),
    onError: (err) => message.error(err instanceof Error ? err.message : "下载失败"),
  });

  const b = batch.data;
  const percent = b ? (b.totalRows > 0 ? Math.round((b.processedRows / b.totalRows) * 100) : done(b) ? 100 : 0) : 0;

  return (
    <Flex vertical gap={16}>
      <Typography.Title level={4} style={{ margin: 0 }}>
        批量导入
      </Typography.Title>
      <Card
        title="上传乡镇登记表"
        extra={
          <Button icon={<DownloadOutlined />} loading={template.isPending} onClick={() => template.mutate()}>
            下载模板
          </Button>
        }
      >
        <Radio.Group
          value={mode}
          onChange={(e) => setMode(e.target.value as "create" | "update")}
          style={{ marginBottom: 12 }}
          aria-label="导入方式"
          options={[
            { value: "create", label: "新建档（已建档的儿童不会重复导入）" },
            { value: "update", label: "重新导入更新（按身份证号比对，预览确认后生效）" },
          ]}
        />
        <div data-testid="import-upload">
          <Upload.Dragger
            accept=".xlsx"
            multiple={false}
            showUploadList={false}
            disabled={upload.isPending}
            beforeUpload={(file) => {
              upload.mutate(file);
              return false;
            }}
          >
            <p className="ant-upload-drag-icon">
              <InboxOutlined />
            </p>
            <p className="ant-upload-text">点击或将登记表（.xlsx）拖到此处上传</p>
            <p className="ant-upload-hint">请使用模板填写；同一文件重复上传不会重复建档。单个文件不超过 50 MB。</p>
          </Upload.Dragger>
        </div>
      </Card>

      {b && (
        <Card title={`导入进度：${b.fileName}`} data-testid="import-progress">
          <Progress
            percent={percent}
            aria-label={`导入进度 ${percent}%`}
            status={b.status === "failed" || b.status === "rejected" ? "exception" : finished ? "success" : "active"}
          />
          <Space wrap size={[16, 8]} style={{ marginTop: 8 }}>
            <Tag color={statusOf(b.status).color}>{statusOf(b.status).text}</Tag>
            <span>共 {b.totalRows} 行</span>
            <span>已处理 {b.processedRows} 行</span>
            <Typography.Text type="success">导入 {b.acceptedRows} 行</Typography.Text>
            <Typography.Text type={b.rejectedRows ? "danger" : "secondary"}>未导入 {b.rejectedRows} 行</Typography.Text>
          </Space>
          {b.error && <Alert type="error" showIcon style={{ marginTop: 12 }} title={b.error} />}
          {b.status === "preview" && (
            <Alert
              type="warning"
              showIcon
              style={{ marginTop: 12 }}
              title="比对完成，档案尚未改动：请查看预览并确认"
              action={
                <Button type="primary" onClick={() => navigate(`/imports/${b.id}/preview`)}>
                  查看预览
                </Button>
              }
            />
          )}
        </Card>
      )}

      {b && finished && b.rejectedRows > 0 && (
        <Card
          title="未导入的行"
          extra={
            <Button icon={<DownloadOutlined />} disabled={!rejections.data} onClick={() => void downloadRejections(b, rejections.data!)}>
              下载（.xlsx）
            </Button>
          }
        >
          <Alert type="warning" showIcon style={{ marginBottom: 12 }} title="请按原因在登记表中改正这些行后重新上传；已导入的行不会重复建档。" />
          <Table<ImportRejection>
            data-testid="rejections-table"
            rowKey={(r) => `${r.sheet}-${r.rowNumber}`}
            loading={rejections.isLoading}
            dataSource={rejections.data}
            size="small"
            pagination={{ pageSize: 20, hideOnSinglePage: true }}
            columns={
              screens.md
                ? [
                    { title: "工作表", dataIndex: "sheet", width: 110 },
                    { title: "行号", dataIndex: "rowNumber", width: 70 },
                    { title: "姓名", dataIndex: "name", width: 100, render: (v: string | null) => v ?? "—" },
                    { title: "未导入原因", dataIndex: "reasons", render: (rs: string[]) => rs.map((r) => <div key={r}>{r}</div>) },
                  ]
                : // A phone has room for one column: the row, then its reasons.
                  [
                    {
                      title: "行与原因",
                      render: (_: unknown, r: ImportRejection) => (
                        <>
                          <Typography.Text strong>
                            第 {r.rowNumber} 行 · {r.name ?? "—"}
                          </Typography.Text>
                          {r.reasons.map((x) => (
                            <div key={x}>{x}</div>
                          ))}
                        </>
                      ),
                    },
                  ]
            }
          />
        </Card>
      )}

      <Card title="最近的导入批次">
        <Table<ImportBatch>
          data-testid="batches-table"
          rowKey="id"
          loading={batches.isLoading}
          dataSource={batches.data}
          size="small"
          pagination={{ pageSize: 10, hideOnSinglePage: true }}
          onRow={(r) => ({ onClick: () => setCurrent(r.id), style: { cursor: "pointer" } })}
          locale={{ emptyText: "暂无导入记录" }}
          columns={
            screens.md
              ? [
                  { title: "文件", dataIndex: "fileName", ellipsis: true },
                  { title: "状态", dataIndex: "status", width: 90, render: (s: string) => <Tag color={statusOf(s).color}>{statusOf(s).text}</Tag> },
                  { title: "导入 / 未导入", width: 120, render: (_: unknown, r: ImportBatch) => `${r.acceptedRows} / ${r.rejectedRows}` },
                  { title: "上传人", dataIndex: "createdBy", width: 100, render: (v: string | null) => v ?? "—" },
                  { title: "上传时间", dataIndex: "createdAt", width: 150, render: (v: string) => dayjs(v).format("YYYY-MM-DD HH:mm") },
                ]
              : [
                  {
                    title: "批次",
                    render: (_: unknown, r: ImportBatch) => (
                      <>
                        <div style={{ wordBreak: "break-all" }}>{r.fileName}</div>
                        <Space size={8} wrap>
                          <Tag color={statusOf(r.status).color}>{statusOf(r.status).text}</Tag>
                          <span>{`${r.acceptedRows} / ${r.rejectedRows}`}</span>
                          <Typography.Text type="secondary">{dayjs(r.createdAt).format("MM-DD HH:mm")}</Typography.Text>
                        </Space>
                      </>
                    ),
                  },
                ]
          }
        />
      </Card>
    </Flex>
  );
}
