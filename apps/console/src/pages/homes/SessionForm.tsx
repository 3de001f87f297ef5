import { App, Alert, Button, Checkbox, DatePicker, Flex, Form, Input, Radio, Result, Skeleton, Space, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "react-router";
import dayjs, { type Dayjs } from "dayjs";
import { api, ApiError, unwrap } from "../../services/client";
import { useSession } from "../../auth/session";
import { labels, options } from "../../services/labels";
import type { SiteDetail } from "../../services/models";

type Kind = keyof typeof labels.activityKind;
interface Values {
  date: Dayjs;
  kind: Kind;
  leader: string;
  attendance?: string[];
  summary: string;
}
/** services/visits SESSION_BACKDATE_DAYS: older sessions are refused by the API. */
const BACKDATE_DAYS = 92;

/** 登记活动: on a phone at the site — date, kind, who led it, attendance ticked from the site's children, what was done. */
export default function SessionForm() {
  const { id } = useParams();
  const { access, claims } = useSession();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [form] = Form.useForm<Values>();
  const site = useQuery({ queryKey: ["site", id], queryFn: () => unwrap<SiteDetail>(api.GET("/api/v1/sites/{id}", { params: { path: { id: id! } } })) });
  const ticked = Form.useWatch("attendance", form) ?? [];
  const save = useMutation({
    mutationFn: (v: Values) =>
      unwrap<{ id: string }>(
        api.POST("/api/v1/sites/{id}/sessions", {
          params: { path: { id: id! } },
          body: { date: v.date ? v.date.format("YYYY-MM-DD") : "", kind: v.kind, leader: v.leader, summary: v.summary ?? "", attendance: v.attendance ?? [] },
        }),
      ),
    onSuccess: () => {
      message.success("已登记活动");
      void qc.invalidateQueries({ queryKey: ["site", id] });
      void qc.invalidateQueries({ queryKey: ["sites"] });
      void navigate(`/homes/${id}`);
    },
    onError: (err) => {
      if (err instanceof ApiError && err.fieldIssues.length)
        form.setFields(err.fieldIssues.map((i) => ({ name: i.field.split(".")[0] as keyof Values, errors: [i.message] })));
      else message.error(err instanceof Error ? err.message : "保存失败");
    },
  });

  if (!access.canKeepHomes) return <Result status="403" title="无权登记活动" extra={<Link to={`/homes/${id}`}>返回</Link>} />;
  if (site.isLoading) return <Skeleton active />;
  if (!site.data) return <Result status="404" title="找不到该儿童之家" extra={<Link to="/homes">返回列表</Link>} />;
  const children = site.data.children;

  return (
    <Flex vertical gap={12} style={{ maxWidth: 640 }}>
      <Typography.Title level={4} style={{ margin: 0 }}>
        登记活动 · {site.data.name}
      </Typography.Title>
      <Form
        form={form}
        layout="vertical"
        initialValues={{ date: dayjs(), kind: "tutoring", leader: claims.name, attendance: [] }}
        onFinish={(v) => save.mutate(v)}
        scrollToFirstError
      >
        <Form.Item name="date" label="活动日期" rules={[{ required: true, message: "请选择日期" }]}>
          <DatePicker
            style={{ width: "100%" }}
            inputReadOnly
            disabledDate={(d) => d.isAfter(dayjs(), "day") || d.isBefore(dayjs().subtract(BACKDATE_DAYS, "day"), "day")}
          />
        </Form.Item>
        <Form.Item name="kind" label="活动类型" rules={[{ required: true, message: "请选择活动类型" }]}>
          <Radio.Group optionType="button" buttonStyle="solid" options={options(labels.activityKind)} aria-label="活动类型" />
        </Form.Item>
        <Form.Item name="leader" label="组织人 / 主讲人" rules={[{ required: true, message: "请填写组织人或主讲人" }]}>
          <Input maxLength={40} />
        </Form.Item>
        <Form.Item
          name="attendance"
          label={
            <Space>
              <span>
                签到（{ticked.length}/{children.length}）
              </span>
              <Button
                size="small"
                type="link"
                onClick={() =>
                  form.setFieldValue(
                    "attendance",
                    children.map((c) => c.id),
                  )
                }
              >
                全选
              </Button>
              <Button size="small" type="link" onClick={() => form.setFieldValue("attendance", [])}>
                清空
              </Button>
            </Space>
          }
        >
          <Checkbox.Group style={{ width: "100%" }} aria-label="签到">
            <Flex wrap gap={8}>
              {children.map((c) => (
                <Checkbox key={c.id} value={c.id} style={{ minWidth: 96, padding: "6px 0" }}>
                  {c.name}
                </Checkbox>
              ))}
            </Flex>
          </Checkbox.Group>
        </Form.Item>
        {children.length === 0 && <Alert type="info" showIcon title="本儿童之家还没有登记服务儿童，可在“编辑”中选择。" style={{ marginBottom: 16 }} />}
        <Form.Item name="summary" label="活动情况（文字记录）" rules={[{ required: true, message: "请填写活动情况" }]}>
          <Input.TextArea rows={5} maxLength={5000} showCount placeholder="活动内容、过程、儿童表现……" />
        </Form.Item>
        <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
          照片：附件上传（对象存储）上线后在此添加。
        </Typography.Paragraph>
        <Space>
          <Button type="primary" htmlType="submit" loading={save.isPending} size="large">
            保存
          </Button>
          <Link to={`/homes/${id}`}>
            <Button size="large">取消</Button>
          </Link>
        </Space>
      </Form>
    </Flex>
  );
}
