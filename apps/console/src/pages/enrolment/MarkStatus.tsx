import { useState } from "react";
import { Alert, App, Form, Input, Modal, Select } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap } from "../../services/client";
import { labels } from "../../services/labels";
import type { SchoolRow } from "./index";

type Status = "enrolled" | "suspended" | "dropped_out" | "transferred_out";
const STATUS_OPTIONS = (Object.entries(labels.enrolmentStatus) as [Status, string][]).map(([value, label]) => ({ value, label }));
const errorText = (err: unknown) => (err instanceof ApiError ? err.message : "操作失败，请稍后再试");

/** 登记就读状态: a child's status in a semester by hand (辍学 opens a 关注事项 for the township). */
export function MarkStatus({ child, semester, onClose }: { child: { id: string; name: string }; semester: string; onClose: () => void }) {
  const schools = useQuery({
    queryKey: ["enrolment", "schools", semester],
    queryFn: () => unwrap<{ items: SchoolRow[] }>(api.GET("/api/v1/enrolments/schools", { params: { query: { semester } } })),
  });
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<{ status: Status; schoolId?: string; note?: string }>();
  const [error, setError] = useState<string>();
  const save = useMutation({
    mutationFn: (v: { status: Status; schoolId?: string; note?: string }) =>
      unwrap<{ changed: boolean }>(
        api.PUT("/api/v1/children/{id}/enrolment", {
          params: { path: { id: child.id } },
          body: { semester, status: v.status, schoolId: v.schoolId ?? null, note: v.note?.trim() || null },
        }),
      ),
    onSuccess: (r, v) => {
      message.success(
        r.changed ? `已登记：${child.name}${labels.enrolmentStatus[v.status]}${v.status === "dropped_out" ? "，已生成关注事项" : ""}` : "状态未变",
      );
      void qc.invalidateQueries({ queryKey: ["enrolment"] });
      void qc.invalidateQueries({ queryKey: ["child-enrolments", child.id] });
      onClose();
    },
    onError: (err) => setError(errorText(err)),
  });
  return (
    <Modal
      open
      title={`登记就读状态：${child.name}`}
      okText="保存"
      onOk={() => form.submit()}
      confirmLoading={save.isPending}
      onCancel={onClose}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)} initialValues={{ status: "enrolled" }}>
        <Form.Item name="status" label="就读状态" rules={[{ required: true, message: "请选择就读状态" }]}>
          <Select aria-label="就读状态" options={STATUS_OPTIONS} />
        </Form.Item>
        <Form.Item name="schoolId" label="学校" extra="不选则为档案中的学校">
          <Select aria-label="就读学校" allowClear options={(schools.data?.items ?? []).map((x) => ({ value: x.schoolId, label: x.schoolName }))} />
        </Form.Item>
        <Form.Item name="note" label="说明">
          <Input.TextArea maxLength={500} rows={2} placeholder="如：外出务工、病休、转至外县学校" />
        </Form.Item>
        {error && <Alert type="error" showIcon message={error} />}
      </Form>
    </Modal>
  );
}
