/**
 * Message templates staff, guardians and parents read: Simplified Chinese.
 * `{name}` placeholders are filled from the event; SMS providers get the same
 * variables with their own registered template (see channels/sms-aliyun.ts).
 * A list variable (an exam's findings) reads as its items joined by 、.
 */
export const templates = {
  visit_due: { title: "走访提醒", body: "{child}的{kind}应在{dueDate}前完成（还有{daysLeft}天）。" },
  visit_overdue: { title: "走访逾期", body: "{child}的{kind}已逾期{days}天（应于{dueDate}前完成），请尽快补访。" },
  visit_due_link: { title: "走访提醒", body: "{child}的{kind}请在{dueDate}前完成。完成后点此链接登记（仅限本次使用）：{link}" },
  visit_overdue_link: { title: "走访逾期", body: "{child}的{kind}已逾期{days}天（应于{dueDate}前完成）。完成后点此链接登记（仅限本次使用）：{link}" },
  visit_escalated: { title: "走访逾期督办", body: "{child}的{kind}已逾期{days}天，责任人：{responsible}。请督促落实。" },
  concern_raised: { title: "紧急：儿童关注事项", body: "{child}：{category}。{description}（报告人：{raisedBy}）请立即核实处置。" },
  concern_escalated: { title: "关注事项超时未受理", body: "{child}的关注事项（{category}）已{days}天无人受理，已上报县级。" },
  pairing_started_helper: { title: "结对帮扶通知", body: "您已与{child}结对帮扶，自{startDate}起。请按要求定期家访、谈心。" },
  pairing_started_guardian: { title: "结对帮扶通知", body: "{child}的结对帮扶人为{helper}，联系电话{helperPhone}。" },
  pairing_ended_helper: { title: "结对解除通知", body: "您与{child}的结对帮扶已于{endDate}解除（{reason}）。感谢您的付出。" },
  checkup_flagged_guardian: { title: "体检结果提示", body: "{child}在{date}的体检中发现：{findings}。请带孩子到乡镇卫生院复查或就医。" },
  checkup_flagged_parent: { title: "孩子体检结果", body: "您的孩子{child}在{date}的体检中发现：{findings}。已通知监护人带孩子复查，请多打电话关心孩子。" },
  checkup_flagged_helper: { title: "体检异常跟进", body: "{child}体检发现：{findings}。请督促监护人带孩子复查，并跟进结果。" },
  child_transferred_in: { title: "儿童转入", body: "{child}已从{from}转入本乡镇（{village}），原结对已解除，请安排结对帮扶和走访。原因：{reason}" },
  child_transferred_out: { title: "儿童转出", body: "{child}已转出至{to}，本乡镇的结对和走访安排随之结束。原因：{reason}" },
  birthday_helper: { title: "生日提醒", body: "{child}将于{date}（{weekday}）过{age}岁生日，记得送上祝福。" },
  // 致家长的一封信: the letter itself is on the read page behind the link; the registered SMS template carries title and link only.
  letter_home: { title: "{title}", body: "您有一封来信《{title}》，请点击查看：{link}" },
  birthday_parent: { title: "孩子生日提醒", body: "{child}将于{date}（{weekday}）过{age}岁生日，记得给孩子打个电话。" },
} as const satisfies Record<string, { title: string; body: string }>;

export type TemplateId = keyof typeof templates;
type TemplateVar = string | number | readonly string[];
export type TemplateVars = Record<string, TemplateVar>;

/** How a list reads in a sentence: 视力低下（中度）、贫血（轻度）. */
export const LIST_SEPARATOR = "、";

export function render(id: TemplateId, vars: TemplateVars): { title: string; body: string } {
  const fill = (text: string) =>
    text.replace(/\{(\w+)\}/g, (_, key: string) => {
      const value = vars[key];
      if (value === undefined) throw new Error(`template ${id} needs {${key}}`);
      return Array.isArray(value) ? value.join(LIST_SEPARATOR) : String(value);
    });
  const t = templates[id];
  return { title: fill(t.title), body: fill(t.body) };
}
