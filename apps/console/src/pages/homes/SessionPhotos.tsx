import { useRef, useState } from "react";
import { Alert, App, Button, Flex, Progress } from "antd";
import { CameraOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError, fetchBlob, saveBlob } from "../../services/client";
import { Thumbnail, uploadFile, type StoredFile } from "../../components/Attachments";

/**
 * A session's photos (每次活动均有照片) under its record: the thumbnails that came with the session list
 * (tap to download), and 拍照/上传 for those who keep the home — on a phone it opens the camera. EXIF and
 * GPS are removed by the server; an inspector's list carries no photos.
 */
export function SessionPhotos(props: { siteId: string; sessionId: string; photos: (StoredFile & { fileUrl: string })[]; canAdd: boolean }) {
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [percent, setPercent] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  const onFile = async (e: React.ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = "";
    if (!file) return;
    setError(null);
    setPercent(0);
    try {
      await uploadFile(`/api/v1/sites/${props.siteId}/sessions/${props.sessionId}/photos`, file, setPercent);
      void message.success("照片已上传");
      await queryClient.invalidateQueries({ queryKey: ["site", props.siteId, "sessions"] });
    } catch (err) {
      const issue = err instanceof ApiError ? err.fieldIssues.find((i) => i.field === "file") : undefined;
      setError(issue ? `${file.name}：${issue.message}` : (err as Error).message);
    } finally {
      setPercent(null);
    }
  };

  if (!props.canAdd && props.photos.length === 0) return null;
  return (
    <div data-testid="session-photos">
      <Flex gap={8} wrap align="center">
        {props.photos.map((p) => (
          <button
            key={p.id}
            type="button"
            aria-label={`下载 ${p.fileName}`}
            style={{ border: 0, padding: 0, background: "none", cursor: "pointer" }}
            onClick={() =>
              void fetchBlob(p.fileUrl).then(
                (b) => saveBlob(b, p.fileName),
                (err: Error) => void message.error(err.message),
              )
            }
          >
            <Thumbnail file={p} />
          </button>
        ))}
        {props.canAdd && (
          <>
            <Button size="small" icon={<CameraOutlined />} disabled={percent !== null} onClick={() => input.current?.click()}>
              拍照/上传
            </Button>
            <input ref={input} type="file" accept="image/*" capture="environment" hidden data-testid="session-photo-input" onChange={(e) => void onFile(e)} />
          </>
        )}
      </Flex>
      {percent !== null && <Progress percent={percent} size="small" />}
      {error && <Alert type="error" showIcon title={error} closable onClose={() => setError(null)} style={{ marginTop: 6 }} />}
    </div>
  );
}
