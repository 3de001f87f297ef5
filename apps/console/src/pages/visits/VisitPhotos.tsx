import { useRef, useState } from "react";
import { Alert, App, Button, Flex, Progress } from "antd";
import { CameraOutlined, PictureOutlined } from "@ant-design/icons";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, api, fetchBlob, saveBlob, unwrap } from "../../services/client";
import type { VisitPhoto } from "../../services/models";
import { Thumbnail, uploadFile } from "../../components/Attachments";

/**
 * A visit's photos under its record (opened on demand: one request per record shown): the
 * thumbnails (tap to download), and 拍照 on a phone opens the camera. EXIF and GPS are removed
 * by the server; who may see and add them is the API's answer.
 */
export function VisitPhotos({ recordId }: { recordId: string }) {
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [percent, setPercent] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const camera = useRef<HTMLInputElement>(null);
  const photos = useQuery({
    queryKey: ["visit-photos", recordId],
    enabled: open,
    retry: false,
    queryFn: async () => (await unwrap<{ items: VisitPhoto[] }>(api.GET("/api/v1/visit-records/{id}/photos", { params: { path: { id: recordId } } }))).items,
  });

  const onFile = async (e: React.ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = "";
    if (!file) return;
    setError(null);
    setPercent(0);
    try {
      await uploadFile(`/api/v1/visit-records/${recordId}/photos`, file, setPercent);
      void message.success("照片已上传");
      setOpen(true);
      await queryClient.invalidateQueries({ queryKey: ["visit-photos", recordId] });
    } catch (err) {
      const issue = err instanceof ApiError ? err.fieldIssues.find((i) => i.field === "file") : undefined;
      setError(issue ? `${file.name}：${issue.message}` : (err as Error).message);
    } finally {
      setPercent(null);
    }
  };

  return (
    <div style={{ marginTop: 6 }} data-testid="visit-photos">
      <Flex gap={8} wrap>
        <Button size="small" icon={<PictureOutlined />} onClick={() => setOpen(!open)}>
          {open ? "收起照片" : "照片"}
        </Button>
        <Button size="small" icon={<CameraOutlined />} disabled={percent !== null} onClick={() => camera.current?.click()}>
          拍照
        </Button>
        <input ref={camera} type="file" accept="image/*" capture="environment" hidden data-testid="visit-photo-camera" onChange={(e) => void onFile(e)} />
      </Flex>
      {percent !== null && <Progress percent={percent} size="small" />}
      {error && <Alert type="error" showIcon title={error} closable onClose={() => setError(null)} style={{ marginTop: 6 }} />}
      {open && photos.isError && <Alert type="warning" showIcon title={(photos.error as Error).message} style={{ marginTop: 6 }} />}
      {open && photos.data && (
        <Flex gap={8} wrap style={{ marginTop: 6 }}>
          {photos.data.length === 0
            ? "暂无照片"
            : photos.data.map((p) => (
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
        </Flex>
      )}
    </div>
  );
}
