import { labels, type ActivityKind, type Role, type VisitKind } from "@shouhu/contracts";
import { recordAccess } from "@shouhu/auth";
import type { StrandActivity, StrandCheckup, StrandEntry, StrandVisit } from "../data/growth-strands.js";

/** Who asked for the pack, as the job keeps it: the need-to-know rules are applied for them when it runs. */
export interface PackRequester {
  userId: string;
  username: string;
  name: string;
  roles: Role[];
}

interface TimelineItem {
  date: string;
  /** 走访 | 活动 | 体检 | 获奖 | 成长记录 */
  tag: string;
  text: string;
}

/** One child's strands as the requester may read them, and the strands left out (named, so the reader knows). */
export interface ChildTimeline {
  items: TimelineItem[];
  withheld: string[];
}

/**
 * The growth file's timeline for one child, each strand as RECORD_ACCESS lets the requester read it — the rules
 * of the 成长档案 tab (GrowthFile.tsx and the services behind it): visits all / own and paired (teachers: every
 * visit of a child paired to them, else those they made) / summary (no visitor); activities for whoever reads
 * visit records; check-ups full (figures and findings) / flags / paired-flags / coverage (date only); awards and
 * notes all / own and paired (teachers: all for a paired child, else what they wrote).
 */
export function childTimeline(
  requester: PackRequester,
  paired: boolean,
  s: { visits: StrandVisit[]; activities: StrandActivity[]; checkups: StrandCheckup[]; entries: StrandEntry[] },
): ChildTimeline {
  const items: TimelineItem[] = [];
  const withheld: string[] = [];

  const visits = recordAccess(requester, "visitRecords");
  if (visits === "none") withheld.push("走访记录");
  else {
    for (const v of s.visits) {
      if (visits === "own-and-paired" && !paired && v.visitorUserId !== requester.userId) continue;
      const kind = labels.visitKind[v.kind as VisitKind] ?? v.kind;
      const who = visits === "summary" ? null : v.visitorName;
      const late = v.onTime === false ? "（补访）" : "";
      items.push({ date: v.date, tag: "走访", text: [kind, who].filter(Boolean).join(" · ") + late });
    }
    if (visits === "own-and-paired" && !paired) withheld.push("他人的走访记录");
    for (const a of s.activities) {
      items.push({ date: a.date, tag: "活动", text: `${a.siteName} · ${labels.activityKind[a.kind as ActivityKind] ?? a.kind}（带领：${a.leader}）` });
    }
  }

  const checkups = recordAccess(requester, "checkups");
  if (checkups === "none" || (checkups === "paired-flags" && !paired)) withheld.push("体检记录");
  else {
    for (const c of s.checkups) {
      const figures =
        checkups === "full"
          ? [c.heightCm !== null ? `身高 ${c.heightCm} cm` : null, c.weightKg !== null ? `体重 ${c.weightKg} kg` : null, c.bmi !== null ? `BMI ${c.bmi}` : null]
              .filter(Boolean)
              .join("，")
          : "";
      const findings = checkups === "coverage" ? "" : c.flags.length ? `异常提示：${c.flags.map((f) => f.label).join("、")}` : "未见异常";
      items.push({ date: c.date, tag: "体检", text: [figures || "已体检", findings].filter(Boolean).join("；") });
    }
    if (checkups === "coverage") withheld.push("体检结果");
  }

  const notes = recordAccess(requester, "growthNotes");
  if (notes === "none") withheld.push("获奖和成长记录");
  else {
    for (const e of s.entries) {
      if (notes === "own-and-paired" && !paired && e.authorUsername !== requester.username) continue;
      items.push({ date: e.date, tag: e.kind === "award" ? "获奖" : "成长记录", text: [e.title, e.detail, `（${e.authorName}记）`].filter(Boolean).join(" ") });
    }
    if (notes === "own-and-paired" && !paired) withheld.push("他人记的成长记录");
  }

  items.sort((a, b) => a.date.localeCompare(b.date));
  return { items, withheld };
}
