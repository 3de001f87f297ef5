import { useState } from "react";
import { Alert, App, Button, Card, Flex, Result, Segmented, Skeleton, Space, Statistic, Table, Tabs, Tag, Typography, Upload } from "antd";
import { DownloadOutlined, InboxOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams, useSearchParams } from "react-router";
import { api, ApiError, fetchBlob, unwrap } from "../../services/client";
import { useSession } from "../../auth/session";
import { FIELD_LABEL, type Campaign, type Coverage, type ImportResult, type RosterEntry } from "./model";
import { ResultsGrid } from "./ResultsGrid";

const STATUS: Record<RosterEntry["status"], { text: string; color: string }> = {
  done: { text: "已检", color: "green" },
  due: { text: "待检", color: "blue" },
  missed: { text: "未检", color: "red" },
};

function Roster({ roster }: { roster: RosterEntry[] }) {
  const [status, setStatus] = useState<string>("all");
  const rows = status === "all" ? roster : roster.filter((r) => r.status === status);
  return (
    <Flex vertical gap={12}>
      <Segmented
        aria-label="名单筛选"
        value={status}
        onChange={(v) => setStatus(String(v))}
        options={[
          { value: "all", label: `全部 ${roster.length}` },
          ...(["done", "due", "missed"] as const).map((s) => ({ value: s, label: `${STATUS[s].text} ${roster.filter((r) => r.status === s).length}` })),
        ]}
      />
      <Table<RosterEntry>
        data-testid="roster"
        rowKey="id"
        size="small"
        dataSource={rows}
        scroll={{ x: 640 }}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        columns={[
          { title: "姓名", key: "name", render: (_, r) => <Link to={`/children/${r.id}`}>{r.name}</Link> },
          { title: "性别", key: "sex", render: (_, r) => (r.sex === "male" ? "男" : "女") },
          { title: "出生日期", dataIndex: "birthDate" },
          { title: "状态", key: "status", render: (_, r) => <Tag color={STATUS[r.status].color}>{STATUS[r.status].text}</Tag> },
          { title: "检查日期", key: "date", render: (_, r) => r.exam?.date ?? "—" },
          {
            title: "异常",
            key: "flags",
            render: (_, r) =>
              r.exam
                ? r.exam.flags.length
                  ? r.exam.flags.map((f) => (
                      <Tag key={f.kind} color="red">
                        {f.label}
                      </Tag>
                    ))
                  : "无异常记录"
                : "—",
          },
        ]}
      />
    </Flex>
  );
}

