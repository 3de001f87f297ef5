import { useState } from "react";
import { App, Badge, Button, Card, List, Segmented, Space, Tag, Typography } from "antd";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../../services/client";
import type { InboxMessage, Page } from "../../services/models";

type InboxPage = Page<InboxMessage> & { unread: number };

/** 消息: the signed-in person's inbox; reading a message lowers the header badge. */
export default function Messages() {
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [filter, setFilter] = useState<"all" | "unread">("unread");
  const inbox = useInfiniteQuery({
    queryKey: ["inbox", "list", filter],
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: InboxPage) => last.nextCursor ?? undefined,
    queryFn: ({ pageParam }) =>
      unwrap<InboxPage>(
        api.GET("/api/v1/inbox", {
          params: { query: { limit: 20, ...(filter === "unread" ? { unread: "true" as const } : {}), ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
  });
  // Both the list and the header badge read ["inbox", …]; one invalidation refreshes both.
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["inbox"] });
  const markRead = useMutation({
    mutationFn: (id: string) => unwrap(api.POST("/api/v1/inbox/{id}/read", { params: { path: { id } } })),
    onSuccess: refresh,
    onError: (e: Error) => void message.error(e.message),
  });
  const markAll = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/inbox/read-all")),
    onSuccess: () => {
      void message.success("已全部标记为已读");
      return refresh();
    },
    onError: (e: Error) => void message.error(e.message),
  });
  const items = inbox.data?.pages.flatMap((p) => p.items) ?? [];
  const unread = inbox.data?.pages[0]?.unread ?? 0;

  return (
    <Card
      title={
        <Space>
          <Typography.Title level={1} style={{ fontSize: 18, margin: 0 }}>
            消息
          </Typography.Title>
          <Badge count={unread} showZero color={unread ? undefined : "#8c8c8c"} />
        </Space>
      }
      extra={
        <Button onClick={() => markAll.mutate()} loading={markAll.isPending} disabled={unread === 0}>
          全部标为已读
        </Button>
      }
    >
      <Segmented
        value={filter}
        onChange={(v) => setFilter(v as "all" | "unread")}
        options={[
          { label: "未读", value: "unread" },
          { label: "全部", value: "all" },
        ]}
        style={{ marginBottom: 16 }}
      />
      <List
        loading={inbox.isLoading}
        dataSource={items}
        locale={{ emptyText: filter === "unread" ? "没有未读消息" : "暂无消息" }}
        loadMore={
          inbox.hasNextPage ? (
            <div style={{ textAlign: "center", marginTop: 12 }}>
              <Button onClick={() => void inbox.fetchNextPage()} loading={inbox.isFetchingNextPage}>
                加载更多
              </Button>
            </div>
          ) : null
        }
        renderItem={(m) => (
          <List.Item
            data-testid="inbox-item"
            actions={
              m.readAt
                ? [
                    <Typography.Text key="read" type="secondary">
                      已读
                    </Typography.Text>,
                  ]
                : [
                    <Button key="read" type="link" onClick={() => markRead.mutate(m.id)} loading={markRead.isPending && markRead.variables === m.id}>
                      标为已读
                    </Button>,
                  ]
            }
          >
            <List.Item.Meta
              title={
                <Space wrap>
                  {!m.readAt && <Badge status="processing" />}
                  <Typography.Text strong={!m.readAt}>{m.title}</Typography.Text>
                  {m.urgent && <Tag color="red">紧急</Tag>}
                </Space>
              }
              description={
                <Space direction="vertical" size={2}>
                  <Typography.Text>{m.body}</Typography.Text>
                  <Space size={12}>
                    <Typography.Text type="secondary">{new Date(m.createdAt).toLocaleString("zh-CN")}</Typography.Text>
                    {m.childId && <Link to={`/children/${m.childId}`}>查看儿童档案</Link>}
                  </Space>
                </Space>
              }
            />
          </List.Item>
        )}
      />
    </Card>
  );
}
