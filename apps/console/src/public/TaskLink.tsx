import { useState } from "react";
import { Alert, Button, Card, Checkbox, DatePicker, Form, Input, InputNumber, Radio, Result, Select, Spin, Typography } from "antd";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useParams } from "react-router";
import dayjs, { type Dayjs } from "dayjs";
import type { TaskLinkRecorded, TaskLinkView } from "../services/models";
import { PublicApiError, publicApi } from "./api";

/** GET and POST /api/v1/public/task-links/{token} as visits documents them: only what this page shows (no phones, no other children, no records). */
type LinkView = TaskLinkView;
type Recorded = TaskLinkRecorded;
interface Values {
  date: Dayjs;
  durationMinutes?: number;
  met?: string[];
  howItWent?: string;
  followUpNeeded?: boolean;
  followUpNote?: string;
  concernRaised?: boolean;
  concernCategory?: string;
  concernDescription?: string;
}

/** @shouhu/contracts labels.concernCategory (not imported: it would bundle zod). */
const concernCategories = [
  { value: "safety", label: "安全隐患" },
  { value: "abuse_suspected", label: "疑似遭受侵害" },
  { value: "neglect", label: "监护缺失" },
  { value: "health", label: "健康问题" },
  { value: "psychological", label: "心理问题" },
  { value: "other", label: "其他" },
];
const metOptions: Record<string, string[]> = {
  parent_call: ["父亲", "母亲", "孩子本人"],
  default: ["孩子本人", "祖父母", "父亲", "母亲", "其他监护人", "老师"],
};

/** What each refusal means to the person holding the phone: a title, and the service's own zh-CN message below. */
const refusalTitles: Record<string, string> = {
  LINK_USED: "此链接已使用",
  LINK_EXPIRED: "链接已过期",
  LINK_GONE: "链接已失效",
  ALREADY_DONE: "已有人登记完成",
  LINK_INVALID: "链接无效",
};

function Refused({ error }: { error: unknown }) {
  if (!(error instanceof PublicApiError) || error.status >= 500)
    return <Result status="warning" title="暂时无法打开" subTitle="网络或服务暂时不可用，请稍后再点短信中的链接。" />;
  const title = refusalTitles[error.code] ?? "链接无效";
  const status = error.code === "LINK_USED" || error.code === "ALREADY_DONE" ? "info" : error.status === 404 ? "404" : "warning";
  return <Result status={status} title={title} subTitle={error.message} />;
}

/** Two big buttons rather than a switch: readable at a glance, and a switch's "off" text is too faint (WCAG AA). */
const yesNo = (no: string, yes: string) => [
  { value: false, label: no },
  { value: true, label: yes },
];

const text = (v?: string) => (v && v.trim() ? v.trim() : undefined);

/**
 * The page a one-time SMS link opens (/t/<token>): a proxy parent, volunteer or village cadre without an account
 * records one visit or call for one child — phone-first, one small form, then a done screen. The link is used up
 * by the submit; opening it again says so.
 */
