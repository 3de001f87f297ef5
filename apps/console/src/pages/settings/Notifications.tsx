import { useEffect, useState } from "react";
import { App, Alert, Button, Card, Form, Input, List, Popconfirm, Radio, Result, Select, Space, Tag, TimePicker, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import dayjs, { type Dayjs } from "dayjs";
import { api, ApiError, unwrap } from "../../services/client";
import type { OfficeSettings } from "../../services/models";
import { useAccess } from "../../auth/session";
import { useOrgUnit, useOrgUnits } from "../../services/hooks";
import { countyOf, orgLevel, townshipOf } from "../../services/org-units";

const KIND_LABEL: Record<string, string> = { wecom: "企业微信", dingtalk: "钉钉" };
const FROM_LABEL: Record<string, string> = { office: "本单位设置", county: "沿用县级设置", default: "系统默认" };
const beijing = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", dateStyle: "short", timeStyle: "short", hour12: false });

/**
 * 通知设置 (county admins for the county and each township; a township supervisor for their
 * own township): the office's quiet hours — non-urgent SMS waits for their end, urgent ones
 * never — and its WeCom / DingTalk group robots, shown by host only.
 */
export default function NotificationSettingsPage() {
  const access = useAccess();
  const county = countyOf(access.orgUnit);
  const townships = useOrgUnits(access.orgLevel === "county" ? county : undefined, "township");
  const countyUnit = useOrgUnit(county);
  const [office, setOffice] = useState(access.orgLevel === "county" ? countyOf(access.orgUnit) : townshipOf(access.orgUnit));
  const settings = useQuery({
    queryKey: ["office-settings", office],
    enabled: access.canEditNotificationSettings,
    queryFn: () => unwrap<OfficeSettings>(api.GET("/api/v1/notifications/offices/{orgUnit}", { params: { path: { orgUnit: office } } })),
  });
  if (!access.canEditNotificationSettings) return <Result status="403" title="只有县级管理员和乡镇儿童督导员可以修改通知设置" />;

  const offices =
    access.orgLevel === "county"
      ? [{ value: county, label: `${countyUnit.data?.name ?? county}（县级）` }, ...(townships.data ?? []).map((t) => ({ value: t.code, label: t.name }))]
      : null;
  return (
    <div style={{ maxWidth: 880 }}>
      <Typography.Title level={4} style={{ marginTop: 0 }}>
        通知设置
      </Typography.Title>
      {offices && (
        <Space style={{ marginBottom: 16 }} wrap>
          <span id="office-label">单位</span>
          <Select aria-labelledby="office-label" value={office} onChange={setOffice} options={offices} style={{ width: 220 }} data-testid="office-select" />
        </Space>
      )}
      {settings.isError && <Alert type="error" showIcon message={(settings.error as Error).message} style={{ marginBottom: 16 }} />}
      {settings.data && <QuietHoursCard office={office} settings={settings.data} />}
      {settings.data && <RobotsCard office={office} settings={settings.data} />}
    </div>
  );
}

function QuietHoursCard({ office, settings }: { office: string; settings: OfficeSettings }) {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const own = settings.quietHours;
  const [mode, setMode] = useState<"inherit" | "own">(own ? "own" : "inherit");
  const [range, setRange] = useState<[Dayjs | null, Dayjs | null]>(toRange(own ?? settings.effective.quietHours ?? "21:00-08:00"));
  useEffect(() => {
    setMode(own ? "own" : "inherit");
    setRange(toRange(own ?? settings.effective.quietHours ?? "21:00-08:00"));
  }, [office, own, settings.effective.quietHours]);
  const save = useMutation({
    mutationFn: (quietHours: string | null) =>
      unwrap<OfficeSettings>(api.PUT("/api/v1/notifications/offices/{orgUnit}/quiet-hours", { params: { path: { orgUnit: office } }, body: { quietHours } })),
    onSuccess: (data) => {
      qc.setQueryData(["office-settings", office], data);
      void message.success("免打扰时段已保存");
    },
    onError: (e) => void message.error((e as Error).message),
  });
  const effective = settings.effective;
  const inherited = orgLevel(office) === "county" ? "系统默认" : "县级设置";
  return (
    <Card title="免打扰时段" style={{ marginBottom: 16 }} data-testid="quiet-hours">
      <Typography.Paragraph type="secondary">
        非紧急短信在免打扰时段内顺延到时段结束后发送；关注事项等紧急通知随时发送，站内消息随时送达。时间为北京时间。
      </Typography.Paragraph>
      <Typography.Paragraph>
        当前生效：<strong data-testid="quiet-effective">{effective.quietHours ? effective.quietHours.replace("-", " 至 次日 ") : "不设免打扰"}</strong>
        <Tag style={{ marginLeft: 8 }}>{FROM_LABEL[effective.from]}</Tag>
      </Typography.Paragraph>
      <Radio.Group value={mode} onChange={(e) => setMode(e.target.value)} style={{ marginBottom: 12 }}>
        <Radio value="inherit">沿用{inherited}</Radio>
        <Radio value="own">本单位自定义</Radio>
      </Radio.Group>
      {mode === "own" && (
        <Space wrap style={{ display: "flex", marginBottom: 12 }}>
          <span>从</span>
          <TimePicker format="HH:mm" minuteStep={5} value={range[0]} onChange={(v) => setRange([v, range[1]])} aria-label="开始时间" allowClear={false} />
          <span>到</span>
          <TimePicker format="HH:mm" minuteStep={5} value={range[1]} onChange={(v) => setRange([range[0], v])} aria-label="结束时间" allowClear={false} />
          {range[0] && range[1] && range[0].format("HH:mm") > range[1].format("HH:mm") && (
            <Typography.Text type="secondary">（跨午夜，到次日）</Typography.Text>
          )}
        </Space>
      )}
      <Button
        type="primary"
        loading={save.isPending}
        onClick={() => save.mutate(mode === "inherit" ? null : `${range[0]!.format("HH:mm")}-${range[1]!.format("HH:mm")}`)}
      >
        保存
      </Button>
    </Card>
  );
}

function toRange(spec: string): [Dayjs, Dayjs] {
  const [a, b] = spec.split("-") as [string, string];
  const at = (hm: string) => dayjs(`2000-01-01T${hm.padStart(5, "0")}`);
  return [at(a), at(b)];
}

interface RobotForm {
  kind: "wecom" | "dingtalk";
  url: string;
  secret?: string;
}

function RobotsCard({ office, settings }: { office: string; settings: OfficeSettings }) {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<RobotForm>();
  const kind = Form.useWatch("kind", form);
  const refresh = () => qc.invalidateQueries({ queryKey: ["office-settings", office] });
  const save = useMutation({
    mutationFn: (v: RobotForm) =>
      unwrap(
        api.PUT("/api/v1/notifications/offices/{orgUnit}/{kind}", {
          params: { path: { orgUnit: office, kind: v.kind } },
          body: { url: v.url.trim(), secret: v.kind === "dingtalk" && v.secret?.trim() ? v.secret.trim() : null },
        }),
      ),
    onSuccess: () => {
      form.resetFields(["url", "secret"]);
      void message.success("群机器人已保存");
      void refresh();
    },
    onError: (e) => {
      const issues = e instanceof ApiError ? e.fieldIssues : [];
      if (issues.length) form.setFields(issues.map((i) => ({ name: i.field as keyof RobotForm, errors: [i.message] })));
      else void message.error((e as Error).message);
    },
  });
  const remove = useMutation({
    mutationFn: (k: string) =>
      unwrap(api.DELETE("/api/v1/notifications/offices/{orgUnit}/{kind}", { params: { path: { orgUnit: office, kind: k as "wecom" | "dingtalk" } } })),
    onSuccess: () => void refresh(),
    onError: (e) => void message.error((e as Error).message),
  });
  return (
    <Card title="办公群机器人" data-testid="robots">
      <Typography.Paragraph type="secondary">
        关注事项、逾期升级等通知同时发到本单位的企业微信或钉钉工作群。地址中含有机器人密钥，保存后只显示域名。
      </Typography.Paragraph>
      <List
        dataSource={settings.channels}
        locale={{ emptyText: <Typography.Text type="secondary">尚未设置群机器人</Typography.Text> }}
        renderItem={(c) => (
          <List.Item
            actions={[
              <Popconfirm
                key="rm"
                title={`移除${KIND_LABEL[c.kind] ?? c.kind}机器人？`}
                okText="移除"
                cancelText="取消"
                onConfirm={() => remove.mutate(c.kind)}
              >
                <Button danger size="small">
                  移除
                </Button>
              </Popconfirm>,
            ]}
          >
            <List.Item.Meta
              title={
                <Space>
                  {KIND_LABEL[c.kind] ?? c.kind}
                  {c.signed && <Tag color="green">已加签</Tag>}
                </Space>
              }
              description={`${c.host} · 更新于 ${beijing.format(new Date(c.updatedAt))}`}
            />
          </List.Item>
        )}
      />
      <Form<RobotForm> form={form} layout="vertical" initialValues={{ kind: "wecom" }} onFinish={(v) => save.mutate(v)} style={{ marginTop: 16 }}>
        <Form.Item name="kind" label="类型">
          <Radio.Group
            options={[
              { value: "wecom", label: "企业微信" },
              { value: "dingtalk", label: "钉钉" },
            ]}
          />
        </Form.Item>
        <Form.Item name="url" label="Webhook 地址" rules={[{ required: true, message: "请填写群机器人的 Webhook 地址" }]}>
          <Input
            placeholder={kind === "dingtalk" ? "https://oapi.dingtalk.com/robot/send?access_token=…" : "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"}
          />
        </Form.Item>
        {kind === "dingtalk" && (
          <Form.Item name="secret" label="加签密钥（可选）">
            <Input.Password placeholder="SEC 开头" autoComplete="off" />
          </Form.Item>
        )}
        <Button type="primary" htmlType="submit" loading={save.isPending}>
          保存机器人
        </Button>
      </Form>
    </Card>
  );
}
