import { useState } from "react";
import { CursorPager, useCursorPages } from "../../components/CursorPager";
import { Empty, Input, Progress, Select, Space, Table, Tag, Typography, type TableColumnsType } from "antd";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../services/client";
import type { Helper, HelperPage } from "../../services/models";
import { labels, options } from "../../services/labels";
import { useVillageNames } from "../../services/hooks";
import { useAccess } from "../../auth/session";
import { Field } from "../../components/Masked";
import { useHelperImport } from "./HelperImport";

const PAGE_SIZE = 50;

/** How full a helper is: 2–3 children each is the programme's norm; red when at capacity. */
function Load({ h }: { h: Helper }) {
  const used = h.activeCount + h.proposedCount;
  const percent = h.capacity ? Math.round((used / h.capacity) * 100) : 100;
  return (
    <Space direction="vertical" size={0} style={{ minWidth: 120 }}>
      <Progress
        percent={percent}
        size="small"
        showInfo={false}
        status={used >= h.capacity ? "exception" : "normal"}
        aria-label={`负担 ${used}/${h.capacity}`}
      />
      <Typography.Text type="secondary">
        结对 {h.activeCount} · 待审批 {h.proposedCount} · 上限 {h.capacity}
      </Typography.Text>
    </Space>
  );
}

/** 帮扶人: active helpers of the jurisdiction with their load; phones only for roles that see contacts. */
export default function Helpers() {
  const access = useAccess();
  const names = useVillageNames(access.orgUnit);
  const [kind, setKind] = useState<string>();
  const [q, setQ] = useState<string>();
  const pages = useCursorPages();
  const helperImport = useHelperImport();
  const cursor = pages.cursor;
  const list = useQuery({
    queryKey: ["helpers", kind, q, cursor],
    placeholderData: keepPreviousData,
    queryFn: () =>
      unwrap<HelperPage>(
        api.GET("/api/v1/helpers", {
          params: { query: { active: "true", limit: PAGE_SIZE, ...(kind ? { kind: kind as never } : {}), ...(q ? { q } : {}), ...(cursor ? { cursor } : {}) } },
        }),
      ),
  });
  const columns: TableColumnsType<Helper> = [
    {
      title: "姓名",
      key: "name",
      // On a phone the kind goes under the name instead of a column of its own.
      render: (_, h) => (
        <Space direction="vertical" size={0}>
          <span style={{ whiteSpace: "nowrap" }}>{h.name}</span>
          <Typography.Text type="secondary" className="helper-kind-inline">
            {h.kindLabel}
          </Typography.Text>
        </Space>
      ),
    },
    { title: "类别", dataIndex: "kindLabel", responsive: ["sm"] },
    { title: "所在村（乡镇）", key: "org", responsive: ["md"], render: (_, h) => names.data?.get(h.orgUnitCode) ?? h.orgUnitCode },
    { title: "联系电话", key: "phone", responsive: ["lg"], render: (_, h) => <Field value={h.phone} withheld /> },
    { title: "帮扶负担", key: "load", render: (_, h) => <Load h={h} /> },
    {
      title: "可再结对",
      key: "free",
      render: (_, h) => (h.free > 0 ? <Tag color="green">{h.free} 名</Tag> : <Tag color="red">已满</Tag>),
    },
  ];
  return (
    <div data-testid="helpers">
      <Space wrap style={{ marginBottom: 12 }}>
        <Select
          aria-label="帮扶人类别"
          placeholder="全部类别"
          allowClear
          style={{ width: 140 }}
          options={options(labels.helperKind)}
          value={kind}
          onChange={(v) => {
            setKind(v);
            pages.reset();
          }}
        />
        <Input.Search
          aria-label="按姓名查找帮扶人"
          placeholder="按姓名查找"
          allowClear
          style={{ width: 200 }}
          onSearch={(v) => {
            setQ(v.trim() || undefined);
            pages.reset();
          }}
        />
        {access.canManageHelpers && helperImport.button}
      </Space>
      {helperImport.outcome}
      <Table<Helper>
        rowKey="id"
        size="middle"
        loading={list.isLoading}
        columns={columns}
        dataSource={list.data?.items ?? []}
        pagination={false}
        locale={{ emptyText: <Empty description="本辖区暂无在岗帮扶人" /> }}
      />
      <CursorPager pages={pages} nextCursor={list.data?.nextCursor} style={{ marginTop: 12 }} />
    </div>
  );
}
