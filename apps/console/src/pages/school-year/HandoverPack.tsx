import { useState } from "react";
import { App, Button, Progress, Space, Tooltip, Typography } from "antd";
import { DownloadOutlined, FilePdfOutlined } from "@ant-design/icons";
import { useMutation, useQuery } from "@tanstack/react-query";
import { api, fetchBlob, saveBlob, unwrap } from "../../services/client";

/** GET /api/v1/exports/{id} (registry routes/exports.ts presentJob). */
interface ExportState {
  id: string;
  kind: string;
  status: "queued" | "running" | "completed" | "failed";
  totalRows: number;
  doneRows: number;
  error: string | null;
  fileUrl: string | null;
  expiresAt: string;
}

/**
 * 交接包: the class's growth files and 联系卡 as one PDF, made by the registry in the background — progress
 * (children done of the class), then the download (kept on the server for a day, like other exports).
 */
export function HandoverPack({ schoolId, grade, className }: { schoolId: string; grade?: string; className?: string }) {
  const { message } = App.useApp();
  const [id, setId] = useState<string | null>(null);
  const start = useMutation({
    mutationFn: () => unwrap<ExportState>(api.POST("/api/v1/exports/handover", { body: { schoolId, className: className!, ...(grade ? { grade } : {}) } })),
    onSuccess: (r) => setId(r.id),
    onError: (e) => void message.error((e as Error).message),
  });
  const state = useQuery({
    queryKey: ["handover-pack", id],
    enabled: Boolean(id),
    refetchInterval: (q) => (q.state.data && ["completed", "failed"].includes(q.state.data.status) ? false : 1000),
    queryFn: () => unwrap<ExportState>(api.GET("/api/v1/exports/{id}", { params: { path: { id: id! } } })),
  });
  const download = useMutation({
    mutationFn: async () => saveBlob(await fetchBlob(state.data!.fileUrl!), `交接包-${grade ?? ""}${className ?? ""}.pdf`),
    onError: (e) => void message.error((e as Error).message),
  });
  const job = state.data;
  const running = Boolean(id) && (!job || job.status === "queued" || job.status === "running");
  const button = (
    <Button icon={<FilePdfOutlined />} disabled={!className} loading={start.isPending || running} onClick={() => start.mutate()}>
      {running ? "正在生成交接包" : "生成交接包（PDF）"}
    </Button>
  );
  return (
    <Space wrap className="no-print" data-testid="handover-pack">
      {className ? button : <Tooltip title="请先按班级查询">{button}</Tooltip>}
      {running && (
        <Space>
          <Progress
            style={{ width: 160, margin: 0 }}
            percent={job?.totalRows ? Math.round((job.doneRows / job.totalRows) * 100) : 0}
            size="small"
            aria-label="交接包进度"
          />
          <Typography.Text type="secondary">
            {job?.doneRows ?? 0} / {job?.totalRows ?? "…"} 人
          </Typography.Text>
        </Space>
      )}
      {job?.status === "completed" && (
        <>
          <Button
            type="primary"
            icon={<DownloadOutlined />}
            loading={download.isPending}
            onClick={() => download.mutate()}
            data-testid="handover-pack-download"
          >
            下载交接包
          </Button>
          <Typography.Text type="secondary">
            {job.totalRows} 人，保留至 {new Date(job.expiresAt).toLocaleString("zh-CN", { hour12: false })}
          </Typography.Text>
        </>
      )}
      {job?.status === "failed" && <Typography.Text type="danger">{job.error ?? "交接包生成失败"}</Typography.Text>}
    </Space>
  );
}
