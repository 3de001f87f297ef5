import { useState } from "react";
import { Alert, App, Button, Checkbox, DatePicker, Form, Input, InputNumber, Radio, Select, Space, Switch, Typography } from "antd";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useSearchParams } from "react-router";
import dayjs, { type Dayjs } from "dayjs";
import { useSession } from "../../auth/session";
import { useOnline } from "../../offline/online";
import { dismiss, enqueue, newRecordId, queuedRecord, syncNow, type SyncResult } from "../../offline/queue";
import type { Child, RecordBody } from "../../services/models";
import { api, unwrap } from "../../services/client";
import { labels, options } from "../../services/labels";
import { useCaseload } from "./caseload";
import styles from "./visits.module.css";

/** @shouhu/contracts labels.concernCategory (not imported: it would bundle zod). */
const concernCategory = {
  safety: "安全隐患",
  abuse_suspected: "疑似遭受侵害",
  neglect: "监护缺失",
  health: "健康问题",
  psychological: "心理问题",
  other: "其他",
  dropout_risk: "辍学风险",
};
const metOptions = ["儿童本人", "祖父母", "父亲", "母亲", "其他监护人", "老师"];
/** services/visits BACKDATE_DAYS default: older visits are refused by the API. */
const BACKDATE_DAYS = 31;

interface Values {
  childId: string;
  kind: RecordBody["kind"];
  date: Dayjs;
  met?: string[];
  location?: string;
  durationMinutes?: number;
  livingConditions?: string;
  study?: string;
  health?: string;
  mood?: string;
  safety?: string;
  followUpNeeded?: boolean;
  followUpNote?: string;
  concernRaised?: boolean;
  concernCategory?: NonNullable<RecordBody["concern"]>["category"];
  concernDescription?: string;
  /** 亲情电话: father / mother, and whether the call got through. */
  callWith?: "father" | "mother" | "both";
  callConnected?: boolean;
}

const text = (v?: string) => (v && v.trim() ? v.trim() : undefined);

/**
 * 走访记录: one form for a visit, a call or a talk. Saved on the device first (with the
 * record's UUID, the API's idempotency key), then sent at once when online — offline it
 * waits in the queue ("N 条待同步") and is sent when the signal returns. "发现问题" raises
 * a concern case with the record (强制报告).
 */
