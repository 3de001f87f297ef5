import { serviceConfigSchema } from "@shouhu/kit";

export const healthConfigSchema = serviceConfigSchema({ port: 3004, database: "shouhu_health" });
