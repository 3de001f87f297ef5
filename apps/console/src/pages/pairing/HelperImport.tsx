import { useState } from "react";
import { App, Button, Card, Space, Table, Typography, Upload } from "antd";
import { UploadOutlined } from "@ant-design/icons";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap } from "../../services/client";
import type { HelperImportResult } from "../../services/models";

/**
 * 导入帮扶人: one .xlsx (姓名、类别、性别、手机号、所属单位代码、学校标识码、可帮扶人数), answered
 * at once with every row's outcome. The button goes in the page's toolbar, the outcome below it.
 */
export function useHelperImport() {
  const qc = useQueryClient();
  const { message } = App.useApp();
  const [result, setResult] = useState<HelperImportResult | null>(null);
  const run = useMutation({
    mutationFn: async (file: File) => {
      const body = new FormData();
      body.append("file", file);
      return unwrap<HelperImportResult>(api.POST("/api/v1/helpers/import", { body: body as never, bodySerializer: () => body }));
    },
    onSuccess: (r) => {
      setResult(r);
      void qc.invalidateQueries({ queryKey: ["helpers"] });
    },
    onError: (err) => message.error(err instanceof ApiError ? err.message : "导入失败"),
  });
  const rejected = result?.rows.filter((r) => r.status === "rejected") ?? [];
  const button = (
    <span data-testid="helper-import">
      <Upload
        accept=".xlsx"
        showUploadList={false}
        beforeUpload={(file) => {
          run.mutate(file);
          return false;
        }}
      >
        <Button icon={<UploadOutlined />} loading={run.isPending}>
          导入帮扶人
        </Button>
      </Upload>
    </span>
  );
  const outcome = result && (
    <Card
      size="small"
      title="帮扶人导入结果"
      extra={<Button onClick={() => setResult(null)}>关闭</Button>}
      data-testid="helper-import-outcome"
      style={{ marginBottom: 12 }}
    >
      <Space wrap size={[16, 8]}>
        <Typography.Text type="success">新增 {result.created}</Typography.Text>
        <span>更新 {result.updated}</span>
        <Typography.Text type={rejected.length ? "danger" : "secondary"}>未导入 {rejected.length} 行</Typography.Text>
      </Space>
      {rejected.length > 0 && (
        <Table
          style={{ marginTop: 12 }}
          size="small"
          rowKey="rowNumber"
          pagination={false}
          dataSource={rejected}
          columns={[
            { title: "行号", dataIndex: "rowNumber", width: 56 },
            { title: "姓名", dataIndex: "name", width: 88, render: (v: string | null) => v ?? "—" },
            { title: "未导入原因", dataIndex: "reasons", render: (r: string[]) => <Typography.Text type="danger">{r.join("；")}</Typography.Text> },
          ]}
        />
      )}
    </Card>
  );
  return { button, outcome };
}
