import { useEffect, useRef, useState } from "react";
import { Alert, Button, Form, Input, Space, Typography } from "antd";
import { CameraOutlined } from "@ant-design/icons";
import { Link, useNavigate } from "react-router";

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** The child id in what was scanned or typed: the 联系卡's link (…/visits/child/<id>), a /children/<id> link, or the id itself. */
function childIdIn(text: string): string | null {
  return UUID.exec(text.trim())?.[0]?.toLowerCase() ?? null;
}

interface Detector {
  detect(source: HTMLVideoElement): Promise<{ rawValue: string }[]>;
}
declare global {
  interface Window {
    BarcodeDetector?: new (options: { formats: string[] }) => Detector;
  }
}

/**
 * 扫码: opens a child's 走访 page from the QR code on the printed 联系卡. With the camera where
 * the browser has BarcodeDetector (Chrome on Android); everywhere, by pasting or typing the
 * card's link or 编号 — and a phone's own camera app opens the card's link directly.
 */
export default function Scan() {
  const navigate = useNavigate();
  const video = useRef<HTMLVideoElement>(null);
  const [scanning, setScanning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const canScan = typeof window.BarcodeDetector === "function" && Boolean(navigator.mediaDevices?.getUserMedia);

  const open = (text: string) => {
    const id = childIdIn(text);
    if (!id) return setError("没有识别出儿童编号：请扫描联系卡上的二维码，或粘贴卡上的链接");
    void navigate(`/visits/child/${id}`);
  };

  useEffect(() => {
    if (!scanning || !video.current || !window.BarcodeDetector) return;
    let stream: MediaStream | null = null;
    let stopped = false;
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    void (async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
        video.current!.srcObject = stream;
        await video.current!.play();
        while (!stopped) {
          const [code] = await detector.detect(video.current!);
          if (code && childIdIn(code.rawValue)) return open(code.rawValue);
          await new Promise((r) => setTimeout(r, 250));
        }
      } catch {
        setError("无法使用摄像头：请允许使用摄像头，或粘贴联系卡上的链接");
        setScanning(false);
      }
    })();
    return () => {
      stopped = true;
      stream?.getTracks().forEach((t) => t.stop());
    };
  }, [scanning]);

  return (
    <div style={{ maxWidth: 480 }}>
      <div className="page-header">
        <h1>扫码打开儿童</h1>
        <Link to="/visits">返回我的走访</Link>
      </div>
      {error && <Alert type="warning" showIcon message={error} style={{ marginBottom: 12 }} />}
      {canScan ? (
        <Space direction="vertical" style={{ width: "100%", marginBottom: 16 }}>
          <Button type="primary" size="large" block icon={<CameraOutlined />} onClick={() => setScanning((s) => !s)}>
            {scanning ? "停止扫码" : "用摄像头扫联系卡二维码"}
          </Button>
          {scanning && <video ref={video} muted playsInline style={{ width: "100%", borderRadius: 8, background: "#000" }} aria-label="摄像头画面" />}
        </Space>
      ) : (
        <Typography.Paragraph type="secondary">这个浏览器不能在页面里扫码：可用手机相机直接扫联系卡上的二维码，或在下面粘贴卡上的链接。</Typography.Paragraph>
      )}
      <Form layout="vertical" onFinish={(v: { code: string }) => open(v.code)}>
        <Form.Item name="code" label="联系卡链接或儿童编号" rules={[{ required: true, message: "请粘贴链接或输入编号" }]}>
          <Input placeholder="https://…/visits/child/…" autoComplete="off" />
        </Form.Item>
        <Button htmlType="submit" block>
          打开
        </Button>
      </Form>
    </div>
  );
}