export default function VisitForm() {
  const { claims } = useSession();
  const online = useOnline();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [params] = useSearchParams();
  const caseload = useCaseload();
  const [form] = Form.useForm<Values>();
  const [saving, setSaving] = useState(false);
  const [refused, setRefused] = useState<string | null>(null);
  const concernRaised = Form.useWatch("concernRaised", form);
  const followUpNeeded = Form.useWatch("followUpNeeded", form);
  const kind = Form.useWatch("kind", form);
  const callConnected = Form.useWatch("callConnected", form);
  const isCall = kind === "parent_call";
  const initialChild = params.get("childId") ?? undefined;
  const cached = caseload.data?.children ?? [];
  // Opened from a child's page for a child outside the cached caseload (a county admin's, say): named from the API.
  const outside = useQuery({
    queryKey: ["child", initialChild],
    enabled: Boolean(initialChild && caseload.isSuccess && online && !cached.some((c) => c.id === initialChild)),
    queryFn: () => unwrap<Child>(api.GET("/api/v1/children/{id}", { params: { path: { id: initialChild! } } })),
  });
  const children = outside.data
    ? [...cached, { id: outside.data.id, name: outside.data.name, sex: outside.data.sex, birthDate: outside.data.birthDate }]
    : cached;

  const submit = async (v: Values) => {
    setRefused(null);
    const child = children.find((c) => c.id === v.childId);
    const findings = {
      metWith: !isCall && v.met?.length ? v.met.join("、") : undefined,
      livingConditions: text(v.livingConditions),
      study: text(v.study),
      health: text(v.health),
      mood: text(v.mood),
      safety: text(v.safety),
    };
    const body: RecordBody & { id: string } = {
      id: newRecordId(),
      childId: v.childId,
      kind: v.kind,
      date: v.date.format("YYYY-MM-DD"),
      location: isCall ? null : (text(v.location) ?? null),
      // A call not answered has no length.
      durationMinutes: isCall && v.callConnected === false ? null : (v.durationMinutes ?? null),
      call:
        isCall && v.callWith && v.callConnected !== undefined
          ? { with: v.callWith === "both" ? ["father", "mother"] : [v.callWith], connected: v.callConnected }
          : null,
      findings: Object.fromEntries(Object.entries(findings).filter(([, x]) => x !== undefined)),
      followUpNeeded: Boolean(v.followUpNeeded),
      followUpNote: v.followUpNeeded ? (text(v.followUpNote) ?? null) : null,
      concern: v.concernRaised && v.concernCategory ? { category: v.concernCategory, description: v.concernDescription?.trim() ?? "" } : null,
    };
    setSaving(true);
    try {
      // On the device first: a dropped connection mid-send loses nothing, and a resend cannot duplicate it.
      await enqueue(claims.username, body, child?.name ?? "儿童");
      if (!navigator.onLine) {
        message.info("已保存在本机，联网后自动同步");
        return void navigate("/visits");
      }
      const [sent] = await syncNow(claims.username, body.id);
      // The header's sync may have taken it first (it runs when the network returns): read what became of it.
      const left = sent ? undefined : await queuedRecord(body.id);
      const result: SyncResult | undefined =
        sent ??
        (left === undefined
          ? { id: body.id, childName: "", kind: body.kind, date: body.date, outcome: "synced", message: "已同步" }
          : left.status === "conflict"
            ? { id: body.id, childName: "", kind: body.kind, date: body.date, outcome: "conflict", message: left.message ?? "未能保存" }
            : undefined);
      if (!result || result.outcome === "offline") {
        message.info(`已保存在本机：${result?.message ?? "稍后自动同步"}`);
        return void navigate("/visits");
      }
      if (result.outcome === "synced") {
        message.success(result.record?.concernId ? "已登记，发现的问题已上报" : "已登记");
        void queryClient.invalidateQueries({ queryKey: ["caseload"] });
        void queryClient.invalidateQueries({ queryKey: ["visit-history", body.childId] });
        void queryClient.invalidateQueries({ queryKey: ["child-items", body.childId] });
        return void navigate("/visits");
      }
      // Refused now, while the user is here: show why on the form, keep nothing on the device.
      await dismiss(body.id);
      if (result.fieldIssues?.length) {
        form.setFields(
          result.fieldIssues.map((i) => ({
            name: (i.field.startsWith("concern")
              ? "concernDescription"
              : i.field === "call.with"
                ? "callWith"
                : i.field.startsWith("call")
                  ? "callConnected"
                  : i.field.replace(/^findings\./, "")) as keyof Values,
            errors: [i.message],
          })),
        );
      }
      setRefused(result.message);
    } finally {
      setSaving(false);
    }
  };

  const initialKind = (params.get("kind") as Values["kind"] | null) ?? "home_visit";
  return (
    <div className={styles.form}>
      <div className="page-header">
        <h1>走访记录</h1>
        <Link to="/visits">返回我的走访</Link>
      </div>
      {!online && <Alert type="info" showIcon message="当前离线：保存后记录留在本机，联网后自动同步" style={{ marginBottom: 12 }} />}
      {refused && <Alert type="error" showIcon message="未能保存" description={refused} style={{ marginBottom: 12 }} data-testid="form-refused" />}
      <Form<Values>
        form={form}
        layout="vertical"
        onFinish={(v) => void submit(v)}
        initialValues={{ childId: initialChild, kind: initialKind, date: dayjs(), followUpNeeded: false, concernRaised: false }}
        scrollToFirstError
      >
        <Form.Item name="childId" label="儿童" rules={[{ required: true, message: "请选择儿童" }]}>
          <Select
            showSearch
            placeholder={caseload.isLoading ? "读取中…" : "输入姓名查找"}
            optionFilterProp="label"
            loading={caseload.isLoading}
            options={children.map((c) => ({ value: c.id, label: `${c.name}（${labels.sex[c.sex as "male"] ?? ""} ${c.birthDate.slice(0, 4)}年）` }))}
            notFoundContent={caseload.data?.offline ? "本机没有保存这名儿童" : "没有找到"}
          />
        </Form.Item>
        <Form.Item name="kind" label="方式" rules={[{ required: true, message: "请选择走访方式" }]}>
          <Radio.Group optionType="button" options={options(labels.visitKind)} />
        </Form.Item>
        <Form.Item name="date" label="日期" rules={[{ required: true, message: "请选择日期" }]}>
          <DatePicker
            inputReadOnly
            allowClear={false}
            disabledDate={(d) => d.isAfter(dayjs(), "day") || d.isBefore(dayjs().subtract(BACKDATE_DAYS, "day"), "day")}
            style={{ width: 180 }}
          />
        </Form.Item>
        {isCall ? (
          <>
            <Form.Item name="callWith" label="与谁通话" rules={[{ required: true, message: "请选择与谁通话" }]}>
              {/* One tap on a phone; a radio group also carries aria-required, which a checkbox group may not. */}
              <Radio.Group optionType="button" options={[...options(labels.callParty), { value: "both", label: "父母双方" }]} />
            </Form.Item>
            <Form.Item
              name="callConnected"
              label="是否接通"
              rules={[{ required: true, message: "请选择是否接通" }]}
              extra={callConnected === false ? "未接通记为一次尝试，本月亲情电话仍待完成" : undefined}
            >
              <Radio.Group
                optionType="button"
                options={[
                  { value: true, label: "已接通" },
                  { value: false, label: "未接通" },
                ]}
              />
            </Form.Item>
          </>
        ) : (
          <Form.Item name="met" label="见到了谁">
            <Checkbox.Group options={metOptions} />
          </Form.Item>
        )}
        <Typography.Text strong>{isCall ? "通话情况" : "看到的情况"}</Typography.Text>
        <Form.Item name="livingConditions" label="生活情况" style={{ marginTop: 8 }}>
          <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} maxLength={1000} placeholder="吃住、卫生、照料" />
        </Form.Item>
        <Form.Item name="study" label="学习情况">
          <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} maxLength={1000} />
        </Form.Item>
        <Form.Item name="health" label="身体状况">
          <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} maxLength={1000} />
        </Form.Item>
        <Form.Item name="mood" label={isCall ? "聊了什么、孩子的情绪" : "情绪心理"}>
          <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} maxLength={1000} />
        </Form.Item>
        <Form.Item name="safety" label="安全情况">
          <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} maxLength={1000} />
        </Form.Item>
        <Space wrap size={16}>
          {!isCall && (
            <Form.Item name="location" label="地点">
              <Input maxLength={200} placeholder="家中、学校" />
            </Form.Item>
          )}
          {!(isCall && callConnected === false) && (
            <Form.Item name="durationMinutes" label={isCall ? "通话时长（分钟）" : "时长（分钟）"}>
              <InputNumber min={1} max={1440} />
            </Form.Item>
          )}
        </Space>
        <Form.Item name="followUpNeeded" label="需要跟进" valuePropName="checked">
          <Switch />
        </Form.Item>
        {followUpNeeded && (
          <Form.Item name="followUpNote" label="跟进事项" rules={[{ required: true, whitespace: true, message: "需要跟进时请写明跟进事项" }]}>
            <Input.TextArea autoSize={{ minRows: 2 }} maxLength={1000} />
          </Form.Item>
        )}
        <Form.Item
          name="concernRaised"
          label="发现问题"
          valuePropName="checked"
          extra="安全隐患、疑似遭受侵害、监护缺失等：保存时立即登记关注事项并通知乡镇督导员（强制报告）"
        >
          <Switch data-testid="concern-switch" />
        </Form.Item>
        {concernRaised && (
          <>
            <Form.Item name="concernCategory" label="问题类别" rules={[{ required: true, message: "请选择问题类别" }]}>
              <Select options={options(concernCategory)} placeholder="选择类别" style={{ maxWidth: 240 }} />
            </Form.Item>
            <Form.Item name="concernDescription" label="问题描述" rules={[{ required: true, whitespace: true, message: "请描述发现的情况" }]}>
              <Input.TextArea autoSize={{ minRows: 3 }} maxLength={2000} />
            </Form.Item>
            {!online && <Alert type="warning" showIcon message="当前离线：联网同步时才会上报；情况紧急请直接电话报告" style={{ marginBottom: 12 }} />}
          </>
        )}
        <Button type="primary" htmlType="submit" loading={saving} block size="large">
          保存
        </Button>
      </Form>
    </div>
  );
}
