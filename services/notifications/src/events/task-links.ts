import { mintTaskLink } from "@shouhu/auth";
import type { TaskLinkMinter } from "../domain/task-links.js";

export interface TaskLinkOptions {
  /** TASK_LINK_SECRET, shared with visits (which verifies); empty: reminders go without a link. */
  secret: string;
  ttlHours: number;
  /** PUBLIC_LINK_BASE_URL: the console's public origin. */
  baseUrl: string;
}

/**
 * Mints the one-time links the reminder rules put in a helper's SMS (the token itself is `@shouhu/auth`'s): the
 * secret and the random nonce stay out of `domain/`, which is handed this function. Links are valid for `ttlHours`
 * from the reminder. Visits refuses a link from its item's escalation day on (the township supervisor has it then),
 * so notifications need not know that day.
 */
export function taskLinkMinter(options: TaskLinkOptions, now: () => Date): TaskLinkMinter {
  return (item) => {
    const helperId = item.responsible.helperId;
    if (!options.secret || !helperId) return null;
    const { token } = mintTaskLink(options.secret, {
      itemId: item.itemId,
      childId: item.child.id,
      helperId,
      expiresAt: new Date(now().getTime() + options.ttlHours * 3600_000),
    });
    return `${options.baseUrl.replace(/\/+$/, "")}/t/${token}`;
  };
}
