import { useState } from "react";
import { Alert, App, Button, Form, Input, Modal, Select } from "antd";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError, api, unwrap } from "../../services/client";
import type { Child } from "../../services/models";
import { labels, options } from "../../services/labels";

/** 退出关爱服务: the registry's status route, with a reason; asks once more before it sends. */
export function ExitProgramme({ child }: { child: Child }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [form] = Form.useForm<{ reason: string; note?: string }>();
  const { message, modal } = App.useApp();
  const queryClient = useQueryClient();

  const send = async (v: { reason: string; note?: string }) => {
    setSaving(true);
    setError(null);
    try {
      const saved = await unwrap<Child>(
        api.POST("/api/v1/children/{id}/status", {
          params: { path: { id: child.id } },
          body: { status: "exited", reason: v.reason as never, note: v.note?.trim() || null },
        }),
      );
      queryClient.setQueryData(["child", child.id], saved);
      await queryClient.invalidateQueries({ queryKey: ["child-history", child.id] });
      await queryClient.invalidateQueries({ queryKey: ["children"] });
      message.success("已退出关爱服务");
      setOpen(false);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const issue = err.fieldIssues[0];
      setError(issue ? issue.message : err.message);
    } finally {
      setSaving(false);
    }
  };

  const confirm = (v: { reason: string; note?: string }) =>
    modal.confirm({
      title: `确认 ${child.name} 退出关爱服务？`,
      content: `退出原因：${labels.exitReason[v.reason as keyof typeof labels.exitReason]}。退出后档案保留，结对帮扶将随之结束。`,
      okText: "确认退出",
      okButtonProps: { danger: true },
      cancelText: "取消",
      onOk: () => send(v),
    });

  return (
    <>
      <Button
        danger
        onClick={() => {
          form.resetFields();
          setError(null);
          setOpen(true);
        }}
      >
        退出关爱服务
      </Button>
      <Modal
        open={open}
        title="退出关爱服务"
        okText="下一步"
        cancelText="取消"
        confirmLoading={saving}
        onCancel={() => setOpen(false)}
        onOk={() => form.submit()}
        destroyOnHidden
      >
        {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
        <Form form={form} layout="vertical" onFinish={confirm}>
          <Form.Item name="reason" label="退出原因" rules={[{ required: true, message: "请选择退出原因" }]}>
            <Select options={options(labels.exitReason)} placeholder="请选择" />
          </Form.Item>
          <Form.Item name="note" label="说明">
            <Input.TextArea rows={3} maxLength={500} showCount placeholder="如：父亲已于本月返乡务工" />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
