/** 致家长的一封信: the shapes the notifications service answers, generated from its OpenAPI document. */
import type { Letter, LetterPreview, LetterReach, LetterSchools } from "../../services/models";

export type { Letter };
export type Preview = LetterPreview;
export type Reach = LetterReach;
export type ReachCounts = LetterReach["total"];
export type SchoolOption = LetterSchools["schools"][number];

export const CATEGORY_LABELS: Record<string, string> = { guardian: "监护人", father: "父亲", mother: "母亲" };
export const STATUS_LABELS: Record<Letter["status"], { text: string; color: string }> = {
  draft: { text: "草稿", color: "default" },
  sending: { text: "发送中", color: "processing" },
  sent: { text: "已发送", color: "success" },
  withdrawn: { text: "已撤回", color: "warning" },
};
export const VARIABLES = ["儿童姓名", "监护人姓名", "学校", "班级"];
