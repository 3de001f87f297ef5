/** 致家长的一封信: the shapes the notifications service answers (services/notifications/src/routes/letters.ts). */
export interface Letter {
  id: string;
  orgUnit: string;
  title: string;
  body: string;
  signature: string;
  scope: { townshipCode: string; schoolId?: string | null; grade?: string | null; className?: string | null };
  categories: string[];
  status: "draft" | "sending" | "sent" | "withdrawn";
  createdBy: string;
  createdAt: string;
  sentAt: string | null;
  recipients: number;
}

export interface Preview {
  recipients: number;
  byCategory: Record<string, number>;
  sample: { to: string | null; title: string; body: string; signature: string } | null;
  unreachable: { childId: string; childName: string; schoolName: string | null; classLabel: string | null; missing: string[] }[];
  unreachableTotal: number;
}

export interface ReachCounts {
  recipients: number;
  sent: number;
  delivered: number;
  failed: number;
  read: number;
  held: number;
}
export interface Reach {
  letterId: string;
  status: string;
  schools: (ReachCounts & { schoolId: string | null; schoolName: string | null })[];
  total: ReachCounts;
}

export interface SchoolOption {
  id: string;
  name: string;
  children: number;
  classes: { grade: string | null; className: string | null; children: number }[];
}

export const CATEGORY_LABELS: Record<string, string> = { guardian: "监护人", father: "父亲", mother: "母亲" };
export const STATUS_LABELS: Record<Letter["status"], { text: string; color: string }> = {
  draft: { text: "草稿", color: "default" },
  sending: { text: "发送中", color: "processing" },
  sent: { text: "已发送", color: "success" },
  withdrawn: { text: "已撤回", color: "warning" },
};
export const VARIABLES = ["儿童姓名", "监护人姓名", "学校", "班级"];
