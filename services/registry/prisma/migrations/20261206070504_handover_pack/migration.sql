-- AlterTable
ALTER TABLE "export_jobs" ADD COLUMN     "kind" VARCHAR(12) NOT NULL DEFAULT 'register';

-- CreateTable
CREATE TABLE "growth_visits" (
    "record_id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "date" DATE NOT NULL,
    "kind" VARCHAR(20) NOT NULL,
    "visitor_user_id" TEXT NOT NULL,
    "visitor_name" TEXT NOT NULL,
    "on_time" BOOLEAN,

    CONSTRAINT "growth_visits_pkey" PRIMARY KEY ("record_id")
);

-- CreateTable
CREATE TABLE "growth_activities" (
    "session_id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "date" DATE NOT NULL,
    "kind" VARCHAR(20) NOT NULL,
    "site_name" TEXT NOT NULL,
    "leader" TEXT NOT NULL,

    CONSTRAINT "growth_activities_pkey" PRIMARY KEY ("session_id","child_id")
);

-- CreateTable
CREATE TABLE "growth_checkups" (
    "exam_id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "date" DATE NOT NULL,
    "height_cm" DOUBLE PRECISION,
    "weight_kg" DOUBLE PRECISION,
    "bmi" DOUBLE PRECISION,
    "flags" JSONB NOT NULL DEFAULT '[]',

    CONSTRAINT "growth_checkups_pkey" PRIMARY KEY ("exam_id")
);

-- CreateIndex
CREATE INDEX "growth_visits_child_id_date_idx" ON "growth_visits"("child_id", "date");

-- CreateIndex
CREATE INDEX "growth_activities_child_id_date_idx" ON "growth_activities"("child_id", "date");

-- CreateIndex
CREATE INDEX "growth_checkups_child_id_date_idx" ON "growth_checkups"("child_id", "date");
