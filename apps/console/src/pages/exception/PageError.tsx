import { Button, Result } from "antd";
import { useRouteError } from "react-router";

/**
 * A page that failed to render (or whose code could not load after a deploy) says so in
 * Chinese and offers a reload, inside the layout, instead of React Router's developer page.
 */
export function PageError() {
  const error = useRouteError();
  console.error(error);
  return (
    <Result
      status="error"
      title="页面出错了"
      subTitle="请刷新页面重试；如仍出错，请联系县级管理员。"
      extra={
        <Button type="primary" onClick={() => location.reload()}>
          刷新页面
        </Button>
      }
    />
  );
}
