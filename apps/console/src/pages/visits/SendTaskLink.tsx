import { useState } from "react";
import { App, Button, Modal, Typography } from "antd";
import { MessageOutlined } from "@ant-design/icons";
import dayjs from "dayjs";
import type { VisitItem } from "../../services/models";
import { api, unwrap } from "../../services/client";

interface Issued {
  url: string;
  expiresAt: string;
}

/**
 * 发送填报链接: a one-time link for a due item whose helper has no account (a proxy parent, a volunteer), shown once
 * to copy into an SMS. The link records that item only, once, until it expires; it is not stored anywhere.
 */
export function SendTaskLink({ item }: { item: VisitItem }) {
  const { message } = App.useApp();
  const [issued, setIssued] = useState<Issued | null>(null);
  const [busy, setBusy] = useState(false);
  const issue = async () => {
    setBusy(true);
    try {
      setIssued(await unwrap<Issued>(api.POST("/api/v1/task-links", { body: { itemId: item.id } })));
    } catch (err) {
      void message.error((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Button icon={<MessageOutlined />} loading={busy} onClick={() => void issue()}>
        发送填报链接
      </Button>
      <Modal open={issued !== null} title="填报链接" onCancel={() => setIssued(null)} footer={<Button onClick={() => setIssued(null)}>关闭</Button>}>
        {issued && (
          <>
            <Typography.Paragraph>
              请把下面的链接用短信发给 <b>{item.responsible.name ?? "帮扶人"}</b>，用于登记 {item.childName} 的{item.kindLabel}。
            </Typography.Paragraph>
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
