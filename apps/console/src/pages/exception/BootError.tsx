import { Button, ConfigProvider, Result } from "antd";
import zhCN from "antd/locale/zh_CN";
import { signIn } from "../../auth/oidc";

/** Sign-in could not finish (issuer unreachable, stale redirect): say so and offer to retry. */
export function BootError({ message }: { message: string }) {
  return (
    <ConfigProvider locale={zhCN}>
      <Result
        status="warning"
        title="登录未完成"
        subTitle={message}
        extra={
          <Button type="primary" onClick={() => void signIn("/").catch(() => location.assign("/"))}>
            重新登录
          </Button>
        }
      />
    </ConfigProvider>
  );
}
