import { Tag, Typography } from "antd";

/** Masks as the API applies them: 138****0001, 360999************, ***. */
const isMasked = (v: string | null | undefined) => typeof v === "string" && v.includes("*");

/**
 * A value exactly as the API returned it. A masked one says so (已脱敏); a withheld
 * one (null for a role without need-to-know) shows as 无权查看 only where `withheld`
 * says the field exists but was not given, otherwise as 未填写.
 */
export function Field({ value, withheld = false }: { value: string | number | null | undefined; withheld?: boolean }) {
  if (value === null || value === undefined || value === "") {
    return withheld ? <Typography.Text type="secondary">无权查看</Typography.Text> : <Typography.Text type="secondary">未填写</Typography.Text>;
  }
  const text = String(value);
  if (isMasked(text))
    return (
      <span>
        {text}{" "}
        <Tag color="default" data-testid="masked">
          已脱敏
        </Tag>
      </span>
    );
  return <span>{text}</span>;
}
