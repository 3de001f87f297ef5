import { useState } from "react";
import { CursorPager, useCursorPages } from "../../components/CursorPager";
import { App, Button, Empty, Grid, Input, List, Modal, Space, Table, Tag, Typography, type TableColumnsType } from "antd";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../../services/client";
import type { Decisions, Pairing, PairingPage } from "../../services/models";
import { label, riskColor } from "../../services/labels";
import { useVillageNames } from "../../services/hooks";
import { useAccess } from "../../auth/session";

const PAGE_SIZE = 50;
const proximityColor: Record<string, string> = { same_village: "green", same_school: "green", same_township: "blue", other_township: "orange" };

/** Asks for the reason of a rejection (kept with the decision, shown to whoever re-matches). */
function useRejectNote() {
  const { modal } = App.useApp();
  return (count: number) =>
    new Promise<string | null | undefined>((resolve) => {
      let note = "";
      modal.confirm({
        title: count === 1 ? "驳回这条结对建议？" : `驳回选中的 ${count} 条结对建议？`,
        content: (
          <div>
            <Typography.Paragraph type="secondary">驳回后系统将为儿童另行匹配。</Typography.Paragraph>
            <Input.TextArea
              aria-label="驳回原因"
              placeholder="驳回原因（选填，如：帮扶人已外出务工）"
              maxLength={500}
              onChange={(e) => (note = e.target.value)}
            />
          </div>
        ),
        okText: "驳回",
        okButtonProps: { danger: true },
        cancelText: "取消",
        onOk: () => resolve(note.trim() || null),
        onCancel: () => resolve(undefined),
      });
    });
}

/**
 * 待审批建议: what the optimiser proposed, with what an approver weighs (how near the
 * helper is, the age gap, why this helper), decided one by one or in bulk. A bulk
 * decision reports each proposal that could not be decided (helper full, child left).
 */
