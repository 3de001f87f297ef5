-- CreateTable
CREATE TABLE "office_settings" (
    "org_unit" VARCHAR(12) NOT NULL,
    "quiet_hours" VARCHAR(11),
    "updated_by" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "office_settings_pkey" PRIMARY KEY ("org_unit")
);
