import { Card, Flex, Result, Spin, Typography } from "antd";
import { useQuery } from "@tanstack/react-query";
import { useParams } from "react-router";
import type { OpenedLetter } from "../services/models";
import { publicApi, PublicApiError } from "./api";

/** 致家长的一封信 as a guardian opens it from the SMS: the letter, large type, nothing else (opening it records 已阅). */
export default function LetterPage() {
  const { code } = useParams();
  const letter = useQuery({
    queryKey: ["public-letter", code],
    queryFn: () => publicApi<OpenedLetter>(`/api/v1/public/letters/${encodeURIComponent(code ?? "")}`),
    staleTime: Infinity,
  });
  if (letter.isLoading)
    return (
      <Flex justify="center" style={{ padding: 48 }}>
        <Spin size="large" />
      </Flex>
    );
  if (letter.error) {
    const status = letter.error instanceof PublicApiError ? letter.error.status : 500;
    return (
      <Result
        status={status === 404 ? "404" : status >= 500 ? "500" : "warning"}
        title={status === 404 ? "链接无效" : letter.error.message}
        subTitle={status >= 500 ? "请稍后再打开。" : "请联系发送短信的工作人员。"}
      />
    );
  }
  const l = letter.data!;
  const [y, m, d] = (l.date ?? "").split("-");
  return (
    <Flex justify="center" align="flex-start" style={{ padding: "16px 12px", minHeight: "100vh", background: "#f5f5f5" }}>
      <Card style={{ width: "100%", maxWidth: 720 }} styles={{ body: { padding: "24px 20px" } }}>
        <article data-testid="public-letter">
          <Typography.Title level={3} style={{ textAlign: "center", marginTop: 0 }}>
            {l.title}
          </Typography.Title>
          {l.body.split(/\n+/).map((p, i) => (
            <Typography.Paragraph key={i} style={{ fontSize: 17, lineHeight: 1.9, textIndent: i === 0 ? 0 : "2em" }}>
              {p}
            </Typography.Paragraph>
          ))}
          <Flex vertical align="end" style={{ marginTop: 24, fontSize: 16 }}>
            <span>{l.signature}</span>
            {l.date && <span>{`${y}年${Number(m)}月${Number(d)}日`}</span>}
          </Flex>
        </article>
      </Card>
    </Flex>
  );
}
