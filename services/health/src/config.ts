import { z } from "zod";
import { serviceConfigSchema } from "@shouhu/kit";

export const healthConfigSchema = serviceConfigSchema({ port: 3004, database: "shouhu_health" });

export type HealthConfig = z.output<typeof healthConfigSchema>;
