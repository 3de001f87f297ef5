import { z } from "zod";
import type { ServiceApp } from "@shouhu/kit";
import { wst456 } from "../domain/standards/wst-456-2014.js";
import { wst586 } from "../domain/standards/wst-586-2018.js";

const Query = z.object({ sex: z.enum(["male", "female"], { message: "性别应为 male 或 female" }) }).strict();

/**
 * The reference curves a child's growth is drawn against (成长档案): by age in half years, the
 * stunting height (WS/T 456-2014 A.1), the wasting BMI (WS/T 456-2014 B.1) and the overweight and
 * obesity BMI (WS/T 586-2018). The same tables the check-up evaluation uses; no personal data.
 */
export function registerReferenceRoutes(app: ServiceApp): void {
  app.get(
    "/api/v1/growth-reference",
    { schema: { tags: ["health"], summary: "生长发育参考曲线（WS/T 456-2014、WS/T 586-2018）", querystring: Query } },
    async (request) => {
      const { sex } = request.query;
      return {
        sex,
        sources: ["WS/T 456-2014 学龄儿童青少年营养不良筛查", "WS/T 586-2018 学龄儿童青少年超重与肥胖筛查"],
        stuntingHeight: wst456.stunting[sex].map((r) => ({ age: r.age, value: r.height })),
        wastingBmi: wst456.wasting[sex].map((r) => ({ age: r.age, moderateSevere: r.moderateSevere, mild: r.mild })),
        overweightBmi: wst586[sex].map((r) => ({ age: r.age, overweight: r.overweight, obese: r.obese })),
      };
    },
  );
}
