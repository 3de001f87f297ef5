import { defineConfig } from "prisma/config";

// Only the CLI reads this; at run time the service passes DATABASE_URL to the pg adapter.
export default defineConfig({
  schema: "prisma/schema.prisma",
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://root@127.0.0.1:5432/shouhu_activities" },
});