export default function Proposals({ canDecide }: { canDecide: boolean }) {
  const access = useAccess();
  const phone = !Grid.useBreakpoint().md;
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const names = useVillageNames(access.orgUnit);
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const [selected, setSelected] = useState<string[]>([]);
  const [failures, setFailures] = useState<Decisions["results"]>([]);
  const askNote = useRejectNote();
  const list = useQuery({
    queryKey: ["pairings", "proposed", cursor],
    placeholderData: keepPreviousData,
    queryFn: () =>
      unwrap<PairingPage>(
        api.GET("/api/v1/pairings", { params: { query: { status: "proposed", kind: "mentor", limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) } } }),
      ),
  });
  const decide = useMutation({
    mutationFn: (body: { ids: string[]; action: "approve" | "reject"; note?: string | null }) =>
      unwrap<Decisions>(api.POST("/api/v1/pairings/decisions", { body })),
    onSuccess: (result, body) => {
      const verb = body.action === "approve" ? "通过" : "驳回";
      if (result.failed === 0) void message.success(`已${verb} ${result.succeeded} 条`);
      else void message.warning(`已${verb} ${result.succeeded} 条，${result.failed} 条未能处理`);
      setFailures(result.results.filter((r) => !r.ok));
      setSelected([]);
      void queryClient.invalidateQueries({ queryKey: ["pairings"] });
      void queryClient.invalidateQueries({ queryKey: ["unpaired"] });
      void queryClient.invalidateQueries({ queryKey: ["helpers"] });
    },
    onError: (err) => void message.error(err.message),
  });
  const approve = (ids: string[]) => decide.mutate({ ids, action: "approve" });
  const reject = async (ids: string[]) => {
    const note = await askNote(ids.length);
    if (note !== undefined) decide.mutate({ ids, action: "reject", note });
  };
  const village = (code: string) => names.data?.get(code) ?? code;
  const items = list.data?.items ?? [];
  const byId = new Map(items.map((p) => [p.id, p]));

  const actions = (p: Pairing) =>
    canDecide ? (
      <Space size={4}>
        <Button
          size="small"
          type="primary"
          onClick={() => approve([p.id])}
          loading={decide.isPending && decide.variables?.ids.includes(p.id)}
          aria-label={`通过 ${p.child.name}`}
        >
          通过
        </Button>
        <Button size="small" danger onClick={() => void reject([p.id])} aria-label={`驳回 ${p.child.name}`}>
          驳回
        </Button>
      </Space>
    ) : null;
  const columns: TableColumnsType<Pairing> = [
    {
      title: "儿童",
      key: "child",
      render: (_, p) => (
        <Space direction="vertical" size={0}>
          <Link to={`/children/${p.child.id}`}>{p.child.name}</Link>
          <Typography.Text type="secondary">{village(p.child.villageCode)}</Typography.Text>
        </Space>
      ),
    },
    { title: "学校", key: "school", responsive: ["lg"], render: (_, p) => p.child.schoolName ?? "—" },
    {
      title: "留守类型 / 风险",
      key: "risk",
      responsive: ["md"],
      render: (_, p) => (
        <Space size={4} wrap>
          {label("leftBehindType", p.child.leftBehindType)}
          <Tag color={riskColor[p.child.riskLevel]}>{label("riskLevel", p.child.riskLevel)}风险</Tag>
        </Space>
      ),
    },
    {
      title: "建议帮扶人",
      key: "helper",
      render: (_, p) => (
        <Space direction="vertical" size={0}>
          <span>{p.helper.name}</span>
          <Typography.Text type="secondary">{label("helperKind", p.helper.kind)}</Typography.Text>
        </Space>
      ),
    },
    { title: "匹配依据", dataIndex: "matchReasonLabel", responsive: ["lg"] },
    {
      title: "距离",
      key: "proximity",
      render: (_, p) => <Tag color={proximityColor[p.proximity]}>{p.proximityLabel}</Tag>,
    },
    { title: "年龄差", key: "age", render: (_, p) => (p.ageGapYears === null ? "—" : `${p.ageGapYears} 岁`) },
    ...(canDecide ? [{ title: "操作", key: "actions", render: (_: unknown, p: Pairing) => actions(p) }] : []),
  ];

  // On a phone the list has no checkboxes: each proposal is decided by its own buttons.
  const bulk = canDecide && !phone && (
    <Space wrap style={{ marginBottom: 12 }}>
      <Typography.Text>已选 {selected.length} 条</Typography.Text>
      <Button type="primary" disabled={!selected.length} loading={decide.isPending && decide.variables?.action === "approve"} onClick={() => approve(selected)}>
        批量通过
      </Button>
      <Button danger disabled={!selected.length} onClick={() => void reject(selected)}>
        批量驳回
      </Button>
    </Space>
  );

  return (
    <div data-testid="proposals">
      {!canDecide && <Typography.Paragraph type="secondary">结对建议由乡镇儿童督导员或县级管理员审批，您可以查看。</Typography.Paragraph>}
      {bulk}
      {phone ? (
        <List
          loading={list.isLoading}
          dataSource={items}
          locale={{ emptyText: <Empty description="没有待审批的结对建议" /> }}
          renderItem={(p) => (
            <List.Item actions={canDecide ? [actions(p)] : []}>
              <List.Item.Meta
                title={
                  <Space wrap>
                    <Link to={`/children/${p.child.id}`}>{p.child.name}</Link>→<span>{p.helper.name}</span>
                  </Space>
                }
                description={
                  <Space wrap size={4}>
                    <Tag color={proximityColor[p.proximity]}>{p.proximityLabel}</Tag>
                    {p.ageGapYears !== null && <Tag>年龄差 {p.ageGapYears} 岁</Tag>}
                    <span>{village(p.child.villageCode)}</span>
                  </Space>
                }
              />
            </List.Item>
          )}
        />
      ) : (
        <Table<Pairing>
          rowKey="id"
          size="middle"
          loading={list.isLoading}
          columns={columns}
          dataSource={items}
          pagination={false}
          locale={{ emptyText: <Empty description="没有待审批的结对建议" /> }}
          rowSelection={canDecide ? { selectedRowKeys: selected, onChange: (keys) => setSelected(keys as string[]) } : undefined}
        />
      )}
      <CursorPager pages={pages} nextCursor={list.data?.nextCursor} style={{ marginTop: 12 }} />
      <Modal
        open={failures.length > 0}
        title="以下结对建议未能处理"
        onCancel={() => setFailures([])}
        footer={<Button onClick={() => setFailures([])}>知道了</Button>}
      >
        <List
          dataSource={failures}
          renderItem={(r) => (
            <List.Item>
              <Typography.Text strong>{byId.get(r.id)?.child.name ?? r.id}</Typography.Text>：{r.error?.message}
            </List.Item>
          )}
        />
      </Modal>
    </div>
  );
}
