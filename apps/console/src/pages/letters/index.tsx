import { Button, Flex, Table, Tag, Typography } from "antd";
import { EditOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router";
import { api, unwrap } from "../../services/client";
import { CATEGORY_LABELS, STATUS_LABELS, type Letter } from "./model";

/** 致家长的一封信: the letters of the user's area, newest first. */
export default function Letters() {
  const navigate = useNavigate();
  const list = useQuery({
    queryKey: ["letters"],
    queryFn: async () => (await unwrap<{ items: Letter[] }>(api.GET("/api/v1/letters"))).items,
  });
  return (
    <Flex vertical gap={12}>
      <Flex justify="space-between" align="center" wrap gap={8}>
        <Typography.Title level={4} style={{ margin: 0 }}>
          致家长的一封信
        </Typography.Title>
        <Button type="primary" icon={<EditOutlined />} onClick={() => navigate("/letters/new")}>
          写一封信
        </Button>
      </Flex>
      <Table<Letter>
        data-testid="letters"
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.data ?? []}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        columns={[
          {
            title: "标题",
            key: "title",
            render: (_, l) => (
              <Flex vertical gap={2}>
                <Link to={`/letters/${l.id}`}>{l.title}</Link>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {l.signature} · 致{l.categories.map((c) => CATEGORY_LABELS[c] ?? c).join("、")}
                </Typography.Text>
              </Flex>
            ),
          },
          { title: "状态", key: "status", width: 100, render: (_, l) => <Tag color={STATUS_LABELS[l.status].color}>{STATUS_LABELS[l.status].text}</Tag> },
          { title: "收信人", dataIndex: "recipients", width: 90, responsive: ["sm"] },
          { title: "发送时间", key: "sentAt", width: 170, responsive: ["md"], render: (_, l) => (l.sentAt ? new Date(l.sentAt).toLocaleString("zh-CN") : "—") },
        ]}
      />
    </Flex>
  );
}
