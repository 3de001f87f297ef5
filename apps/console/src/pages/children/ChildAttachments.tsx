import { useRef, useState } from "react";
import { Alert, App, Button, Card, Empty, Flex, Popconfirm, Progress, Select, Space, Spin, Tag, Typography } from "antd";
import { CameraOutlined, DeleteOutlined, DownloadOutlined, UploadOutlined } from "@ant-design/icons";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, api, fetchBlob, saveBlob, unwrap } from "../../services/client";
import type { Attachment, AttachmentList } from "../../services/models";
import { Thumbnail, fileSize as size, uploadFile } from "../../components/Attachments";

type Kind = AttachmentList["kinds"][number];

const day = (iso: string) => iso.slice(0, 10);

/**
 * 附件 of a child's file: 监护协议, 困境证明, 知情同意书 and photos. Phone-first: one tap opens
 * the camera for a photo (accept image/*, capture), another picks a file; upload progress;
 * the list shows thumbnails, downloads under the original name, and removes (kept in the
 * history). Which kinds appear is the API's answer (the need-to-know table), not guessed here.
 */
export function ChildAttachments({ childId }: { childId: string }) {
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const list = useQuery({
    queryKey: ["attachments", childId],
    queryFn: () => unwrap<AttachmentList>(api.GET("/api/v1/children/{id}/attachments", { params: { path: { id: childId }, query: {} } })),
  });
  const [kind, setKind] = useState<string>();
  const [progress, setProgress] = useState<{ name: string; percent: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const camera = useRef<HTMLInputElement>(null);
  const picker = useRef<HTMLInputElement>(null);

  if (list.isError) return <Alert type="warning" showIcon title={(list.error as Error).message} />;
  if (list.isLoading || !list.data) return <Spin />;
  const kinds: Kind[] = list.data.kinds;
  if (!kinds.length) return <Empty description="您的角色无权查看该儿童的附件" />;
  const chosen = kinds.find((k) => k.kind === (kind ?? kinds[0]!.kind))!;

  const send = async (file: File | undefined) => {
    if (!file) return;
    setError(null);
    if (file.size > chosen.maxBytes) {
      setError(`文件超过大小上限 ${size(chosen.maxBytes)}`);
      return;
    }
    setProgress({ name: file.name, percent: 0 });
    try {
      await uploadFile(`/api/v1/children/${childId}/attachments?kind=${encodeURIComponent(chosen.kind)}`, file, (percent) =>
        setProgress({ name: file.name, percent }),
      );
      void message.success(`已上传：${file.name}`);
      await queryClient.invalidateQueries({ queryKey: ["attachments", childId] });
    } catch (err) {
      // The reason about the file itself (type, size), without the generic "输入有误：file" prefix.
      const issue = err instanceof ApiError ? err.fieldIssues.find((i) => i.field === "file") : undefined;
      setError(issue ? `${file.name}：${issue.message}` : (err as Error).message);
    } finally {
      setProgress(null);
    }
  };

  const remove = async (a: Attachment) => {
    try {
      await unwrap(api.DELETE("/api/v1/children/{id}/attachments/{attachmentId}", { params: { path: { id: childId, attachmentId: a.id } }, body: {} }));
      void message.success(`已删除：${a.fileName}`);
      await queryClient.invalidateQueries({ queryKey: ["attachments", childId] });
    } catch (err) {
      void message.error((err as Error).message);
    }
  };

  const download = async (a: Attachment) => {
    try {
      saveBlob(await fetchBlob(a.fileUrl), a.fileName);
    } catch (err) {
      void message.error((err as Error).message);
    }
  };

  const onFile = (e: React.ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = ""; // the same file may be picked again after a failure
    void send(file);
  };

  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }}>
      <Card size="small" title="上传附件">
        <Flex wrap gap={8} align="center">
          <Select
            aria-label="附件类别"
            style={{ minWidth: 140 }}
            value={chosen.kind}
            onChange={setKind}
            options={kinds.map((k) => ({ value: k.kind, label: k.label }))}
          />
          <Button type="primary" icon={<CameraOutlined />} disabled={!!progress} onClick={() => camera.current?.click()}>
            拍照上传
          </Button>
          <Button icon={<UploadOutlined />} disabled={!!progress} onClick={() => picker.current?.click()}>
            选择文件
          </Button>
          <input ref={camera} type="file" accept="image/*" capture="environment" hidden data-testid="attachment-camera" onChange={onFile} />
          <input
            ref={picker}
            type="file"
            accept={chosen.accepts === "photo" ? "image/jpeg,image/png,image/webp" : "application/pdf,image/jpeg,image/png,image/webp"}
            hidden
            data-testid="attachment-file"
            onChange={onFile}
          />
        </Flex>
        <Typography.Text type="secondary" style={{ display: "block", marginTop: 8 }}>
          {chosen.accepts === "photo" ? "照片：JPEG、PNG 或 WebP" : "PDF 文件或照片"}，不超过 {size(chosen.maxBytes)}。照片上传时自动去除拍摄位置等信息。
        </Typography.Text>
        {progress && <Progress percent={progress.percent} size="small" format={(p) => `${progress.name} ${p}%`} />}
        {error && <Alert type="error" showIcon title={error} style={{ marginTop: 8 }} closable onClose={() => setError(null)} />}
      </Card>

      {list.data.items.length === 0 ? (
        <Empty description="暂无附件" />
      ) : (
        <Flex vertical gap={8}>
          {list.data.items.map((a) => (
            <Card key={a.id} size="small" styles={{ body: { padding: 8 } }} data-testid="attachment">
              <Flex gap={12} align="center">
                <Thumbnail file={a} />
                <div style={{ flex: 1, minWidth: 0 }}>
                  <Typography.Text strong ellipsis style={{ display: "block" }}>
                    {a.fileName}
                  </Typography.Text>
                  <Space size={4} wrap>
                    <Tag>{a.kindLabel}</Tag>
                    <Typography.Text type="secondary">
                      {size(a.size)} · {day(a.createdAt)} · {a.uploadedBy.name ?? "—"}
                    </Typography.Text>
                  </Space>
                </div>
                <Space size={4} wrap style={{ justifyContent: "flex-end" }}>
                  <Button icon={<DownloadOutlined />} aria-label={`下载 ${a.fileName}`} onClick={() => void download(a)} />
                  <Popconfirm title="删除该附件？" description="删除后不再显示，删除记录保留。" okText="删除" cancelText="取消" onConfirm={() => remove(a)}>
                    <Button danger icon={<DeleteOutlined />} aria-label={`删除 ${a.fileName}`} />
                  </Popconfirm>
                </Space>
              </Flex>
            </Card>
          ))}
        </Flex>
      )}
    </Space>
  );
}
