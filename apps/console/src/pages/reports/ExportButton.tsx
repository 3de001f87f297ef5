import { useState } from "react";
import { App, Button, Progress, Space } from "antd";
import { DownloadOutlined, FileExcelOutlined, FileWordOutlined } from "@ant-design/icons";
import { useMutation, useQuery } from "@tanstack/react-query";
import { api, fetchBlob, saveBlob, unwrap } from "../../services/client";
import type { ReportExport } from "../../services/models";

/**
 * An export of a report (.xlsx; the 工作总结 as .docx): started as a background job, its progress polled
 * each second, and a download button once done (the file expires on the server after a day).
 */
export function ExportButton(props: {
  report: "overview" | "supervision" | "work_summary";
  orgUnit: string;
  month?: string;
  semester?: string;
  schoolId?: string;
  label: string;
}) {
  const { message } = App.useApp();
  const [id, setId] = useState<string | null>(null);
  const start = useMutation({
    mutationFn: () =>
      unwrap<{ id: string }>(
        api.POST("/api/v1/reports/exports", {
          body: { report: props.report, orgUnit: props.orgUnit, month: props.month, semester: props.semester, schoolId: props.schoolId },
        }),
      ),
    onSuccess: (r) => setId(r.id),
    onError: (e) => void message.error((e as Error).message),
  });
  const state = useQuery({
    queryKey: ["report-export", id],
    enabled: Boolean(id),
    refetchInterval: (q) => (q.state.data && ["done", "failed"].includes(q.state.data.status) ? false : 1000),
    queryFn: () => unwrap<ReportExport>(api.GET("/api/v1/reports/exports/{id}", { params: { path: { id: id! } } })),
  });
  const download = useMutation({
    mutationFn: async () =>
      saveBlob(
        await fetchBlob(`/api/v1/reports/exports/${id}/file`),
        state.data?.fileName ?? (props.report === "work_summary" ? "工作总结.docx" : "统计表.xlsx"),
      ),
    onError: (e) => void message.error((e as Error).message),
  });
  const job = state.data;
  const running = Boolean(id) && (!job || job.status === "queued" || job.status === "running");
  return (
    <Space>
      <Button
        icon={props.report === "work_summary" ? <FileWordOutlined /> : <FileExcelOutlined />}
        loading={start.isPending || running}
        onClick={() => start.mutate()}
      >
        {running ? "正在生成" : props.label}
      </Button>
      {running && <Progress type="circle" size={28} percent={Math.round((job?.progress ?? 0) * 100)} aria-label="导出进度" />}
      {job?.status === "done" && (
        <Button type="primary" icon={<DownloadOutlined />} loading={download.isPending} onClick={() => download.mutate()} data-testid="export-download">
          下载
        </Button>
      )}
      {job?.status === "failed" && <span style={{ color: "#cf1322" }}>{job.error ?? "导出失败"}</span>}
    </Space>
  );
}
