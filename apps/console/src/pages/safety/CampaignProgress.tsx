import { useState } from "react";
import { App, Button, Card, DatePicker, Flex, Progress, Result, Segmented, Skeleton, Space, Table, Tabs, Tag, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import dayjs, { type Dayjs } from "dayjs";
import { api, ApiError, unwrap } from "../../services/client";
import { useSession } from "../../auth/session";
import { useSchools, useVillageNames } from "../../services/hooks";
import type { SafetyProgress } from "../../services/models";

type Group = SafetyProgress["villages"][number];
type Child = SafetyProgress["children"][number];
const percent = (g: { total: number; reached: number }) => (g.total ? Math.round((g.reached / g.total) * 100) : 0);

function GroupTable({ rows, name, testId }: { rows: Group[]; name: (code: string) => string; testId: string }) {
  return (
    <Table<Group>
      data-testid={testId}
      rowKey="code"
      size="small"
      dataSource={rows}
      pagination={false}
      columns={[
        { title: "单位", key: "name", render: (_, g) => name(g.code) },
        { title: "已完成", key: "n", width: 110, render: (_, g) => `${g.reached}/${g.total}` },
        {
          title: "未覆盖",
          key: "left",
          width: 80,
          render: (_, g) => (g.total - g.reached ? <Tag color="red">{g.total - g.reached}</Tag> : <Tag color="green">0</Tag>),
        },
        { title: "进度", key: "p", width: 160, render: (_, g) => <Progress percent={percent(g)} size="small" aria-label={`${name(g.code)} 完成进度`} /> },
      ]}
    />
  );
}

/** A campaign's progress: by village and by school, who has not been reached, and recording children reached. */
export default function CampaignProgress() {
  const { id } = useParams();
  const { access } = useSession();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [filter, setFilter] = useState<"unreached" | "all">("unreached");
  const [selected, setSelected] = useState<string[]>([]);
  const [date, setDate] = useState<Dayjs | null>(dayjs());
  const data = useQuery({
    queryKey: ["safety-campaign", id, filter],
    queryFn: () =>
      unwrap<SafetyProgress>(
        api.GET("/api/v1/safety-campaigns/{id}", { params: { path: { id: id! }, query: filter === "unreached" ? { unreached: "true" } : {} } }),
      ),
  });
  const villages = useVillageNames(access.orgUnit);
  const schools = useSchools();
  const schoolName = (code: string) => (code ? (schools.data?.find((s) => s.id === code)?.name ?? code) : "未登记学校");
  const villageName = (code: string) => villages.data?.get(code) ?? code;
  const reach = useMutation({
    mutationFn: () =>
      unwrap<{ recorded: number; already: number }>(
        api.POST("/api/v1/safety-campaigns/{id}/reach", {
          params: { path: { id: id! } },
          body: { date: date ? date.format("YYYY-MM-DD") : "", childIds: selected },
        }),
      ),
    onSuccess: (r) => {
      message.success(`已登记 ${r.recorded} 名儿童完成教育`);
      setSelected([]);
      void qc.invalidateQueries({ queryKey: ["safety-campaign", id] });
      void qc.invalidateQueries({ queryKey: ["safety-campaigns"] });
    },
    onError: (err) => message.error(err instanceof ApiError && err.fieldIssues[0] ? err.fieldIssues[0].message : (err as Error).message),
  });

  if (data.isLoading) return <Skeleton active />;
  if (!data.data) return <Result status="404" title="找不到该专题教育" extra={<Link to="/safety">返回列表</Link>} />;
  const c = data.data;
  const canRecord = access.canRecordReach;

  return (
    <Flex vertical gap={12}>
      <Space wrap>
        <Typography.Title level={4} style={{ margin: 0 }}>
          {c.title}
        </Typography.Title>
        <Tag color="blue">{c.topic}</Tag>
        {c.overdue ? <Tag color="red">已过期限 {c.deadline}</Tag> : <Tag>期限 {c.deadline}</Tag>}
      </Space>
      {c.description && <Typography.Paragraph type="secondary">{c.description}</Typography.Paragraph>}
      <Card size="small" data-testid="safety-total">
        <Flex align="center" gap={16} wrap>
          <Progress type="circle" size={64} percent={percent(c)} aria-label="总体完成进度" />
          <span>
            已完成 <Typography.Text strong>{c.reached}</Typography.Text> / {c.total} 名儿童，未覆盖{" "}
            <Typography.Text strong type={c.total - c.reached ? "danger" : undefined}>
              {c.total - c.reached}
            </Typography.Text>{" "}
            名
          </span>
        </Flex>
      </Card>
      <Tabs
        items={[
          ...(canRecord
            ? [
                {
                  key: "children",
                  label: "儿童名单",
                  children: (
                    <Flex vertical gap={8}>
                      <Flex gap={8} wrap align="center">
                        <Segmented
                          aria-label="名单筛选"
                          value={filter}
                          onChange={(v) => setFilter(v as "unreached" | "all")}
                          options={[
                            { value: "unreached", label: "未覆盖" },
                            { value: "all", label: "全部" },
                          ]}
                        />
                        <DatePicker aria-label="完成日期" value={date} onChange={setDate} inputReadOnly disabledDate={(d) => d.isAfter(dayjs(), "day")} />
                        <Button type="primary" disabled={selected.length === 0} loading={reach.isPending} onClick={() => reach.mutate()}>
                          登记已完成（{selected.length}）
                        </Button>
                      </Flex>
                      <Table<Child>
                        data-testid="safety-children"
                        rowKey="id"
                        size="small"
                        dataSource={c.children}
                        pagination={{ pageSize: 100, hideOnSinglePage: true }}
                        rowSelection={{
                          selectedRowKeys: selected,
                          onChange: (keys) => setSelected(keys as string[]),
                          getCheckboxProps: (r) => ({ disabled: Boolean(r.reachedOn), "aria-label": `选择 ${r.name}` }),
                        }}
                        columns={[
                          { title: "姓名", dataIndex: "name" },
                          { title: "村", key: "village", render: (_, r) => villageName(r.villageCode) },
                          { title: "学校", key: "school", render: (_, r) => schoolName(r.schoolId ?? "") },
                          {
                            title: "完成",
                            key: "done",
                            render: (_, r) => (r.reachedOn ? <Tag color="green">{r.reachedOn}</Tag> : <Tag color="red">未覆盖</Tag>),
                          },
                        ]}
                      />
                    </Flex>
                  ),
                },
              ]
            : []),
          { key: "villages", label: "按村", children: <GroupTable rows={c.villages} name={villageName} testId="safety-villages" /> },
          { key: "schools", label: "按学校", children: <GroupTable rows={c.schools} name={schoolName} testId="safety-schools" /> },
        ]}
      />
    </Flex>
  );
}
