import { useState } from "react";
import { CursorPager, useCursorPages } from "../../components/CursorPager";
import { Button, Card, Form, Input, Select, Space, Table, Tag, Typography } from "antd";
import { useQuery, keepPreviousData } from "@tanstack/react-query";
import { Link, useNavigate, useSearchParams } from "react-router";
import { PlusOutlined, PrinterOutlined } from "@ant-design/icons";
import { useAccess } from "../../auth/session";
import { api, unwrap } from "../../services/client";
import type { Child, Page } from "../../services/models";
import { label, labels, options, riskColor } from "../../services/labels";
import { Field } from "../../components/Masked";
import { useSchools, useVillageNames } from "../../services/hooks";
import { contains, orgLevel, townshipOf } from "../../services/org-units";

/** 批量打印联系卡: one village's cards, villages limited to the user's jurisdiction. */
function PrintVillageCards() {
  const access = useAccess();
  const navigate = useNavigate();
  const names = useVillageNames(access.orgUnit);
  const [village, setVillage] = useState<string>();
  const villages = [...(names.data ?? new Map<string, string>())]
    .filter(([code]) => orgLevel(code) === "village" && contains(access.orgUnit, code))
    .map(([value, label]) => ({ value, label }));
  return (
    <Space.Compact>
      <Select
        aria-label="选择村（社区）"
        placeholder="选择村（社区）"
        style={{ width: 150 }}
        options={villages}
        value={village}
        onChange={setVillage}
        showSearch={{ optionFilterProp: "label" }}
      />
      <Button icon={<PrinterOutlined />} disabled={!village} onClick={() => navigate(`/print/cards?village=${village}`)}>
        打印联系卡
      </Button>
    </Space.Compact>
  );
}

const PAGE_SIZE = 20;
const filterKeys = ["q", "orgUnit", "leftBehindType", "difficultyCategory", "riskLevel", "status", "schoolId", "paired"] as const;

/**
 * 儿童档案: the registry's list route, paged on the server by its cursor
 * (useCursorPages), filtered by what the route supports.
 */
export default function ChildList() {
  const [params, setParams] = useSearchParams();
  const filters: Record<string, string> = {};
  for (const k of filterKeys) {
    const v = params.get(k);
    if (v) filters[k] = v;
  }
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const schools = useSchools();
  const myUnit = useAccess().orgUnit;
  const places = useVillageNames(myUnit);
  const list = useQuery({
    queryKey: ["children", filters, cursor],
    placeholderData: keepPreviousData,
    queryFn: () =>
      unwrap<Page<Child>>(api.GET("/api/v1/children", { params: { query: { ...(filters as object), limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) } } })),
  });
  const [form] = Form.useForm();
  const access = useAccess();
  const navigate = useNavigate();
  const apply = (values: Record<string, string | undefined>) => {
    const next = new URLSearchParams();
    for (const [k, v] of Object.entries(values)) if (v) next.set(k, v);
    pages.reset();
    setParams(next);
  };

  return (
    <div>
      <Space wrap style={{ width: "100%", justifyContent: "space-between", marginBottom: 12 }}>
        <Typography.Title level={4} style={{ margin: 0 }}>
          儿童档案
        </Typography.Title>
        <Space wrap>
          {!access.readOnly && <PrintVillageCards />}
          {access.canEditChildren && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate("/children/new")}>
              新增儿童
            </Button>
          )}
        </Space>
      </Space>
      <Card style={{ marginBottom: 16 }}>
        <Form form={form} layout="inline" initialValues={filters} onFinish={apply} style={{ rowGap: 12 }}>
          <Form.Item name="q" label="姓名">
            <Input placeholder="姓名或身份证号" allowClear style={{ width: 180 }} />
          </Form.Item>
          <Form.Item name="orgUnit" label="地区">
            <Select
              allowClear
              showSearch={{ optionFilterProp: "label" }}
              style={{ width: 180 }}
              placeholder="全部"
              // Townships then their villages, within the user's own jurisdiction.
              options={[...(places.data ?? new Map<string, string>())]
                .filter(([code]) => orgLevel(code) !== "county" && contains(myUnit, code))
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([code, name]) => ({
                  value: code,
                  label: orgLevel(code) === "township" ? name : `${places.data?.get(townshipOf(code)) ?? ""} / ${name}`,
                }))}
            />
          </Form.Item>
          <Form.Item name="leftBehindType" label="留守类型">
            <Select allowClear options={options(labels.leftBehindType)} style={{ width: 160 }} placeholder="全部" />
          </Form.Item>
          <Form.Item name="difficultyCategory" label="困境类别">
            <Select allowClear options={options(labels.difficultyCategory)} style={{ width: 150 }} placeholder="全部" />
          </Form.Item>
          <Form.Item name="riskLevel" label="风险等级">
            <Select allowClear options={options(labels.riskLevel)} style={{ width: 100 }} placeholder="全部" />
          </Form.Item>
          <Form.Item name="status" label="状态">
            <Select allowClear options={options(labels.status)} style={{ width: 100 }} placeholder="全部" />
          </Form.Item>
          <Form.Item name="schoolId" label="学校">
            <Select
              allowClear
              showSearch
              optionFilterProp="label"
              options={(schools.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
              style={{ width: 180 }}
              placeholder="全部"
            />
          </Form.Item>
          <Form.Item name="paired" label="结对">
            <Select
              allowClear
              options={[
                { value: "true", label: "已结对" },
                { value: "false", label: "未结对" },
              ]}
              style={{ width: 100 }}
              placeholder="全部"
            />
          </Form.Item>
          <Space>
            <Button type="primary" htmlType="submit">
              查询
            </Button>
            <Button
              onClick={() => {
                form.resetFields();
                apply({});
              }}
            >
              重置
            </Button>
          </Space>
        </Form>
      </Card>
      <Card>
        <Table<Child>
          rowKey="id"
          data-testid="children-table"
          loading={list.isFetching}
          dataSource={list.data?.items ?? []}
          pagination={false}
          scroll={{ x: 900 }}
          locale={{ emptyText: list.isError ? (list.error as Error).message : "没有符合条件的儿童" }}
          columns={[
            { title: "姓名", dataIndex: "name", fixed: "left", width: 100, render: (v, c) => <Link to={`/children/${c.id}`}>{v}</Link> },
            { title: "身份证号", dataIndex: "idNumber", width: 260, render: (v) => <Field value={v} /> },
            { title: "性别", dataIndex: "sex", width: 60, render: (v) => label("sex", v) },
            { title: "出生日期", dataIndex: "birthDate", width: 110 },
            { title: "学校", dataIndex: "schoolName", width: 160, render: (v) => v ?? "—" },
            { title: "留守类型", dataIndex: "leftBehindType", width: 130, render: (v) => label("leftBehindType", v) },
            { title: "风险", dataIndex: "riskLevel", width: 70, render: (v) => <Tag color={riskColor[v]}>{label("riskLevel", v)}</Tag> },
            { title: "状态", dataIndex: "status", width: 80, render: (v) => label("status", v) },
          ]}
        />
        <CursorPager pages={pages} nextCursor={list.data?.nextCursor} showPage style={{ marginTop: 16, justifyContent: "flex-end", width: "100%" }} />
      </Card>
    </div>
  );
}
