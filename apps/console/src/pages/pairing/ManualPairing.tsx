import { useState } from "react";
import { App, Button, Form, Input, Modal, Radio, Select, Space, Table, Tag, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, ApiError, unwrap } from "../../services/client";
import type { HelperPage, Pairing, PairingPage } from "../../services/models";
import { labels, options as labelOptions } from "../../services/labels";
import { useVillageNames } from "../../services/hooks";
import { useAccess } from "../../auth/session";

type Kind = "mentor" | "peer";
type Role = "primary" | "secondary";

/**
 * Active helpers in the caller's area who can hold a pairing of `kind` (peer students only for 手拉手),
 * with their village, so two of one name (多人同名 on the register) can be told apart.
 */
function useHelperOptions(kind: Kind, q: string) {
  const access = useAccess();
  const names = useVillageNames(access.orgUnit);
  return useQuery({
    queryKey: ["helpers", "options", kind, q, names.data?.size ?? 0],
    queryFn: () =>
      unwrap<HelperPage>(
        api.GET("/api/v1/helpers", {
          params: { query: { active: "true", limit: 100, ...(kind === "peer" ? { kind: "peer_student" } : {}), ...(q ? { q } : {}) } },
        }),
      ),
    select: (page) =>
      page.items
        .filter((h) => (kind === "peer") === (h.kind === "peer_student"))
        .map((h) => ({
          value: h.id,
          label: `${h.name}（${h.kindLabel}，${names.data?.get(h.orgUnitCode) ?? h.orgUnitCode}，已结对 ${h.activeCount}/${h.capacity}）`,
          disabled: h.activeCount >= h.capacity,
        })),
  });
}

function HelperSelect({
  kind,
  value,
  onChange,
  exclude,
  initialSearch = "",
}: {
  kind: Kind;
  value?: string;
  onChange?: (v: string) => void;
  exclude?: string;
  /** Start with this name searched (the register's 帮扶责任人). */
  initialSearch?: string;
}) {
  const [q, setQ] = useState(initialSearch);
  const options = useHelperOptions(kind, q);
  return (
    <Select
      showSearch={{ filterOption: false, onSearch: setQ, searchValue: q || undefined }}
      value={value}
      onChange={onChange}
      loading={options.isLoading}
      placeholder="输入姓名查找帮扶人"
      aria-label="帮扶人"
      options={(options.data ?? []).filter((o) => o.value !== exclude)}
      notFoundContent="没有可选的帮扶人"
    />
  );
}

const errorText = (err: unknown) => (err instanceof ApiError ? err.message : "操作失败，请稍后重试");

interface PairValues {
  kind: Kind;
  role: Role;
  helperId: string;
  note?: string;
}

/**
 * 人工结对: the supervisor picks the helper for a child, overriding the optimiser's proposal,
 * as the primary (主要帮扶人) or secondary (协助帮扶人) mentor or as 手拉手 buddy. A child the
 * register named a 帮扶责任人 for opens with that name searched and noted.
 */
