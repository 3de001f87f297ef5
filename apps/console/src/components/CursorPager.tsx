import { useState } from "react";
import { Button, Space, Typography } from "antd";

/**
 * Server-side paging by the APIs' cursors: the cursors of the pages already seen are
 * kept, so 上一页 goes back without the API offering a backward cursor.
 */
export function useCursorPages() {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  return {
    /** The cursor of the page shown (undefined: the first). */
    cursor: cursors[cursors.length - 1],
    /** 1-based. */
    page: cursors.length,
    /** Back to the first page (filters changed). */
    reset: () => setCursors([undefined]),
    back: () => setCursors(cursors.slice(0, -1)),
    forward: (next: string) => setCursors([...cursors, next]),
  };
}

/** 上一页 / 下一页 (and 第 N 页 where asked) for a list paged with useCursorPages. */
export function CursorPager({
  pages,
  nextCursor,
  showPage = false,
  style,
}: {
  pages: ReturnType<typeof useCursorPages>;
  nextCursor: string | null | undefined;
  showPage?: boolean;
  style?: React.CSSProperties;
}) {
  return (
    <Space style={style}>
      {showPage && <Typography.Text type="secondary">第 {pages.page} 页</Typography.Text>}
      <Button disabled={pages.page === 1} onClick={pages.back}>
        上一页
      </Button>
      <Button disabled={!nextCursor} onClick={() => nextCursor && pages.forward(nextCursor)}>
        下一页
      </Button>
    </Space>
  );
}
