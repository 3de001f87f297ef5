import { useState } from "react";
import { Alert, App, Button, Card, Descriptions, Flex, Form, Input, Modal, Result, Skeleton, Space, Timeline, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { api, ApiError, unwrap } from "../../services/client";
import { useSession } from "../../auth/session";
import { EscalatedTag, NEXT, ResponseClock, STATUS, StatusTag, dateTime, useNow, type ConcernDetail as Detail } from "./shared";

type Action = { kind: "update"; status: string | null } | { kind: "assign" };
const ACTION_LABEL: Record<string, string> = {
  acknowledged: "受理",
  in_progress: "开始处理",
  referred: "转介",
  resolved: "结案",
};

/** One dialog for every step: a status change (or a note alone) needs the situation written down; 指派 names the worker. */
function ActionDialog({ id, action, onClose }: { id: string; action: Action | null; onClose: () => void }) {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const run = useMutation({
    mutationFn: async (v: Record<string, string>) =>
      action?.kind === "assign"
        ? unwrap(api.POST("/api/v1/concerns/{id}/assign", { params: { path: { id } }, body: { username: v.username!, name: v.name!, note: v.note || null } }))
        : unwrap(
            api.POST("/api/v1/concerns/{id}/updates", {
              params: { path: { id } },
              body: { note: v.note!, ...(action?.status ? { status: action.status as never } : {}) },
            }),
          ),
    onSuccess: () => {
      message.success("已保存");
      void qc.invalidateQueries({ queryKey: ["concern", id] });
      void qc.invalidateQueries({ queryKey: ["concerns"] });
      form.resetFields();
      onClose();
    },
    onError: (err) => {
      if (err instanceof ApiError && err.fieldIssues.length) form.setFields(err.fieldIssues.map((i) => ({ name: i.field, errors: [i.message] })));
      else message.error(err instanceof Error ? err.message : "保存失败");
    },
  });
  const title = action?.kind === "assign" ? "指派处理人" : action?.status ? `${ACTION_LABEL[action.status] ?? STATUS[action.status]?.text}` : "补充处理情况";
  return (
    <Modal title={title} open={Boolean(action)} onCancel={onClose} okText="保存" confirmLoading={run.isPending} onOk={() => form.submit()} destroyOnHidden>
      <Form form={form} layout="vertical" onFinish={(v) => run.mutate(v)}>
        {action?.kind === "assign" && (
          <>
            <Form.Item name="name" label="处理人姓名" rules={[{ required: true, message: "请填写被指派人姓名" }]}>
              <Input maxLength={40} />
            </Form.Item>
            <Form.Item name="username" label="处理人登录账号" rules={[{ required: true, message: "请填写被指派人的登录账号" }]}>
              <Input maxLength={100} placeholder="如 changling.director" />
            </Form.Item>
          </>
        )}
        <Form.Item
          name="note"
          label={action?.kind === "assign" ? "说明（可选）" : action?.status === "resolved" ? "处理结果" : "处理情况"}
          rules={action?.kind === "assign" ? [] : [{ required: true, message: "请填写处理情况" }]}
        >
          <Input.TextArea rows={4} maxLength={action?.kind === "assign" ? 500 : 2000} showCount />
        </Form.Item>
      </Form>
    </Modal>
  );
}

/** A case: what was reported, where it stands, its response countdown and escalation, the timeline, and the next steps. */
export default function ConcernDetail() {
  const { id = "" } = useParams();
  const { access } = useSession();
  const now = useNow();
  const [action, setAction] = useState<Action | null>(null);
  const q = useQuery({
    queryKey: ["concern", id],
    retry: false,
    queryFn: () => unwrap<Detail>(api.GET("/api/v1/concerns/{id}", { params: { path: { id } } })),
  });
  if (q.isLoading) return <Skeleton active />;
  if (q.isError || !q.data)
    return <Result status="404" title="未找到该关注事项" subTitle={(q.error as Error)?.message} extra={<Link to="/concerns">返回关注事项</Link>} />;
  const c = q.data;
  const next = access.canWorkConcerns ? (NEXT[c.status] ?? []) : [];
  const timeline = [
    { key: "raised", at: c.raisedAt, color: "red", children: `${dateTime(c.raisedAt)} ${c.raisedByName ?? ""} 报告：${c.description ?? ""}` },
    ...(c.notes ?? []).map((n) => ({
      key: n.id,
      at: n.createdAt,
      color: n.status === "resolved" ? "green" : n.status ? "blue" : "gray",
      children: `${dateTime(n.createdAt)} ${n.authorName}${n.status ? ` · ${STATUS[n.status]?.text ?? n.status}` : ""}：${n.note}`,
    })),
    ...(c.escalatedAt ? [{ key: "esc", at: c.escalatedAt, color: "red", children: `${dateTime(c.escalatedAt)} 未及时受理，已自动上报县级` }] : []),
  ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));

  return (
    <Flex vertical gap={16}>
      <Flex justify="space-between" align="center" wrap gap={8}>
        <Typography.Title level={4} style={{ margin: 0 }}>
          关注事项 · {c.childName ?? ""}
        </Typography.Title>
        <Link to="/concerns">返回列表</Link>
      </Flex>
      {c.overdue && !c.respondedAt && c.status === "open" && (
        <Alert type="error" showIcon title={`已超过${c.categoryLabel}类事项的响应时限（${c.responseLimitHours} 小时），请立即受理`} />
      )}
      <Card>
        <Descriptions column={{ xs: 1, md: 2 }} size="small" styles={{ label: { color: "rgba(0, 0, 0, 0.65)" } }}>
          <Descriptions.Item label="儿童">{c.childId ? <Link to={`/children/${c.childId}`}>{c.childName}</Link> : "—"}</Descriptions.Item>
          <Descriptions.Item label="类别">{c.categoryLabel}</Descriptions.Item>
          <Descriptions.Item label="状态">
            <Space size={4}>
              <StatusTag status={c.status} />
              <EscalatedTag at={c.escalatedAt} />
            </Space>
          </Descriptions.Item>
          <Descriptions.Item label="响应时限">
            <ResponseClock c={c} now={now} />
          </Descriptions.Item>
          <Descriptions.Item label="应响应时间">{dateTime(c.respondBy)}</Descriptions.Item>
          <Descriptions.Item label="处理人">{c.ownerUsername ?? "未指派（乡镇督导员）"}</Descriptions.Item>
          <Descriptions.Item label="报告人">{c.raisedByName ?? "—"}</Descriptions.Item>
          <Descriptions.Item label="报告时间">{dateTime(c.raisedAt)}</Descriptions.Item>
          {c.resolution && <Descriptions.Item label="处理结果">{c.resolution}</Descriptions.Item>}
        </Descriptions>
        {(next.length > 0 || access.canAssignConcerns) && c.status !== "resolved" && (
          <Space wrap style={{ marginTop: 16 }} data-testid="concern-actions">
            {next.map((s) => (
              <Button key={s} type={s === "acknowledged" ? "primary" : "default"} onClick={() => setAction({ kind: "update", status: s })}>
                {ACTION_LABEL[s]}
              </Button>
            ))}
            {access.canAssignConcerns && <Button onClick={() => setAction({ kind: "assign" })}>指派</Button>}
            {access.canWorkConcerns && <Button onClick={() => setAction({ kind: "update", status: null })}>补充情况</Button>}
          </Space>
        )}
      </Card>
      <Card title="处理记录">
        <Timeline data-testid="concern-timeline" items={timeline.map(({ key, color, children }) => ({ key, color, content: children }))} />
      </Card>
      <ActionDialog id={id} action={action} onClose={() => setAction(null)} />
    </Flex>
  );
}
