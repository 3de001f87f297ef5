import { useEffect } from "react";
import { Spin } from "antd";
import { FileOutlined, FilePdfOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { ApiError, fetchBlob } from "../services/client";
import { currentAccessToken } from "../auth/oidc";

/** What the attachment APIs (a child's 附件, a visit's photos) answer for one file. */
export interface StoredFile {
  id: string;
  fileName: string;
  contentType: string;
  thumbnailUrl: string | null;
}

export const fileSize = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${Number((bytes / 1024 / 1024).toFixed(1))} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;

/**
 * Sends one file as multipart (field `file`) with XMLHttpRequest, whose upload events give
 * the progress fetch does not; the API's error (a zh-CN message naming `file`) comes back
 * as an ApiError like every other call.
 */
export async function uploadFile<T>(url: string, file: File, onProgress: (percent: number) => void): Promise<T> {
  const token = await currentAccessToken();
  const body = new FormData();
  body.append("file", file, file.name);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(Math.round((e.loaded / e.total) * 100));
    xhr.onerror = () => reject(new ApiError(0, "NETWORK", "网络中断，上传未完成，请重试"));
    xhr.onload = () => {
      let json: { error?: { code?: string; message?: string; details?: unknown } } = {};
      try {
        json = JSON.parse(xhr.responseText) as typeof json;
      } catch {
        /* not JSON */
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(json as T);
      else reject(new ApiError(xhr.status, json.error?.code ?? String(xhr.status), json.error?.message ?? `上传失败（${xhr.status}）`, json.error?.details));
    };
    xhr.send(body);
  });
}

/** A photo's thumbnail, fetched with the token (an <img src> would carry none) and shown from a blob URL. */
export function Thumbnail({ file: attachment }: { file: StoredFile }) {
  const thumb = useQuery({
    queryKey: ["attachment-thumb", attachment.id],
    enabled: attachment.thumbnailUrl !== null,
    staleTime: Infinity,
    queryFn: async () => URL.createObjectURL(await fetchBlob(attachment.thumbnailUrl!)),
  });
  useEffect(() => () => void (thumb.data && URL.revokeObjectURL(thumb.data)), [thumb.data]);
  const box = {
    width: 72,
    height: 72,
    flex: "0 0 72px",
    borderRadius: 6,
    background: "#f5f5f5",
    display: "flex",
    alignItems: "center",
    justifyContent: "center",
  };
  if (!attachment.thumbnailUrl)
    return (
      <div style={box}>{attachment.contentType === "application/pdf" ? <FilePdfOutlined style={{ fontSize: 28, color: "#cf1322" }} /> : <FileOutlined />}</div>
    );
  if (!thumb.data) return <div style={box}>{thumb.isError ? <FileOutlined /> : <Spin size="small" />}</div>;
  return <img src={thumb.data} alt={attachment.fileName} style={{ ...box, objectFit: "cover" }} />;
}
