import { useState } from "react";
import { Alert, App, Button, DatePicker, Form, Input, Modal } from "antd";
import { useQueryClient } from "@tanstack/react-query";
import dayjs, { type Dayjs } from "dayjs";
import { useSession } from "../../auth/session";
import { ApiError, api, unwrap } from "../../services/client";
import type { VisitItem } from "../../services/models";

/**
 * 预约: plan a visit or a 亲情电话 for a time within its period (e.g. Saturday at 10:00 at the children's home,
 * when the parents are off work), or cancel the plan. The API checks the time (not past, not after the period).
 */
export function PlanModal({ item, onClose }: { item: VisitItem; onClose: () => void }) {
  const { claims } = useSession();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm<{ at: Dayjs; note?: string }>();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const save = async (at: Dayjs | null, note?: string) => {
    setSaving(true);
    setError(null);
    try {
      await unwrap(
        api.PUT("/api/v1/visit-items/{id}/plan", {
          params: { path: { id: item.id } },
          body: { at: at ? at.second(0).format("YYYY-MM-DDTHH:mm:ssZ") : null, note: note?.trim() || null },
        }),
      );
      message.success(at ? "已预约" : "已取消预约");
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: ["caseload", claims.username] }),
        queryClient.invalidateQueries({ queryKey: ["child-items", item.childId] }),
      ]);
      onClose();
    } catch (err) {
      const onTime = err instanceof ApiError ? err.fieldIssues.find((i) => i.field === "at") : undefined;
      if (onTime) form.setFields([{ name: "at", errors: [onTime.message] }]);
      else setError(err instanceof Error ? err.message : String(err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal
      open
      title={`预约${item.kindLabel}：${item.childName}`}
      onCancel={onClose}
      destroyOnHidden
      footer={[
        item.plan && (
          <Button key="clear" danger loading={saving} onClick={() => void save(null)}>
            取消预约
          </Button>
        ),
        <Button key="cancel" onClick={onClose}>
          返回
        </Button>,
        <Button key="ok" type="primary" loading={saving} onClick={() => form.submit()}>
          保存
        </Button>,
      ]}
    >
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} />}
      <Form
        form={form}
        layout="vertical"
        initialValues={{ at: item.plan ? dayjs(item.plan.at) : undefined, note: item.plan?.note ?? undefined }}
        onFinish={(v) => void save(v.at, v.note)}
      >
        <Form.Item
          name="at"
          label="时间"
          rules={[{ required: true, message: "请选择预约时间" }]}
          extra={item.daysOverdue > 0 ? "已逾期：请在14天内预约补访" : `应于 ${item.dueDate} 前完成；预约时间须在本期之内`}
        >
          <DatePicker showTime={{ format: "HH:mm", minuteStep: 5 }} format="YYYY-MM-DD HH:mm" inputReadOnly disabledDate={(d) => d.isBefore(dayjs(), "day")} />
        </Form.Item>
        <Form.Item name="note" label="备注">
          <Input maxLength={200} placeholder="如：周六上午在儿童之家打，妈妈下班后" />
        </Form.Item>
      </Form>
    </Modal>
  );
}