export function PairByHandButton({ child, registerName, role }: { child: { id: string; name: string }; registerName?: string | null; role?: Role }) {
  const { message, modal } = App.useApp();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm<PairValues>();
  const kind = Form.useWatch("kind", form) ?? "mentor";
  const pair = useMutation({
    mutationFn: (v: PairValues) =>
      unwrap<Pairing>(api.POST("/api/v1/pairings", { body: { childId: child.id, ...v, role: v.kind === "peer" ? "primary" : v.role } })),
    onSuccess: (p) => {
      setOpen(false);
      form.resetFields();
      void message.success(`${p.child.name}已与${p.helper.name}结对（${p.kind === "peer" ? p.kindLabel : p.roleLabel}）`);
      void qc.invalidateQueries({ queryKey: ["unpaired"] });
      void qc.invalidateQueries({ queryKey: ["pairings"] });
    },
    onError: (err) => modal.error({ title: "未能结对", content: errorText(err) }),
  });
  return (
    <>
      <Button size="small" onClick={() => setOpen(true)} data-testid={role === "secondary" ? "add-secondary" : "pair-by-hand"}>
        {role === "secondary" ? "添加协助帮扶人" : "人工结对"}
      </Button>
      <Modal
        open={open}
        title={`为${child.name}人工结对`}
        okText="确定结对"
        cancelText="取消"
        confirmLoading={pair.isPending}
        onOk={() => form.submit()}
        onCancel={() => setOpen(false)}
        destroyOnHidden
      >
        <Typography.Paragraph type="secondary">人工结对立即生效，该儿童待审批的匹配建议将撤回。</Typography.Paragraph>
        <Form
          form={form}
          layout="vertical"
          initialValues={{ kind: "mentor", role: role ?? "primary", note: registerName ? `登记表帮扶责任人：${registerName}` : undefined }}
          onFinish={(v) => pair.mutate(v)}
        >
          <Form.Item name="kind" label="结对类型">
            <Radio.Group
              options={[
                { value: "mentor", label: "结对帮扶人" },
                { value: "peer", label: "手拉手伙伴" },
              ]}
              onChange={() => form.setFieldValue("helperId", undefined)}
            />
          </Form.Item>
          {kind === "mentor" && (
            <Form.Item name="role" label="帮扶角色" extra="每名儿童可有一名主要帮扶人和一名协助帮扶人；走访安排给主要帮扶人">
              <Radio.Group options={labelOptions(labels.pairingRole)} />
            </Form.Item>
          )}
          <Form.Item name="helperId" label="帮扶人" rules={[{ required: true, message: "请选择帮扶人" }]}>
            <HelperSelect kind={kind} initialSearch={kind === "mentor" ? (registerName ?? "") : ""} />
          </Form.Item>
          <Form.Item name="note" label="备注" rules={[{ max: 500, message: "备注最多500字" }]}>
            <Input.TextArea rows={2} placeholder="如：家长点名、就近照顾" />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}

/** 结对中: active pairings, each transferable to another helper or ended, with a reason. */
export default function ActivePairings({ canDecide }: { canDecide: boolean }) {
  const { message, modal } = App.useApp();
  const qc = useQueryClient();
  const [acting, setActing] = useState<{ pairing: Pairing; action: "transfer" | "end" } | null>(null);
  const [form] = Form.useForm<{ helperId?: string; reason: string }>();
  const list = useQuery({
    queryKey: ["pairings", "active"],
    queryFn: () => unwrap<PairingPage>(api.GET("/api/v1/pairings", { params: { query: { status: "active", limit: 200 } } })),
  });
  // Children who already have an active secondary helper: no 添加协助帮扶人 for them.
  const secondaryOf = new Set((list.data?.items ?? []).filter((p) => p.kind === "mentor" && p.role === "secondary").map((p) => p.child.id));
  const done = () => {
    setActing(null);
    form.resetFields();
    void qc.invalidateQueries({ queryKey: ["pairings"] });
    void qc.invalidateQueries({ queryKey: ["unpaired"] });
  };
  const act = useMutation({
    mutationFn: async (v: { helperId?: string; reason: string }) => {
      const id = acting!.pairing.id;
      if (acting!.action === "end") return unwrap(api.POST("/api/v1/pairings/{id}/end", { params: { path: { id } }, body: { note: v.reason } }));
      return unwrap(api.POST("/api/v1/pairings/{id}/transfer", { params: { path: { id } }, body: { helperId: v.helperId!, reason: v.reason } }));
    },
    onSuccess: () => {
      void message.success(acting!.action === "end" ? "已解除结对" : "已移交");
      done();
    },
    onError: (err) => modal.error({ title: "未能完成", content: errorText(err) }),
  });
  return (
    <div data-testid="active-pairings">
      <Table<Pairing>
        rowKey="id"
        size="middle"
        loading={list.isLoading}
        dataSource={list.data?.items}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        locale={{ emptyText: "暂无结对中的记录" }}
        columns={[
          { title: "儿童", render: (_, p) => <Link to={`/children/${p.child.id}`}>{p.child.name}</Link> },
          { title: "帮扶人", render: (_, p) => p.helper.name },
          {
            title: "类型",
            render: (_, p) => (
              <Tag color={p.kind === "peer" ? "purple" : p.role === "secondary" ? "cyan" : "blue"}>{p.kind === "peer" ? p.kindLabel : p.roleLabel}</Tag>
            ),
          },
          { title: "开始日期", dataIndex: "startDate", responsive: ["md"] },
          ...(canDecide
            ? [
                {
                  title: "操作",
                  key: "actions",
                  render: (_: unknown, p: Pairing) => (
                    <Space wrap size={4}>
                      {p.kind === "mentor" && p.role === "primary" && !secondaryOf.has(p.child.id) && <PairByHandButton child={p.child} role="secondary" />}
                      <Button size="small" onClick={() => setActing({ pairing: p, action: "transfer" })}>
                        移交
                      </Button>
                      <Button size="small" danger onClick={() => setActing({ pairing: p, action: "end" })}>
                        解除
                      </Button>
                    </Space>
                  ),
                },
              ]
            : []),
        ]}
      />
      <Modal
        open={Boolean(acting)}
        title={acting ? `${acting.action === "end" ? "解除" : "移交"}结对：${acting.pairing.child.name} — ${acting.pairing.helper.name}` : ""}
        okText={acting?.action === "end" ? "确定解除" : "确定移交"}
        okButtonProps={{ danger: acting?.action === "end" }}
        cancelText="取消"
        confirmLoading={act.isPending}
        onOk={() => form.submit()}
        onCancel={() => setActing(null)}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" onFinish={(v) => act.mutate(v)}>
          {acting?.action === "transfer" && (
            <Form.Item name="helperId" label="移交给" rules={[{ required: true, message: "请选择新的帮扶人" }]}>
              <HelperSelect kind={acting.pairing.kind as Kind} exclude={acting.pairing.helper.id} />
            </Form.Item>
          )}
          <Form.Item
            name="reason"
            label={acting?.action === "end" ? "解除原因" : "移交原因"}
            rules={[
              { required: true, whitespace: true, message: "请填写原因" },
              { min: 2, message: "原因至少2个字" },
              { max: 500, message: "原因最多500字" },
            ]}
          >
            <Input.TextArea rows={3} placeholder={acting?.action === "end" ? "如：儿童随父母外出" : "如：原帮扶人调离"} />
          </Form.Item>
        </Form>
      </Modal>
    </div>
  );
}
