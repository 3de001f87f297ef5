import { useState } from "react";
import { App, Badge, Button, Card, Empty, Flex, List, Segmented, Space, Tag, Typography } from "antd";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import dayjs from "dayjs";
import { api, ApiError, unwrap } from "../../services/client";
import type { InboxMessage } from "../../services/models";

type InboxPage = { unread: number; items: InboxMessage[]; nextCursor: string | null };

/** 消息: the signed-in user's own in-app messages, newest first; opening one marks it read. */
export default function InboxPage() {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [filter, setFilter] = useState<"all" | "unread">("all");
  const [open, setOpen] = useState<string | null>(null);

  const inbox = useInfiniteQuery({
    queryKey: ["inbox", "list", filter],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap<InboxPage>(
        api.GET("/api/v1/inbox", {
          params: { query: { limit: 20, ...(filter === "unread" ? { unread: "true" } : {}), ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    getNextPageParam: (last) => last.nextCursor,
  });
  const refresh = () => void qc.invalidateQueries({ queryKey: ["inbox"] });
  const onError = (err: unknown) => message.error(err instanceof ApiError ? err.message : "操作失败");
  const markRead = useMutation({
    mutationFn: (id: string) => unwrap(api.POST("/api/v1/inbox/{id}/read", { params: { path: { id } } })),
    onSuccess: refresh,
    onError,
  });
  const markAll = useMutation({ mutationFn: () => unwrap(api.POST("/api/v1/inbox/read-all")), onSuccess: refresh, onError });

  const items = inbox.data?.pages.flatMap((p) => p.items) ?? [];
  const unread = inbox.data?.pages[0]?.unread ?? 0;

  return (
    <Flex vertical gap={16}>
      <Flex justify="space-between" align="center" wrap gap={8}>
        <Typography.Title level={4} style={{ margin: 0 }}>
          消息 <Badge count={unread} style={{ marginInlineStart: 4 }} />
        </Typography.Title>
        <Space wrap>
          <Segmented
            value={filter}
            onChange={(v) => setFilter(v as "all" | "unread")}
            options={[
              { label: "全部", value: "all" },
              { label: "未读", value: "unread" },
            ]}
          />
          <Button disabled={unread === 0} loading={markAll.isPending} onClick={() => markAll.mutate()}>
            全部标为已读
          </Button>
        </Space>
      </Flex>
      <Card styles={{ body: { padding: "0 16px" } }}>
        <List<InboxMessage>
          data-testid="inbox-list"
          loading={inbox.isLoading}
          dataSource={items}
          locale={{ emptyText: <Empty description={filter === "unread" ? "没有未读消息" : "暂无消息"} /> }}
          loadMore={
            inbox.hasNextPage && (
              <Flex justify="center" style={{ padding: 12 }}>
                <Button loading={inbox.isFetchingNextPage} onClick={() => void inbox.fetchNextPage()}>
                  加载更多
                </Button>
              </Flex>
            )
          }
          renderItem={(m) => {
            const isOpen = open === m.id;
            return (
              <List.Item
                data-testid="inbox-item"
                data-unread={m.readAt ? "false" : "true"}
                style={{ cursor: "pointer", alignItems: "flex-start" }}
                onClick={() => {
                  setOpen(isOpen ? null : m.id);
                  if (!m.readAt) markRead.mutate(m.id);
                }}
                actions={
                  m.readAt
                    ? []
                    : [
                        <Button
                          key="read"
                          type="link"
                          size="small"
                          onClick={(e) => {
                            e.stopPropagation();
                            markRead.mutate(m.id);
                          }}
                        >
                          标为已读
                        </Button>,
                      ]
                }
              >
                <List.Item.Meta
                  avatar={<Badge status={m.readAt ? "default" : "processing"} />}
                  title={
                    <Space wrap size={6}>
                      {m.urgent && <Tag color="red">紧急</Tag>}
                      <Typography.Text strong={!m.readAt}>{m.title}</Typography.Text>
                    </Space>
                  }
                  description={
                    <>
                      <Typography.Paragraph type="secondary" style={{ marginBottom: 4 }} ellipsis={isOpen ? false : { rows: 1 }}>
                        {m.body}
                      </Typography.Paragraph>
                      <Space size={12} wrap>
                        <Typography.Text type="secondary">{dayjs(m.createdAt).format("YYYY-MM-DD HH:mm")}</Typography.Text>
                        {isOpen && m.childId && (
                          <Link to={`/children/${m.childId}`} onClick={(e) => e.stopPropagation()}>
                            查看儿童档案
                          </Link>
                        )}
                      </Space>
                    </>
                  }
                />
              </List.Item>
            );
          }}
        />
      </Card>
    </Flex>
  );
}
