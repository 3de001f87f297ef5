import { useState } from "react";
import { Alert, App, Button, Card, Col, DatePicker, Empty, Form, Input, Modal, Popconfirm, Radio, Row, Skeleton, Space, Tag, Timeline, Typography } from "antd";
import { PlusOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import dayjs, { type Dayjs } from "dayjs";
import { ApiError, api, unwrap } from "../../services/client";
import { useSession } from "../../auth/session";
import { Chart } from "../../components/Chart";
import type { Child } from "../../services/models";

type Entry = { id: string; kind: "award" | "note"; date: string; title: string; detail: string | null; author: { username: string; name: string } };
type Exam = { id: string; date: string; heightCm?: number | null; weightKg?: number | null; bmi?: number | null; flags: { label: string }[] };
type Activity = { id: string; date: string; kindLabel: string; leader: string; siteName: string };
type Visit = { id: string; date: string; kindLabel: string; visitorName?: string | null; onTime?: boolean | null };
type Reference = {
  stuntingHeight: { age: number; value: number }[];
  wastingBmi: { age: number; moderateSevere: number; mild: number }[];
  overweightBmi: { age: number; overweight: number; obese: number }[];
  sources: string[];
};
type Item = { key: string; date: string; color: string; tag: string; title: string; detail?: string | null; entry?: Entry };

/** Age in years (one decimal) on a day: the x axis of the growth charts, as the WS/T tables count age. */
const ageOn = (birthDate: string, day: string) => Math.round(dayjs(day).diff(dayjs(birthDate), "month", true) / 1.2) / 10;

/**
 * 成长档案: one timeline per child of visits, 儿童之家 activities attended, check-ups, awards and notes, each part as the
 * need-to-know table lets the caller see it (a part the caller may not read is left out, not
 * shown as an error), and the child's height and BMI by age against the WS/T reference curves.
 */
export function GrowthFile({ child }: { child: Child }) {
  const { access, claims } = useSession();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [adding, setAdding] = useState(false);
  const [form] = Form.useForm<{ kind: "award" | "note"; date: Dayjs; title: string; detail?: string }>();
  const id = child.id;
  const entries = useQuery({
    queryKey: ["growth-entries", id],
    enabled: access.canSeeGrowthNotes,
    queryFn: async () => (await unwrap<{ items: Entry[] }>(api.GET("/api/v1/children/{id}/growth-entries", { params: { path: { id } } }))).items,
  });
  const visits = useQuery({
    queryKey: ["growth-visits", id],
    retry: false,
    queryFn: async () => (await unwrap<{ items: Visit[] }>(api.GET("/api/v1/visit-records", { params: { query: { childId: id, limit: 100 } } }))).items,
  });
  const exams = useQuery({
    queryKey: ["growth-exams", id],
    retry: false,
    queryFn: async () => (await unwrap<{ items: Exam[] }>(api.GET("/api/v1/exams", { params: { query: { childId: id } } }))).items,
  });
  const activities = useQuery({
    queryKey: ["growth-activities", id],
    enabled: access.canSeeHomes,
    retry: false,
    queryFn: async () => (await unwrap<{ items: Activity[] }>(api.GET("/api/v1/sites/attended", { params: { query: { childId: id } } }))).items,
  });
  const reference = useQuery({
    queryKey: ["growth-reference", child.sex],
    staleTime: Infinity,
    queryFn: () => unwrap<Reference>(api.GET("/api/v1/growth-reference", { params: { query: { sex: child.sex as "male" | "female" } } })),
  });
  const add = useMutation({
    mutationFn: (v: { kind: "award" | "note"; date: Dayjs; title: string; detail?: string }) =>
      unwrap<Entry>(
        api.POST("/api/v1/children/{id}/growth-entries", {
          params: { path: { id } },
          body: { kind: v.kind, date: v.date.format("YYYY-MM-DD"), title: v.title, detail: v.detail || null },
        }),
      ),
    onSuccess: () => {
      void message.success("已记入成长档案");
      setAdding(false);
      form.resetFields();
      void qc.invalidateQueries({ queryKey: ["growth-entries", id] });
    },
    onError: (e) => void message.error((e as Error).message),
  });
  const remove = useMutation({
    mutationFn: (entryId: string) => unwrap(api.DELETE("/api/v1/children/{id}/growth-entries/{entryId}", { params: { path: { id, entryId } } })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["growth-entries", id] }),
    onError: (e) => void message.error((e as Error).message),
  });

  const items: Item[] = [
    ...(entries.data ?? []).map((e) => ({
      key: `e${e.id}`,
      date: e.date,
      color: e.kind === "award" ? "magenta" : "purple",
      tag: e.kind === "award" ? "获奖" : "成长记录",
      title: e.title,
      detail: [e.detail, `（${e.author.name}记）`].filter(Boolean).join(" "),
      entry: e,
    })),
    ...(visits.data ?? []).map((v) => ({
      key: `v${v.id}`,
      date: v.date,
      color: "blue",
      tag: "走访",
      title: [v.kindLabel, v.visitorName].filter(Boolean).join(" · "),
      detail: v.onTime === false ? "补访" : null,
    })),
    ...(activities.data ?? []).map((a) => ({
      key: `a${a.id}`,
      date: a.date,
      color: "geekblue",
      tag: "活动",
      title: `${a.siteName} · ${a.kindLabel}`,
      detail: `带领：${a.leader}`,
    })),
    ...(exams.data ?? []).map((x) => ({
      key: `x${x.id}`,
      date: x.date,
      color: x.flags.length ? "red" : "green",
      tag: "体检",
      title: [x.heightCm ? `身高 ${x.heightCm} cm` : null, x.weightKg ? `体重 ${x.weightKg} kg` : null].filter(Boolean).join("，") || "已体检",
      detail: x.flags.length ? `异常提示：${x.flags.map((f) => f.label).join("、")}` : "未见异常",
    })),
  ].sort((a, b) => b.date.localeCompare(a.date));

  const measured = (exams.data ?? []).filter((x) => x.heightCm).sort((a, b) => a.date.localeCompare(b.date));
  const ages = measured.map((x) => ageOn(child.birthDate, x.date));
  const ref = reference.data;
  // The reference curves around the child's own ages (a year either side), not the whole 6–18 range.
  const [lo, hi] = ages.length ? [Math.floor(Math.min(...ages)) - 1, Math.ceil(Math.max(...ages)) + 1] : [-Infinity, Infinity];
  const near = <T extends { age: number }>(rows: T[] | undefined) => (rows ?? []).filter((r) => r.age >= lo && r.age <= hi);
  const line = (name: string, points: [number, number][], dashed = true) => ({
    type: "line" as const,
    name,
    data: points,
    showSymbol: false,
    lineStyle: { type: dashed ? ("dashed" as const) : ("solid" as const), width: dashed ? 1 : 2 },
  });
  const loading = entries.isLoading || visits.isLoading || exams.isLoading || activities.isLoading;
  // A part refused by need-to-know (403) is left out quietly; one that failed otherwise (a service down: 503,
  // the network) is said, so a missing strand is never mistaken for "nothing happened".
  const failed = (q: { isError: boolean; error: unknown }) => q.isError && !(q.error instanceof ApiError && q.error.status === 403);
  const unavailable = [
    failed(entries) && "获奖和成长记录",
    failed(visits) && "走访记录",
    failed(activities) && "儿童之家活动",
    failed(exams) && "体检记录",
  ].filter((x): x is string => Boolean(x));
  const mayRemove = (e: Entry) => e.author.username === claims.username || access.canRemoveGrowthNotes;

  return (
    <div data-testid="growth-file">
      {measured.length > 0 && ref && (
        <Row gutter={[12, 12]} style={{ marginBottom: 12 }}>
          <Col xs={24} lg={12}>
            <Card size="small" title="身高（cm）">
              <Chart
                testId="growth-height"
                label={`身高随年龄变化，与 WS/T 456-2014 生长迟缓界值对照：${measured.map((x) => `${x.date} ${x.heightCm}厘米`).join("，")}`}
                height={240}
                option={{
                  tooltip: { trigger: "axis" },
                  legend: { bottom: 0 },
                  grid: { left: 44, right: 16, top: 16, bottom: 48 },
                  xAxis: { type: "value", name: "岁", min: "dataMin", max: "dataMax" },
                  yAxis: { type: "value", scale: true },
                  series: [
                    line(
                      "本人",
                      measured.map((x, i) => [ages[i]!, x.heightCm!]),
                      false,
                    ),
                    line(
                      "生长迟缓界值",
                      near(ref.stuntingHeight).map((r) => [r.age, r.value]),
                    ),
                  ],
                }}
              />
            </Card>
          </Col>
          <Col xs={24} lg={12}>
            <Card size="small" title="体重指数 BMI（kg/m²）">
              <Chart
                testId="growth-bmi"
                label={`BMI 随年龄变化，与 WS/T 586-2018 超重、肥胖和 WS/T 456-2014 消瘦界值对照：${measured
                  .filter((x) => x.bmi)
                  .map((x) => `${x.date} ${x.bmi}`)
                  .join("，")}`}
                height={240}
                option={{
                  tooltip: { trigger: "axis" },
                  legend: { bottom: 0 },
                  grid: { left: 44, right: 16, top: 16, bottom: 48 },
                  xAxis: { type: "value", name: "岁", min: "dataMin", max: "dataMax" },
                  yAxis: { type: "value", scale: true },
                  series: [
                    line(
                      "本人",
                      measured.flatMap((x, i) => (x.bmi ? [[ages[i]!, x.bmi] as [number, number]] : [])),
                      false,
                    ),
                    line(
                      "肥胖",
                      near(ref.overweightBmi).map((r) => [r.age, r.obese]),
                    ),
                    line(
                      "超重",
                      near(ref.overweightBmi).map((r) => [r.age, r.overweight]),
                    ),
                    line(
                      "轻度消瘦",
                      near(ref.wastingBmi).map((r) => [r.age, r.mild]),
                    ),
                  ],
                }}
              />
            </Card>
          </Col>
          <Col span={24}>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              参考：{ref.sources.join("；")}
            </Typography.Text>
          </Col>
        </Row>
      )}
      {access.canWriteGrowthNotes && child.status === "active" && (
        <Button icon={<PlusOutlined />} onClick={() => setAdding(true)} style={{ marginBottom: 12 }}>
          记一笔
        </Button>
      )}
      {!access.canSeeGrowthNotes && <Alert type="info" showIcon style={{ marginBottom: 12 }} message="获奖和成长记录仅个案工作者和结对教师可见" />}
      {unavailable.length > 0 && (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 12 }}
          data-testid="growth-unavailable"
          message={`${unavailable.join("、")}暂时无法读取，时间线中缺少这部分，请稍后刷新`}
        />
      )}
      {loading ? (
        <Skeleton active />
      ) : items.length === 0 ? (
        <Empty description="成长档案还是空的" />
      ) : (
        <Timeline
          items={items.map((it) => ({
            key: it.key,
            color: it.color === "geekblue" ? "#2f54eb" : it.color,
            children: (
              <div data-testid="growth-item">
                <Space wrap size={6}>
                  <Typography.Text strong>{it.date}</Typography.Text>
                  <Tag color={it.color}>{it.tag}</Tag>
                  <span>{it.title}</span>
                  {it.entry && mayRemove(it.entry) && (
                    <Popconfirm title="删除这条记录？" okText="删除" cancelText="取消" onConfirm={() => remove.mutate(it.entry!.id)}>
                      <Button size="small" type="link" danger>
                        删除
                      </Button>
                    </Popconfirm>
                  )}
                </Space>
                {it.detail && <div style={{ fontSize: 13, color: "rgba(0,0,0,0.65)" }}>{it.detail}</div>}
              </div>
            ),
          }))}
        />
      )}
      <Modal
        open={adding}
        title="记入成长档案"
        okText="保存"
        cancelText="取消"
        confirmLoading={add.isPending}
        onOk={() => form.submit()}
        onCancel={() => setAdding(false)}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" initialValues={{ kind: "award", date: dayjs() }} onFinish={(v) => add.mutate(v)}>
          <Form.Item name="kind" label="类型">
            <Radio.Group
              options={[
                { value: "award", label: "获奖" },
                { value: "note", label: "成长记录" },
              ]}
            />
          </Form.Item>
          <Form.Item name="date" label="日期" rules={[{ required: true, message: "请选择日期" }]}>
            <DatePicker disabledDate={(d) => d.isAfter(dayjs(), "day") || d.isBefore(dayjs(child.birthDate), "day")} />
          </Form.Item>
          <Form.Item
            name="title"
            label="标题"
            rules={[
              { required: true, whitespace: true, message: "请填写标题" },
              { max: 100, message: "标题最多100字" },
            ]}
          >
            <Input placeholder="如：县小学生作文比赛二等奖" />
          </Form.Item>
          <Form.Item name="detail" label="内容" rules={[{ max: 1000, message: "内容最多1000字" }]}>
            <Input.TextArea rows={3} />
          </Form.Item>
        </Form>
      </Modal>
    </div>
  );
}
