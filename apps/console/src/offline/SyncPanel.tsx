import { useCallback, useEffect, useState } from "react";
import { App, Badge, Button, Drawer, Grid, List, Popover, Space, Tag, Typography } from "antd";
import { CloudSyncOutlined, DisconnectOutlined } from "@ant-design/icons";
import { OFFLINE_CHANGED, offlineStoreExists } from "./store";
import { useOnline } from "./online";
import type { QueuedRecord } from "./db";
import type { SyncResult } from "./queue";

const kindLabel: Record<string, string> = {
  home_visit: "家访",
  parent_call: "与父母通话",
  talk: "谈心",
  guardian_contact: "与监护人联系",
  letter: "书信",
  tutoring: "学业辅导",
};
const loadQueue = () => import("./queue");

/**
 * Loaded by ./SyncIndicator only once this device has offline data or no network.
 * The header's "N 条待同步": records made offline still on this device, a 离线 tag, and —
 * on a click — the queue, the last sync's results and the records the server refused
 * (kept, with its reason, until the user has read it: nothing is dropped silently).
 * Syncs by itself when the network returns. Dexie is loaded only once a queue exists.
 */
export default function SyncPanel({ owner }: { owner: string }) {
  const online = useOnline();
  const { message } = App.useApp();
  const [entries, setEntries] = useState<QueuedRecord[]>([]);
  const [results, setResults] = useState<SyncResult[]>([]);
  const [syncing, setSyncing] = useState(false);
  const [open, setOpen] = useState(false);
  const phone = !Grid.useBreakpoint().md;

  const refresh = useCallback(async () => {
    if (!(await offlineStoreExists())) return setEntries([]);
    setEntries(await (await loadQueue()).queued(owner));
  }, [owner]);

  const sync = useCallback(async () => {
    if (!(await offlineStoreExists())) return;
    setSyncing(true);
    try {
      const done = await (await loadQueue()).syncNow(owner);
      if (done.length) {
        setResults(done);
        const ok = done.filter((r) => r.outcome === "synced").length;
        const refused = done.filter((r) => r.outcome === "conflict" || r.outcome === "invalid").length;
        // A refusal needs reading (the record stays until then): the panel opens with the reasons.
        if (refused) setOpen(true);
        else if (ok) message.success(`已同步 ${ok} 条走访记录`);
      }
    } finally {
      setSyncing(false);
      await refresh();
    }
  }, [owner, refresh, message]);

  useEffect(() => {
    const changed = () => void refresh();
    window.addEventListener(OFFLINE_CHANGED, changed);
    void refresh();
    return () => window.removeEventListener(OFFLINE_CHANGED, changed);
  }, [refresh]);

  // Back online (or opened online with records waiting): send them.
  useEffect(() => {
    if (online) void sync();
  }, [online, sync]);

  const pending = entries.filter((e) => e.status === "pending");
  const refused = entries.filter((e) => e.status === "conflict");
  if (online && !entries.length && !results.length) return null;

  const content = (
    <div style={phone ? undefined : { width: 320 }} data-testid="sync-panel">
      {!online && (
        <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
          当前离线：新登记的走访保存在本机，联网后自动同步。
        </Typography.Paragraph>
      )}
      {refused.length > 0 && (
        <>
          <Typography.Text strong>未能保存（{refused.length}）</Typography.Text>
          <List
            size="small"
            dataSource={refused}
            renderItem={(e) => (
              <List.Item
                actions={[
                  <Button key="ok" size="small" onClick={() => void loadQueue().then((q) => q.dismiss(e.id))}>
                    知道了
                  </Button>,
                ]}
              >
                <div>
                  <div>
                    {e.childName} · {kindLabel[e.body.kind] ?? e.body.kind} · {e.body.date}
                  </div>
                  <Typography.Text type="danger" data-testid="sync-conflict">
                    {e.message}
                  </Typography.Text>
                </div>
              </List.Item>
            )}
          />
        </>
      )}
      {pending.length > 0 && (
        <List
          size="small"
          header={<Typography.Text strong>待同步（{pending.length}）</Typography.Text>}
          dataSource={pending}
          renderItem={(e) => (
            <List.Item>
              {e.childName} · {kindLabel[e.body.kind] ?? e.body.kind} · {e.body.date}
            </List.Item>
          )}
        />
      )}
      {results.length > 0 && (
        <List
          size="small"
          header={<Typography.Text strong>上次同步结果</Typography.Text>}
          dataSource={results}
          data-testid="sync-results"
          renderItem={(r) => (
            <List.Item>
              <Space direction="vertical" size={0}>
                <span>
                  {r.childName} · {kindLabel[r.kind] ?? r.kind} · {r.date}
                </span>
                <Typography.Text type={r.outcome === "synced" ? "success" : r.outcome === "offline" ? "secondary" : "danger"}>{r.message}</Typography.Text>
              </Space>
            </List.Item>
          )}
        />
      )}
      <Button
        block
        type="primary"
        icon={<CloudSyncOutlined />}
        disabled={!online || !pending.length}
        loading={syncing}
        onClick={() => void sync()}
        style={{ marginTop: 8 }}
      >
        立即同步
      </Button>
    </div>
  );
  const button = (
    <Button
      type="text"
      data-testid="sync-indicator"
      aria-label={`离线与同步：${pending.length} 条待同步`}
      onClick={() => setOpen(true)}
      style={{ paddingInline: 4 }}
    >
      {!online && (
        <Tag icon={<DisconnectOutlined />} color="default" style={{ marginInlineEnd: 4 }}>
          离线
        </Tag>
      )}
      {pending.length > 0 && <span data-testid="pending-count">{pending.length} 条待同步</span>}
      {refused.length > 0 && <Badge count={refused.length} title="未能保存" style={{ marginInlineStart: 4 }} />}
    </Button>
  );
  // A phone gets a sheet from the bottom (a popover would not fit 390 px beside the header's other buttons).
  if (phone)
    return (
      <>
        {button}
        <Drawer placement="bottom" open={open} onClose={() => setOpen(false)} title="离线与同步" size="auto" styles={{ body: { paddingTop: 8 } }}>
          {content}
        </Drawer>
      </>
    );
  return (
    <Popover content={content} trigger="click" open={open} onOpenChange={setOpen} placement="bottomRight" title="离线与同步">
      {button}
    </Popover>
  );
}
