import { Result } from "antd";

/** A public URL that names no page: says so, and offers nothing of the console. */
export default function LinkNotFound() {
  return <Result status="404" title="链接无效" subTitle="请检查短信中的链接是否完整，或联系发送短信的工作人员。" />;
}
