-- CreateTable
CREATE TABLE "org_units" (
    "code" VARCHAR(12) NOT NULL,
    "name" TEXT NOT NULL,
    "level" VARCHAR(10) NOT NULL,
    "parent_code" VARCHAR(12),

    CONSTRAINT "org_units_pkey" PRIMARY KEY ("code")
);

-- CreateTable
CREATE TABLE "schools" (
    "id" VARCHAR(32) NOT NULL,
    "name" TEXT NOT NULL,
    "township_code" VARCHAR(12) NOT NULL,

    CONSTRAINT "schools_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "children" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "village_code" VARCHAR(12) NOT NULL,
    "school_id" VARCHAR(32) NOT NULL,
    "left_behind_type" VARCHAR(32) NOT NULL,
    "categories" TEXT[],
    "risk_level" VARCHAR(10) NOT NULL,
    "status" VARCHAR(10) NOT NULL,
    "revision" INTEGER NOT NULL,

    CONSTRAINT "children_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pairings" (
    "id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "village_code" VARCHAR(12) NOT NULL,
    "kind" VARCHAR(10) NOT NULL,
    "state" VARCHAR(10) NOT NULL,
    "started_on" DATE,
    "ended_on" DATE,

    CONSTRAINT "pairings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "visit_items" (
    "id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "village_code" VARCHAR(12) NOT NULL,
    "kind" VARCHAR(20) NOT NULL,
    "period" VARCHAR(16) NOT NULL,
    "due_date" DATE,
    "bucket" VARCHAR(10) NOT NULL,

    CONSTRAINT "visit_items_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "visit_records" (
    "id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "village_code" VARCHAR(12) NOT NULL,
    "kind" VARCHAR(20) NOT NULL,
    "date" DATE NOT NULL,

    CONSTRAINT "visit_records_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "concerns" (
    "id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "child_name" TEXT NOT NULL,
    "village_code" VARCHAR(12) NOT NULL,
    "category" VARCHAR(20) NOT NULL,
    "raised_at" TIMESTAMPTZ(3),
    "escalated" BOOLEAN NOT NULL DEFAULT false,
    "resolved_at" TIMESTAMPTZ(3),

    CONSTRAINT "concerns_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "checkups" (
    "id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "village_code" VARCHAR(12) NOT NULL,
    "date" DATE NOT NULL,
    "flags" TEXT[],

    CONSTRAINT "checkups_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "counters" (
    "village_code" VARCHAR(12) NOT NULL,
    "metric" VARCHAR(20) NOT NULL,
    "dims" TEXT NOT NULL,
    "n" INTEGER NOT NULL,

    CONSTRAINT "counters_pkey" PRIMARY KEY ("village_code","metric","dims")
);

-- CreateTable
CREATE TABLE "notification_stats" (
    "day" DATE NOT NULL,
    "channel" VARCHAR(10) NOT NULL,
    "delivered" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "notification_stats_pkey" PRIMARY KEY ("day","channel")
);

-- CreateTable
CREATE TABLE "rebuilds" (
    "id" UUID NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_by" TEXT NOT NULL,
    "completed" TEXT[],
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "rebuilds_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "export_jobs" (
    "id" UUID NOT NULL,
    "report" VARCHAR(20) NOT NULL,
    "org_unit" VARCHAR(12) NOT NULL,
    "requested_by" TEXT NOT NULL,
    "status" VARCHAR(10) NOT NULL,
    "total" INTEGER NOT NULL DEFAULT 0,
    "done" INTEGER NOT NULL DEFAULT 0,
    "file" BYTEA,
    "file_name" TEXT,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "export_jobs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "inbox" (
    "event_id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbox_pkey" PRIMARY KEY ("event_id")
);

-- CreateIndex
CREATE INDEX "children_village_code_status_idx" ON "children"("village_code", "status");

-- CreateIndex
CREATE INDEX "pairings_child_id_idx" ON "pairings"("child_id");

-- CreateIndex
CREATE INDEX "visit_items_child_id_idx" ON "visit_items"("child_id");

-- CreateIndex
CREATE INDEX "visit_items_village_code_bucket_idx" ON "visit_items"("village_code", "bucket");

-- CreateIndex
CREATE INDEX "visit_records_village_code_date_idx" ON "visit_records"("village_code", "date");

-- CreateIndex
CREATE INDEX "concerns_village_code_idx" ON "concerns"("village_code");

-- CreateIndex
CREATE INDEX "checkups_child_id_idx" ON "checkups"("child_id");

-- CreateIndex
CREATE INDEX "counters_metric_idx" ON "counters"("metric");
