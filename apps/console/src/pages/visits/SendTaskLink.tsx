import { useState } from "react";
import { App, Button, Modal, Space, Typography } from "antd";
import { MessageOutlined } from "@ant-design/icons";
import dayjs from "dayjs";
import type { VisitItem } from "../../services/models";
import { api, unwrap } from "../../services/client";

type Issued = { url: string; expiresAt: string } | { sent: true; to: string };

/**
 * 发送填报链接: a one-time link for a due item whose helper has no account (a proxy parent, a volunteer). 短信发送:
 * the notifications service mints and texts it (the link never reaches this page); 生成链接: shown once here to copy
 * into a message. Either records that item only, once, until it expires.
 */
export function SendTaskLink({ item }: { item: VisitItem }) {
  const { message } = App.useApp();
  const [open, setOpen] = useState(false);
  const [issued, setIssued] = useState<Issued | null>(null);
  const [busy, setBusy] = useState<"send" | "copy" | null>(null);
  const helper = item.responsible.name ?? "帮扶人";
  const issue = async (send: boolean) => {
    setBusy(send ? "send" : "copy");
    try {
      setIssued(await unwrap<Issued>(api.POST("/api/v1/task-links", { body: { itemId: item.id, send } })));
    } catch (err) {
      void message.error((err as Error).message);
    } finally {
      setBusy(null);
    }
  };
  const close = () => {
    setOpen(false);
    setIssued(null);
  };
  return (
    <>
      <Button icon={<MessageOutlined />} onClick={() => setOpen(true)}>
        发送填报链接
      </Button>
      <Modal open={open} title="填报链接" onCancel={close} footer={<Button onClick={close}>关闭</Button>}>
        {!issued && (
          <>
            <Typography.Paragraph>
              {helper}没有系统账号。发给{helper}一个一次性链接，用手机打开即可登记 {item.childName} 的{item.kindLabel}，只能提交一次。
            </Typography.Paragraph>
            <Space wrap>
              <Button type="primary" loading={busy === "send"} disabled={busy !== null} onClick={() => void issue(true)}>
                短信发送给{helper}
              </Button>
              <Button loading={busy === "copy"} disabled={busy !== null} onClick={() => void issue(false)}>
                生成链接（自行转发）
              </Button>
            </Space>
          </>
        )}
        {issued && "sent" in issued && (
          <Typography.Paragraph data-testid="task-link-sent">已安排短信发送到 {issued.to}（夜间免打扰时段结束后发出）。</Typography.Paragraph>
        )}
        {issued && "url" in issued && (
          <>
            <Typography.Paragraph>请把下面的链接发给 {helper}：</Typography.Paragraph>
            <Typography.Paragraph
              copyable={{ text: issued.url, tooltips: ["复制", "已复制"] }}
              code
              data-testid="task-link-url"
              style={{ wordBreak: "break-all" }}
            >
              {issued.url}
            </Typography.Paragraph>
            <Typography.Paragraph type="secondary">
              只能提交一次，{dayjs(issued.expiresAt).format("M月D日 HH:mm")} 前有效。关闭后不再显示，需要时可重新生成。
            </Typography.Paragraph>
          </>
        )}
      </Modal>
    </>
  );
}