function saveBlob(blob: Blob, fileName: string) {
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement("a"), { href: url, download: fileName });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** 批量导入: the roster as .xlsx to fill in, uploaded back; each row not recorded with its reasons in Chinese. */
function ResultsImport({ campaign }: { campaign: Campaign }) {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [result, setResult] = useState<ImportResult | null>(null);
  const upload = useMutation({
    mutationFn: async (file: File) => {
      const body = new FormData();
      body.append("file", file);
      return unwrap<ImportResult>(
        api.POST("/api/v1/campaigns/{id}/results", { params: { path: { id: campaign.id } }, body: body as never, bodySerializer: () => body }),
      );
    },
    onSuccess: (r) => {
      setResult(r);
      void qc.invalidateQueries({ queryKey: ["roster", campaign.id] });
      void qc.invalidateQueries({ queryKey: ["follow-ups"] });
      message.success(`已录入 ${r.accepted} 行，未录入 ${r.rejected} 行`);
    },
    onError: (err) => message.error(err instanceof ApiError ? err.message : "上传失败"),
  });
  const roster = useMutation({
    mutationFn: async () => saveBlob(await fetchBlob(`/api/v1/campaigns/${campaign.id}/roster.xlsx`), `${campaign.name}-体检名单.xlsx`),
    onError: (err) => message.error(err instanceof Error ? err.message : "下载失败"),
  });
  return (
    <Flex vertical gap={12}>
      <Space wrap>
        <Button icon={<DownloadOutlined />} loading={roster.isPending} onClick={() => roster.mutate()}>
          下载体检名单
        </Button>
        <Typography.Text type="secondary">在名单中填写结果后上传；每行单独录入，有误的行不影响其他行。</Typography.Text>
      </Space>
      <div data-testid="results-upload">
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
          <p className="ant-upload-text">点击或将填好的体检名单（.xlsx）拖到此处上传</p>
        </Upload.Dragger>
      </div>
      {result && (
        <Card title="上传结果" data-testid="import-result">
          <Space size={24} wrap>
            <Statistic title="共" value={result.rows} suffix="行" />
            <Statistic title="已录入" value={result.accepted} suffix="行" />
            <Statistic title="未录入" value={result.rejected} suffix="行" styles={{ content: { color: result.rejected ? "#cf1322" : undefined } }} />
          </Space>
          {result.errors.length > 0 && (
            <Table
              data-testid="import-rejections"
              style={{ marginTop: 16 }}
              size="small"
              rowKey="row"
              dataSource={result.errors}
              pagination={{ pageSize: 20, hideOnSinglePage: true }}
              columns={[
                { title: "行号", dataIndex: "row", width: 70 },
                {
                  title: "未录入原因",
                  key: "issues",
                  render: (_, e) => e.issues.map((i) => `${FIELD_LABEL[i.field] ?? i.field}：${i.message}`).join("；"),
                },
              ]}
            />
          )}
        </Card>
      )}
    </Flex>
  );
}

/** One campaign: coverage, the roster (已检/待检/未检), the results grid and the import. */
export default function CampaignDetail() {
  const { id = "" } = useParams();
  const { access } = useSession();
  const [params, setParams] = useSearchParams();
  const roster = useQuery({
    queryKey: ["roster", id],
    retry: false,
    queryFn: () => unwrap<{ campaign: Campaign; items: RosterEntry[] }>(api.GET("/api/v1/campaigns/{id}/roster", { params: { path: { id } } })),
  });
  const coverage = useQuery({
    queryKey: ["coverage", id, roster.dataUpdatedAt],
    retry: false,
    queryFn: () => unwrap<Coverage>(api.GET("/api/v1/campaigns/{id}/coverage", { params: { path: { id } } })),
  });
  if (roster.isLoading) return <Skeleton active />;
  if (roster.isError || !roster.data)
    return <Result status="404" title="未找到该体检活动" subTitle={(roster.error as Error)?.message} extra={<Link to="/checkups">返回体检</Link>} />;
  const { campaign, items } = roster.data;
  const total = coverage.data?.total;
  return (
    <Flex vertical gap={16}>
      <Flex justify="space-between" align="center" wrap gap={8}>
        <Typography.Title level={4} style={{ margin: 0 }}>
          {campaign.name}
        </Typography.Title>
        <Link to="/checkups">返回体检活动</Link>
      </Flex>
      <Card size="small">
        <Space size={32} wrap>
          <span>
            {campaign.startDate} 至 {campaign.endDate} · {campaign.provider}
          </span>
          {total && (
            <Space size={24} data-testid="coverage">
              <Statistic title="应检" value={total.inScope} />
              <Statistic title="已检" value={total.examined} />
              <Statistic title="未检" value={total.missed} />
            </Space>
          )}
        </Space>
      </Card>
      {coverage.isError && <Alert type="warning" showIcon title={(coverage.error as Error).message} />}
      <Tabs
        activeKey={params.get("tab") ?? "roster"}
        onChange={(tab) => setParams({ tab })}
        items={[
          { key: "roster", label: "体检名单", children: <Roster roster={items} /> },
          ...(access.canRecordExams
            ? [
                { key: "grid", label: "结果录入", children: <ResultsGrid campaign={campaign} roster={items} /> },
                { key: "import", label: "批量导入", children: <ResultsImport campaign={campaign} /> },
              ]
            : []),
        ]}
      />
    </Flex>
  );
}