export default function TaskLink() {
  const { token = "" } = useParams();
  const url = `/api/v1/public/task-links/${encodeURIComponent(token)}`;
  const [form] = Form.useForm<Values>();
  const [done, setDone] = useState<Recorded | null>(null);
  const view = useQuery({ queryKey: ["task-link", token], queryFn: () => publicApi<LinkView>(url) });
  const followUpNeeded = Form.useWatch("followUpNeeded", form);
  const concernRaised = Form.useWatch("concernRaised", form);
  const submit = useMutation({
    mutationFn: (v: Values) =>
      publicApi<Recorded>(url, {
        method: "POST",
        body: {
          date: v.date.format("YYYY-MM-DD"),
          durationMinutes: v.durationMinutes ?? null,
          metWith: (v.met ?? []).join("、"),
          howItWent: text(v.howItWent) ?? null,
          followUpNeeded: Boolean(v.followUpNeeded),
          followUpNote: v.followUpNeeded ? (text(v.followUpNote) ?? null) : null,
          concern: v.concernRaised ? { category: v.concernCategory, description: text(v.concernDescription) ?? "" } : null,
        },
      }),
    onSuccess: setDone,
  });

  const page = (children: React.ReactNode) => (
    <main style={{ maxWidth: 520, margin: "0 auto", padding: "16px 12px 32px" }}>
      <Typography.Title level={4} style={{ marginTop: 0 }}>
        守护 · 走访登记
      </Typography.Title>
      {children}
    </main>
  );

  if (done)
    return page(
      <Result
        status="success"
        title="已提交，谢谢您！"
        subTitle={`${done.date} 的${done.kindLabel}已登记${done.onTime ? "" : "（逾期补登）"}。${done.concernRaised ? "您反映的情况已立即通知乡镇工作人员。" : ""}此链接已失效，可以关闭本页。`}
      />,
    );
  if (view.isPending) return page(<Spin size="large" style={{ display: "block", margin: "48px auto" }} />);
  if (view.isError) return page(<Refused error={view.error} />);

  const v = view.data;
  const refusal = submit.error instanceof PublicApiError && submit.error.status !== 400 ? submit.error : null;
  if (refusal) return page(<Refused error={refusal} />);
  const met = metOptions[v.kind] ?? metOptions.default!;
  return page(
    <>
      <Card size="small" style={{ marginBottom: 16 }}>
        <Typography.Text strong style={{ fontSize: 16 }}>
          {v.childName}
        </Typography.Text>
        <Typography.Text type="secondary">（{v.villageName}）</Typography.Text>
        <div style={{ marginTop: 4 }}>
          {v.kindLabel} · 请于 {v.dueDate} 前完成
        </div>
        <Typography.Text type="secondary">填报人：{v.helperName}</Typography.Text>
      </Card>
      {submit.error instanceof PublicApiError && submit.error.status === 400 && (
        <Alert type="error" showIcon style={{ marginBottom: 12 }} message={submit.error.message} />
      )}
      <Form<Values>
        form={form}
        layout="vertical"
        size="large"
        initialValues={{ date: dayjs(v.today), followUpNeeded: false, concernRaised: false }}
        onFinish={(values) => submit.mutate(values)}
      >
        <Form.Item name="date" label={v.kind === "parent_call" ? "通话日期" : "走访日期"} rules={[{ required: true, message: "请选择日期" }]}>
          <DatePicker
            style={{ width: "100%" }}
            inputReadOnly
            disabledDate={(d) => d.isAfter(dayjs(v.today), "day") || d.isBefore(dayjs(v.earliestDate), "day")}
          />
        </Form.Item>
        <Form.Item
          name="met"
          label={v.kind === "parent_call" ? "和谁通了电话" : "见到了谁"}
          // A validator, not `required`: AntD would put aria-required on the checkbox group, which ARIA does not allow there.
          rules={[{ validator: (_, value?: string[]) => (value?.length ? Promise.resolve() : Promise.reject(new Error("请至少选择一项"))) }]}
        >
          <Checkbox.Group options={met} />
        </Form.Item>
        <Form.Item name="durationMinutes" label="时长（分钟）">
          <InputNumber min={1} max={1440} inputMode="numeric" style={{ width: "100%" }} />
        </Form.Item>
        <Form.Item name="howItWent" label="情况怎么样">
          <Input.TextArea rows={3} maxLength={1000} placeholder="孩子的学习、身体、心情，家里有什么困难" />
        </Form.Item>
        <Form.Item name="followUpNeeded" label="需要工作人员跟进吗">
          <Radio.Group optionType="button" buttonStyle="solid" options={yesNo("不需要", "需要")} />
        </Form.Item>
        {followUpNeeded && (
          <Form.Item name="followUpNote" label="需要跟进什么" rules={[{ required: true, message: "请写明需要跟进的事" }]}>
            <Input.TextArea rows={2} maxLength={1000} />
          </Form.Item>
        )}
        <Form.Item name="concernRaised" label="发现孩子有安全问题或受到伤害吗" extra="选“有”会立即通知乡镇工作人员（强制报告）">
          <Radio.Group optionType="button" buttonStyle="solid" options={yesNo("没有", "有")} />
        </Form.Item>
        {concernRaised && (
          <>
            <Form.Item name="concernCategory" label="问题类型" rules={[{ required: true, message: "请选择问题类型" }]}>
              <Select options={concernCategories} placeholder="请选择" />
            </Form.Item>
            <Form.Item name="concernDescription" label="具体情况" rules={[{ required: true, message: "请描述发现的情况" }]}>
              <Input.TextArea rows={3} maxLength={2000} />
            </Form.Item>
          </>
        )}
        <Button type="primary" htmlType="submit" block loading={submit.isPending}>
          提交
        </Button>
        <Typography.Paragraph type="secondary" style={{ marginTop: 12, fontSize: 13 }}>
          此链接只能提交一次，{dayjs(v.expiresAt).format("M月D日 HH:mm")} 前有效。
        </Typography.Paragraph>
      </Form>
    </>,
  );
}
