import { serviceConfigSchema } from "@shouhu/kit";

export const activitiesConfigSchema = serviceConfigSchema({ port: 3007, database: "shouhu_activities" });
